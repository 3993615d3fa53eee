package authn_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// browser walks redirects by hand, keeping the cookies Custos sets (they
// are Secure, which Go's cookie jar would not send over http).
type browser struct {
	t       *testing.T
	app     *apptest.App
	cookies map[string]string
	client  *http.Client
}

func newBrowser(t *testing.T, app *apptest.App) *browser {
	return &browser{t: t, app: app, cookies: map[string]string{}, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// get fetches u (on the app, its localhost URL is mapped to the test
// server) and returns the status and the Location header.
func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	u = strings.Replace(u, b.app.PublicURL, b.app.Server.URL, 1)
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		b.cookies[c.Name] = c.Value
	}
	return resp.StatusCode, resp.Header.Get("Location")
}

// signIn runs the whole flow from loginURL and returns the callback's
// status and the session token it set.
func (b *browser) signIn(loginURL string) (int, string) {
	b.t.Helper()
	status, loc := b.get(loginURL)
	if status != http.StatusFound {
		b.t.Fatalf("login: %d", status)
	}
	status, loc = b.get(loc) // the provider signs the queued user in
	if status != http.StatusFound {
		b.t.Fatalf("provider: %d", status)
	}
	status, _ = b.get(loc) // back at Custos
	return status, b.cookies["__Host-custos_session"]
}

type provider struct {
	ID, LoginURL, CallbackURL string
}

func createProvider(t *testing.T, app *apptest.App, token string, m *mockoidc.MockOIDC, extra map[string]any) provider {
	t.Helper()
	cfg := m.Config()
	input := map[string]any{"name": "Okta " + cfg.Issuer, "issuer": cfg.Issuer, "clientID": cfg.ClientID, "clientSecret": cfg.ClientSecret}
	for k, v := range extra {
		input[k] = v
	}
	var out struct {
		CreateIdentityProvider provider `json:"createIdentityProvider"`
	}
	app.GraphQL(t, token, `mutation($in: IdentityProviderInput!) { createIdentityProvider(input: $in) { id loginURL callbackURL } }`,
		map[string]any{"in": input}).MustSucceed(t).Decode(t, &out)
	return out.CreateIdentityProvider
}

func startIdP(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func TestSingleSignOn(t *testing.T) {
	app := apptest.New(t, "sqlite")
	tn := app.NewTenant(t, "acme")
	beta := app.NewTenant(t, "beta")
	admin := app.Login(t, "acme", "admin@acme.test")
	existing := app.NewUser(t, tn, apptest.UserSpec{Email: "linked@example.com"})
	m := startIdP(t)
	jit := createProvider(t, app, admin, m, map[string]any{
		"jitProvisioning": true, "trustedForEmail": true, "allowedDomains": []string{"example.com"},
		"scopes":     []string{"openid", "email", "profile", "groups"},
		"groupRoles": []map[string]any{{"group": "sales-team", "roleID": tn.Role(tenancy.RoleSales).ID}},
	})

	t.Run("just-in-time provisioning with group roles", func(t *testing.T) {
		m.QueueUser(&mockoidc.MockUser{Subject: "jane-1", Email: "jane@example.com", EmailVerified: true, Groups: []string{"sales-team"}})
		b := newBrowser(t, app)
		status, token := b.signIn(jit.LoginURL)
		if status != http.StatusFound || token == "" {
			t.Fatalf("callback: %d", status)
		}
		var me struct {
			Viewer struct{ User struct{ Email string } }
		}
		app.GraphQL(t, token, `{ viewer { user { email } } }`, nil).MustSucceed(t).Decode(t, &me)
		if me.Viewer.User.Email != "jane@example.com" {
			t.Fatalf("signed in as %q", me.Viewer.User.Email)
		}
		u, _ := app.Client().User.Query().All(app.System(tn.Tenant.ID))
		var jane *ent.User
		for _, x := range u {
			if x.Name == "SSO user" {
				jane = x
			}
		}
		if jane == nil {
			t.Fatal("no provisioned user")
		}
		n, _ := app.Client().RoleGrant.Query().Where(rolegrant.UserID(jane.ID)).Count(app.System(tn.Tenant.ID))
		if n != 1 {
			t.Fatalf("provisioned user holds %d grants, want the mapped sales role", n)
		}
		// The same subject signs in again as the same user.
		m.QueueUser(&mockoidc.MockUser{Subject: "jane-1", Email: "jane@example.com", EmailVerified: true})
		if status, _ := newBrowser(t, app).signIn(jit.LoginURL); status != http.StatusFound {
			t.Fatalf("second sign-in: %d", status)
		}
	})
	t.Run("a trusted provider links an existing account by verified email", func(t *testing.T) {
		m.QueueUser(&mockoidc.MockUser{Subject: "linked-1", Email: "Linked@example.com", EmailVerified: true})
		_, token := newBrowser(t, app).signIn(jit.LoginURL)
		var me struct {
			Viewer struct{ User struct{ ID string } }
		}
		app.GraphQL(t, token, `{ viewer { user { id } } }`, nil).MustSucceed(t).Decode(t, &me)
		if me.Viewer.User.ID != string(existing.ID) {
			t.Fatalf("linked to %s, want %s", me.Viewer.User.ID, existing.ID)
		}
	})
	refused := func(t *testing.T, loginURL string, user *mockoidc.MockUser) {
		t.Helper()
		m.QueueUser(user)
		status, token := newBrowser(t, app).signIn(loginURL)
		if status != http.StatusUnauthorized || token != "" {
			t.Fatalf("want a refusal, got %d (session %v)", status, token != "")
		}
	}
	t.Run("an unverified email is refused", func(t *testing.T) {
		refused(t, jit.LoginURL, &mockoidc.MockUser{Subject: "x-2", Email: "linked@example.com", EmailVerified: false})
	})
	t.Run("a domain outside the allowed ones is refused", func(t *testing.T) {
		refused(t, jit.LoginURL, &mockoidc.MockUser{Subject: "x-3", Email: "eve@evil.example", EmailVerified: true})
	})
	untrusted := createProvider(t, app, admin, startIdP(t), nil)
	t.Run("an untrusted provider does not link by email", func(t *testing.T) {
		refused(t, untrusted.LoginURL, &mockoidc.MockUser{Subject: "x-4", Email: "linked@example.com", EmailVerified: true})
	})
	t.Run("wrong, replayed and foreign states are refused", func(t *testing.T) {
		b := newBrowser(t, app)
		_, loc := b.get(jit.LoginURL)
		_, back := b.get(loc)
		cb, _ := url.Parse(back)
		q := cb.Query()
		state := q.Get("state")
		q.Set("state", "not-the-state")
		cb.RawQuery = q.Encode()
		if status, _ := b.get(cb.String()); status != http.StatusUnauthorized {
			t.Fatalf("wrong state: %d", status)
		}
		// The state of provider jit at provider untrusted's callback.
		q.Set("state", state)
		other, _ := url.Parse(untrusted.CallbackURL)
		other.RawQuery = q.Encode()
		if status, _ := b.get(other.String()); status != http.StatusUnauthorized {
			t.Fatalf("foreign state: %d", status)
		}
		// Consumed by the refused attempt: the real callback now fails too.
		cb.RawQuery = q.Encode()
		if status, _ := b.get(cb.String()); status != http.StatusUnauthorized {
			t.Fatalf("replayed state: %d", status)
		}
	})
	t.Run("another browser cannot finish the flow", func(t *testing.T) {
		b := newBrowser(t, app)
		_, loc := b.get(jit.LoginURL)
		_, back := b.get(loc)
		if status, _ := newBrowser(t, app).get(back); status != http.StatusUnauthorized {
			t.Fatalf("callback without the browser binding: %d", status)
		}
	})
	t.Run("logout ends the session and goes to the login page", func(t *testing.T) {
		m.QueueUser(&mockoidc.MockUser{Subject: "jane-1", Email: "jane@example.com", EmailVerified: true})
		b := newBrowser(t, app)
		_, token := b.signIn(jit.LoginURL)
		logout := strings.Replace(jit.LoginURL, "/login", "/logout", 1)
		status, loc := b.get(logout)
		if status != http.StatusFound || !strings.Contains(loc, "/login") {
			t.Fatalf("logout: %d %q", status, loc)
		}
		if r := app.GraphQL(t, token, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("session survived logout: %d", r.Status)
		}
	})
	t.Run("SSO only turns passwords off but for break-glass admins", func(t *testing.T) {
		r := app.GraphQL(t, admin, `mutation($id: ID!) { updateTenantSettings(input: {auth: {ssoOnly: true, breakGlassUserIDs: [$id]}}) { settings { auth { ssoOnly } } } }`,
			map[string]any{"id": tn.Admin.ID})
		r.MustSucceed(t)
		if resp, _ := post(t, app, "/auth/login", "", loginBody("acme", "linked@example.com", apptest.Password)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("password sign-in in an SSO-only tenant: %d", resp.StatusCode)
		}
		app.Login(t, "acme", "admin@acme.test")
	})
	t.Run("another tenant's provider is not found", func(t *testing.T) {
		betaAdmin := app.Login(t, "beta", "admin@beta.test")
		theirs := createProvider(t, app, betaAdmin, startIdP(t), nil)
		foreign := strings.Replace(theirs.LoginURL, "/beta/", "/acme/", 1)
		if status, _ := newBrowser(t, app).get(foreign); status != http.StatusNotFound {
			t.Fatalf("foreign provider: %d", status)
		}
		_ = beta
	})
}
