//go:build ignore

// Command entc generates the ent client, its GraphQL schema (graph/ent.graphql)
// and the GraphQL glue code. Run it through `make generate`.
package main

import (
	"fmt"
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"entgo.io/ent/schema/field"

	"github.com/custos-crm/custos/internal/vault"
)

func main() {
	ex, err := entgql.NewExtension(
		// First: WithWhereInputs adds its template to these.
		entgql.WithTemplates(graphQLTemplates()...),
		entgql.WithConfigPath("../gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("../graph/ent.graphql"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(false),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	cfg := &gen.Config{
		Hooks: []gen.Hook{noEdgeFilters},
		// The id prefix map.
		Templates: []*gen.Template{
			gen.MustParse(gen.NewTemplate("pulid.tmpl").ParseFiles("./schema/pulid/template/pulid.tmpl")),
		},
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureIntercept,
			gen.FeatureVersionedMigration,
			gen.FeatureLock,
			gen.FeatureModifier,
			gen.FeatureUpsert,
			gen.FeatureExecQuery,
		},
	}
	err = entc.Generate("./schema", cfg,
		entc.Extensions(ex),
		entc.Dependency(
			entc.DependencyName("Vault"),
			entc.DependencyType(&vault.Vault{}),
		),
		entc.Dependency(
			entc.DependencyName("Forms"),
			entc.DependencyTypeInfo(&field.TypeInfo{
				Ident:   "customfields.Processor",
				PkgPath: "github.com/custos-crm/custos/ent/schema/customfields",
			}),
		),
		entc.Dependency(
			entc.DependencyName("Clock"),
			entc.DependencyTypeInfo(&field.TypeInfo{
				Ident:   "clock.Clock",
				PkgPath: "github.com/custos-crm/custos/internal/clock",
			}),
		),
	)
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// noEdgeFilters keeps edges out of the GraphQL where inputs (no
// hasCustomer, hasCustomerWith, …): an edge predicate filters through a
// subquery on the other entity's table that ent's privacy rules never see,
// so a viewer could probe, say, the names of customers outside their scope
// through the tickets they can see. Filters on a record's own fields
// (customerID included) stay.
func noEdgeFilters(next gen.Generator) gen.Generator {
	return gen.GenerateFunc(func(g *gen.Graph) error {
		for _, n := range g.Nodes {
			for _, e := range n.Edges {
				if e.Annotations == nil {
					e.Annotations = gen.Annotations{}
				}
				var ant entgql.Annotation
				if v, ok := e.Annotations[ant.Name()]; ok {
					if err := ant.Decode(v); err != nil {
						return fmt.Errorf("edge %s.%s: %w", n.Name, e.Name, err)
					}
				}
				ant.Skip |= entgql.SkipWhereInput
				e.Annotations[ant.Name()] = ant
			}
		}
		return next.Generate(g)
	})
}

// graphQLTemplates returns entgql's templates with two replaced by our
// copies: pagination, which counts rows only when totalCount is selected,
// and collection, which lets a resolver-backed field select only the
// columns its resolver reads (ent/schema/collect).
// They must be given to the extension: templates in gen.Config run first and
// the extension's own copies would overwrite their output.
func graphQLTemplates() []*gen.Template {
	var templates []*gen.Template
	for _, t := range entgql.AllTemplates {
		switch t {
		case entgql.PaginationTemplate:
			t = gen.MustParse(gen.NewTemplate("template/pagination.tmpl").
				Funcs(entgql.TemplateFuncs).ParseFiles("./template/pagination.tmpl"))
		case entgql.CollectionTemplate:
			t = gen.MustParse(gen.NewTemplate("template/collection.tmpl").
				Funcs(entgql.TemplateFuncs).ParseFiles("./template/collection.tmpl"))
		}
		templates = append(templates, t)
	}
	return templates
}
