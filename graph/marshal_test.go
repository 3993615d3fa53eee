package graph

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestMarshalSliceInOrder checks that the in-order list marshaller keeps
// the contract of gqlgen's concurrent one: every element in its place with
// a field context carrying its index, and a panicking element reported as
// an error and marshalled as null without losing the others.
func TestMarshalSliceInOrder(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(),
		graphql.DefaultErrorPresenter,
		func(ctx context.Context, v any) error { return errors.New("recovered: " + v.(string)) })
	parent := &graphql.FieldContext{Field: graphql.CollectedField{}}
	ctx = graphql.WithFieldContext(ctx, parent)

	var order []int
	got := marshalSliceInOrder(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		order = append(order, i)
		fc := graphql.GetFieldContext(ctx)
		if fc.Index == nil || *fc.Index != i || fc.Parent != parent {
			t.Errorf("element %d: field context index %v, parent %p; want its index under the list's context", i, fc.Index, fc.Parent)
		}
		if i == 2 {
			panic("element two")
		}
		return graphql.MarshalString(strconv.Itoa(i))
	})
	if len(order) != 4 || order[0] != 0 || order[3] != 3 {
		t.Errorf("elements marshalled in order %v, want 0 1 2 3", order)
	}
	var buf bytes.Buffer
	got.MarshalGQL(&buf)
	if buf.String() != `["0","1",null,"3"]` {
		t.Errorf("list = %s, want the panicking element as null", buf.String())
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 || errs[0].Message != "recovered: element two" || errs[0].Path.String() != "[2]" {
		t.Errorf("errors = %v, want the recovered panic at index 2", errs)
	}
	if n := len(marshalSliceInOrder(ctx, 0, 0, false, nil)); n != 0 {
		t.Errorf("empty list has %d elements", n)
	}
}
