package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSliceInOrder marshals the elements of a list one after the other,
// in the goroutine that marshals the list. `make generate` (through
// graph/cmd/gqlgen) puts it in place of graphql.MarshalSliceConcurrently in
// the marshallers of lists whose elements resolve from memory: customers,
// contacts, follow-ups, users, attachments and their connection edges.
// Those start no query of their own, so a goroutine per element only adds
// its start and a stack grown by copying per row. It keeps the concurrent
// version's contract: each element gets a field context with its index, and
// an element whose marshalling panics reports the error and holds null.
// The worker limit is accepted for the same signature and has nothing to
// limit.
func marshalSliceInOrder(ctx context.Context, length int, _ int64, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		elementCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(elementCtx, i)
			continue
		}
		ret[i] = marshalRecovering(elementCtx, i, marshalElement)
	}
	return ret
}

// marshalRecovering marshals element i, turning a panic into the request's
// error for that element and a null in its place.
func marshalRecovering(ctx context.Context, i int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (m graphql.Marshaler) {
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			m = graphql.Null
		}
	}()
	return marshalElement(ctx, i)
}
