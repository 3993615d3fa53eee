package authn_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/authn/session"
	"github.com/custos-crm/custos/authn/totp"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/rolegrant"
	"github.com/custos-crm/custos/ent/schema/settings"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// post sends JSON with a bearer token (when given) and decodes the answer.
func post(t *testing.T, app *apptest.App, path, token string, body any) (*http.Response, map[string]any) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	resp, raw := app.Post(t, path, body, h)
	out := map[string]any{}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out)
	}
	return resp, out
}

func loginBody(tenant, email, pw string) map[string]string {
	return map[string]string{"tenant": tenant, "email": email, "password": pw}
}

func TestLockout(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		u := app.NewUser(t, tn, apptest.UserSpec{Email: "sam@acme.test", Roles: []*ent.Role{tn.Role(tenancy.RoleSales)}})
		fail := func(pw string) map[string]any {
			resp, body := post(t, app, "/auth/login", "", loginBody("acme", "sam@acme.test", pw))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d %v", resp.StatusCode, body)
			}
			delete(body, "requestId")
			return body
		}
		wrong := fail("wrong password 1")
		fail("wrong password 2")
		fail("wrong password 3")
		// Locked: the right password gets the same answer as everything else.
		locked := fail(apptest.Password)
		_, unknown := post(t, app, "/auth/login", "", loginBody("acme", "nobody@acme.test", apptest.Password))
		delete(unknown, "requestId")
		_, noTenant := post(t, app, "/auth/login", "", loginBody("nope", "sam@acme.test", apptest.Password))
		delete(noTenant, "requestId")
		for name, b := range map[string]map[string]any{"locked": locked, "unknown user": unknown, "unknown tenant": noTenant} {
			a, _ := json.Marshal(wrong)
			c, _ := json.Marshal(b)
			if string(a) != string(c) {
				t.Errorf("%s answers %s, a wrong password %s", name, c, a)
			}
		}
		lockedUntil := func() time.Time {
			got, err := app.Client().User.Get(app.System(tn.Tenant.ID), u.ID)
			if err != nil || got.LockedUntil == nil {
				t.Fatalf("not locked: %v", err)
			}
			return *got.LockedUntil
		}
		if d := lockedUntil().Sub(app.Clock.Now()); d != 15*time.Minute {
			t.Fatalf("first lock %v, want 15m", d)
		}
		t.Run("the lock ends by time and doubles when repeated", func(t *testing.T) {
			app.Clock.Advance(16 * time.Minute)
			for i := range 3 {
				fail("again wrong " + string(rune('a'+i)))
			}
			if d := lockedUntil().Sub(app.Clock.Now()); d != 30*time.Minute {
				t.Fatalf("second lock %v, want 30m", d)
			}
			app.Tx(t, app.System(tn.Tenant.ID), func(c *ent.Client) error {
				return c.User.UpdateOneID(u.ID).SetLockCount(20).ClearLockedUntil().Exec(app.System(tn.Tenant.ID))
			})
			for i := range 3 {
				fail("third wrong " + string(rune('a'+i)))
			}
			if d := lockedUntil().Sub(app.Clock.Now()); d != 24*time.Hour {
				t.Fatalf("capped lock %v, want 24h", d)
			}
		})
		t.Run("an administrator unlocks", func(t *testing.T) {
			admin := app.Login(t, "acme", "admin@acme.test")
			app.GraphQL(t, admin, `mutation($id: ID!) { unlockUser(id: $id) { lockedUntil } }`, map[string]any{"id": u.ID}).MustSucceed(t)
			app.Login(t, "acme", "sam@acme.test")
		})
		t.Run("attempts and lockouts are audited", func(t *testing.T) {
			ctx := app.System(tn.Tenant.ID)
			n, err := app.Client().AuditEvent.Query().Where(auditevent.CategoryEQ(auditevent.CategoryAuth), auditevent.ActionEQ("login.password")).Count(ctx)
			if err != nil || n < 10 {
				t.Fatalf("auth events: %d %v", n, err)
			}
			n, err = app.Client().AuditEvent.Query().Where(auditevent.CategoryEQ(auditevent.CategorySecurity), auditevent.ActionEQ("lockout")).Count(ctx)
			if err != nil || n != 3 {
				t.Fatalf("lockout events: %d %v", n, err)
			}
		})
	})
}

func TestThrottling(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	for _, email := range []string{"admin@acme.test", "ghost@acme.test"} {
		t.Run(email, func(t *testing.T) {
			for i := range 10 {
				resp, _ := post(t, app, "/auth/login", "", loginBody("acme", email, "bad password"))
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("attempt %d: %d", i+1, resp.StatusCode)
				}
			}
			resp, body := post(t, app, "/auth/login", "", loginBody("acme", email, "bad password"))
			if resp.StatusCode != http.StatusTooManyRequests || body["code"] != "RATE_LIMITED" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("11th attempt: %d %v %q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
			}
			app.Clock.Advance(time.Minute)
		})
	}
}

func enrolTOTP(t *testing.T, app *apptest.App, token string) (secret string, recovery []string, newToken string) {
	t.Helper()
	resp, body := post(t, app, "/auth/totp/enrol", token, map[string]any{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enrol: %d %v", resp.StatusCode, body)
	}
	secret = body["secret"].(string)
	code, _ := totp.GenerateCode(secret, app.Clock.Now())
	resp, body = post(t, app, "/auth/totp/confirm", token, map[string]any{"code": code})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d %v", resp.StatusCode, body)
	}
	for _, c := range body["recoveryCodes"].([]any) {
		recovery = append(recovery, c.(string))
	}
	if s, ok := body["session"].(map[string]any); ok {
		newToken = s["token"].(string)
	}
	return secret, recovery, newToken
}

func TestTOTP(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		app.NewTenant(t, "acme")
		tok := app.Login(t, "acme", "admin@acme.test")
		secret, recovery, _ := enrolTOTP(t, app, tok)
		if len(recovery) != 10 {
			t.Fatalf("%d recovery codes", len(recovery))
		}
		app.Clock.Advance(time.Minute)
		challenge := func() string {
			resp, body := post(t, app, "/auth/login", "", loginBody("acme", "admin@acme.test", apptest.Password))
			if resp.StatusCode != http.StatusOK || body["mfaRequired"] != true || body["token"] != nil {
				t.Fatalf("login with TOTP on: %d %v", resp.StatusCode, body)
			}
			return body["challenge"].(string)
		}
		code, _ := totp.GenerateCode(secret, app.Clock.Now())
		resp, body := post(t, app, "/auth/mfa", "", map[string]any{"challenge": challenge(), "code": code})
		if resp.StatusCode != http.StatusOK || body["token"] == nil {
			t.Fatalf("mfa: %d %v", resp.StatusCode, body)
		}
		t.Run("a code is single-use", func(t *testing.T) {
			resp, _ := post(t, app, "/auth/mfa", "", map[string]any{"challenge": challenge(), "code": code})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("replayed code: %d", resp.StatusCode)
			}
		})
		t.Run("a challenge is single-use", func(t *testing.T) {
			ch := challenge()
			app.Clock.Advance(30 * time.Second)
			fresh, _ := totp.GenerateCode(secret, app.Clock.Now())
			post(t, app, "/auth/mfa", "", map[string]any{"challenge": ch, "code": "000000"})
			resp, _ := post(t, app, "/auth/mfa", "", map[string]any{"challenge": ch, "code": fresh})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("second use of a challenge: %d", resp.StatusCode)
			}
		})
		t.Run("recovery codes work once", func(t *testing.T) {
			resp, _ := post(t, app, "/auth/mfa", "", map[string]any{"challenge": challenge(), "recoveryCode": strings.ToLower(recovery[3])})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("recovery code: %d", resp.StatusCode)
			}
			resp, _ = post(t, app, "/auth/mfa", "", map[string]any{"challenge": challenge(), "recoveryCode": recovery[3]})
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("reused recovery code: %d", resp.StatusCode)
			}
		})
		t.Run("the secret is stored encrypted", func(t *testing.T) {
			var raw []byte
			if err := app.Store.DB.QueryRow(`SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL`).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), secret) {
				t.Fatal("TOTP secret stored in plain text")
			}
		})
	})
}

func TestRequiredMFAGivesARestrictedSession(t *testing.T) {
	app := apptest.New(t, "sqlite")
	tn := app.NewTenant(t, "acme")
	s := tn.Tenant.Settings.WithDefaults()
	s.Auth.MFA = settings.MFAEveryone
	app.Tx(t, app.System(tn.Tenant.ID), func(c *ent.Client) error {
		return c.Tenant.UpdateOneID(tn.Tenant.ID).SetSettings(s).Exec(app.System(tn.Tenant.ID))
	})
	resp, body := post(t, app, "/auth/login", "", loginBody("acme", "admin@acme.test", apptest.Password))
	if resp.StatusCode != http.StatusOK || body["restriction"] != session.RestrictMFAEnrolment {
		t.Fatalf("login: %d %v", resp.StatusCode, body)
	}
	restricted := body["token"].(string)
	if r := app.GraphQL(t, restricted, `{ viewer { user { id } } }`, nil); r.Status != http.StatusForbidden || !strings.Contains(string(r.Raw), "second factor") && !strings.Contains(string(r.Raw), "第二重验证") {
		t.Fatalf("restricted session used GraphQL: %d %s", r.Status, r.Raw)
	}
	_, _, full := enrolTOTP(t, app, restricted)
	if full == "" {
		t.Fatal("enrolment did not hand out a full session")
	}
	app.GraphQL(t, full, `{ viewer { user { id } } }`, nil).MustSucceed(t)
	if r := app.GraphQL(t, restricted, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the restricted token still works: %d", r.Status)
	}
}

func TestSessionTimeouts(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	query := `{ viewer { user { id } } }`
	t.Run("idle", func(t *testing.T) {
		tok := app.Login(t, "acme", "admin@acme.test")
		app.Clock.Advance(29 * time.Minute)
		app.GraphQL(t, tok, query, nil).MustSucceed(t)
		app.Clock.Advance(31 * time.Minute)
		if r := app.GraphQL(t, tok, query, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("idle session still works: %d", r.Status)
		}
	})
	t.Run("absolute", func(t *testing.T) {
		tok := app.Login(t, "acme", "admin@acme.test")
		for range 24 {
			app.Clock.Advance(29 * time.Minute)
			if r := app.GraphQL(t, tok, query, nil); r.Status != http.StatusOK {
				t.Fatalf("active session ended after %v", r.Status)
			}
		}
		app.Clock.Advance(29 * time.Minute)
		if r := app.GraphQL(t, tok, query, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("session outlived 12 hours: %d", r.Status)
		}
	})
}

func TestAPITokens(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		mgr := app.NewUser(t, tn, apptest.UserSpec{Email: "mgr@acme.test", Roles: []*ent.Role{tn.Role(tenancy.RoleManager)}})
		tok := app.Login(t, "acme", "mgr@acme.test")
		create := `mutation($p: [String!]!) { createAPIToken(input: {name: "erp", permissions: $p}) { token apiToken { id permissions } } }`
		wantCode := func(r apptest.Result, code string) {
			t.Helper()
			if len(r.Errors) == 0 || r.Errors[0].Code() != code {
				t.Fatalf("want %s, got %s", code, r.Raw)
			}
		}
		wantCode(app.GraphQL(t, tok, create, map[string]any{"p": []string{"user:manage"}}), "BAD_USER_INPUT")
		var out struct {
			CreateAPIToken struct {
				Token    string
				APIToken struct{ ID string }
			}
		}
		app.GraphQL(t, tok, create, map[string]any{"p": []string{"customer:read", "customer:create"}}).MustSucceed(t).Decode(t, &out)
		api := out.CreateAPIToken.Token
		if !strings.HasPrefix(api, "cst_") {
			t.Fatalf("token %q", api)
		}
		app.GraphQL(t, api, `mutation { createCustomer(input: {name: "via token"}) { id } }`, nil).MustSucceed(t)
		wantCode(app.GraphQL(t, api, `mutation { updateTenantSettings(input: {locale: "en"}) { id } }`, nil), "FORBIDDEN")
		wantCode(app.GraphQL(t, api, create, map[string]any{"p": []string{"customer:read"}}), "REAUTH_REQUIRED")

		t.Run("a revoked role cuts the token's permissions", func(t *testing.T) {
			app.Tx(t, app.System(tn.Tenant.ID), func(c *ent.Client) error {
				_, err := c.RoleGrant.Delete().Where(rolegrant.UserID(mgr.ID)).Exec(app.System(tn.Tenant.ID))
				return err
			})
			wantCode(app.GraphQL(t, api, `{ customers { totalCount } }`, nil), "FORBIDDEN")
		})
		t.Run("disabling the user ends the token", func(t *testing.T) {
			admin := app.Login(t, "acme", "admin@acme.test")
			app.GraphQL(t, admin, `mutation($id: ID!) { disableUser(id: $id) { id } }`, map[string]any{"id": mgr.ID}).MustSucceed(t)
			if r := app.GraphQL(t, api, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("token of a disabled user: %d", r.Status)
			}
		})
		t.Run("only a hash is stored", func(t *testing.T) {
			var n int
			if err := app.Store.DB.QueryRow(`SELECT COUNT(*) FROM api_tokens`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("tokens: %d %v", n, err)
			}
			raw := string(dumpTable(t, app, "api_tokens"))
			if strings.Contains(raw, api) || strings.Contains(raw, strings.TrimPrefix(api, "cst_")) {
				t.Fatal("token stored in plain text")
			}
		})
	})
}

func dumpTable(t *testing.T, app *apptest.App, table string) []byte {
	t.Helper()
	var h []byte
	if err := app.Store.DB.QueryRow(`SELECT token_hash FROM ` + table).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestStepUp(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	tok := app.Login(t, "acme", "admin@acme.test")
	create := `mutation { createRole(input: {name: "auditor", permissions: ["audit:read"]}) { id } }`
	app.Clock.Advance(6 * time.Minute)
	r := app.GraphQL(t, tok, create, nil)
	if len(r.Errors) == 0 || r.Errors[0].Code() != "REAUTH_REQUIRED" {
		t.Fatalf("stale sign-in managed roles: %s", r.Raw)
	}
	resp, body := post(t, app, "/auth/step-up", tok, map[string]any{"password": "wrong"})
	if resp.StatusCode != http.StatusUnauthorized || body["code"] != "REAUTH_REQUIRED" {
		t.Fatalf("step-up with a wrong password: %d %v", resp.StatusCode, body)
	}
	resp, body = post(t, app, "/auth/step-up", tok, map[string]any{"password": apptest.Password})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("step-up: %d %v", resp.StatusCode, body)
	}
	fresh := body["token"].(string)
	if fresh == tok {
		t.Fatal("step-up kept the token")
	}
	app.GraphQL(t, fresh, create, nil).MustSucceed(t)
	if r := app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the old token still works after step-up: %d", r.Status)
	}
}

func TestPasswordChanges(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		tn := app.NewTenant(t, "acme")
		u := app.NewUser(t, tn, apptest.UserSpec{Email: "pat@acme.test", Roles: []*ent.Role{tn.Role(tenancy.RoleSales)}})
		other := app.Login(t, "acme", "pat@acme.test")
		tok := app.Login(t, "acme", "pat@acme.test")
		change := func(token, current, next string) (*http.Response, map[string]any) {
			return post(t, app, "/auth/password", token, map[string]any{"currentPassword": current, "newPassword": next})
		}
		if resp, body := change(tok, "not mine", "a fresh passphrase"); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong current password: %d %v", resp.StatusCode, body)
		}
		for _, weak := range []string{"short", "password123", "iloveyou"} {
			if resp, body := change(tok, apptest.Password, weak); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("weak password %q accepted: %d %v", weak, resp.StatusCode, body)
			}
		}
		resp, body := change(tok, apptest.Password, "a fresh passphrase")
		if resp.StatusCode != http.StatusOK || body["token"] == nil {
			t.Fatalf("change: %d %v", resp.StatusCode, body)
		}
		if r := app.GraphQL(t, other, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("other session survived the change: %d", r.Status)
		}
		t.Run("an administrator's reset forces a change", func(t *testing.T) {
			admin := app.Login(t, "acme", "admin@acme.test")
			var out struct {
				ResetPassword struct{ TemporaryPassword string }
			}
			app.GraphQL(t, admin, `mutation($id: ID!) { resetPassword(id: $id) { temporaryPassword } }`, map[string]any{"id": u.ID}).MustSucceed(t).Decode(t, &out)
			resp, body := post(t, app, "/auth/login", "", loginBody("acme", "pat@acme.test", out.ResetPassword.TemporaryPassword))
			if resp.StatusCode != http.StatusOK || body["restriction"] != session.RestrictPasswordChange {
				t.Fatalf("login with the one-time password: %d %v", resp.StatusCode, body)
			}
			restricted := body["token"].(string)
			if r := app.GraphQL(t, restricted, `{ viewer { user { id } } }`, nil); r.Status != http.StatusForbidden {
				t.Fatalf("restricted session used GraphQL: %d", r.Status)
			}
			resp, body = change(restricted, out.ResetPassword.TemporaryPassword, "my own new passphrase")
			if resp.StatusCode != http.StatusOK || body["restriction"] != nil {
				t.Fatalf("forced change: %d %v", resp.StatusCode, body)
			}
			app.GraphQL(t, body["token"].(string), `{ viewer { user { id } } }`, nil).MustSucceed(t)
			got, _ := app.Client().User.Query().Where(user.ID(u.ID)).Only(app.System(tn.Tenant.ID))
			if got.MustChangePassword {
				t.Fatal("must_change_password still set")
			}
		})
	})
}

func TestManagingSessions(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	first := app.Login(t, "acme", "admin@acme.test")
	second := app.Login(t, "acme", "admin@acme.test")
	third := app.Login(t, "acme", "admin@acme.test")
	var out struct {
		MySessions []struct {
			ID      string
			Current bool
			Method  string
		}
	}
	app.GraphQL(t, second, `{ mySessions { id current method } }`, nil).MustSucceed(t).Decode(t, &out)
	if len(out.MySessions) != 3 {
		t.Fatalf("sessions %+v", out.MySessions)
	}
	var current, other string
	for _, s := range out.MySessions {
		if s.Current {
			current = s.ID
		} else if other == "" {
			other = s.ID
		}
	}
	if current == "" || out.MySessions[0].Method != "password" {
		t.Fatalf("no current session in %+v", out.MySessions)
	}
	app.GraphQL(t, second, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": other}).MustSucceed(t)
	var n struct{ RevokeOtherSessions int }
	app.GraphQL(t, second, `mutation { revokeOtherSessions }`, nil).MustSucceed(t).Decode(t, &n)
	if n.RevokeOtherSessions != 1 {
		t.Fatalf("revoked %d other sessions, want 1", n.RevokeOtherSessions)
	}
	for _, tok := range []string{first, third} {
		if r := app.GraphQL(t, tok, `{ viewer { user { id } } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("revoked session works: %d", r.Status)
		}
	}
	app.GraphQL(t, second, `{ viewer { user { id } } }`, nil).MustSucceed(t)
	t.Run("nobody ends another user's session", func(t *testing.T) {
		tn2 := app.NewTenant(t, "beta")
		_ = tn2
		foreign := app.Login(t, "beta", "admin@beta.test")
		r := app.GraphQL(t, foreign, `mutation($id: ID!) { revokeSession(id: $id) }`, map[string]any{"id": current})
		if len(r.Errors) == 0 {
			t.Fatalf("another tenant ended a session: %s", r.Raw)
		}
		app.GraphQL(t, second, `{ viewer { user { id } } }`, nil).MustSucceed(t)
	})
}

func TestPasswordsExpireWhenTheTenantSaysSo(t *testing.T) {
	app := apptest.New(t, "sqlite")
	tn := app.NewTenant(t, "acme")
	s := tn.Tenant.Settings.WithDefaults()
	s.Auth.Password.MaxAgeDays = 90
	app.Tx(t, app.System(tn.Tenant.ID), func(c *ent.Client) error {
		if err := c.Tenant.UpdateOneID(tn.Tenant.ID).SetSettings(s).Exec(app.System(tn.Tenant.ID)); err != nil {
			return err
		}
		return c.User.UpdateOneID(tn.Admin.ID).SetPasswordChangedAt(app.Clock.Now()).Exec(app.System(tn.Tenant.ID))
	})
	app.Clock.Advance(89 * 24 * time.Hour)
	if _, body := post(t, app, "/auth/login", "", loginBody("acme", "admin@acme.test", apptest.Password)); body["restriction"] != nil {
		t.Fatalf("password expired early: %v", body)
	}
	app.Clock.Advance(2 * 24 * time.Hour)
	if _, body := post(t, app, "/auth/login", "", loginBody("acme", "admin@acme.test", apptest.Password)); body["restriction"] != session.RestrictPasswordChange {
		t.Fatalf("expired password gave %v", body)
	}
}
