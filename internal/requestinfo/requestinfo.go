// Package requestinfo owns what the server knows about the request it is
// serving, beyond the viewer: its id, the client's address and the locale to
// answer in. The HTTP middleware sets it; error presenters and logs read it.
package requestinfo

import (
	"context"
	"database/sql"
	"errors"
)

// Info describes one request.
type Info struct {
	ID       string
	ClientIP string
	// AcceptLanguage is the request's Accept-Language header, the last
	// resort when choosing a locale.
	AcceptLanguage string
	// Locale is the locale chosen for the answer.
	Locale string
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying info.
func NewContext(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, info)
}

// FromContext returns the request info in ctx, or an empty Info.
func FromContext(ctx context.Context) *Info {
	if info, ok := ctx.Value(ctxKey{}).(*Info); ok {
		return info
	}
	return &Info{}
}

// Abandoned reports whether err is the request's own context ending, which
// happens when the client closes the connection (or the server shuts down)
// before the answer is written: nobody reads the answer, and nothing failed
// inside the server. database/sql rolls back a transaction whose context
// ends, and a statement or commit racing that rollback gets sql.ErrTxDone
// instead of the context's error; on a request whose context has ended,
// that is the same abandonment.
func Abandoned(ctx context.Context, err error) bool {
	if ctx.Err() == nil {
		return false
	}
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrTxDone)
}
