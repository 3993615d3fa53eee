package graph

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/privacy"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// resolverError marks an error returned by a resolver, as opposed to one
// gqlgen raised while reading the request.
type resolverError struct{ err error }

func (e resolverError) Error() string { return e.err.Error() }
func (e resolverError) Unwrap() error { return e.err }

// markResolverErrors is field middleware that marks every resolver error.
func markResolverErrors(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		err = resolverError{err}
	}
	return res, err
}

// presenter turns any error into the client-facing shape and logs the ones
// that are internal.
type presenter struct {
	logger *slog.Logger
}

func (p presenter) present(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	info := requestinfo.FromContext(ctx)
	ae := Classify(err)
	switch {
	case ae.Code != apierr.Internal:
	case requestinfo.Abandoned(ctx, err):
		// The client went away: nobody reads this answer, and nothing
		// failed inside the server.
		p.logger.InfoContext(ctx, "graphql request abandoned by the client", "request_id", info.ID, "path", gqlErr.Path.String())
	default:
		p.logger.ErrorContext(ctx, "graphql request failed", "request_id", info.ID, "path", gqlErr.Path.String(), "error", err.Error())
	}
	body := apierr.Present(ae, info.Locale, info.ID)
	return &gqlerror.Error{
		Message:    body.Message,
		Path:       gqlErr.Path,
		Locations:  gqlErr.Locations,
		Extensions: body.Map(),
	}
}

func (p presenter) recover(ctx context.Context, v any) error {
	p.logger.ErrorContext(ctx, "graphql resolver panicked", "request_id", requestinfo.FromContext(ctx).ID, "panic", v)
	return apierr.New(apierr.Internal)
}

// Classify maps an error to what clients may see of it.
func Classify(err error) *apierr.Error {
	if ae := apierr.As(err); ae != nil {
		return ae
	}
	var rerr resolverError
	if errors.As(err, &rerr) {
		return classifyResolverError(rerr.err)
	}
	if isNodeNotFound(err) {
		return apierr.Wrap(apierr.NotFound, err)
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) {
		if gqlErr.Rule != "" || gqlErr.Extensions["code"] != nil || len(gqlErr.Path) == 0 {
			// Parse and validation errors describe the query only.
			fe := apierr.Field("", "graphql_invalid", "detail", gqlErr.Message)
			return apierr.BadInput(fe)
		}
		// An argument that could not be read into its type.
		return apierr.BadInput(apierr.Field(argumentPointer(gqlErr.Path), "invalid"))
	}
	return apierr.Wrap(apierr.Internal, err)
}

func classifyResolverError(err error) *apierr.Error {
	var verr *ent.ValidationError
	switch {
	case errors.As(err, &verr):
		return apierr.BadInput(apierr.Field("/input/"+camel(verr.Name), validationKey(verr)))
	case ent.IsNotFound(err), isNodeNotFound(err):
		return apierr.Wrap(apierr.NotFound, err)
	case errors.Is(err, privacy.Deny):
		return apierr.Wrap(apierr.Forbidden, err)
	case ent.IsConstraintError(err):
		return apierr.Wrap(apierr.Conflict, err)
	}
	return apierr.Wrap(apierr.Internal, err)
}

func isNodeNotFound(err error) bool {
	var gqlErr *gqlerror.Error
	return errors.As(err, &gqlErr) && gqlErr.Extensions["code"] == "NOT_FOUND"
}

// validationKey picks the catalogue message for an ent validator failure.
func validationKey(verr *ent.ValidationError) string {
	msg := verr.Unwrap().Error()
	switch {
	case strings.Contains(msg, "less than the required length"):
		return "empty"
	case strings.Contains(msg, "more than the max length"):
		return "too_long"
	case strings.Contains(msg, "does not match"):
		return "invalid_format"
	case strings.Contains(msg, "missing required"):
		return "required"
	}
	return "invalid"
}

// argumentPointer turns the path of an argument error, such as
// [createCustomer input name], into the pointer /input/name.
func argumentPointer(path ast.Path) string {
	var b strings.Builder
	for i, el := range path {
		if i == 0 {
			continue
		}
		switch el := el.(type) {
		case ast.PathName:
			b.WriteString("/" + string(el))
		case ast.PathIndex:
			b.WriteString("/" + strconv.Itoa(int(el)))
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// camel turns an ent field name into its GraphQL name: owner_id → ownerID.
func camel(name string) string {
	parts := strings.Split(name, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] == "id" {
			parts[i] = "ID"
			continue
		}
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
