package graph

import (
	"context"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// transactioner runs each mutation in a transaction, as entgql's does, but
// reports a failure to open or commit it like every other internal error:
// code and request id for the client, the cause in the log.
type transactioner struct {
	entgql.Transactioner
	logger *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = transactioner{}

// InterceptResponse runs a mutation under a transaction.
func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != "mutation" {
		return next(ctx)
	}
	txCtx, tx, err := t.OpenTx(ctx)
	if err != nil {
		return t.internal(ctx, "opening transaction", err)
	}
	defer func() {
		if r := recover(); r != nil {
			_ = tx.Rollback()
			panic(r)
		}
	}()
	rsp := next(txCtx)
	if len(rsp.Errors) > 0 {
		_ = tx.Rollback()
		return &graphql.Response{Errors: rsp.Errors}
	}
	if err := tx.Commit(); err != nil {
		return t.internal(ctx, "committing transaction", err)
	}
	return rsp
}

func (t transactioner) internal(ctx context.Context, what string, err error) *graphql.Response {
	info := requestinfo.FromContext(ctx)
	if requestinfo.Abandoned(ctx, err) {
		// The client went away; the transaction is rolled back and
		// nothing failed inside the server.
		t.logger.InfoContext(ctx, "graphql mutation abandoned by the client while "+what, "request_id", info.ID)
	} else {
		t.logger.ErrorContext(ctx, "graphql "+what+" failed", "request_id", info.ID, "error", err.Error())
	}
	body := apierr.Present(apierr.Wrap(apierr.Internal, err), info.Locale, info.ID)
	return &graphql.Response{Errors: gqlerror.List{{Message: body.Message, Extensions: body.Map()}}}
}
