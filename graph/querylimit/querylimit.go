// Package querylimit owns the limits every GraphQL operation must stay within:
// the page size of list fields, the nesting depth and the cost.
//
// An Extension is registered on a gqlgen server with srv.Use(querylimit.New(...)).
// It checks each operation after parsing and validation and before anything
// runs, in this order, stopping at the first check that fails:
//
//  1. page size: every first or last argument must be an int from 0 to
//     MaxPageSize; all offending arguments are reported together as
//     BAD_USER_INPUT, each by the JSON Pointer of its response path, such as
//     /customers/first;
//  2. depth: the longest chain of nested fields must be at most MaxDepth,
//     otherwise LIMIT_EXCEEDED with message key depth_exceeded;
//  3. cost: the cost must be at most MaxCost, otherwise LIMIT_EXCEEDED with
//     message key cost_exceeded.
//
// Every field costs 1. A list field (one whose schema type is a list, or that
// takes first or last) costs 1 + pageSize × the cost of its children, where
// pageSize is first or last (the larger when both are given), otherwise the
// number of ids of an ids argument, as in nodes(ids:), otherwise
// DefaultPageSize. A list field named edges, inside a Relay connection, is not
// multiplied again: it costs 1 + the cost of its children. Introspection
// fields (names starting with "__") are free and do not count for depth.
// Fragments are expanded where they are spread; fields that the executor
// would merge, and type conditions of which only one applies at run time, are
// each counted, so the cost is an upper bound.
//
// Errors reach the client through the server's error presenter: in gqlgen
// v0.17.98 the transports hand the error returned by MutateOperationContext
// to Executor.DispatchError, which calls graphql.AddError, which passes it
// through the presenter set with SetErrorPresenter. The returned
// *gqlerror.Error therefore wraps the *apierr.Error (its Err field, reachable
// with apierr.As) and leaves rendering, locale and request id to the
// presenter. As a fallback for a server without a presenter of its own, the
// gqlerror also carries the English message and the apierr body as its
// extensions, which gqlgen's default presenter returns unchanged. The HTTP
// status stays 200, as for any error gqlgen classes as a user error.
package querylimit

import (
	"context"
	"fmt"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/custos-crm/custos/internal/apierr"
)

// Limits are the bounds an operation must stay within.
type Limits struct {
	// MaxPageSize is the largest first or last a list field accepts, such as 100.
	MaxPageSize int
	// DefaultPageSize is the page size assumed for a list field called
	// without first or last, such as 20.
	DefaultPageSize int
	// MaxDepth is the longest chain of nested fields allowed, such as 12.
	MaxDepth int
	// MaxCost is the highest cost allowed, such as 20000.
	MaxCost int
}

// Extension is a gqlgen handler extension that refuses operations outside its
// Limits before they run.
type Extension struct {
	limits Limits
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*Extension)(nil)

// New returns an Extension enforcing l. The server's Use calls Validate, which
// panics the server setup when l is not sensible.
func New(l Limits) *Extension {
	return &Extension{limits: l}
}

// ExtensionName returns the name gqlgen knows the extension by.
func (e *Extension) ExtensionName() string { return "QueryLimit" }

// Validate reports whether the limits are sensible; the schema is not needed,
// as validation has already tied every field of an operation to its
// definition.
func (e *Extension) Validate(graphql.ExecutableSchema) error {
	l := e.limits
	switch {
	case l.MaxPageSize <= 0:
		return fmt.Errorf("querylimit: max page size %d is not positive", l.MaxPageSize)
	case l.DefaultPageSize < 0 || l.DefaultPageSize > l.MaxPageSize:
		return fmt.Errorf("querylimit: default page size %d is not between 0 and %d", l.DefaultPageSize, l.MaxPageSize)
	case l.MaxDepth <= 0:
		return fmt.Errorf("querylimit: max depth %d is not positive", l.MaxDepth)
	case l.MaxCost <= 0:
		return fmt.Errorf("querylimit: max cost %d is not positive", l.MaxCost)
	}
	return nil
}

// MutateOperationContext checks rc's operation against the limits and returns
// the first failing check as an error wrapping an *apierr.Error, or nil.
func (e *Extension) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc == nil || rc.Operation == nil {
		return nil
	}
	w := walker{
		limits: e.limits,
		vars:   rc.Variables,
		memo:   map[string]*summary{},
	}
	if rc.Doc != nil {
		w.fragments = rc.Doc.Fragments
	}
	s := w.selectionSet(rc.Operation.SelectionSet)
	switch {
	case len(s.bad) > 0:
		return e.pageSizeError(s.bad)
	case s.depth > e.limits.MaxDepth:
		return limitError("depth_exceeded", map[string]string{
			"max": strconv.Itoa(e.limits.MaxDepth),
		})
	case s.cost > e.limits.MaxCost:
		return limitError("cost_exceeded", map[string]string{
			"cost": strconv.Itoa(s.cost),
			"max":  strconv.Itoa(e.limits.MaxCost),
		})
	}
	return nil
}

func (e *Extension) pageSizeError(bad []badArg) *gqlerror.Error {
	maxSize := strconv.Itoa(e.limits.MaxPageSize)
	fields := make([]apierr.FieldError, len(bad))
	for i, b := range bad {
		fe := apierr.Field(b.pointer, "page_size", "max", maxSize)
		fe.Keyword = b.keyword
		fields[i] = fe
	}
	apiErr := apierr.BadInput(fields...)
	body := apierr.Present(apiErr, "en", "")
	return &gqlerror.Error{Message: body.Message, Err: apiErr, Extensions: body.Map()}
}

// limitError returns a LIMIT_EXCEEDED error. The apierr.Error has no place
// for message parameters, so params only fill the gqlerror's own message.
func limitError(key string, params map[string]string) *gqlerror.Error {
	apiErr := &apierr.Error{Code: apierr.LimitExceeded, MessageKey: key, Params: params}
	body := apierr.Present(apiErr, "en", "")
	return &gqlerror.Error{
		Message:    body.Message,
		Err:        apiErr,
		Extensions: body.Map(),
	}
}
