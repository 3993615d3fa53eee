package querylimit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/custos-crm/custos/internal/apierr"
)

const testSDL = `
interface Node { id: ID! }

type PageInfo { hasNextPage: Boolean! endCursor: String }

type User implements Node {
  id: ID!
  name: String!
  manager: User
  roles: [Role!]!
}

type Role implements Node { id: ID! name: String! }

type Department implements Node {
  id: ID!
  name: String!
  members(first: Int, last: Int, after: String): UserConnection!
}

type Customer implements Node {
  id: ID!
  name: String!
  tags: [String!]!
  owner: User
  department: Department
}

type CustomerConnection { edges: [CustomerEdge] pageInfo: PageInfo! totalCount: Int! }
type CustomerEdge { node: Customer cursor: String! }
type UserConnection { edges: [UserEdge] pageInfo: PageInfo! totalCount: Int! }
type UserEdge { node: User cursor: String! }
type DepartmentConnection { edges: [DepartmentEdge] pageInfo: PageInfo! totalCount: Int! }
type DepartmentEdge { node: Department cursor: String! }

type Query {
  customers(first: Int, last: Int, after: String): CustomerConnection!
  departments(first: Int = 5, last: Int, after: String): DepartmentConnection!
  nodes(ids: [ID!]!): [Node]!
  node(id: ID!): Node
  viewer: User
}
`

func testSchema(t *testing.T) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "test.graphqls", Input: testSDL})
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	return s
}

// testLimits returns the limits most tests use.
func testLimits() Limits {
	return Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 12, MaxCost: 20000}
}

// opContext parses, validates and coerces like gqlgen's executor does.
func opContext(t *testing.T, schema *ast.Schema, query string, vars map[string]any) *graphql.OperationContext {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(schema, query)
	if len(errs) > 0 {
		t.Fatalf("load query: %v", errs)
	}
	op := doc.Operations.ForName("")
	coerced, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		t.Fatalf("variables: %v", err)
	}
	return &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: op, Variables: coerced}
}

// want describes the expected outcome; a zero want means the operation passes.
type want struct {
	code     apierr.Code
	key      string
	pointers []string
}

func check(t *testing.T, got *gqlerror.Error, w want) {
	t.Helper()
	if w.code == "" {
		if got != nil {
			t.Fatalf("got error %v, want none", got)
		}
		return
	}
	if got == nil {
		t.Fatalf("got no error, want %s", w.code)
	}
	ae := apierr.As(got)
	if ae == nil {
		t.Fatalf("error %v does not wrap an *apierr.Error", got)
	}
	if ae.Code != w.code {
		t.Fatalf("code = %s, want %s (%v)", ae.Code, w.code, got)
	}
	if w.key != "" && ae.MessageKey != w.key {
		t.Errorf("message key = %q, want %q", ae.MessageKey, w.key)
	}
	var pointers []string
	for _, f := range ae.Fields {
		pointers = append(pointers, f.Pointer)
		if f.MessageKey != "page_size" || f.Params["max"] != "100" {
			t.Errorf("field %+v, want page_size with max 100", f)
		}
	}
	if strings.Join(pointers, " ") != strings.Join(w.pointers, " ") {
		t.Errorf("pointers = %q, want %q", pointers, w.pointers)
	}
	if got.Extensions["code"] != w.code {
		t.Errorf("extensions code = %v, want %s", got.Extensions["code"], w.code)
	}
}

func TestMutateOperationContext(t *testing.T) {
	schema := testSchema(t)
	badInput := func(pointers ...string) want {
		return want{code: apierr.BadUserInput, key: "bad_user_input", pointers: pointers}
	}
	depth := want{code: apierr.LimitExceeded, key: "depth_exceeded"}
	cost := want{code: apierr.LimitExceeded, key: "cost_exceeded"}

	// managers nests n manager fields under viewer: depth n+2.
	managers := func(n int) string {
		return "{ viewer { " + strings.Repeat("manager { ", n) + "name" + strings.Repeat(" }", n) + " } }"
	}

	tests := []struct {
		name   string
		limits Limits
		query  string
		vars   map[string]any
		want   want
	}{
		{name: "first 100 passes", query: `{ customers(first: 100) { totalCount } }`},
		{name: "first 0 passes", query: `{ customers(first: 0) { totalCount } }`},
		{name: "first 101", query: `{ customers(first: 101) { totalCount } }`, want: badInput("/customers/first")},
		{name: "last 101", query: `{ customers(last: 101) { totalCount } }`, want: badInput("/customers/last")},
		{name: "negative first", query: `{ customers(first: -1) { totalCount } }`, want: badInput("/customers/first")},
		{name: "alias", query: `{ big: customers(first: 101) { totalCount } }`, want: badInput("/big/first")},
		{
			name:  "first via variable",
			query: `query($n: Int) { customers(first: $n) { totalCount } }`,
			vars:  map[string]any{"n": json.Number("101")},
			want:  badInput("/customers/first"),
		},
		{
			name:  "first via float variable",
			query: `query($n: Int) { customers(first: $n) { totalCount } }`,
			vars:  map[string]any{"n": float64(101)},
			want:  badInput("/customers/first"),
		},
		{
			name:  "first via string variable",
			query: `query($n: Int) { customers(first: $n) { totalCount } }`,
			vars:  map[string]any{"n": "101"},
			want:  badInput("/customers/first"),
		},
		{
			name:  "first via variable default",
			query: `query($n: Int = 150) { customers(first: $n) { totalCount } }`,
			want:  badInput("/customers/first"),
		},
		{
			name:  "first via variable 100 passes",
			query: `query($n: Int) { customers(first: $n) { totalCount } }`,
			vars:  map[string]any{"n": 100},
		},
		{
			name:  "null first passes",
			query: `query($n: Int) { customers(first: $n) { totalCount } }`,
			vars:  map[string]any{"n": nil},
		},
		{
			name:  "nested connection",
			query: `{ departments(first: 10) { edges { node { members(first: 500) { totalCount } } } } }`,
			want:  badInput("/departments/edges/node/members/first"),
		},
		{
			name:  "nested connection with alias",
			query: `{ d: departments(first: 10) { edges { n: node { staff: members(first: 500) { totalCount } } } } }`,
			want:  badInput("/d/edges/n/staff/first"),
		},
		{
			name: "every offending argument",
			query: `{
				a: customers(first: 101) { totalCount }
				b: customers(last: -5) { totalCount }
				c: customers(first: 101, last: 102) { totalCount }
				departments { edges { node { members(first: 1000) { totalCount } } } }
			}`,
			want: badInput("/a/first", "/b/last", "/c/first", "/c/last", "/departments/edges/node/members/first"),
		},
		{
			name:  "inside fragments",
			query: `{ ...Q } fragment Q on Query { x: departments { ...D } } fragment D on DepartmentConnection { edges { node { ... on Department { members(first: 101) { totalCount } } } } }`,
			want:  badInput("/x/edges/node/members/first"),
		},
		{
			name:   "page size checked before cost",
			limits: Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 12, MaxCost: 10},
			query:  `{ customers(first: 101) { edges { node { name owner { name } } } } }`,
			want:   badInput("/customers/first"),
		},
		{
			name:   "page size checked before depth",
			limits: Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 2, MaxCost: 20000},
			query:  `{ customers(first: 101) { edges { node { name } } } }`,
			want:   badInput("/customers/first"),
		},
		{
			name:   "depth checked before cost",
			limits: Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 2, MaxCost: 1},
			query:  `{ customers(first: 100) { edges { node { name } } } }`,
			want:   depth,
		},
		{name: "depth 12 passes", query: managers(10)},
		{name: "depth 13 refused", query: managers(11), want: depth},
		{
			// viewer, 11 managers and name: depth 13.
			name:  "depth through fragments",
			query: `{ viewer { ...M } } fragment M on User { manager { manager { manager { manager { manager { manager { manager { manager { manager { ... on User { manager { manager { name } } } } } } } } } } } } }`,
			want:  depth,
		},
		{
			name:   "cost at the limit passes",
			limits: Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 12, MaxCost: 601},
			query:  `{ customers(first: 100) { edges { node { owner { name } department { name } } } } }`,
		},
		{
			name:   "cost over the limit",
			limits: Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 12, MaxCost: 600},
			query:  `{ customers(first: 100) { edges { node { owner { name } department { name } } } } }`,
			want:   cost,
		},
		{
			name:   "nested page sizes multiply",
			limits: Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 12, MaxCost: 20000},
			query:  `{ departments(first: 100) { edges { node { members(first: 100) { edges { node { name } } } } } } }`,
			want:   cost,
		},
		{
			name:   "introspection is free",
			limits: Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 1, MaxCost: 1},
			query: `query IntrospectionQuery {
				__schema {
					queryType { name }
					types { ...FullType }
				}
				__typename
			}
			fragment FullType on __Type {
				kind name
				fields(includeDeprecated: true) { name args { name type { ...TypeRef } } type { ...TypeRef } }
			}
			fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.limits
			if l == (Limits{}) {
				l = testLimits()
			}
			ext := New(l)
			if err := ext.Validate(nil); err != nil {
				t.Fatalf("validate: %v", err)
			}
			check(t, ext.MutateOperationContext(t.Context(), opContext(t, schema, tt.query, tt.vars)), tt.want)
		})
	}
}

func TestCost(t *testing.T) {
	schema := testSchema(t)
	tests := []struct {
		name  string
		query string
		vars  map[string]any
		cost  int
		depth int
	}{
		{
			// name 1; owner{name} 2; department{name} 2; node 1+2+2 = 5;
			// edges 1+5 = 6 (not multiplied); customers 1 + 100×6 = 601.
			name:  "connection",
			query: `{ customers(first: 100) { edges { node { owner { name } department { name } } } } }`,
			cost:  601,
			depth: 5,
		},
		{
			name:  "connection without first uses the default page size",
			query: `{ customers { totalCount } }`,
			cost:  1 + 20*1,
			depth: 2,
		},
		{
			name:  "schema default for first",
			query: `{ departments { totalCount } }`,
			cost:  1 + 5*1,
			depth: 2,
		},
		{
			name:  "first and last take the larger",
			query: `{ customers(first: 3, last: 7) { totalCount } }`,
			cost:  1 + 7*1,
			depth: 2,
		},
		{
			name:  "first via variable",
			query: `query($n: Int) { customers(first: $n) { totalCount } }`,
			vars:  map[string]any{"n": json.Number("50")},
			cost:  1 + 50*1,
			depth: 2,
		},
		{
			name:  "first 0 costs nothing below",
			query: `{ customers(first: 0) { edges { node { name } } } }`,
			cost:  1,
			depth: 4,
		},
		{
			// members 1 + 10×(edges 1 + node(1 + name 1)) = 31; node 1+1+31 = 33;
			// edges 34; departments 1 + 2×34 = 69.
			name:  "nested connections multiply",
			query: `{ departments(first: 2) { edges { node { name members(first: 10) { edges { node { name } } } } } } }`,
			cost:  69,
			depth: 7,
		},
		{
			// nodes(ids) costs 1 + 3 ids × (id 1).
			name:  "nodes by ids",
			query: `{ nodes(ids: ["a", "b", "c"]) { id } }`,
			cost:  1 + 3*1,
			depth: 2,
		},
		{
			name:  "nodes by ids variable",
			query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			vars:  map[string]any{"ids": []any{"a", "b", "c", "d", "e"}},
			cost:  1 + 5*1,
			depth: 2,
		},
		{
			// children: id 1 + owner{name} 2 (inline fragment) = 3; 1 + 2×3.
			name:  "nodes with inline fragment",
			query: `{ nodes(ids: ["a", "b"]) { id ... on Customer { owner { name } } } }`,
			cost:  1 + 2*3,
			depth: 3,
		},
		{
			// C: totalCount 1 + edges(1 + node(1 + name 1)) = 4; 1 + 10×4.
			name:  "fragment spread",
			query: `{ customers(first: 10) { ...C } } fragment C on CustomerConnection { totalCount edges { node { name } } }`,
			cost:  1 + 10*4,
			depth: 4,
		},
		{
			name:  "fragment spread twice is counted twice",
			query: `{ customers(first: 10) { ...C ...C } } fragment C on CustomerConnection { totalCount }`,
			cost:  1 + 10*2,
			depth: 2,
		},
		{
			// roles is a list field without first: 1 + 20 × (name 1).
			name:  "plain list field",
			query: `{ viewer { roles { name } } }`,
			cost:  1 + (1 + 20*1),
			depth: 3,
		},
		{
			name:  "scalar list field",
			query: `{ node(id: "x") { ... on Customer { tags } } }`,
			cost:  1 + 1,
			depth: 2,
		},
		{
			name:  "typename is free",
			query: `{ __typename viewer { __typename name } }`,
			cost:  2,
			depth: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := opContext(t, schema, tt.query, tt.vars)
			w := walker{limits: testLimits(), vars: rc.Variables, fragments: rc.Doc.Fragments, memo: map[string]*summary{}}
			s := w.selectionSet(rc.Operation.SelectionSet)
			if s.cost != tt.cost || s.depth != tt.depth {
				t.Errorf("cost, depth = %d, %d; want %d, %d", s.cost, s.depth, tt.cost, tt.depth)
			}
			if len(s.bad) > 0 {
				t.Errorf("unexpected page-size errors %v", s.bad)
			}

			// The extension refuses exactly above the computed cost.
			l := testLimits()
			l.MaxCost = tt.cost
			if err := New(l).MutateOperationContext(t.Context(), rc); err != nil {
				t.Errorf("at MaxCost %d: %v", l.MaxCost, err)
			}
			if tt.cost > 0 {
				l.MaxCost = tt.cost - 1
				if l.MaxCost > 0 {
					err := New(l).MutateOperationContext(t.Context(), rc)
					check(t, err, want{code: apierr.LimitExceeded, key: "cost_exceeded"})
				}
			}
		})
	}
}

func TestCostMessage(t *testing.T) {
	l := testLimits()
	l.MaxCost = 600
	rc := opContext(t, testSchema(t), `{ customers(first: 100) { edges { node { owner { name } department { name } } } } }`, nil)
	err := New(l).MutateOperationContext(t.Context(), rc)
	if err == nil {
		t.Fatal("got no error")
	}
	if want := "The query is too expensive (601, at most 600)."; err.Message != want {
		t.Errorf("message = %q, want %q", err.Message, want)
	}
}

func TestPageSizeKeywords(t *testing.T) {
	rc := opContext(t, testSchema(t), `{ a: customers(first: 101) { totalCount } b: customers(last: -1) { totalCount } }`, nil)
	ae := apierr.As(New(testLimits()).MutateOperationContext(t.Context(), rc))
	if ae == nil || len(ae.Fields) != 2 {
		t.Fatalf("got %v, want two field errors", ae)
	}
	if ae.Fields[0].Keyword != "maximum" || ae.Fields[1].Keyword != "minimum" {
		t.Errorf("keywords = %q, %q; want maximum, minimum", ae.Fields[0].Keyword, ae.Fields[1].Keyword)
	}
}

// TestFragmentFanOut checks that fragments spread exponentially often are
// walked once each: the walk would not finish otherwise.
func TestFragmentFanOut(t *testing.T) {
	const levels = 60
	var b strings.Builder
	fmt.Fprintf(&b, "{ ...F%d }\n", levels)
	b.WriteString("fragment F0 on Query { customers(first: 101) { totalCount } }\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	schema := testSchema(t)
	doc, errs := parser.ParseQuery(&ast.Source{Input: b.String()})
	if errs != nil {
		t.Fatalf("parse: %v", errs)
	}
	// Only F0 needs field definitions, so it alone comes from a validated
	// document; the fan-out lives in the spreads of the parsed one.
	small, verrs := gqlparser.LoadQuery(schema, "{ ...F0 } fragment F0 on Query { customers(first: 101) { totalCount } }")
	if len(verrs) > 0 {
		t.Fatalf("load: %v", verrs)
	}
	doc.Fragments[0] = small.Fragments.ForName("F0")
	rc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}

	check(t, New(testLimits()).MutateOperationContext(t.Context(), rc), want{code: apierr.BadUserInput, pointers: []string{"/customers/first"}})

	// Without the bad page size the cost saturates instead of overflowing.
	small, verrs = gqlparser.LoadQuery(schema, "{ ...F0 } fragment F0 on Query { customers(first: 100) { totalCount } }")
	if len(verrs) > 0 {
		t.Fatalf("load: %v", verrs)
	}
	doc.Fragments[0] = small.Fragments.ForName("F0")
	check(t, New(testLimits()).MutateOperationContext(t.Context(), rc), want{code: apierr.LimitExceeded, key: "cost_exceeded"})
}

func TestFragmentCycleTerminates(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `{ ...A } fragment A on Query { viewer { name } ...B } fragment B on Query { ...A }`})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	rc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
	if err := New(testLimits()).MutateOperationContext(t.Context(), rc); err != nil {
		t.Errorf("got %v, want none", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		l    Limits
		ok   bool
	}{
		{"sensible", testLimits(), true},
		{"zero", Limits{}, false},
		{"no max page size", Limits{DefaultPageSize: 0, MaxDepth: 1, MaxCost: 1}, false},
		{"default above max", Limits{MaxPageSize: 10, DefaultPageSize: 11, MaxDepth: 1, MaxCost: 1}, false},
		{"negative default", Limits{MaxPageSize: 10, DefaultPageSize: -1, MaxDepth: 1, MaxCost: 1}, false},
		{"no depth", Limits{MaxPageSize: 10, DefaultPageSize: 1, MaxCost: 1}, false},
		{"no cost", Limits{MaxPageSize: 10, DefaultPageSize: 1, MaxDepth: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New(tt.l).Validate(nil)
			if (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestAsInt(t *testing.T) {
	tests := []struct {
		v    any
		n    int64
		isOK bool
	}{
		{int(7), 7, true},
		{int32(-3), -3, true},
		{int64(101), 101, true},
		{uint8(9), 9, true},
		{float64(100), 100, true},
		{float64(1.5), 0, false},
		{float64(1e300), 0, false},
		{json.Number("42"), 42, true},
		{"42", 42, true},
		{"4x", 0, false},
		{true, 0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T %v", tt.v, tt.v), func(t *testing.T) {
			n, ok := asInt(tt.v)
			if n != tt.n || ok != tt.isOK {
				t.Errorf("asInt(%v) = %d, %v; want %d, %v", tt.v, n, ok, tt.n, tt.isOK)
			}
		})
	}
}
