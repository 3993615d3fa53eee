package graph

import (
	"context"
	"database/sql"
	"github.com/custos-crm/custos/authn"
	"log/slog"
	"net/http"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/graph/querylimit"
	"github.com/custos-crm/custos/internal/audit"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/directory"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/files"
	"github.com/custos-crm/custos/internal/formdefs"
	"github.com/custos-crm/custos/internal/jobs"
	"github.com/custos-crm/custos/internal/notify"
	"github.com/custos-crm/custos/internal/outbox"
	"github.com/custos-crm/custos/internal/webhooks"
	"github.com/custos-crm/custos/internal/workflows"
	"github.com/custos-crm/custos/internal/workitems"
)

// Limits every operation must stay within.
const (
	MaxDepth = 12
	MaxCost  = 25000
)

// HandlerConfig is what the GraphQL handler needs.
type HandlerConfig struct {
	Client    *ent.Client
	Clock     clock.Clock
	Directory *directory.Service
	Logger    *slog.Logger
	// Disclosure decides how personal values are shown.
	Disclosure *disclosure.Discloser
	// Auth is the sign-in service.
	Auth *authn.Service
	// Files stores attachments.
	Files *files.Service
	// DB is the database the audit reader looks record keys up in.
	DB *sql.DB
	// Introspection enables schema introspection (development only).
	Introspection bool
	// Jobs lists background jobs.
	Jobs *jobs.Queue
	// Outbox records webhook pings.
	Outbox *outbox.Service
	// Notify renders notifications and keeps preferences.
	Notify *notify.Service
	// Webhooks manages webhook endpoints.
	Webhooks webhooks.Service
	// Forms manages form definitions.
	Forms *formdefs.Service
	// Workflows manages workflow definitions.
	Workflows *workflows.Service
	// WorkItems runs tickets and projects.
	WorkItems *workitems.Service
}

// NewHandler returns the GraphQL endpoint. It expects the viewer, the
// request info and the CSRF checks to be in place already.
func NewHandler(cfg HandlerConfig) http.Handler {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{
		client:    cfg.Client,
		clock:     cfg.Clock,
		directory: cfg.Directory,
		disclose:  cfg.Disclosure,
		audit:     audit.NewReader(cfg.DB, cfg.Disclosure),
		files:     cfg.Files,
		auth:      cfg.Auth,
		jobs:      cfg.Jobs,
		outbox:    cfg.Outbox,
		notify:    cfg.Notify,
		webhooks:  cfg.Webhooks,
		forms:     cfg.Forms,
		workflows: cfg.Workflows,
		workitems: cfg.WorkItems,
	}}))
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: cfg.Files.MaxSize() + 1<<20, MaxMemory: 4 << 20})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	p := presenter{logger: cfg.Logger}
	srv.Use(querylimit.New(querylimit.Limits{
		MaxPageSize:     MaxPageSize,
		DefaultPageSize: DefaultPageSize,
		MaxDepth:        MaxDepth,
		MaxCost:         MaxCost,
	}))
	srv.Use(transactioner{Transactioner: entgql.Transactioner{TxOpener: cfg.Client}, logger: cfg.Logger})
	if cfg.WorkItems != nil {
		// Approvers read the tickets and projects of their tasks; field
		// access rules read roles and workflows once per request.
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			return next(cfg.WorkItems.NewRequestContext(ctx, cfg.Client))
		})
	}
	srv.AroundFields(markResolverErrors)
	srv.SetErrorPresenter(p.present)
	srv.SetRecoverFunc(p.recover)
	return srv
}
