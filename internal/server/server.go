// Package server owns the HTTP surface of Custos: the one list of routes,
// the middleware every request passes (request id, client address, logging,
// metrics, recovery, body limits, CSRF) and the health endpoints.
package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/requestinfo"
	"github.com/custos-crm/custos/internal/store"
	"github.com/custos-crm/custos/web"
)

// DefaultMaxBodyBytes bounds request bodies.
const DefaultMaxBodyBytes = 1 << 20

// Deps is everything the HTTP surface needs.
type Deps struct {
	Logger         *slog.Logger
	Store          *store.Store
	Auth           *authn.Service
	GraphQL        http.Handler
	Registry       *prometheus.Registry
	TrustedProxies []netip.Prefix
	MaxBodyBytes   int64
	// Files answers attachment downloads.
	Files http.Handler
	// MaxUploadBytes bounds multipart GraphQL requests.
	MaxUploadBytes int64
	// Jobs is the job queue readyz reports on.
	Jobs interface{ Health(context.Context) error }
}

// New returns the root handler.
func New(d Deps) http.Handler {
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = DefaultMaxBodyBytes
	}
	mux := http.NewServeMux()
	addRoutes(mux, d)
	m := newMetrics(d.Registry)
	var h http.Handler = mux
	h = limitBody(d.MaxBodyBytes, max(d.MaxUploadBytes, d.MaxBodyBytes), h)
	h = securityHeaders(h)
	h = recoverPanics(d.Logger, h)
	h = logRequests(d.Logger, m, h)
	h = withRequestInfo(d.TrustedProxies, h)
	return h
}

// addRoutes lists every path the server answers.
func addRoutes(mux *http.ServeMux, d Deps) {
	csrf := http.NewCrossOriginProtection()
	mux.Handle("POST /graphql", d.Auth.Authenticate(authn.RequireViewer(guardCookieRequests(csrf, d.GraphQL))))
	mux.Handle("POST /auth/login", guardLogin(csrf, d.Auth.Login()))
	mux.Handle("POST /auth/mfa", guardLogin(csrf, d.Auth.MFA()))
	mux.Handle("POST /auth/logout", d.Auth.Authenticate(guardCookieRequests(csrf, d.Auth.Logout())))
	signedIn := func(restrictedOK bool, h http.Handler) http.Handler {
		require := authn.RequireViewer
		if restrictedOK {
			require = authn.AllowRestricted
		}
		return d.Auth.Authenticate(require(guardCookieRequests(csrf, h)))
	}
	mux.Handle("POST /auth/password", signedIn(true, d.Auth.ChangePassword()))
	mux.Handle("POST /auth/totp/enrol", signedIn(true, d.Auth.EnrolTOTP()))
	mux.Handle("POST /auth/totp/confirm", signedIn(true, d.Auth.ConfirmTOTP()))
	mux.Handle("POST /auth/totp/disable", signedIn(false, d.Auth.DisableTOTP()))
	mux.Handle("POST /auth/step-up", signedIn(false, d.Auth.StepUp()))
	mux.Handle("POST /auth/webauthn/register/begin", signedIn(true, d.Auth.BeginPasskeyRegistration()))
	mux.Handle("POST /auth/webauthn/register/finish", signedIn(true, d.Auth.FinishPasskeyRegistration()))
	mux.Handle("POST /auth/webauthn/login/begin", guardLogin(csrf, d.Auth.BeginPasskeyLogin()))
	mux.Handle("POST /auth/webauthn/login/finish", guardLogin(csrf, d.Auth.FinishPasskeyLogin()))
	mux.Handle("GET /files/{id}", d.Auth.Authenticate(authn.RequireViewer(d.Files)))
	pages := web.Pages()
	mux.Handle("GET /login", pages)
	mux.Handle("GET /account", pages)
	mux.Handle("GET /assets/", pages)
	mux.Handle("GET /auth/providers", d.Auth.Providers())
	mux.Handle("GET /auth/oidc/{tenant}/{provider}/login", d.Auth.SSOLogin())
	mux.Handle("GET /auth/oidc/{tenant}/{provider}/callback", d.Auth.SSOCallback())
	mux.Handle("GET /auth/oidc/{tenant}/{provider}/logout", d.Auth.SSOLogout())
	mux.Handle("GET /healthz", healthz())
	mux.Handle("GET /readyz", readyz(d.Store, d.Jobs, d.Logger))
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
	mux.Handle("/", notFound())
}

func notFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.FromContext(r.Context())
		apierr.WriteHTTP(w, apierr.New(apierr.NotFound), info.Locale, info.ID)
	})
}

func healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// readyz reports whether the database answers, its schema is current and
// the job queue is working.
func readyz(st *store.Store, jobs interface{ Health(context.Context) error }, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		checks := map[string]string{"database": "ok", "schema": "ok", "jobs": "ok"}
		status := http.StatusOK
		if err := st.Ping(r.Context()); err != nil {
			checks["database"], status = "unreachable", http.StatusServiceUnavailable
		} else if s, err := st.Status(r.Context()); err != nil {
			checks["schema"], status = "unknown", http.StatusServiceUnavailable
		} else if !s.Current() {
			checks["schema"], status = "behind", http.StatusServiceUnavailable
		}
		if jobs == nil {
			checks["jobs"], status = "off", http.StatusServiceUnavailable
		} else if err := jobs.Health(r.Context()); err != nil {
			logger.WarnContext(r.Context(), "readyz: job queue", "error", err)
			checks["jobs"], status = "not working", http.StatusServiceUnavailable
		}
		writeJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": checks})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
