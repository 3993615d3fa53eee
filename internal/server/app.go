package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/authn/oidc"
	"github.com/custos-crm/custos/authn/passkey"
	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/graph"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/directory"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/files"
	"github.com/custos-crm/custos/internal/safehttp"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/internal/webhooks"
	"github.com/custos-crm/custos/internal/workitems"
)

// AppConfig is what the whole application is built from.
type AppConfig struct {
	Store          *store.Store
	Clock          clock.Clock
	Hasher         *password.Hasher
	Logger         *slog.Logger
	Registry       *prometheus.Registry
	TrustedProxies []netip.Prefix
	Introspection  bool
	// Disclosure decides how personal values are shown; default: in
	// clear to whoever may read the record.
	Disclosure *disclosure.Discloser
	// Files configures attachments.
	Files files.Config
	// PublicURL is where browsers reach the server (passkeys' relying
	// party and origin, SSO callbacks), e.g. http://localhost:8080.
	PublicURL string
	// AllowLoopbackIdP lets identity providers live on loopback addresses
	// (development and tests only).
	AllowLoopbackIdP bool
	// Throttle sets the sign-in limits; zero means the defaults.
	Throttle authn.ThrottleLimits
	// Hashing bounds the password hashing requests start (slots and the
	// wait for one); zero fields mean the defaults.
	Hashing authn.HashLimits
	// ViewerCacheTTL is how long a loaded viewer is reused; zero means
	// authn.DefaultViewerCacheTTL, authn.ViewerCacheOff turns it off.
	ViewerCacheTTL time.Duration
	// Background is the job queue and the services on it, built once per
	// store with NewBackground.
	Background *Background
	// AllowHTTPWebhooks accepts http:// webhook URLs (development and
	// tests only).
	AllowHTTPWebhooks bool
}

// NewApp wires the services and returns the root handler. `custos serve`
// and the tests build the application through it alike.
func NewApp(c AppConfig) (http.Handler, error) {
	if c.Disclosure == nil {
		c.Disclosure = disclosure.New(c.Store.Client.Vault, disclosure.ClearToReaders())
	}
	client := c.Store.Client
	fileService := files.New(c.Files)
	passkeys, err := passkeyConfig(c.PublicURL)
	if err != nil {
		return nil, err
	}
	auth, err := authn.NewService(authn.Config{
		Client: client, Hasher: c.Hasher, Clock: c.Clock, Logger: c.Logger,
		Throttle: c.Throttle, Passkeys: passkeys, PublicURL: c.PublicURL,
		Hashing: c.Hashing, ViewerCacheTTL: c.ViewerCacheTTL,
		OIDC: oidc.NewClient(safehttp.NewClient(safehttp.Options{AllowLoopback: c.AllowLoopbackIdP})),
	})
	if err != nil {
		return nil, err
	}
	if c.Registry != nil {
		refused := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "custos_auth_hash_refused_total",
			Help: "Sign-in, step-up and password-change requests refused with RATE_LIMITED because no password hashing slot came free in time.",
		}, func() float64 { return float64(auth.HashRefusals()) })
		if err := c.Registry.Register(refused); err != nil {
			return nil, fmt.Errorf("registering sign-in metrics: %w", err)
		}
	}
	return New(Deps{
		Logger: c.Logger,
		Store:  c.Store,
		Auth:   auth,
		GraphQL: graph.NewHandler(graph.HandlerConfig{
			Client:        client,
			Clock:         c.Clock,
			Directory:     directory.New(auth, c.Clock, auth),
			Disclosure:    c.Disclosure,
			Files:         fileService,
			Auth:          auth,
			DB:            c.Store.DB,
			Logger:        c.Logger,
			Introspection: c.Introspection,
			Jobs:          c.Background.Queue,
			Outbox:        c.Background.Outbox,
			Notify:        c.Background.Notify,
			Webhooks:      webhooks.Service{AllowHTTP: c.AllowHTTPWebhooks},
			Forms:         c.Background.Forms,
			Workflows:     c.Background.Workflows,
			WorkItems:     c.Background.WorkItems,
		}),
		Jobs:           c.Background.Queue,
		Registry:       c.Registry,
		TrustedProxies: c.TrustedProxies,
		Files:          withRequestState(c.Background.WorkItems, client, fileService.Download(client, c.Disclosure, c.Logger)),
		MaxUploadBytes: fileService.MaxSize() + 1<<20,
	}), nil
}

// passkeyConfig derives the WebAuthn relying party from the public URL.
func passkeyConfig(publicURL string) (passkey.Config, error) {
	if publicURL == "" {
		return passkey.Config{}, nil
	}
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" {
		return passkey.Config{}, fmt.Errorf("public URL %q is not a URL", publicURL)
	}
	return passkey.Config{
		RPID: u.Hostname(), RPDisplayName: "Custos",
		Origins: []string{u.Scheme + "://" + u.Host},
	}, nil
}

// withRequestState prepares each request's context as the GraphQL handler
// does (workitems.Service.NewRequestContext), so that downloads see the
// records an approver's tasks grant.
func withRequestState(w *workitems.Service, client *ent.Client, next http.Handler) http.Handler {
	if w == nil {
		return next
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(rw, r.WithContext(w.NewRequestContext(r.Context(), client)))
	})
}
