package schema

import (
	"github.com/custos-crm/custos/ent/hook"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/rule"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// TenantMixin gives a business entity its tenant: a tenant_id column set from
// the viewer at create time, hidden from GraphQL, and an isolation policy.
type TenantMixin struct{ mixin.Schema }

// Fields returns tenant_id.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("tenant_id").GoType(pulid.ID("")).Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges returns the tenant edge.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tenant", Tenant.Type).Field("tenant_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// TimeMixin records when a row was created and last changed. The values come
// from the client's injected clock, in UTC.
type TimeMixin struct{ mixin.Schema }

// Fields returns created_at and updated_at.
func (TimeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(zeroTime).
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(zeroTime).
			Annotations(entgql.OrderField("UPDATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// zeroTime is the placeholder default; the timestamp hook replaces it with
// the clock's time before any row is written.
func zeroTime() time.Time { return time.Time{} }

// SoftDeleteMixin makes deletes soft: rows get deleted_at, deleted_by and a
// delete_batch_id, and an interceptor hides them from queries, edges and
// counts. A unique index on a soft-deleted entity must be partial on
// "deleted_at IS NULL" (entsql.IndexWhere) so a deleted row does not block a
// live one.
type SoftDeleteMixin struct{ mixin.Schema }

// Fields returns the soft-delete columns.
func (SoftDeleteMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("deleted_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("deleted_by").GoType(pulid.ID("")).Optional().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("delete_batch_id").GoType(pulid.ID("")).Optional().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// OwnerMixin gives a business record an owner, the department that follows
// the owner, and the user who created it. None of them are client input
// except the owner, which defaults to the viewer.
type OwnerMixin struct{ mixin.Schema }

// Fields returns owner_id, department_id and created_by.
func (OwnerMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("owner_id").GoType(pulid.ID("")).Optional(),
		field.String("department_id").GoType(pulid.ID("")).Optional().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("created_by").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Type("ID"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)),
	}
}

// Edges returns the owner and department edges.
func (OwnerMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("owner", User.Type).Field("owner_id").Unique(),
		edge.To("department", Department.Type).Field("department_id").Unique().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes returns the tenant-first scope indexes.
func (OwnerMixin) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "owner_id"),
		index.Fields("tenant_id", "department_id"),
	}
}

// Policy denies requests without a viewer and confines the rest to the
// viewer's tenant.
func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.DenyIfNoViewer(), rule.FilterTenant()},
		Mutation: privacy.MutationPolicy{rule.DenyIfNoViewer(), rule.FilterTenant()},
	}
}

// Hooks sets tenant_id from the viewer and checks linked ids.
func (TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{tenantHook}
}

// Hooks sets the timestamps from the client's clock.
func (TimeMixin) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(timestampHook, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)}
}

// Hooks turns deletes into soft deletes.
func (SoftDeleteMixin) Hooks() []ent.Hook {
	return []ent.Hook{softDeleteHook}
}

// Interceptors hides soft-deleted rows.
func (SoftDeleteMixin) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{softDeleteInterceptor()}
}

// Hooks defaults the owner and keeps the department in step with it.
func (OwnerMixin) Hooks() []ent.Hook {
	return []ent.Hook{hook.On(ownerHook, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne)}
}

// directoryPolicy is the policy of the tenant's directory (users,
// departments, roles): the sign-in path and every member read it, and
// holders of manage change it.
func directoryPolicy(manage string) ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowPreAuthQuery(), rule.AllowIfSystem(), rule.AllowTenantMember(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(), rule.AllowIfPermission(manage), privacy.AlwaysDenyRule(),
		},
	}
}
