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

// RoleGrant gives a user a role, optionally until a point in time.
type RoleGrant struct{ ent.Schema }

// Mixin of the RoleGrant.
func (RoleGrant) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("grt"), TenantMixin{}, TimeMixin{}}
}

// Fields of the RoleGrant.
func (RoleGrant) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")),
		field.String("role_id").GoType(pulid.ID("")),
		field.String("granted_by").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Type("ID"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("expires_at").Optional().Nillable(),
	}
}

// Edges of the RoleGrant.
func (RoleGrant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Unique().Required(),
		edge.To("role", Role.Type).Field("role_id").Unique().Required(),
	}
}

// Indexes of the RoleGrant.
func (RoleGrant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "role_id").Unique(),
		index.Fields("tenant_id", "role_id"),
	}
}

// Annotations of the RoleGrant.
func (RoleGrant) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationCreate())}
}

// Policy lets role and user managers read every grant of the tenant, and
// everyone else their own; only role managers change them.
func (RoleGrant) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowPreAuthQuery(), rule.AllowIfSystem(),
			rule.AllowQueryIfPermission(viewer.PermRoleManage, viewer.PermUserManage),
			rule.FilterOwnRows(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.RequireRecentAuth(ent.OpCreate | ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne),
			rule.AllowIfSystem(), rule.AllowIfPermission(viewer.PermRoleManage), privacy.AlwaysDenyRule(),
		},
	}
}

// Hooks of the RoleGrant.
func (RoleGrant) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("RoleGrant"), grantHook}
}
