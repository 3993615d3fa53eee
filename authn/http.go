package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/clock"
	"github.com/custos-crm/custos/internal/personal"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// Service signs people in and out and authenticates requests.
type Service struct {
	client   *ent.Client
	sessions *session.Manager
	hasher   *password.Hasher
	clock    clock.Clock
	logger   *slog.Logger
}

// NewService returns a Service.
func NewService(client *ent.Client, sessions *session.Manager, hasher *password.Hasher, clk clock.Clock, logger *slog.Logger) *Service {
	return &Service{client: client, sessions: sessions, hasher: hasher, clock: clk, logger: logger}
}

// Method says how a request proved who it is.
type Method int

// The ways a request can authenticate.
const (
	MethodNone Method = iota
	MethodCookie
	MethodBearer
)

type methodKey struct{}

// MethodFrom returns how the request in ctx authenticated.
func MethodFrom(ctx context.Context) Method {
	m, _ := ctx.Value(methodKey{}).(Method)
	return m
}

// credentials returns the token a request carries and how: a bearer token
// wins over the cookie.
func credentials(r *http.Request) (string, Method) {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok), MethodBearer
		}
		return "", MethodBearer
	}
	if c, err := r.Cookie(session.CookieName); err == nil && c.Value != "" {
		return c.Value, MethodCookie
	}
	return "", MethodNone
}

// Authenticate loads the viewer of requests that carry a valid session and
// records how they authenticated. A bad bearer token is refused at once; a
// stale cookie leaves the request anonymous.
func (s *Service) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := requestinfo.FromContext(ctx)
		info.Locale = apierr.NegotiateLocale("", "", info.AcceptLanguage)
		token, method := credentials(r)
		if method == MethodNone {
			next.ServeHTTP(w, r)
			return
		}
		loaded, err := s.viewerFor(ctx, token)
		switch {
		case errors.Is(err, session.ErrInvalid) || errors.Is(err, ErrInactive):
			if method == MethodBearer {
				apierr.WriteHTTP(w, apierr.New(apierr.Unauthenticated), info.Locale, info.ID)
				return
			}
			next.ServeHTTP(w, r)
			return
		case err != nil:
			s.logger.ErrorContext(ctx, "authenticating request", "request_id", info.ID, "error", err.Error())
			apierr.WriteHTTP(w, err, info.Locale, info.ID)
			return
		}
		info.Locale = apierr.NegotiateLocale(loaded.User.Locale, loaded.Tenant.Settings.Locale, info.AcceptLanguage)
		ctx = viewer.NewContext(ctx, loaded.Viewer)
		ctx = context.WithValue(ctx, methodKey{}, method)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Service) viewerFor(ctx context.Context, token string) (*Loaded, error) {
	sess, err := s.sessions.Lookup(ctx, token)
	if err != nil {
		return nil, err
	}
	return LoadViewer(ctx, s.client, sess.TenantID, sess.UserID, s.clock.Now())
}

// RequireViewer answers 401 UNAUTHENTICATED to requests without a viewer.
func RequireViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := viewer.FromContext(r.Context()); v == nil || !v.Authenticated() {
			info := requestinfo.FromContext(r.Context())
			apierr.WriteHTTP(w, apierr.New(apierr.Unauthenticated), info.Locale, info.ID)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type loginRequest struct {
	Tenant   string `json:"tenant"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Login handles POST /auth/login. Every failure (unknown tenant, unknown
// user, disabled user, wrong password) gets the same status and body apart
// from the request id, and costs one argon2id verification.
func (s *Service) Login() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		info := requestinfo.FromContext(ctx)
		var req loginRequest
		if err := DecodeJSON(r.Body, &req); err != nil {
			apierr.WriteHTTP(w, err, info.Locale, info.ID)
			return
		}
		var missing []apierr.FieldError
		for _, f := range []struct{ name, value string }{{"tenant", req.Tenant}, {"email", req.Email}, {"password", req.Password}} {
			if f.value == "" {
				missing = append(missing, apierr.Field("/"+f.name, "required"))
			}
		}
		if len(missing) > 0 {
			apierr.WriteHTTP(w, apierr.BadInput(missing...), info.Locale, info.ID)
			return
		}
		u, err := s.checkPassword(ctx, req)
		if err != nil {
			s.logger.ErrorContext(ctx, "password sign-in failed", "request_id", info.ID, "error", err.Error())
			apierr.WriteHTTP(w, err, info.Locale, info.ID)
			return
		}
		if u == nil {
			e := apierr.New(apierr.Unauthenticated)
			e.MessageKey = "invalid_credentials"
			apierr.WriteHTTP(w, e, info.Locale, info.ID)
			return
		}
		token, expires, err := s.sessions.Create(ctx, u.TenantID, u.ID)
		if err != nil {
			s.logger.ErrorContext(ctx, "creating session", "request_id", info.ID, "error", err.Error())
			apierr.WriteHTTP(w, err, info.Locale, info.ID)
			return
		}
		http.SetCookie(w, &http.Cookie{
			Name:     session.CookieName,
			Value:    token,
			Path:     "/",
			Expires:  expires,
			Secure:   true,
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(loginResponse{Token: token, ExpiresAt: expires.UTC()})
	})
}

// checkPassword returns the user whose credentials req holds, or nil. It
// runs exactly one argon2id verification whatever the outcome.
func (s *Service) checkPassword(ctx context.Context, req loginRequest) (*ent.User, error) {
	ctx = rule.NewPreAuthContext(ctx)
	u, err := s.findUser(ctx, strings.TrimSpace(req.Tenant), req.Email)
	if err != nil {
		return nil, err
	}
	if u == nil || u.PasswordHash == "" {
		return nil, s.hasher.VerifyDummy(ctx, req.Password)
	}
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, req.Password)
	if err != nil {
		return nil, fmt.Errorf("verifying password: %w", err)
	}
	active := u.Status == user.StatusActive && u.Edges.Tenant != nil && u.Edges.Tenant.Status == tenant.StatusActive
	if !ok || !active {
		return nil, nil
	}
	return u, nil
}

// findUser returns the user of a tenant by email, or nil. Emails are found
// through their blind index, which needs the tenant first.
func (s *Service) findUser(ctx context.Context, slug, email string) (*ent.User, error) {
	t, err := s.client.Tenant.Query().Where(tenant.Slug(slug)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up tenant: %w", err)
	}
	idx, ok, err := personal.QueryIndex(ctx, s.client, s.client.Vault, t.ID, personal.Email, email)
	if err != nil || !ok {
		return nil, err
	}
	u, err := s.client.User.Query().Where(user.TenantID(t.ID), user.EmailBidx(idx)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking up user: %w", err)
	}
	u.Edges.Tenant = t
	return u, nil
}

// Logout handles POST /auth/logout: it ends the request's session and clears
// the cookie.
func (s *Service) Logout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.FromContext(r.Context())
		if token, _ := credentials(r); token != "" {
			if err := s.sessions.Revoke(r.Context(), token); err != nil {
				s.logger.ErrorContext(r.Context(), "ending session", "request_id", info.ID, "error", err.Error())
				apierr.WriteHTTP(w, err, info.Locale, info.ID)
				return
			}
		}
		http.SetCookie(w, &http.Cookie{
			Name: session.CookieName, Value: "", Path: "/", MaxAge: -1,
			Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		})
		w.WriteHeader(http.StatusNoContent)
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
