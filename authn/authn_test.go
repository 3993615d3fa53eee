package authn_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/ent"
	entsession "github.com/custos-crm/custos/ent/session"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

func login(t *testing.T, app *apptest.App, tenant, email, pw string) (*http.Response, map[string]any) {
	t.Helper()
	resp, body := app.Post(t, "/auth/login", map[string]string{"tenant": tenant, "email": email, "password": pw}, nil)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("login answered %d %q", resp.StatusCode, body)
	}
	return resp, out
}

func TestLoginFailuresLookAlike(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		gone := app.NewUser(t, tn, apptest.UserSpec{Email: "gone@acme.test", Roles: []*ent.Role{tn.Role(tenancy.RoleSales)}})
		app.Tx(t, app.System(tn.Tenant.ID), func(c *ent.Client) error {
			return c.User.UpdateOne(gone).SetStatus("disabled").Exec(app.System(tn.Tenant.ID))
		})
		cases := []struct{ name, tenant, email, pw string }{
			{"unknown tenant", "nope", "admin@acme.test", apptest.Password},
			{"unknown user", "acme", "nobody@acme.test", apptest.Password},
			{"disabled user", "acme", "gone@acme.test", apptest.Password},
			{"wrong password", "acme", "admin@acme.test", "not the password"},
		}
		var first map[string]any
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := login(t, app, tc.tenant, tc.email, tc.pw)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if resp.Header.Get("Set-Cookie") != "" {
					t.Fatal("a failed sign-in set a cookie")
				}
				if body["requestId"] == "" || body["requestId"] == nil {
					t.Fatalf("no request id: %v", body)
				}
				delete(body, "requestId")
				if first == nil {
					first = body
				}
				a, _ := json.Marshal(first)
				b, _ := json.Marshal(body)
				if string(a) != string(b) {
					t.Fatalf("answers differ:\n%s\n%s", a, b)
				}
				if body["code"] != "UNAUTHENTICATED" {
					t.Fatalf("code %v", body["code"])
				}
			})
		}
	})
}

func TestLoginSetsASafeCookie(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	resp, body := login(t, app, "acme", "Admin@ACME.test", apptest.Password)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v", resp.StatusCode, body)
	}
	tok, _ := body["token"].(string)
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Fatalf("token %q", tok)
	}
	if _, err := time.Parse(time.RFC3339, body["expiresAt"].(string)); err != nil {
		t.Fatalf("expiresAt: %v", err)
	}
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{session.CookieName + "=" + tok, "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %q", cookie, want)
		}
	}
	if strings.Contains(strings.ToLower(cookie), "domain=") {
		t.Errorf("cookie has a Domain: %q", cookie)
	}
	// Only a hash of the token is stored.
	var stored int
	if err := app.Store.DB.QueryRow(`SELECT COUNT(*) FROM sessions`).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("sessions: %d %v", stored, err)
	}
	s, err := app.Client().Session.Query().Only(app.System(""))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(s.TokenHash), tok) || len(s.TokenHash) != 32 {
		t.Fatalf("token stored as %x", s.TokenHash)
	}
}

func TestBadLoginRequests(t *testing.T) {
	app := apptest.New(t, "sqlite")
	cases := []struct {
		name, body, pointer string
		status              int
	}{
		{"missing fields", `{"tenant": "acme"}`, "/email", http.StatusBadRequest},
		{"unknown field", `{"tenant": "acme", "email": "a@b", "password": "x", "admin": true}`, "/admin", http.StatusBadRequest},
		{"not JSON", `tenant=acme`, "", http.StatusBadRequest},
		{"wrong type", `{"tenant": 7, "email": "a@b", "password": "x"}`, "/tenant", http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := app.Post(t, "/auth/login", tc.body, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var out struct {
				Code   string
				Errors []struct{ Pointer string }
			}
			if err := json.Unmarshal(body, &out); err != nil || out.Code != "BAD_USER_INPUT" || len(out.Errors) == 0 || out.Errors[0].Pointer != tc.pointer {
				t.Fatalf("body %s", body)
			}
		})
	}
}

func TestCookieRequestsNeedSameOriginJSON(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	tok := app.Login(t, "acme", "admin@acme.test")
	cookie := session.CookieName + "=" + tok
	query := map[string]any{"query": "{ viewer { user { email } } }"}
	cases := []struct {
		name   string
		header http.Header
		body   any
		status int
	}{
		{"same-origin JSON", http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"}}, query, http.StatusOK},
		{"no fetch metadata, no origin (non-browser client)", http.Header{"Cookie": {cookie}}, query, http.StatusOK},
		{"cross-site", http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"cross-site"}}, query, http.StatusForbidden},
		{"cross-origin Origin header", http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example"}}, query, http.StatusForbidden},
		{"same-site text/plain", http.Header{"Cookie": {cookie}, "Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"text/plain"}}, `{"query":"{ viewer { user { email } } }"}`, http.StatusForbidden},
		{"bearer from anywhere", http.Header{"Authorization": {"Bearer " + tok}, "Sec-Fetch-Site": {"cross-site"}}, query, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := app.Post(t, "/graphql", tc.body, tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.status == http.StatusOK && !strings.Contains(string(body), "admin@acme.test") {
				t.Fatalf("body %s", body)
			}
		})
	}
	t.Run("cross-site sign-in", func(t *testing.T) {
		resp, _ := app.Post(t, "/auth/login", map[string]string{"tenant": "acme", "email": "admin@acme.test", "password": apptest.Password},
			http.Header{"Sec-Fetch-Site": {"cross-site"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestSessions(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		app.NewTenant(t, "acme")
		tok := app.Login(t, "acme", "admin@acme.test")
		lastSeen := func() time.Time {
			s, err := app.Client().Session.Query().Where(entsession.TokenHash(session.HashToken(tok))).Only(app.System(""))
			if err != nil {
				t.Fatal(err)
			}
			return s.LastSeenAt
		}
		start := lastSeen()
		app.Clock.Advance(30 * time.Second)
		app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil).MustSucceed(t)
		if got := lastSeen(); !got.Equal(start) {
			t.Fatalf("last_seen written within a minute: %v → %v", start, got)
		}
		app.Clock.Advance(time.Minute)
		app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil).MustSucceed(t)
		if got := lastSeen(); !got.Equal(app.Clock.Now()) {
			t.Fatalf("last_seen %v, want %v", got, app.Clock.Now())
		}
		t.Run("logout ends the session", func(t *testing.T) {
			resp, _ := app.Post(t, "/auth/logout", map[string]any{}, http.Header{"Authorization": {"Bearer " + tok}})
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("logout %d", resp.StatusCode)
			}
			if r := app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("token works after logout: %d", r.Status)
			}
		})
		t.Run("sessions expire", func(t *testing.T) {
			tok := app.Login(t, "acme", "admin@acme.test")
			app.Clock.Advance(session.DefaultLifetime + time.Second)
			if r := app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("expired token works: %d", r.Status)
			}
		})
		t.Run("a bad bearer token is refused", func(t *testing.T) {
			if r := app.GraphQL(t, "made-up", `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("status %d", r.Status)
			}
		})
	})
}
