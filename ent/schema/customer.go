package schema

import (
	"regexp"

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

// Customer is a company or person the tenant does business with.
type Customer struct{ ent.Schema }

// regionCode is a six-digit administrative division code (GB/T 2260).
var regionCode = regexp.MustCompile(`^[0-9]{6}$`)

// Mixin of the Customer.
func (Customer) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("cus"), TenantMixin{}, OwnerMixin{}, TimeMixin{}, SoftDeleteMixin{},
		CustomFieldsMixin{module: "customer"},
		NameSearchMixin{},
		PersonalMixin{fields: []personalField{
			{name: "mobile", index: phoneIndex}, {name: "telephone", index: phoneIndex}, {name: "wechat", index: wechatIndex}, {name: "email", index: emailIndex},
			{name: "address", index: noIndex}, {name: "notes", index: noIndex},
		}},
	}
}

// Fields of the Customer.
func (Customer) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.Enum("kind").Values("company", "individual").Default("company"),
		field.String("region_province").Optional().Match(regionCode),
		field.String("region_city").Optional().Match(regionCode),
		field.String("region_district").Optional().Match(regionCode),
		field.String("level").Optional().MaxLen(64),
		field.String("source").Optional().MaxLen(64),
		field.String("industry").Optional().MaxLen(64),
		field.Time("last_follow_up_at").Optional().Nillable().
			Annotations(entgql.OrderField("LAST_FOLLOW_UP_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the Customer.
func (Customer) Edges() []ent.Edge {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Edge{
		edge.From("contacts", Contact.Type).Ref("customer").Annotations(entgql.RelayConnection(), skipInputs),
		edge.From("follow_ups", FollowUp.Type).Ref("customer").Annotations(entgql.RelayConnection(), skipInputs),
		edge.From("attachments", Attachment.Type).Ref("customer").Annotations(skipInputs),
	}
}

// Indexes of the Customer.
func (Customer) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "created_at"), index.Fields("tenant_id", "name")}
}

// Annotations of the Customer.
func (Customer) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Policy confines customers to the viewer's data scope.
func (Customer) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowIfSystem(), rule.CustomerScope().QueryRule(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowIfSystem(), rule.CustomerScope().MutationRule(), privacy.AlwaysDenyRule()},
	}
}

// Hooks checks picklist values and records the audit trail.
func (Customer) Hooks() []ent.Hook {
	return []ent.Hook{
		auditHook("Customer", "name"),
		picklistHook(map[string]string{"level": "customer_level", "source": "customer_source", "industry": "customer_industry"}),
	}
}
