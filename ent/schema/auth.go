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
	"github.com/custos-crm/custos/ent/schema/sso"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// APIToken lets an integration call the API as a user, with at most the
// permissions it was created with and at most the user's current ones. Only
// a hash of the token is stored.
type APIToken struct{ ent.Schema }

// Mixin of the APIToken.
func (APIToken) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("tok"), TenantMixin{}, TimeMixin{}}
}

// Fields of the APIToken.
func (APIToken) Fields() []ent.Field {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Annotations(skipInputs),
		field.String("name").NotEmpty().MaxLen(100),
		field.Bytes("token_hash").Sensitive().Immutable().Unique().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Strings("permissions").Immutable(),
		field.Time("expires_at").Optional().Nillable().Immutable(),
		field.Time("revoked_at").Optional().Nillable().Annotations(skipInputs),
		field.Time("last_used_at").Optional().Nillable().Annotations(skipInputs),
	}
}

// Edges of the APIToken.
func (APIToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the APIToken.
func (APIToken) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "user_id")}
}

// Annotations of the APIToken.
func (APIToken) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Policy lets users see and manage their own tokens, and user managers
// everyone's; the sign-in path reads them to authenticate.
func (APIToken) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowPreAuthQuery(), rule.AllowIfSystem(),
			rule.AllowQueryIfPermission(viewer.PermUserManage), rule.FilterOwnRows(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.RequireRecentAuth(ent.OpCreate),
			rule.AllowPreAuthMutation(), rule.AllowIfSystem(), rule.AllowIfPermission(viewer.PermUserManage),
			rule.AllowOwnRows(), privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks records the audit trail.
func (APIToken) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("APIToken")}
}

// Passkey is a WebAuthn credential of a user.
type Passkey struct{ ent.Schema }

// Mixin of the Passkey.
func (Passkey) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("pky"), TenantMixin{}, TimeMixin{}}
}

// Fields of the Passkey.
func (Passkey) Fields() []ent.Field {
	skip := entgql.Skip(entgql.SkipAll)
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Annotations(skipInputs),
		field.String("name").MaxLen(100).Default("Passkey"),
		field.Bytes("credential_id").Immutable().Unique().Annotations(skip),
		field.Bytes("public_key").Immutable().Annotations(skip),
		field.String("attestation_type").Optional().Immutable().Annotations(skip),
		field.Bytes("aaguid").Optional().Immutable().Annotations(skip),
		field.Uint32("sign_count").Default(0).Annotations(skip),
		field.Strings("transports").Optional().Annotations(skip),
		field.Bool("backup_eligible").Default(false).Annotations(skip),
		field.Bool("backup_state").Default(false).Annotations(skip),
		field.Time("last_used_at").Optional().Nillable().Annotations(skipInputs),
		// blocked_at is set when the sign counter went backwards (a cloned
		// authenticator); a blocked passkey no longer signs in.
		field.Time("blocked_at").Optional().Nillable().Annotations(skipInputs),
	}
}

// Edges of the Passkey.
func (Passkey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Passkey.
func (Passkey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "user_id")}
}

// Annotations of the Passkey.
func (Passkey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationUpdate())}
}

// Policy lets users see and manage their own passkeys; the sign-in path
// reads and updates them.
func (Passkey) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowPreAuthQuery(), rule.AllowIfSystem(), rule.FilterOwnRows(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.RequireRecentAuth(ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne),
			rule.AllowPreAuthMutation(), rule.AllowIfSystem(), rule.AllowOwnRows(), privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks records the audit trail.
func (Passkey) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("Passkey")}
}

// IdentityProvider is a tenant's OpenID Connect provider for single
// sign-on.
type IdentityProvider struct{ ent.Schema }

// Mixin of the IdentityProvider.
func (IdentityProvider) Mixin() []ent.Mixin {
	return []ent.Mixin{
		pulid.MixinWithPrefix("idp"), TenantMixin{}, TimeMixin{},
		PersonalMixin{fields: []personalField{{name: "client_secret", internal: true}}},
	}
}

// Fields of the IdentityProvider.
func (IdentityProvider) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		field.String("issuer").NotEmpty().MaxLen(500),
		field.String("client_id").NotEmpty().MaxLen(500),
		field.Strings("scopes").Optional(),
		field.String("email_claim").Default("email"),
		field.String("name_claim").Default("name"),
		field.String("groups_claim").Default("groups"),
		// group_roles maps IdP group names to role ids granted on sign-in.
		field.JSON("group_roles", []sso.GroupRole{}).Optional().Annotations(entgql.Type("[GroupRole!]"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Bool("jit_provisioning").Default(false),
		field.Bool("enforces_mfa").Default(false),
		field.Bool("trusted_for_email").Default(false),
		field.Strings("allowed_domains").Optional(),
		field.Bool("enabled").Default(true),
	}
}

// Indexes of the IdentityProvider.
func (IdentityProvider) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Annotations of the IdentityProvider.
func (IdentityProvider) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField()}
}

// Policy lets viewers who may manage the tenant, roles and users manage
// providers (a provider can link any account and grant any role); the
// sign-in path reads them.
func (IdentityProvider) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowPreAuthQuery(), rule.AllowIfSystem(), rule.AllowTenantMember(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.RequireRecentAuth(ent.OpCreate | ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne),
			rule.AllowIfSystem(),
			rule.AllowIfAllPermissions(viewer.PermTenantManage, viewer.PermRoleManage, viewer.PermUserManage),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks records the audit trail.
func (IdentityProvider) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("IdentityProvider")}
}

// ExternalIdentity links a user to an identity at a provider, keyed by
// (tenant, issuer, subject).
type ExternalIdentity struct{ ent.Schema }

// Mixin of the ExternalIdentity.
func (ExternalIdentity) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ext"), TenantMixin{}, TimeMixin{}, internalMixin{}}
}

// Fields of the ExternalIdentity.
func (ExternalIdentity) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable(),
		field.String("provider_id").GoType(pulid.ID("")).Immutable(),
		field.String("issuer").Immutable(),
		field.String("subject").Immutable(),
	}
}

// Indexes of the ExternalIdentity.
func (ExternalIdentity) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "issuer", "subject").Unique()}
}

// Policy lets the sign-in path and the system read and write links.
func (ExternalIdentity) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowPreAuthQuery(), rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowPreAuthMutation(), rule.AllowIfSystem(), privacy.AlwaysDenyRule()},
	}
}

// AuthFlow holds short-lived, single-use state of a sign-in step: an MFA
// challenge, a passkey ceremony, an OpenID Connect login. Its id is the hash
// of the token the browser holds.
type AuthFlow struct{ ent.Schema }

// Mixin of the AuthFlow.
func (AuthFlow) Mixin() []ent.Mixin { return []ent.Mixin{internalMixin{}} }

// Fields of the AuthFlow.
func (AuthFlow) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable(),
		field.String("kind").Immutable(),
		field.Bytes("data").Immutable(),
		field.Time("expires_at").Immutable(),
	}
}

// Indexes of the AuthFlow.
func (AuthFlow) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// Policy denies everything: the sign-in flows use SQL.
func (AuthFlow) Policy() ent.Policy { return denyAll() }

// LoginThrottle counts sign-in attempts per key and time window. Keys are
// keyed hashes, never addresses or emails.
type LoginThrottle struct{ ent.Schema }

// Mixin of the LoginThrottle.
func (LoginThrottle) Mixin() []ent.Mixin { return []ent.Mixin{internalMixin{}} }

// Fields of the LoginThrottle.
func (LoginThrottle) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("key").Immutable(),
		field.Int64("window_start").Immutable(),
		field.Int("count"),
	}
}

// Indexes of the LoginThrottle.
func (LoginThrottle) Indexes() []ent.Index {
	return []ent.Index{index.Fields("key", "window_start").Unique(), index.Fields("window_start")}
}

// Policy denies everything: the throttle uses SQL.
func (LoginThrottle) Policy() ent.Policy { return denyAll() }
