package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/caldate"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
)

// FollowUp records contact with a customer: a call, a visit, a message.
type FollowUp struct{ ent.Schema }

// Mixin of the FollowUp.
func (FollowUp) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("fol"), TenantMixin{}, TimeMixin{}, SoftDeleteMixin{},
		PersonalMixin{fields: []personalField{{name: "content", index: noIndex}}},
	}
}

// Fields of the FollowUp.
func (FollowUp) Fields() []ent.Field {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("customer_id").GoType(pulid.ID("")).Immutable(),
		field.String("contact_id").GoType(pulid.ID("")).Optional(),
		field.String("author_id").GoType(pulid.ID("")).Optional().Immutable().Annotations(skipInputs),
		field.String("type").NotEmpty().MaxLen(64),
		field.String("next_follow_up_on").GoType(caldate.Date{}).Optional().Nillable().
			Annotations(entgql.Type("Date"), entgql.OrderField("NEXT_FOLLOW_UP_ON")),
	}
}

// Edges of the FollowUp.
func (FollowUp) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("customer", Customer.Type).Field("customer_id").Unique().Required().Immutable(),
		edge.To("contact", Contact.Type).Field("contact_id").Unique(),
		edge.From("attachments", Attachment.Type).Ref("follow_up").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("author", User.Type).Field("author_id").Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the FollowUp.
func (FollowUp) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "customer_id", "created_at"),
		index.Fields("tenant_id", "author_id", "next_follow_up_on"),
	}
}

// Annotations of the FollowUp.
func (FollowUp) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Policy makes follow-ups visible exactly when their customer is.
func (FollowUp) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), rule.CustomerChild().QueryRule(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), rule.CustomerChild().MutationRule(), privacy.AlwaysDenyRule()},
	}
}

// Hooks sets the author, checks the contact and type, keeps the customer's
// last follow-up time and records the audit trail.
func (FollowUp) Hooks() []ent.Hook {
	return []ent.Hook{
		auditHook("FollowUp"),
		followUpHook,
		picklistHook(map[string]string{"type": "follow_up_type"}),
	}
}
