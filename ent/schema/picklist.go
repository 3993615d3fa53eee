package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/choices"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// Picklist is a tenant's list of choices for one field, such as customer
// levels or follow-up types, or the categories of a form's select field.
type Picklist struct{ ent.Schema }

// Mixin of the Picklist.
func (Picklist) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("pck"), TenantMixin{}, TimeMixin{}}
}

// Fields of the Picklist.
func (Picklist) Fields() []ent.Field {
	return []ent.Field{
		// The kind is a name (^[a-z][a-z0-9_]{0,63}$): the built-in kinds
		// every tenant has, and those publishing forms provisions.
		field.String("kind").GoType(choices.Kind("")).Immutable().Validate(choices.ValidateKind).
			Annotations(entgql.Type("PicklistKind")),
		field.JSON("options", []choices.Option{}).Annotations(entgql.Type("[PicklistOption!]")),
	}
}

// Indexes of the Picklist.
func (Picklist) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "kind").Unique()}
}

// Annotations of the Picklist.
func (Picklist) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField()}
}

// Policy lets every member read picklists and tenant managers change them.
func (Picklist) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{rule.AllowIfSystem(), rule.AllowTenantMember(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(), rule.AllowIfPermission(viewer.PermTenantManage), privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks validates the options and records the audit trail.
func (Picklist) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("Picklist"), picklistOptionsHook}
}
