package authn

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/custos-crm/custos/authn/oidc"
	"github.com/custos-crm/custos/authn/passkey"
	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// Config is what the sign-in service is built from.
type Config struct {
	Client *ent.Client
	// Hasher hashes and verifies passwords; the server passes its
	// *password.Hasher.
	Hasher   PasswordHasher
	Clock    clock.Clock
	Logger   *slog.Logger
	Throttle ThrottleLimits
	// Hashing bounds the password hashing requests start; zero fields
	// take the defaults.
	Hashing HashLimits
	// ViewerCacheTTL is how long a loaded viewer is reused for further
	// requests of the same user; zero means DefaultViewerCacheTTL and
	// ViewerCacheOff turns the cache off.
	ViewerCacheTTL time.Duration
	// Passkeys configures WebAuthn; the relying party comes from the public
	// URL.
	Passkeys passkey.Config
	// OIDC is the client for tenants' identity providers; its HTTP client
	// refuses private addresses.
	OIDC *oidc.Client
	// PublicURL is where browsers reach the server, e.g.
	// http://localhost:8080; SSO callbacks are built from it.
	PublicURL string
}

// Service signs people in and out, runs the second-factor, passkey and
// single sign-on flows, and authenticates requests.
type Service struct {
	client    *ent.Client
	sessions  *session.Manager
	hasher    PasswordHasher
	hashes    *hashGate
	viewers   *viewerCache
	clock     clock.Clock
	logger    *slog.Logger
	flows     *Flows
	throttle  *Throttle
	common    *password.CommonPasswords
	passkeys  *passkey.Service
	oidc      *oidc.Client
	publicURL string
}

// NewService returns a Service. Unless the viewer cache is off, it installs
// hooks on c.Client that drop cached viewers when a user, role, grant,
// department or tenant changes through that client (or a transaction of
// it), so build the Service on the client every other service uses.
func NewService(c Config) (*Service, error) {
	if c.Throttle == (ThrottleLimits{}) {
		c.Throttle = DefaultThrottleLimits()
	}
	flows := NewFlows(c.Client)
	s := &Service{
		client:    c.Client,
		sessions:  session.NewManager(c.Client, c.Clock),
		hasher:    c.Hasher,
		hashes:    newHashGate(c.Hashing),
		viewers:   newViewerCache(c.ViewerCacheTTL),
		clock:     c.Clock,
		logger:    c.Logger,
		flows:     flows,
		throttle:  NewThrottle(c.Client, c.Client.Vault, c.Throttle),
		common:    &password.CommonPasswords{},
		oidc:      c.OIDC,
		publicURL: strings.TrimRight(c.PublicURL, "/"),
	}
	if s.viewers != nil {
		s.viewers.install(c.Client)
	}
	if c.Passkeys.RPID != "" {
		pk, err := passkey.New(c.Passkeys, ceremonies{flows})
		if err != nil {
			return nil, err
		}
		s.passkeys = pk
	}
	return s, nil
}

// fail answers a request with err, logging errors that are internal: at
// info level when the client went away, as errors otherwise.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	info := requestinfo.FromContext(ctx)
	switch {
	case apierr.As(err) != nil:
	case requestinfo.Abandoned(ctx, err):
		s.logger.InfoContext(ctx, "authentication request abandoned by the client", "request_id", info.ID, "path", r.URL.Path)
	default:
		s.logger.ErrorContext(ctx, "authentication request failed", "request_id", info.ID, "path", r.URL.Path, "error", err.Error())
	}
	apierr.WriteHTTP(w, err, info.Locale, info.ID)
}

// invalidCredentials is the one answer to every failed sign-in.
func invalidCredentials() error {
	e := apierr.New(apierr.Unauthenticated)
	e.MessageKey = "invalid_credentials"
	return e
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// setSessionCookie hands the browser its session.
func setSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: session.CookieName, Value: token, Path: "/", Expires: expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: session.CookieName, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// DecodeJSON reads exactly one JSON object into dst, refusing unknown
// fields, and reports problems as bad input naming the field.
func DecodeJSON(r io.Reader, dst any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var (
			typeErr *json.UnmarshalTypeError
			maxErr  *http.MaxBytesError
		)
		switch {
		case errors.As(err, &maxErr):
			return &apierr.Error{Code: apierr.LimitExceeded, MessageKey: "body_too_large"}
		case errors.As(err, &typeErr):
			return apierr.BadInput(apierr.Field("/"+strings.ReplaceAll(typeErr.Field, ".", "/"), "invalid"))
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return apierr.BadInput(apierr.Field("/"+name, "unknown_field"))
		default:
			return apierr.BadInput(apierr.Field("", "invalid_json"))
		}
	}
	if dec.More() {
		return apierr.BadInput(apierr.Field("", "invalid_json"))
	}
	return nil
}

// required reports the empty fields of a request, given as name, value
// pairs, as bad input.
func required(pairs ...string) error {
	var missing []apierr.FieldError
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, apierr.Field("/"+pairs[i], "required"))
		}
	}
	if len(missing) > 0 {
		return apierr.BadInput(missing...)
	}
	return nil
}

// preAuth returns ctx for the sign-in subsystem's own reads and writes
// (sessions, lock counters, second factors): the pre-authentication path,
// without the signed-in viewer, whose rights do not extend to these rows.
func preAuth(ctx context.Context) context.Context {
	return rule.NewPreAuthContext(viewer.NewContext(ctx, nil))
}
