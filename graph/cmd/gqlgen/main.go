// Command gqlgen generates the GraphQL server code (graph/generated.go and
// the resolver stubs) from gqlgen.yml, as `go tool gqlgen generate` does,
// with one plugin of ours: sequentialFields. `make generate` runs it from
// the repository root.
package main

import (
	"fmt"
	"os"

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
// concurrent resolution. List elements are still marshalled concurrently.
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
}
