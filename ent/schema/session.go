package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// Session is a signed-in browser or API client. Only a hash of its token is
// stored.
type Session struct{ ent.Schema }

// Mixin of the Session.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ses"), TenantMixin{}, TimeMixin{}}
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		field.Bytes("token_hash").Sensitive().Immutable().NotEmpty(),
		field.Time("last_seen_at"),
		field.Time("expires_at").Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
		// strong_auth_at is when the session last proved a second factor or
		// a passkey (or, for users without one where the tenant does not
		// require it, a password); step-up looks at it.
		field.Time("strong_auth_at").Optional().Nillable(),
		// restriction, when set (password_change, mfa_enrolment), limits the
		// session to that step.
		field.String("restriction").Optional(),
		// method is how the session was opened: password, mfa, passkey, sso.
		field.String("method").Default("password"),
		field.String("ip").Optional(),
		field.String("user_agent").Optional().MaxLen(256),
	}
}

// Edges of the Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("tenant_id", "user_id"),
	}
}

// Annotations of the Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy lets the pre-authentication path and the system manage sessions;
// signed-in users see only their own, and user managers may end them.
func (Session) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowPreAuthQuery(), rule.AllowIfSystem(), rule.FilterOwnRows(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.AllowPreAuthMutation(), rule.AllowIfSystem(),
			rule.AllowIfPermission(viewer.PermUserManage), rule.AllowOwnRows(), privacy.AlwaysDenyRule(),
		},
	}
}
