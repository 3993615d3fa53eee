package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const generatedSample = `package graph

func (ec *executionContext) marshalNCustomer2ᚕᚖentᚐCustomerᚄ(ctx context.Context, v []*ent.Customer) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNCustomer2ᚖentᚐCustomer(ctx, v[i])
	})
	return ret
}

func (ec *executionContext) marshalOCustomerEdge2ᚕᚖentᚐCustomerEdge(ctx context.Context, v []*ent.CustomerEdge) graphql.Marshaler {
	return graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, nil)
}

func (ec *executionContext) marshalNTicket2ᚕᚖentᚐTicketᚄ(ctx context.Context, v []*ent.Ticket) graphql.Marshaler {
	return graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, nil)
}

func (ec *executionContext) marshalNCustomerKind2ᚕentᚐKindᚄ(ctx context.Context, v []customer.Kind) graphql.Marshaler {
	return graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, nil)
}
`

func TestMarshalListsInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "generated.go")
	if err := os.WriteFile(path, []byte(generatedSample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := marshalListsInOrder(path, []string{"Customer"}); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	if n := strings.Count(got, inOrderMarshaller+"("); n != 2 {
		t.Errorf("%d calls rewritten, want the customer list and the customer edge list:\n%s", n, got)
	}
	if n := strings.Count(got, "graphql.MarshalSliceConcurrently("); n != 2 {
		t.Errorf("%d concurrent calls left, want tickets' and customer kinds' (another object, and an enum):\n%s", n, got)
	}

	if err := os.WriteFile(path, []byte(generatedSample), 0o644); err != nil {
		t.Fatal(err)
	}
	err = marshalListsInOrder(path, []string{"Customer", "Invoice"})
	if err == nil || !strings.Contains(err.Error(), "Invoice") {
		t.Errorf("an object without a list marshaller: error %v, want one naming it", err)
	}
	if out, _ := os.ReadFile(path); string(out) != generatedSample {
		t.Error("the file was changed although the rewrite failed")
	}
}
