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

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// Role is a named set of permissions with the data scope they reach.
type Role struct{ ent.Schema }

// Mixin of the Role.
func (Role) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("rol"), TenantMixin{}, TimeMixin{}}
}

// Fields of the Role.
func (Role) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).Annotations(entgql.OrderField("NAME")),
		// builtin names the built-in role (admin, manager, sales) this row
		// is; built-in roles are kept current by migrations and cannot be
		// edited.
		field.String("builtin").Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Strings("permissions").Default([]string{}),
		field.Enum("scope").GoType(viewer.Scope("")).Default(string(viewer.ScopeSelf)).
			Annotations(entgql.Type("DataScope")),
	}
}

// Edges of the Role.
func (Role) Edges() []ent.Edge {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Edge{
		edge.From("users", User.Type).Ref("roles").Through("grants", RoleGrant.Type).Annotations(skipInputs),
	}
}

// Indexes of the Role.
func (Role) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Annotations of the Role.
func (Role) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Policy lets every member of the tenant read roles and those holding
// role:manage change them.
func (Role) Policy() ent.Policy {
	p := directoryPolicy(viewer.PermRoleManage).(privacy.Policy)
	// Managing roles is sensitive: it needs a recent strong sign-in.
	p.Mutation = append(privacy.MutationPolicy{rule.RequireRecentAuth(ent.OpCreate | ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne)}, p.Mutation...)
	return p
}

// Hooks of the Role.
func (Role) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("Role"), roleHook}
}
