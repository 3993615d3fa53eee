package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
)

// Contact is a person at a customer.
type Contact struct{ ent.Schema }

// Mixin of the Contact.
func (Contact) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("con"), TenantMixin{}, TimeMixin{}, SoftDeleteMixin{},
		CustomFieldsMixin{module: "contact"},
		NameSearchMixin{},
		PersonalMixin{fields: []personalField{
			{name: "mobile", index: phoneIndex}, {name: "telephone", index: phoneIndex}, {name: "wechat", index: wechatIndex}, {name: "email", index: emailIndex},
			{name: "notes", index: noIndex},
		}},
	}
}

// Fields of the Contact.
func (Contact) Fields() []ent.Field {
	return []ent.Field{
		// A contact stays with its customer: moving it would let someone who
		// may only read the new customer write to it.
		field.String("customer_id").GoType(pulid.ID("")).Immutable(),
		field.String("name").NotEmpty().MaxLen(100).Annotations(entgql.OrderField("NAME")),
		field.String("title").Optional().MaxLen(100),
	}
}

// Edges of the Contact.
func (Contact) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("customer", Customer.Type).Field("customer_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Contact.
func (Contact) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "customer_id"), index.Fields("tenant_id", "name")}
}

// Annotations of the Contact.
func (Contact) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Policy makes contacts visible exactly when their customer is, and
// changeable by whoever may change the customer.
func (Contact) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), rule.CustomerChild().QueryRule(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), rule.CustomerChild().MutationRule(), privacy.AlwaysDenyRule()},
	}
}

// Hooks records the audit trail.
func (Contact) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("Contact", "name", "title")}
}
