package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/schema/pulid"
)

// WorkflowDefinition is a tenant's workflow (a state machine as data) for
// projects or tickets. Its content lives in immutable versions; records
// pin the version they started with.
type WorkflowDefinition struct{ ent.Schema }

// Mixin of the WorkflowDefinition.
func (WorkflowDefinition) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("wfd"), TenantMixin{}, TimeMixin{}}
}

// Fields of the WorkflowDefinition.
func (WorkflowDefinition) Fields() []ent.Field {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("key").Match(identifier).Immutable(),
		field.Enum("module").Values("project", "ticket").Immutable(),
		field.String("name_zh").NotEmpty().MaxLen(100),
		field.String("name_en").NotEmpty().MaxLen(100),
		// form_id names the form whose records the workflow moves; its
		// published schema types the workflow's expressions.
		field.String("form_id").GoType(pulid.ID("")).Optional().Immutable(),
		field.String("created_by").GoType(pulid.ID("")).Optional().Immutable().Annotations(skipInputs),
	}
}

// Edges of the WorkflowDefinition.
func (WorkflowDefinition) Edges() []ent.Edge {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Edge{
		edge.To("form", FormDefinition.Type).Field("form_id").Unique().Immutable().Annotations(skipInputs),
		edge.From("versions", WorkflowVersion.Type).Ref("definition").Annotations(skipInputs),
	}
}

// Indexes of the WorkflowDefinition.
func (WorkflowDefinition) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "key").Unique(), index.Fields("tenant_id", "module")}
}

// Annotations of the WorkflowDefinition.
func (WorkflowDefinition) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.Skip(entgql.SkipWhereInput),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}

// Policy lets every member of the tenant read workflows and designers
// (form:design) change them.
func (WorkflowDefinition) Policy() ent.Policy { return formPolicy() }

// Hooks records the audit trail.
func (WorkflowDefinition) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("WorkflowDefinition")}
}

// WorkflowVersion is one version of a workflow definition. A draft may
// change; publishing freezes it.
type WorkflowVersion struct{ ent.Schema }

// Mixin of the WorkflowVersion.
func (WorkflowVersion) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("wfv"), TenantMixin{}, TimeMixin{}}
}

// Fields of the WorkflowVersion.
func (WorkflowVersion) Fields() []ent.Field {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("definition_id").GoType(pulid.ID("")).Immutable(),
		field.Int("version").Positive().Immutable().Annotations(skipInputs),
		field.Enum("state").Values("draft", "published", "retired").Default("draft").Annotations(skipInputs),
		field.JSON("document", map[string]any{}).Annotations(entgql.Type("Map")),
		field.Time("published_at").Optional().Nillable().Annotations(skipInputs),
		field.String("published_by").GoType(pulid.ID("")).Optional().Annotations(skipInputs),
	}
}

// Edges of the WorkflowVersion.
func (WorkflowVersion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("definition", WorkflowDefinition.Type).Field("definition_id").Unique().Required().Immutable(),
	}
}

// Indexes of the WorkflowVersion.
func (WorkflowVersion) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "definition_id", "version").Unique()}
}

// Annotations of the WorkflowVersion.
func (WorkflowVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy lets every member of the tenant read workflow versions and
// designers change drafts.
func (WorkflowVersion) Policy() ent.Policy { return formPolicy() }

// Hooks freezes published versions and records the audit trail.
func (WorkflowVersion) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("WorkflowVersion"), frozenVersionHook}
}
