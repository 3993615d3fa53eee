package authn_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// TestDelegatedAdministrationCannotEscalate gives someone role and user
// management without the other permissions and checks they cannot make
// themselves, or anyone, more powerful than they are.
func TestDelegatedAdministrationCannotEscalate(t *testing.T) {
	app := apptest.New(t, "sqlite")
	tn := app.NewTenant(t, "acme")
	var delegate *ent.Role
	app.Tx(t, app.System(tn.Tenant.ID), func(c *ent.Client) (err error) {
		delegate, err = c.Role.Create().SetName("people admin").
			SetPermissions([]string{viewer.PermRoleManage, viewer.PermUserManage}).
			SetScope(viewer.ScopeAll).Save(app.System(tn.Tenant.ID))
		return err
	})
	hr := app.NewUser(t, tn, apptest.UserSpec{Email: "hr@acme.test", Roles: []*ent.Role{delegate}})
	other := app.NewUser(t, tn, apptest.UserSpec{Email: "other@acme.test"})
	tok := app.Login(t, "acme", "hr@acme.test")
	forbidden := func(name, q string, vars map[string]any) {
		t.Run(name, func(t *testing.T) {
			r := app.GraphQL(t, tok, q, vars)
			if len(r.Errors) == 0 || r.Errors[0].Code() != "FORBIDDEN" {
				t.Fatalf("want FORBIDDEN, got %s", r.Raw)
			}
		})
	}
	grant := `mutation($u: ID!, $r: ID!) { grantRole(input: {userID: $u, roleID: $r}) { id } }`
	forbidden("grant themselves the admin role", grant, map[string]any{"u": hr.ID, "r": tn.Role(tenancy.RoleAdmin).ID})
	forbidden("grant themselves any role", grant, map[string]any{"u": hr.ID, "r": delegate.ID})
	forbidden("grant someone the admin role", grant, map[string]any{"u": other.ID, "r": tn.Role(tenancy.RoleAdmin).ID})
	forbidden("define a role with rights they lack", `mutation { createRole(input: {name: "x", permissions: ["customer:read"]}) { id } }`, nil)
	forbidden("reset the administrator's password", `mutation($id: ID!) { resetPassword(id: $id) { temporaryPassword } }`, map[string]any{"id": tn.Admin.ID})
	forbidden("move themselves to another department", `mutation($id: ID!, $d: ID!) { updateUser(id: $id, input: {departmentID: $d}) { id } }`,
		map[string]any{"id": hr.ID, "d": tn.Department.ID})
	forbidden("add an identity provider", `mutation { createIdentityProvider(input: {name: "x", issuer: "https://idp.example", clientID: "c", clientSecret: "s"}) { id } }`, nil)
	t.Run("what they may do still works", func(t *testing.T) {
		app.GraphQL(t, tok, grant, map[string]any{"u": other.ID, "r": delegate.ID}).MustSucceed(t)
		app.GraphQL(t, tok, `mutation($id: ID!) { resetPassword(id: $id) { temporaryPassword } }`, map[string]any{"id": other.ID}).MustSucceed(t)
	})
}

func TestSecondFactorChangesNeedAFreshSession(t *testing.T) {
	app := apptest.New(t, "sqlite")
	tn := app.NewTenant(t, "acme")
	tok := app.Login(t, "acme", "admin@acme.test")
	app.Clock.Advance(20 * time.Minute)
	if resp, body := post(t, app, "/auth/totp/enrol", tok, map[string]any{}); resp.StatusCode != http.StatusUnauthorized || body["code"] != "REAUTH_REQUIRED" {
		t.Fatalf("stale session enrolled a second factor: %d %v", resp.StatusCode, body)
	}
	fresh := app.Login(t, "acme", "admin@acme.test")
	var out struct{ CreateAPIToken struct{ Token string } }
	app.GraphQL(t, fresh, `mutation { createAPIToken(input: {name: "x", permissions: ["customer:read"]}) { token } }`, nil).MustSucceed(t).Decode(t, &out)
	if resp, _ := post(t, app, "/auth/totp/enrol", out.CreateAPIToken.Token, map[string]any{}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an API token enrolled a second factor: %d", resp.StatusCode)
	}
	secret, _, rotated := enrolTOTP(t, app, fresh)
	t.Run("the audit trail never holds the secret", func(t *testing.T) {
		events, err := app.Client().AuditEvent.Query().Where(auditevent.EntityID(tn.Admin.ID)).All(app.System(tn.Tenant.ID))
		if err != nil {
			t.Fatal(err)
		}
		var mentioned bool
		for _, e := range events {
			if strings.Contains(e.Changes, "totp_secret") {
				mentioned = true
				if strings.Contains(e.Changes, `"field":"totp_secret","before"`) || strings.Contains(e.Changes, `"field":"totp_secret","after"`) {
					t.Fatalf("event holds the secret's ciphertext: %s", e.Changes)
				}
			}
		}
		if !mentioned {
			t.Fatal("enabling TOTP left no trace in the audit trail")
		}
		r := app.GraphQL(t, rotated, `{ auditEvents(first: 100) { edges { node { changes { field before after } } } } }`, nil).MustSucceed(t)
		if strings.Contains(string(r.Data), secret) {
			t.Fatal("an auditor can read the TOTP secret")
		}
	})
}

func TestThrottleSeesThroughSpellingVariants(t *testing.T) {
	app := apptest.New(t, "sqlite")
	app.NewTenant(t, "acme")
	variants := []string{"admin@acme.test", "ADMIN@acme.test", " admin@acme.test", "admin@acme.test\u200b", "ａｄｍｉｎ@acme.test"}
	var limited bool
	for i := range 12 {
		resp, _ := post(t, app, "/auth/login", "", loginBody("acme", variants[i%len(variants)], "bad password"))
		limited = limited || resp.StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("12 attempts at one account in spelling variants were never throttled")
	}
}
