package oidc_test

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"

	"github.com/custos-crm/custos/authn/oidc"
	"github.com/custos-crm/custos/internal/safehttp"
)

const binding = "browser-binding-cookie-value"

// mock is a mockoidc provider on loopback whose token endpoint can be made
// to return a chosen ID token, and which counts discovery requests.
type mock struct {
	*mockoidc.MockOIDC
	kid         string
	idToken     atomic.Pointer[string]
	discoveries atomic.Int32
	keyFetches  atomic.Int32
}

// startMock starts a mockoidc provider; key nil means mockoidc's default
// key, which every default instance shares.
func startMock(t *testing.T, key *rsa.PrivateKey, configure func(*mockoidc.MockOIDC)) *mock {
	t.Helper()
	m, err := mockoidc.NewServer(key)
	if err != nil {
		t.Fatal(err)
	}
	mk := &mock{MockOIDC: m}
	// KeyID caches the key id on first use; compute it before the server's
	// goroutines can.
	if mk.kid, err = m.Keypair.KeyID(); err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(m)
	}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case mockoidc.DiscoveryEndpoint:
				mk.discoveries.Add(1)
			case mockoidc.JWKSEndpoint:
				mk.keyFetches.Add(1)
			case mockoidc.TokenEndpoint:
				if tok := mk.idToken.Load(); tok != nil {
					w.Header().Set("Content-Type", "application/json")
					json.NewEncoder(w).Encode(map[string]any{
						"access_token": "access", "token_type": "bearer", "expires_in": 600, "id_token": *tok,
					})
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return mk
}

// provider returns the Provider configuration for m.
func (m *mock) provider(id string) oidc.Provider {
	cfg := m.Config()
	return oidc.Provider{
		ID:           id,
		TenantSlug:   "acme",
		Issuer:       cfg.Issuer,
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RedirectURL:  "https://crm.example/auth/oidc/" + id + "/callback",
	}
}

// sign returns an ID token with claims signed by m's key.
func (m *mock) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return oidctest.SignIDToken(m.Keypair.PrivateKey, m.kid, gooidc.RS256, string(b))
}

func newClient() *oidc.Client {
	return oidc.NewClient(safehttp.NewClient(safehttp.Options{AllowLoopback: true}))
}

// authorize plays the browser: it opens authURL, which mockoidc answers by
// redirecting to the redirect URL with code and state, and returns the
// callback's query.
func authorize(t *testing.T, authURL, redirectURL string) url.Values {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d: %s", resp.StatusCode, body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURL {
		t.Fatalf("authorize redirected to %s, want %s", got, redirectURL)
	}
	return loc.Query()
}

// start begins a flow for p and completes the provider's side of it.
func start(t *testing.T, c *oidc.Client, p oidc.Provider, now time.Time) (oidc.FlowState, url.Values) {
	t.Helper()
	authURL, st, err := c.Begin(t.Context(), p, binding, now)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return st, authorize(t, authURL, p.RedirectURL)
}

func TestBegin(t *testing.T) {
	t.Parallel()
	m := startMock(t, nil, nil)
	c := newClient()
	p := m.provider("p1")
	now := time.Now()

	authURL, st, err := c.Begin(t.Context(), p, binding, now)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if got := u.Scheme + "://" + u.Host + u.Path; got != m.AuthorizationEndpoint() {
		t.Errorf("authorization endpoint %s, want %s", got, m.AuthorizationEndpoint())
	}
	want := map[string]string{
		"response_type":         "code",
		"client_id":             p.ClientID,
		"redirect_uri":          p.RedirectURL,
		"scope":                 "openid email profile",
		"state":                 st.State,
		"nonce":                 st.Nonce,
		"code_challenge_method": "S256",
		"code_challenge":        oauth2.S256ChallengeFromVerifier(st.CodeVerifier),
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Has("max_age") || q.Has("code_verifier") || strings.Contains(authURL, st.CodeVerifier) {
		t.Errorf("authorization URL carries max_age or the verifier: %s", authURL)
	}
	if st.ProviderID != "p1" || st.BrowserBinding != binding || !st.RequestedAt.Equal(now) ||
		!st.ExpiresAt.Equal(now.Add(oidc.FlowLifetime)) || st.MaxAge != nil {
		t.Errorf("flow state = %+v", st)
	}
	if len(st.State) < 22 || len(st.Nonce) < 22 || len(st.CodeVerifier) < 43 {
		t.Errorf("state, nonce or verifier too short: %+v", st)
	}

	_, st2, err := c.Begin(t.Context(), p, binding, now)
	if err != nil {
		t.Fatal(err)
	}
	if st2.State == st.State || st2.Nonce == st.Nonce || st2.CodeVerifier == st.CodeVerifier {
		t.Error("two flows share a random value")
	}
	if n := m.discoveries.Load(); n != 1 {
		t.Errorf("discovery fetched %d times, want 1 (cached)", n)
	}

	if _, _, err := c.Begin(t.Context(), p, "", now); err == nil {
		t.Error("Begin with an empty browser binding succeeded")
	}
	p.Scopes = []string{"email"}
	authURL, _, err = c.Begin(t.Context(), p, binding, now)
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := url.Parse(authURL); u.Query().Get("scope") != "openid email" {
		t.Errorf("scope = %q, want openid added", u.Query().Get("scope"))
	}
}

func TestFinish(t *testing.T) {
	t.Parallel()
	m := startMock(t, nil, nil)
	c := newClient()
	p := m.provider("p1")
	p.Scopes = []string{"openid", "email", "profile", "groups"}
	mapping := oidc.ClaimMapping{Name: "preferred_username"}

	type input struct {
		st      oidc.FlowState
		params  url.Values
		binding string
		now     time.Time
	}
	tests := []struct {
		name    string
		mutate  func(*input)
		wantErr error // nil means success
		anyErr  bool  // any error will do
	}{
		{name: "ok", mutate: func(*input) {}},
		{name: "exact iss parameter", mutate: func(in *input) { in.params.Set("iss", p.Issuer) }},
		{name: "callback state differs", mutate: func(in *input) { in.params.Set("state", "forged") }, wantErr: oidc.ErrStateMismatch},
		{name: "stored state differs", mutate: func(in *input) { in.st.State = "other" }, wantErr: oidc.ErrStateMismatch},
		{name: "no state", mutate: func(in *input) { in.params.Del("state") }, wantErr: oidc.ErrStateMismatch},
		{name: "repeated state", mutate: func(in *input) { in.params.Add("state", in.st.State) }, wantErr: oidc.ErrBadCallback},
		{name: "expired", mutate: func(in *input) { in.now = in.st.ExpiresAt }, wantErr: oidc.ErrStateExpired},
		{name: "state from another provider", mutate: func(in *input) { in.st.ProviderID = "p2" }, wantErr: oidc.ErrProviderMismatch},
		{name: "another browser", mutate: func(in *input) { in.binding = "attacker" }, wantErr: oidc.ErrStateMismatch},
		{name: "empty browser binding", mutate: func(in *input) { in.binding, in.st.BrowserBinding = "", "" }, wantErr: oidc.ErrStateMismatch},
		{name: "nonce differs", mutate: func(in *input) { in.st.Nonce = "tampered" }, wantErr: oidc.ErrNonceMismatch},
		{name: "iss with trailing slash", mutate: func(in *input) { in.params.Set("iss", p.Issuer+"/") }, wantErr: oidc.ErrIssuerMismatch},
		{name: "iss of another issuer", mutate: func(in *input) { in.params.Set("iss", "https://evil.example/oidc") }, wantErr: oidc.ErrIssuerMismatch},
		{name: "access denied", mutate: func(in *input) {
			in.params.Del("code")
			in.params.Set("error", "access_denied")
			in.params.Set("error_description", "The user said no")
		}, wantErr: oidc.ErrDenied},
		{name: "error with a mismatching iss", mutate: func(in *input) {
			in.params.Set("error", "access_denied")
			in.params.Set("iss", "https://evil.example/oidc")
		}, wantErr: oidc.ErrIssuerMismatch},
		{name: "no code", mutate: func(in *input) { in.params.Del("code") }, wantErr: oidc.ErrBadCallback},
		{name: "repeated code", mutate: func(in *input) { in.params.Add("code", "x") }, wantErr: oidc.ErrBadCallback},
		{name: "wrong PKCE verifier", mutate: func(in *input) { in.st.CodeVerifier = oauth2.GenerateVerifier() }, anyErr: true},
		{name: "unknown code", mutate: func(in *input) { in.params.Set("code", "made-up") }, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			st, params := start(t, c, p, now)
			in := &input{st: st, params: params, binding: binding, now: now}
			tt.mutate(in)
			cl, err := c.Finish(t.Context(), p, mapping, in.st, in.params, in.binding, in.now)
			switch {
			case tt.anyErr:
				if err == nil {
					t.Fatal("Finish succeeded, want an error")
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Finish: err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("Finish: %v", err)
				}
				user := mockoidc.DefaultUser()
				if cl.Issuer != p.Issuer || cl.Subject != user.Subject || cl.Email != user.Email ||
					!cl.EmailVerified || cl.Name != user.PreferredUsername || !slices.Equal(cl.Groups, user.Groups) {
					t.Errorf("claims = %+v", cl)
				}
				if cl.Raw["nonce"] != st.Nonce || !cl.AuthTime.IsZero() {
					t.Errorf("raw claims = %v, auth time %v", cl.Raw, cl.AuthTime)
				}
			}
			t.Logf("err = %v", err)
		})
	}

	t.Run("code is single-use at the provider", func(t *testing.T) {
		st, params := start(t, c, p, time.Now())
		if _, err := c.Finish(t.Context(), p, mapping, st, params, binding, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Finish(t.Context(), p, mapping, st, params, binding, time.Now()); err == nil {
			t.Fatal("second Finish with the same code succeeded")
		}
	})

	t.Run("custom email claim is not taken as verified", func(t *testing.T) {
		st, params := start(t, c, p, time.Now())
		cl, err := c.Finish(t.Context(), p, oidc.ClaimMapping{Email: "preferred_username"}, st, params, binding, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if cl.Email != "jane.doe" || cl.EmailVerified || cl.Name != "" {
			t.Errorf("claims = %+v", cl)
		}
	})
	if n := m.keyFetches.Load(); n != 1 {
		t.Errorf("keys fetched %d times, want 1 (cached across flows)", n)
	}
}

// tokenFrom runs a flow at m by hand (no oidc.Client) with the given nonce and
// returns the ID token m issues.
func tokenFrom(t *testing.T, m *mock, nonce string) string {
	t.Helper()
	p := m.provider("hand")
	cfg := m.Config()
	conf := &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: p.RedirectURL,
		Endpoint: oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint(), TokenURL: m.TokenEndpoint(), AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "email"},
	}
	verifier := oauth2.GenerateVerifier()
	params := authorize(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce)), p.RedirectURL)
	ctx := gooidc.ClientContext(t.Context(), safehttp.NewClient(safehttp.Options{AllowLoopback: true}))
	tok, err := conf.Exchange(ctx, params.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	return tok.Extra("id_token").(string)
}

func TestTokenFromAnotherProvider(t *testing.T) {
	t.Parallel()
	a := startMock(t, nil, nil)
	// b signs with the same (mockoidc default) key and uses the same client
	// id, so only the issuer tells its tokens apart.
	b := startMock(t, nil, func(m *mockoidc.MockOIDC) {
		m.ClientID, m.ClientSecret = a.ClientID, a.ClientSecret
	})
	c := newClient()
	pa, pb := a.provider("a"), b.provider("b")

	t.Run("code from B finished with A", func(t *testing.T) {
		st, _ := start(t, c, pa, time.Now())
		_, paramsB := start(t, c, pb, time.Now())
		params := url.Values{"state": {st.State}, "code": {paramsB.Get("code")}}
		if _, err := c.Finish(t.Context(), pa, oidc.ClaimMapping{}, st, params, binding, time.Now()); err == nil {
			t.Fatal("Finish succeeded with another provider's code")
		}
	})
	t.Run("state from B finished with A", func(t *testing.T) {
		st, params := start(t, c, pb, time.Now())
		if _, err := c.Finish(t.Context(), pa, oidc.ClaimMapping{}, st, params, binding, time.Now()); !errors.Is(err, oidc.ErrProviderMismatch) {
			t.Fatalf("err = %v, want ErrProviderMismatch", err)
		}
	})
	t.Run("B's ID token returned by A's token endpoint", func(t *testing.T) {
		st, params := start(t, c, pa, time.Now())
		tok := tokenFrom(t, b, st.Nonce)
		a.idToken.Store(&tok)
		defer a.idToken.Store(nil)
		_, err := c.Finish(t.Context(), pa, oidc.ClaimMapping{}, st, params, binding, time.Now())
		if !errors.Is(err, oidc.ErrInvalidToken) || !strings.Contains(err.Error(), "different provider") {
			t.Fatalf("err = %v, want ErrInvalidToken for the issuer", err)
		}
	})
}

func TestCraftedTokens(t *testing.T) {
	t.Parallel()
	m := startMock(t, nil, nil)
	other, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient()
	p := m.provider("p1")

	tests := []struct {
		name    string
		claims  func(st oidc.FlowState, now time.Time) map[string]any
		sign    func(t *testing.T, claims map[string]any) string
		wantErr error
	}{
		{name: "valid", claims: func(st oidc.FlowState, now time.Time) map[string]any { return nil }},
		{name: "wrong audience", wantErr: oidc.ErrInvalidToken, claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"aud": "someone-else"}
		}},
		{name: "wrong issuer", wantErr: oidc.ErrInvalidToken, claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"iss": p.Issuer + "/"}
		}},
		{name: "expired", wantErr: oidc.ErrInvalidToken, claims: func(_ oidc.FlowState, now time.Time) map[string]any {
			return map[string]any{"exp": now.Add(-time.Minute).Unix()}
		}},
		{name: "no nonce", wantErr: oidc.ErrNonceMismatch, claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"nonce": nil}
		}},
		{name: "several audiences without azp", wantErr: oidc.ErrInvalidToken, claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"aud": []string{p.ClientID, "other"}}
		}},
		{name: "several audiences with azp", claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"aud": []string{p.ClientID, "other"}, "azp": p.ClientID}
		}},
		{name: "azp of another client", wantErr: oidc.ErrInvalidToken, claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"azp": "other"}
		}},
		{name: "no subject", wantErr: oidc.ErrInvalidToken, claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"sub": nil}
		}},
		{name: "at_hash mismatch", wantErr: oidc.ErrInvalidToken, claims: func(oidc.FlowState, time.Time) map[string]any {
			return map[string]any{"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}
		}},
		{name: "signed by an unknown key", wantErr: oidc.ErrInvalidToken, sign: func(t *testing.T, claims map[string]any) string {
			b, _ := json.Marshal(claims)
			return oidctest.SignIDToken(other.PrivateKey, m.kid, gooidc.RS256, string(b))
		}},
		{name: "HS256 with the client secret", wantErr: oidc.ErrInvalidToken, sign: func(t *testing.T, claims map[string]any) string {
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(p.ClientSecret))
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			st, params := start(t, c, p, now)
			claims := map[string]any{
				"iss": p.Issuer, "aud": p.ClientID, "sub": "crafted", "nonce": st.Nonce,
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": "crafted@example.com",
			}
			if tt.claims != nil {
				for k, v := range tt.claims(st, now) {
					if v == nil {
						delete(claims, k)
					} else {
						claims[k] = v
					}
				}
			}
			sign := tt.sign
			if sign == nil {
				sign = m.sign
			}
			tok := sign(t, claims)
			m.idToken.Store(&tok)
			defer m.idToken.Store(nil)

			cl, err := c.Finish(t.Context(), p, oidc.ClaimMapping{}, st, params, binding, now)
			if tt.wantErr == nil {
				if err != nil || cl.Subject != "crafted" || cl.Email != "crafted@example.com" || cl.EmailVerified {
					t.Fatalf("Finish = %+v, %v", cl, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			t.Logf("err = %v", err)
		})
	}
}

// authTimeUser is a mockoidc user whose ID tokens carry auth_time.
type authTimeUser struct {
	*mockoidc.MockUser
	authTime time.Time
}

func (u authTimeUser) Claims(scopes []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	c, err := u.MockUser.Claims(scopes, base)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var mc jwt.MapClaims
	if err := json.Unmarshal(b, &mc); err != nil {
		return nil, err
	}
	mc["auth_time"] = u.authTime.Unix()
	return mc, nil
}

func TestMaxAge(t *testing.T) {
	t.Parallel()
	m := startMock(t, nil, nil)
	c := newClient()
	intp := func(n int) *int { return &n }

	tests := []struct {
		name     string
		maxAge   *int
		authTime time.Duration // before Begin; 0 means no auth_time claim
		wantErr  error
	}{
		{name: "no max_age, old auth_time", authTime: 48 * time.Hour},
		{name: "no max_age, no auth_time"},
		{name: "max_age 300, fresh", maxAge: intp(300), authTime: 2 * time.Minute},
		{name: "max_age 300, an hour old", maxAge: intp(300), authTime: time.Hour, wantErr: oidc.ErrAuthTooOld},
		{name: "max_age 300, no auth_time", maxAge: intp(300), wantErr: oidc.ErrAuthTooOld},
		{name: "step-up max_age 0, reauthenticated", maxAge: intp(0), authTime: -5 * time.Second},
		{name: "step-up max_age 0, ten minutes old", maxAge: intp(0), authTime: 10 * time.Minute, wantErr: oidc.ErrAuthTooOld},
		{name: "auth_time in the future", maxAge: intp(300), authTime: -time.Hour, wantErr: oidc.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Now()
			if tt.authTime != 0 {
				m.QueueUser(authTimeUser{MockUser: mockoidc.DefaultUser(), authTime: now.Add(-tt.authTime)})
			}
			p := m.provider("p1")
			p.MaxAge = tt.maxAge
			authURL, st, err := c.Begin(t.Context(), p, binding, now)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(authURL)
			if tt.maxAge != nil && u.Query().Get("max_age") != fmt.Sprint(*tt.maxAge) {
				t.Errorf("max_age = %q, want %d", u.Query().Get("max_age"), *tt.maxAge)
			}
			if (tt.maxAge == nil) != (st.MaxAge == nil) {
				t.Errorf("FlowState.MaxAge = %v", st.MaxAge)
			}
			params := authorize(t, authURL, p.RedirectURL)
			// The callback arrives some time after the request, as in life.
			cl, err := c.Finish(t.Context(), p, oidc.ClaimMapping{}, st, params, binding, now.Add(30*time.Second))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.authTime != 0 && !cl.AuthTime.Equal(time.Unix(now.Add(-tt.authTime).Unix(), 0)) {
				t.Errorf("AuthTime = %v", cl.AuthTime)
			}
		})
	}

	p := m.provider("p1")
	p.MaxAge = intp(-1)
	if _, _, err := c.Begin(t.Context(), p, binding, time.Now()); !errors.Is(err, oidc.ErrInvalidProvider) {
		t.Errorf("negative max_age: err = %v", err)
	}
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	m := startMock(t, nil, nil)
	p := m.provider("p1")

	t.Run("SSRF protection applies to discovery", func(t *testing.T) {
		c := oidc.NewClient(safehttp.NewClient(safehttp.Options{}))
		if _, _, err := c.Begin(t.Context(), p, binding, time.Now()); !errors.Is(err, safehttp.ErrForbiddenAddress) {
			t.Fatalf("Begin: err = %v, want ErrForbiddenAddress", err)
		}
		if _, err := c.LogoutURL(t.Context(), p, "", ""); !errors.Is(err, safehttp.ErrForbiddenAddress) {
			t.Fatalf("LogoutURL: err = %v, want ErrForbiddenAddress", err)
		}
		if n := m.discoveries.Load(); n != 0 {
			t.Errorf("the provider saw %d discovery requests", n)
		}
	})
	t.Run("issuer is matched exactly", func(t *testing.T) {
		q := p
		q.Issuer += "/"
		if _, _, err := newClient().Begin(t.Context(), q, binding, time.Now()); !errors.Is(err, oidc.ErrIssuerMismatch) {
			t.Fatalf("err = %v, want ErrIssuerMismatch", err)
		}
	})
	t.Run("invalid configuration", func(t *testing.T) {
		for name, mutate := range map[string]func(*oidc.Provider){
			"no id":               func(p *oidc.Provider) { p.ID = "" },
			"no client id":        func(p *oidc.Provider) { p.ClientID = "" },
			"issuer not http":     func(p *oidc.Provider) { p.Issuer = "file:///etc/passwd" },
			"issuer with query":   func(p *oidc.Provider) { p.Issuer += "?tenant=x" },
			"issuer with user":    func(p *oidc.Provider) { p.Issuer = "https://u:p@idp.example" },
			"relative redirect":   func(p *oidc.Provider) { p.RedirectURL = "/callback" },
			"javascript redirect": func(p *oidc.Provider) { p.RedirectURL = "javascript:alert(1)" },
		} {
			q := p
			mutate(&q)
			if _, _, err := newClient().Begin(t.Context(), q, binding, time.Now()); !errors.Is(err, oidc.ErrInvalidProvider) {
				t.Errorf("%s: err = %v, want ErrInvalidProvider", name, err)
			}
		}
	})
}

// discoveryServer serves only a discovery document with the given extra
// fields, for tests that need metadata mockoidc does not publish.
func discoveryServer(t *testing.T, extra map[string]any) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		doc := map[string]any{
			"issuer":                 srv.URL,
			"authorization_endpoint": srv.URL + "/authorize",
			"token_endpoint":         srv.URL + "/token",
			"jwks_uri":               srv.URL + "/jwks",
		}
		for k, v := range extra {
			doc[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestLogoutURL(t *testing.T) {
	t.Parallel()
	c := newClient()
	base := oidc.Provider{ID: "p1", ClientID: "client", RedirectURL: "https://crm.example/cb"}

	t.Run("provider without end_session_endpoint", func(t *testing.T) {
		m := startMock(t, nil, nil)
		got, err := c.LogoutURL(t.Context(), m.provider("p1"), "hint", "https://crm.example/")
		if err != nil || got != "" {
			t.Fatalf("LogoutURL = %q, %v; want empty", got, err)
		}
	})
	t.Run("end_session_endpoint", func(t *testing.T) {
		p := base
		p.Issuer = discoveryServer(t, map[string]any{"end_session_endpoint": "https://idp.example/logout?ui=compact"})
		got, err := c.LogoutURL(t.Context(), p, "the.id.token", "https://crm.example/signed-out")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(got)
		want := url.Values{
			"ui": {"compact"}, "client_id": {"client"}, "id_token_hint": {"the.id.token"},
			"post_logout_redirect_uri": {"https://crm.example/signed-out"},
		}
		if u.Host != "idp.example" || u.Path != "/logout" || u.Query().Encode() != want.Encode() {
			t.Errorf("LogoutURL = %s", got)
		}
	})
	t.Run("end_session_endpoint that is not a web URL", func(t *testing.T) {
		p := base
		p.Issuer = discoveryServer(t, map[string]any{"end_session_endpoint": "javascript:alert(1)"})
		if got, err := c.LogoutURL(t.Context(), p, "", ""); err == nil {
			t.Fatalf("LogoutURL = %q, want an error", got)
		}
	})

}

func TestMetadata(t *testing.T) {
	t.Parallel()
	c := newClient()
	base := oidc.Provider{ID: "p1", ClientID: "client", RedirectURL: "https://crm.example/cb"}

	t.Run("authorization_endpoint that is not a web URL", func(t *testing.T) {
		p := base
		p.Issuer = discoveryServer(t, map[string]any{"authorization_endpoint": "javascript:alert(1)"})
		if _, _, err := c.Begin(t.Context(), p, binding, time.Now()); err == nil {
			t.Fatal("Begin succeeded")
		}
	})
	t.Run("iss parameter promised but missing", func(t *testing.T) {
		p := base
		p.Issuer = discoveryServer(t, map[string]any{"authorization_response_iss_parameter_supported": true})
		now := time.Now()
		_, st, err := c.Begin(t.Context(), p, binding, now)
		if err != nil {
			t.Fatal(err)
		}
		params := url.Values{"state": {st.State}, "code": {"c"}}
		if _, err := c.Finish(t.Context(), p, oidc.ClaimMapping{}, st, params, binding, now); !errors.Is(err, oidc.ErrIssuerMismatch) {
			t.Fatalf("err = %v, want ErrIssuerMismatch", err)
		}
	})
}
