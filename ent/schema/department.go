package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/custos-crm/custos/ent/schema/viewer"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// Department is a node of a tenant's organisation tree.
type Department struct{ ent.Schema }

// Mixin of the Department.
func (Department) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("dep"), TenantMixin{}, TimeMixin{}}
}

// Fields of the Department.
func (Department) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("parent_id").GoType(pulid.ID("")).Optional(),
		field.String("leader_id").GoType(pulid.ID("")).Optional(),
	}
}

// Edges of the Department.
func (Department) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("children", Department.Type).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)).
			From("parent").Field("parent_id").Unique(),
		edge.To("leader", User.Type).Field("leader_id").Unique(),
		edge.From("members", User.Type).Ref("department").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Department.
func (Department) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "parent_id")}
}

// Annotations of the Department.
func (Department) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Policy lets every member of the tenant read departments and those holding
// department:manage change them.
func (Department) Policy() ent.Policy {
	return directoryPolicy(viewer.PermDepartmentManage)
}

// Hooks of the Department.
func (Department) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("Department"), departmentHook}
}
