// Command gqlgen generates the GraphQL server code (graph/generated.go and
// the resolver stubs) from gqlgen.yml, as `go tool gqlgen generate` does,
// with two changes of ours for the types whose fields resolve from memory:
// the plugin sequentialFields, and marshalListsInOrder run on the generated
// code. `make generate` runs it from the repository root.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// sequentialObjects are the GraphQL types whose fields resolve one after the
// other in the goroutine that marshals the object. Their resolver fields
// (decrypted personal fields, eagerly loaded edges) work on data already in
// memory, so running each in a goroutine of its own only costs: a
// goroutine, and a stack grown by copying, per field and row — about a
// third of the CPU of a 50-row customer page with three personal fields
// (docs/BENCHMARKS.md, E1). Types whose fields query the database on their
// own (tickets and projects: history, approvals, timers) keep gqlgen's
// concurrent resolution. Lists of these types, and of their connection
// edges, are marshalled in order too (marshalListsInOrder).
var sequentialObjects = []string{"Customer", "Contact", "FollowUp", "User", "Attachment"}

// sequentialFields is the gqlgen plugin that turns off per-field
// concurrency for sequentialObjects.
type sequentialFields struct{ objects []string }

func (sequentialFields) Name() string { return "sequentialfields" }

// GenerateCode runs after gqlgen has built its model of the schema and
// before it writes code from it.
func (p sequentialFields) GenerateCode(data *codegen.Data) error {
	for _, name := range p.objects {
		obj := data.Objects.ByName(name)
		if obj == nil {
			return fmt.Errorf("sequentialfields: no GraphQL object %q", name)
		}
		obj.DisableConcurrency = true
	}
	return nil
}

// inOrderMarshaller is the function of package graph (graph/marshal.go)
// that takes the place of graphql.MarshalSliceConcurrently in the list
// marshallers of sequentialObjects.
const inOrderMarshaller = "marshalSliceInOrder"

// marshalListsInOrder rewrites the generated code in filename so that lists
// of objects (and of their connection edges) marshal their elements one
// after the other: gqlgen starts a goroutine per element of every list and
// has no setting to turn that off, nor a way for a plugin to replace its
// templates. It fails when a named object has no list marshaller calling
// graphql.MarshalSliceConcurrently, which means gqlgen's code changed and
// this rewrite needs a look.
func marshalListsInOrder(filename string, objects []string) error {
	src, err := os.ReadFile(filename)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, 0)
	if err != nil {
		return err
	}
	type span struct{ start, end int }
	var calls []span
	found := map[string]bool{}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Recv == nil || fn.Body == nil {
			continue
		}
		obj := listElement(fn.Name.Name, objects)
		if obj == "" {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "MarshalSliceConcurrently" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "graphql" {
				return true
			}
			calls = append(calls, span{fset.Position(sel.Pos()).Offset, fset.Position(sel.End()).Offset})
			found[obj] = true
			return true
		})
	}
	for _, obj := range objects {
		if !found[obj] {
			return fmt.Errorf("marshalling lists in order: no list marshaller of %s calls graphql.MarshalSliceConcurrently; gqlgen's generated code changed", obj)
		}
	}
	var out bytes.Buffer
	last := 0
	for _, c := range calls {
		out.Write(src[last:c.start])
		out.WriteString(inOrderMarshaller)
		last = c.end
	}
	out.Write(src[last:])
	formatted, err := format.Source(out.Bytes())
	if err != nil {
		return fmt.Errorf("marshalling lists in order: %w", err)
	}
	return os.WriteFile(filename, formatted, 0o644)
}

// listElement returns the object of objects whose list, or list of
// connection edges, the generated function name marshals, or "". gqlgen
// names them marshal, N (non-null) or O (nullable), the GraphQL type, "2",
// and the Go type with "ᚕ" for a slice: marshalNCustomer2ᚕ…,
// marshalOCustomerEdge2ᚕ….
func listElement(name string, objects []string) string {
	for _, prefix := range []string{"marshalN", "marshalO"} {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		typ, _, ok := strings.Cut(rest, "2ᚕ")
		if !ok {
			continue
		}
		if obj := strings.TrimSuffix(typ, "Edge"); slices.Contains(objects, obj) {
			return obj
		}
	}
	return ""
}

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen: loading config:", err)
		os.Exit(2)
	}
	if err := api.Generate(cfg, api.AddPlugin(sequentialFields{objects: sequentialObjects})); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(3)
	}
	if err := marshalListsInOrder(cfg.Exec.Filename, sequentialObjects); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(3)
	}
}
