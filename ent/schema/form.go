package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// FormDefinition is a tenant's form for one module (customer or contact
// custom fields, projects, tickets). Its content lives in immutable
// versions; at most one definition per module is active for custom fields.
type FormDefinition struct{ ent.Schema }

// Mixin of the FormDefinition.
func (FormDefinition) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("frm"), TenantMixin{}, TimeMixin{}}
}

// Fields of the FormDefinition.
func (FormDefinition) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").Match(identifier).Immutable(),
		field.Enum("module").Values("customer", "contact", "project", "ticket").Immutable(),
		field.String("name_zh").NotEmpty().MaxLen(100),
		field.String("name_en").NotEmpty().MaxLen(100),
		// active attaches the definition's latest published version to
		// the module's records (customer and contact custom fields).
		field.Bool("active").Default(false).Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.String("created_by").GoType(pulid.ID("")).Optional().Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Edges of the FormDefinition.
func (FormDefinition) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("versions", FormVersion.Type).Ref("definition").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the FormDefinition.
func (FormDefinition) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "key").Unique(),
		index.Fields("tenant_id", "module"),
		// One active form per module, even when two admins attach forms
		// at once.
		index.Fields("tenant_id", "module").Unique().StorageKey("formdefinition_one_active_per_module").
			Annotations(entsql.IndexWhere("active")),
	}
}

// Annotations of the FormDefinition.
func (FormDefinition) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(), entgql.Skip(entgql.SkipWhereInput),
		entgql.Mutations(entgql.MutationUpdate()),
	}
}

// Policy lets every member of the tenant read forms (records are rendered
// with them) and form designers change them.
func (FormDefinition) Policy() ent.Policy {
	return formPolicy()
}

// Hooks records the audit trail.
func (FormDefinition) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("FormDefinition")}
}

// FormVersion is one version of a form definition: a JSON Schema, a UI
// schema, rules, labels and the plugins it needs. A draft may change;
// publishing freezes it; a retired version stays readable for the records
// that pin it.
type FormVersion struct{ ent.Schema }

// Mixin of the FormVersion.
func (FormVersion) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("frv"), TenantMixin{}, TimeMixin{}}
}

// Fields of the FormVersion.
func (FormVersion) Fields() []ent.Field {
	skipInputs := entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)
	return []ent.Field{
		field.String("definition_id").GoType(pulid.ID("")).Immutable(),
		field.Int("version").Positive().Immutable().Annotations(skipInputs),
		field.Enum("state").Values("draft", "published", "retired").Default("draft").Annotations(skipInputs),
		field.JSON("document", map[string]any{}).Annotations(entgql.Type("Map")),
		field.Time("published_at").Optional().Nillable().Annotations(skipInputs),
		field.String("published_by").GoType(pulid.ID("")).Optional().Annotations(skipInputs),
		// dry_run is the report of the last dry run of this version over
		// the records of the definition's module.
		field.JSON("dry_run", map[string]any{}).Optional().Annotations(entgql.Type("Map"), skipInputs),
		// migration is the report of the last migration of records to
		// this version.
		field.JSON("migration", map[string]any{}).Optional().Annotations(entgql.Type("Map"), skipInputs),
	}
}

// Edges of the FormVersion.
func (FormVersion) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("definition", FormDefinition.Type).Field("definition_id").Unique().Required().Immutable(),
	}
}

// Indexes of the FormVersion.
func (FormVersion) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "definition_id", "version").Unique()}
}

// Annotations of the FormVersion.
func (FormVersion) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy lets every member of the tenant read form versions and form
// designers change drafts.
func (FormVersion) Policy() ent.Policy {
	return formPolicy()
}

// Hooks freezes published versions and records the audit trail.
func (FormVersion) Hooks() []ent.Hook {
	return []ent.Hook{auditHook("FormVersion"), frozenVersionHook}
}

// formPolicy is the policy of form definitions and versions.
func formPolicy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowIfSystem(), rule.AllowTenantMember(), privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.AllowIfSystem(), rule.AllowIfPermission(viewer.PermFormDesign), privacy.AlwaysDenyRule(),
		},
	}
}
