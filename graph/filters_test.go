package graph_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/custos-crm/custos/graph"
)

// TestWhereInputsHaveNoEdgeFilters checks that no where input offers an
// edge predicate (hasCustomer, hasCustomerWith, …): those filter through
// the other entity's table without its privacy rules.
func TestWhereInputsHaveNoEdgeFilters(t *testing.T) {
	s := graph.NewExecutableSchema(graph.Config{}).Schema()
	inputs := 0
	for name, def := range s.Types {
		if def.Kind != ast.InputObject || !strings.HasSuffix(name, "WhereInput") {
			continue
		}
		inputs++
		for _, f := range def.Fields {
			if rest, ok := strings.CutPrefix(f.Name, "has"); ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z' {
				t.Errorf("%s.%s filters on an edge", name, f.Name)
			}
		}
	}
	if inputs == 0 {
		t.Fatal("the schema has no where inputs to check")
	}
}

func TestEdgeFilterIsRefused(t *testing.T) {
	f := newFixture(t, "sqlite")
	q := `{ customers(where: {hasFollowUpsWith: {type: "call"}}) { totalCount } }`
	wantError(t, f.app.GraphQL(t, f.tokA, q, nil), "BAD_USER_INPUT")
}
