package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// Customer is a company or person the tenant does business with.
type Customer struct{ ent.Schema }

// Mixin of the Customer.
func (Customer) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("cus"), TenantMixin{}, OwnerMixin{}, TimeMixin{}, SoftDeleteMixin{},
	}
}

// Fields of the Customer.
func (Customer) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
	}
}

// Indexes of the Customer.
func (Customer) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "created_at")}
}

// Annotations of the Customer.
func (Customer) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// customerScope returns how customers are guarded.
func customerScope() rule.DataScope {
	return rule.DataScope{
		Read:   viewer.PermCustomerRead,
		Create: viewer.PermCustomerCreate,
		Update: viewer.PermCustomerUpdate,
		Delete: viewer.PermCustomerDelete,
	}
}

// Policy confines customers to the viewer's data scope.
func (Customer) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), customerScope().QueryRule(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), customerScope().MutationRule(), privacy.AlwaysDenyRule()},
	}
}
