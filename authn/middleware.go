package authn

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/apitoken"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/requestinfo"
)

// Method says how a request proved who it is.
type Method int

// The ways a request can authenticate.
const (
	MethodNone Method = iota
	MethodCookie
	MethodBearer
	MethodAPIToken
)

type methodKey struct{}

type sessionKey struct{}

// MethodFrom returns how the request in ctx authenticated.
func MethodFrom(ctx context.Context) Method {
	m, _ := ctx.Value(methodKey{}).(Method)
	return m
}

// SessionFrom returns the session of the request in ctx, or nil (API tokens
// have none).
func SessionFrom(ctx context.Context) *ent.Session {
	s, _ := ctx.Value(sessionKey{}).(*ent.Session)
	return s
}

// APITokenPrefix starts every API token, so it is told from a session token
// at a glance (and by secret scanners).
const APITokenPrefix = "cst_"

// credentials returns the token a request carries and how: a bearer token
// wins over the cookie.
func credentials(r *http.Request) (string, Method) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		tok = strings.TrimSpace(tok)
		switch {
		case !ok:
			return "", MethodBearer
		case strings.HasPrefix(tok, APITokenPrefix):
			return tok, MethodAPIToken
		}
		return tok, MethodBearer
	}
	if c, err := r.Cookie(session.CookieName); err == nil && c.Value != "" {
		return c.Value, MethodCookie
	}
	return "", MethodNone
}

// Authenticate loads the viewer of requests that carry a valid session or
// API token and records how they authenticated. A bad bearer token is
// refused at once; a stale cookie leaves the request anonymous. The session
// or token row is read on every request; the user's grants and scope sets
// come from the viewer cache while it holds them.
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
		var (
			a    *authenticated
			sess *ent.Session
			err  error
		)
		if method == MethodAPIToken {
			a, err = s.viewerForToken(ctx, token)
		} else {
			a, sess, err = s.viewerForSession(ctx, token)
		}
		switch {
		case errors.Is(err, session.ErrInvalid) || errors.Is(err, ErrInactive):
			if method != MethodCookie {
				apierr.WriteHTTP(w, apierr.New(apierr.Unauthenticated), info.Locale, info.ID)
				return
			}
			next.ServeHTTP(w, r)
			return
		case err != nil:
			s.fail(w, r, err)
			return
		}
		info.Locale = apierr.NegotiateLocale(a.userLocale, a.tenantLocale, info.AcceptLanguage)
		ctx = viewer.NewContext(ctx, a.viewer)
		ctx = context.WithValue(ctx, methodKey{}, method)
		if sess != nil {
			ctx = context.WithValue(ctx, sessionKey{}, sess)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticated is what a request's credentials resolved to: its own copy
// of the viewer, and what choosing the answer's locale needs.
type authenticated struct {
	viewer       *viewer.Viewer
	userLocale   string
	tenantLocale string
	// idle is the tenant's idle timeout for sessions (0: none).
	idle time.Duration
}

// loadViewer returns the viewer of a user as of now: from the cache when a
// live entry exists, otherwise loaded and cached. The viewer returned is the
// request's own copy, with Now set to now.
func (s *Service) loadViewer(ctx context.Context, tenantID, userID pulid.ID, now time.Time) (*authenticated, error) {
	if s.viewers == nil {
		l, err := LoadViewer(ctx, s.client, tenantID, userID, now)
		if err != nil {
			return nil, err
		}
		return &authenticated{
			viewer: l.Viewer, userLocale: l.User.Locale, tenantLocale: l.Tenant.Settings.Locale,
			idle: time.Duration(l.Tenant.Settings.WithDefaults().Auth.Sessions.IdleMinutes) * time.Minute,
		}, nil
	}
	key := viewerKey{tenantID, userID}
	e, ok := s.viewers.get(key, now)
	if !ok {
		gen := s.viewers.generation(tenantID)
		l, err := LoadViewer(ctx, s.client, tenantID, userID, now)
		if err != nil {
			return nil, err
		}
		e = entryFor(l, gen, now.Add(s.viewers.ttl))
		s.viewers.put(key, e, now)
	}
	v := copyViewer(&e.viewer)
	v.Now = now
	return &authenticated{viewer: &v, userLocale: e.userLocale, tenantLocale: e.tenantLocale, idle: e.idle}, nil
}

// viewerForSession authenticates a session token. The session row is read
// on every request, so revocation, expiry and the idle timeout apply at once;
// the viewer may come from the cache.
func (s *Service) viewerForSession(ctx context.Context, token string) (*authenticated, *ent.Session, error) {
	sess, err := s.sessions.Lookup(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.loadViewer(ctx, sess.TenantID, sess.UserID, s.clock.Now())
	if err != nil {
		return nil, nil, err
	}
	if s.sessions.Idle(sess, a.idle) {
		if err := s.sessions.Revoke(ctx, token); err != nil {
			return nil, nil, err
		}
		return nil, nil, session.ErrInvalid
	}
	if err := s.sessions.Touch(ctx, sess); err != nil {
		return nil, nil, err
	}
	a.viewer.SessionID = sess.ID
	if sess.StrongAuthAt != nil {
		a.viewer.StrongAuthAt = *sess.StrongAuthAt
	}
	return a, sess, nil
}

// viewerForToken authenticates an API token: its effective permissions are
// the intersection of its own and the user's current grants. The token row
// is read on every request; the user's grants may come from the cache.
func (s *Service) viewerForToken(ctx context.Context, token string) (*authenticated, error) {
	pre := preAuth(ctx)
	t, err := s.client.APIToken.Query().Where(apitoken.TokenHash(session.HashToken(token))).Only(pre)
	if ent.IsNotFound(err) {
		return nil, session.ErrInvalid
	}
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return nil, session.ErrInvalid
	}
	a, err := s.loadViewer(ctx, t.TenantID, t.UserID, now)
	if err != nil {
		return nil, err
	}
	for i, g := range a.viewer.Grants {
		a.viewer.Grants[i].Permissions = slices.DeleteFunc(slices.Clone(g.Permissions), func(p string) bool {
			return !slices.Contains(t.Permissions, p)
		})
	}
	a.viewer.APIToken = true
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= time.Minute {
		if err := s.client.APIToken.UpdateOneID(t.ID).SetLastUsedAt(now).Exec(pre); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// RequireViewer answers 401 UNAUTHENTICATED to requests without a viewer,
// and 403 to sessions restricted to one step (changing the password or
// enrolling a second factor).
func RequireViewer(next http.Handler) http.Handler {
	return requireViewer(false, next)
}

// AllowRestricted is RequireViewer that also lets restricted sessions
// through, for the endpoints that complete their step.
func AllowRestricted(next http.Handler) http.Handler {
	return requireViewer(true, next)
}

func requireViewer(restrictedOK bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestinfo.FromContext(r.Context())
		if v := viewer.FromContext(r.Context()); v == nil || !v.Authenticated() {
			apierr.WriteHTTP(w, apierr.New(apierr.Unauthenticated), info.Locale, info.ID)
			return
		}
		if sess := SessionFrom(r.Context()); sess != nil && sess.Restriction != "" && !restrictedOK {
			apierr.WriteHTTP(w, &apierr.Error{Code: apierr.Forbidden, MessageKey: sess.Restriction + "_required"}, info.Locale, info.ID)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Logout handles POST /auth/logout: it ends the request's session and clears
// the cookie.
func (s *Service) Logout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, method := credentials(r); token != "" && method != MethodAPIToken {
			if err := s.sessions.Revoke(r.Context(), token); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		clearSessionCookie(w)
		w.WriteHeader(http.StatusNoContent)
	})
}
