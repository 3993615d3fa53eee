package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/graph"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/directory"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/files"
	"github.com/custos-crm/custos/internal/store"
)

// AppConfig is what the whole application is built from.
type AppConfig struct {
	Store           *store.Store
	Clock           clock.Clock
	Hasher          *password.Hasher
	Logger          *slog.Logger
	Registry        *prometheus.Registry
	TrustedProxies  []netip.Prefix
	Introspection   bool
	SessionLifetime time.Duration
	// Disclosure decides how personal values are shown; default: in
	// clear to whoever may read the record.
	Disclosure *disclosure.Discloser
	// Files configures attachments.
	Files files.Config
}

// NewApp wires the services and returns the root handler. `custos serve`
// and the tests build the application through it alike.
func NewApp(c AppConfig) http.Handler {
	if c.SessionLifetime <= 0 {
		c.SessionLifetime = session.DefaultLifetime
	}
	if c.Disclosure == nil {
		c.Disclosure = disclosure.New(c.Store.Client.Vault, disclosure.ClearToReaders())
	}
	client := c.Store.Client
	fileService := files.New(c.Files)
	sessions := session.NewManager(client, c.Clock, c.SessionLifetime)
	return New(Deps{
		Logger: c.Logger,
		Store:  c.Store,
		Auth:   authn.NewService(client, sessions, c.Hasher, c.Clock, c.Logger),
		GraphQL: graph.NewHandler(graph.HandlerConfig{
			Client:        client,
			Clock:         c.Clock,
			Directory:     directory.New(c.Hasher, c.Clock),
			Disclosure:    c.Disclosure,
			Files:         fileService,
			DB:            c.Store.DB,
			Logger:        c.Logger,
			Introspection: c.Introspection,
		}),
		Registry:       c.Registry,
		TrustedProxies: c.TrustedProxies,
		Files:          fileService.Download(client, c.Disclosure, c.Logger),
		MaxUploadBytes: fileService.MaxSize() + 1<<20,
	})
}
