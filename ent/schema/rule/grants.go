package rule

import (
	"context"

	"entgo.io/ent/entql"

	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
)

// RecordGrants says which records a viewer may read outside their data
// scope because work on them was handed to them: an approver reads the
// ticket or project of their approval task.
type RecordGrants interface {
	// RecordIDs returns the ids of the records of module granted to v.
	RecordIDs(ctx context.Context, v *viewer.Viewer, module string) ([]pulid.ID, error)
}

type recordGrantsKey struct{}

// NewRecordGrantsContext returns ctx carrying g, which the read rules of
// modules with a Granted extension consult. The GraphQL handler puts one
// into every operation.
func NewRecordGrantsContext(ctx context.Context, g RecordGrants) context.Context {
	return context.WithValue(ctx, recordGrantsKey{}, g)
}

// GrantExtension widens reads to records granted to the viewer. It returns
// a predicate matching them, or nil for none.
type GrantExtension func(ctx context.Context, v *viewer.Viewer) (entql.P, error)

// GrantedRecords returns the extension that reaches the records of module
// the RecordGrants in ctx grant to the viewer; without one in ctx (jobs,
// the command line) it reaches nothing.
func GrantedRecords(module string) GrantExtension {
	return func(ctx context.Context, v *viewer.Viewer) (entql.P, error) {
		g, _ := ctx.Value(recordGrantsKey{}).(RecordGrants)
		if g == nil {
			return nil, nil
		}
		granted, err := g.RecordIDs(ctx, v, module)
		if err != nil || len(granted) == 0 {
			return nil, err
		}
		return entql.FieldIn("id", ids(granted)...), nil
	}
}
