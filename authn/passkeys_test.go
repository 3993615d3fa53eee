package authn_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/passkey"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
)

// authenticator is a virtual passkey authenticator for one user.
type authenticator struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func newAuthenticator(t *testing.T, app *apptest.App, userID string) *authenticator {
	t.Helper()
	a := &authenticator{
		rp:   virtualwebauthn.RelyingParty{Name: "Custos", ID: "localhost", Origin: app.PublicURL},
		auth: virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(userID)}),
	}
	// virtualwebauthn drops leading zero bytes of key coordinates; draw
	// until the key is full length.
	for range 100 {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			t.Fatal(err)
		}
		if pk := k.(*ecdsa.PrivateKey); len(pk.X.Bytes()) == 32 && len(pk.Y.Bytes()) == 32 {
			a.cred = c
			return a
		}
	}
	t.Fatal("no full-length key")
	return nil
}

func (a *authenticator) register(t *testing.T, app *apptest.App, token string) (*http.Response, map[string]any) {
	t.Helper()
	resp, begin := post(t, app, "/auth/webauthn/register/begin", token, map[string]any{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register/begin: %d %v", resp.StatusCode, begin)
	}
	options, _ := json.Marshal(begin["options"])
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	credential := virtualwebauthn.CreateAttestationResponse(a.rp, a.auth, a.cred, *opts)
	return post(t, app, "/auth/webauthn/register/finish", token, map[string]any{
		"ceremony": begin["ceremony"], "credential": json.RawMessage(credential), "name": "Laptop",
	})
}

func (a *authenticator) login(t *testing.T, app *apptest.App) (*http.Response, map[string]any) {
	t.Helper()
	resp, begin := post(t, app, "/auth/webauthn/login/begin", "", map[string]any{})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login/begin: %d %v", resp.StatusCode, begin)
	}
	options, _ := json.Marshal(begin["options"])
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	a.auth.AddCredential(a.cred)
	credential := virtualwebauthn.CreateAssertionResponse(a.rp, a.auth, a.cred, *opts)
	return post(t, app, "/auth/webauthn/login/finish", "", map[string]any{
		"ceremony": begin["ceremony"], "credential": json.RawMessage(credential),
	})
}

func TestPasskeys(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		app := apptest.New(t, dialect)
		// go-webauthn checks ceremony expiry against the wall clock.
		app.Clock.Set(time.Now())
		tn := app.NewTenant(t, "acme")
		tok := app.Login(t, "acme", "admin@acme.test")
		a := newAuthenticator(t, app, string(tn.Admin.ID))

		t.Run("registration without user verification is refused", func(t *testing.T) {
			a.auth.Options.UserNotVerified = true
			defer func() { a.auth.Options.UserNotVerified = false }()
			if resp, body := a.register(t, app, tok); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("registered without UV: %d %v", resp.StatusCode, body)
			}
		})
		if resp, body := a.register(t, app, tok); resp.StatusCode != http.StatusOK || body["name"] != "Laptop" {
			t.Fatalf("register: %d %v", resp.StatusCode, body)
		}
		resp, body := a.login(t, app)
		if resp.StatusCode != http.StatusOK || body["token"] == nil {
			t.Fatalf("username-less sign-in: %d %v", resp.StatusCode, body)
		}
		var me struct {
			Viewer struct{ User struct{ ID string } }
		}
		app.GraphQL(t, body["token"].(string), `{ viewer { user { id } } }`, nil).MustSucceed(t).Decode(t, &me)
		if me.Viewer.User.ID != string(tn.Admin.ID) {
			t.Fatalf("signed in as %s", me.Viewer.User.ID)
		}

		t.Run("sign-in without user verification is refused", func(t *testing.T) {
			a.auth.Options.UserNotVerified = true
			defer func() { a.auth.Options.UserNotVerified = false }()
			if resp, body := a.login(t, app); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("signed in without UV: %d %v", resp.StatusCode, body)
			}
		})
		t.Run("passkeys work while the password is locked", func(t *testing.T) {
			for range 3 {
				post(t, app, "/auth/login", "", loginBody("acme", "admin@acme.test", "wrong password!"))
			}
			if resp, _ := post(t, app, "/auth/login", "", loginBody("acme", "admin@acme.test", apptest.Password)); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("password not locked: %d", resp.StatusCode)
			}
			if resp, body := a.login(t, app); resp.StatusCode != http.StatusOK {
				t.Fatalf("passkey refused while the password is locked: %d %v", resp.StatusCode, body)
			}
		})
		t.Run("a counter going backwards blocks the passkey", func(t *testing.T) {
			a.cred.Counter = 10
			if resp, body := a.login(t, app); resp.StatusCode != http.StatusOK {
				t.Fatalf("counter 10: %d %v", resp.StatusCode, body)
			}
			a.cred.Counter = 3
			if resp, _ := a.login(t, app); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("counter went back and still signed in: %d", resp.StatusCode)
			}
			ctx := app.System(tn.Tenant.ID)
			pk, err := app.Client().Passkey.Query().Where(passkey.UserID(tn.Admin.ID)).Only(ctx)
			if err != nil || pk.BlockedAt == nil {
				t.Fatalf("passkey not blocked: %v", err)
			}
			n, err := app.Client().AuditEvent.Query().Where(auditevent.CategoryEQ(auditevent.CategorySecurity), auditevent.ActionEQ("passkey.clone_detected")).Count(ctx)
			if err != nil || n != 1 {
				t.Fatalf("security events: %d %v", n, err)
			}
			a.cred.Counter = 11
			if resp, _ := a.login(t, app); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a blocked passkey signed in: %d", resp.StatusCode)
			}
		})
		_ = ent.IsNotFound
	})
}
