package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/custos-crm/custos/authn/totp"
	"github.com/custos-crm/custos/ent"
	entpasskey "github.com/custos-crm/custos/ent/passkey"
	"github.com/custos-crm/custos/ent/schema/rule"
	"github.com/custos-crm/custos/ent/schema/settings"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/apptest"
)

// findChromium returns the Chromium to drive: $CUSTOS_CHROMIUM, else the
// first of the usual names on PATH or in /usr/bin. It skips the test when
// there is none, except under CI, where .ci/install-chromium must have
// installed one.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CUSTOS_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("CUSTOS_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
		"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (looked for $CUSTOS_CHROMIUM, chromium, chromium-browser, google-chrome): " +
		"run .ci/install-chromium (Debian's chromium package) to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium with a fresh profile and a virtual
// authenticator, driving one tab.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	app    *apptest.App
	authID webauthn.AuthenticatorID
	output *syncBuffer
	mu     sync.Mutex
	lines  []string
}

// syncBuffer collects Chromium's output from its own goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startBrowser starts Chromium under ctx (so a hang ends with ctx) and adds
// a platform authenticator that holds resident keys and verifies the user.
func startBrowser(ctx context.Context, t *testing.T, chrome string, app *apptest.App) *browser {
	t.Helper()
	b := &browser{t: t, base: app.PublicURL, app: app, output: &syncBuffer{}}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.CombinedOutput(b.output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b.ctx = tabCtx
	// The first call starts the browser and opens the tab.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("starting %s: %v\n%s", chrome, err, tail(b.output.String(), 4000))
	}
	console := chromedp.Console(tabCtx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.lines = append(b.lines, m.String())
			b.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(tabCtx, webauthn.Enable, webauthn.EnableParams{EnableUI: new(false)}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(tabCtx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:            webauthn.AuthenticatorProtocolCtap2,
			Transport:           webauthn.AuthenticatorTransportInternal,
			HasResidentKey:      true,
			HasUserVerification: true,
			IsUserVerified:      true,
			// Without it create() never returns.
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	b.authID = res.AuthenticatorID
	t.Cleanup(func() {
		b.mu.Lock()
		for _, l := range b.lines {
			// Chromium reports what the policy blocked on the console.
			if strings.Contains(l, "Content Security Policy") {
				t.Errorf("the page broke its Content-Security-Policy: %s", l)
			}
		}
		b.mu.Unlock()
		if t.Failed() {
			b.dump()
		}
	})
	return b
}

// dump logs what helps to understand a failure: the page's console, the
// server's log and Chromium's output.
func (b *browser) dump() {
	b.mu.Lock()
	lines := strings.Join(b.lines, "\n")
	b.mu.Unlock()
	b.t.Logf("page console:\n%s", lines)
	b.t.Logf("server log (tail):\n%s", tail(b.app.Logs.String(), 6000))
	b.t.Logf("chromium output (tail):\n%s", tail(b.output.String(), 3000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// do runs steps and fails the test on an error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// setBadUV makes the authenticator clear (or stop clearing) the
// user-verified bit in its responses.
func (b *browser) setBadUV(bad bool) {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, webauthn.SetResponseOverrideBits, webauthn.SetResponseOverrideBitsParams{
		AuthenticatorID: b.authID, IsBogusSignature: new(false), IsBadUV: new(bad), IsBadUP: new(false),
	})
	if err != nil {
		b.t.Fatalf("WebAuthn.setResponseOverrideBits: %v", err)
	}
}

// pageState is what waitFor reads from the page.
type pageState struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
	Path  string `json:"path"`
}

// waitFor waits until the JavaScript condition holds in the page, across
// navigations. A message in #error fails the test at once, unless
// errorExpected, when it counts as the condition.
func (b *browser) waitFor(what, cond string, errorExpected bool) pageState {
	b.t.Helper()
	expr := `(() => {
		let ok = false, error = "";
		try { ok = !!(` + cond + `); } catch (e) { ok = false; }
		const el = document.getElementById("error");
		if (el && !el.hidden) { error = el.textContent.trim(); }
		return JSON.stringify({ok, error, path: location.pathname});
	})()`
	deadline := time.Now().Add(15 * time.Second)
	var last pageState
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		cancel()
		if b.ctx.Err() != nil {
			b.t.Fatalf("waiting for %s: %v (last state %+v)", what, b.ctx.Err(), last)
		}
		if err == nil && json.Unmarshal([]byte(raw), &last) == nil {
			switch {
			case last.OK && !errorExpected:
				return last
			case last.Error != "" && errorExpected:
				return last
			case last.Error != "":
				b.t.Fatalf("waiting for %s: the page shows the error %q (at %s)", what, last.Error, last.Path)
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s: timed out (last state %+v, last error %v)", what, last, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text returns the text of the element with id.
func (b *browser) text(id string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](
		`(document.getElementById(`+jsString(id)+`) || {textContent: ""}).textContent.trim()`))
	if err != nil {
		b.t.Fatalf("reading #%s: %v", id, err)
	}
	return s
}

// graphqlStatus returns the status of a GraphQL request sent from the page,
// which carries the page's session cookie if it has one.
func (b *browser) graphqlStatus() int {
	b.t.Helper()
	status, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`fetch("/graphql", {
		method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({query: "{ viewer { user { name } } }"}),
	}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("GraphQL from the page: %v", err)
	}
	return status
}

func jsString(s string) string {
	out, _ := json.Marshal(s)
	return string(out)
}

const (
	onLogin   = `location.pathname === "/login" && document.body.dataset.ready === "true"`
	onAccount = `location.pathname === "/account" && document.body.dataset.ready === "true" && !document.getElementById("who").hidden`
)

func passkeyListed(name string) string {
	return `[...document.querySelectorAll("#passkeys .passkey-name")].some(e => e.textContent === ` + jsString(name) + `)`
}

// signInWithPassword signs in on the login page and waits for the account
// page.
func (b *browser) signInWithPassword(tn *apptest.Tenant) {
	b.t.Helper()
	b.do("opening /login", chromedp.Navigate(b.base+"/login"))
	b.waitFor("the login page", onLogin, false)
	b.do("signing in",
		chromedp.SendKeys(chromedp.ID("tenant"), tn.Slug),
		chromedp.SendKeys(chromedp.ID("email"), "admin@"+tn.Slug+".test"),
		chromedp.SendKeys(chromedp.ID("password"), apptest.Password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	b.waitFor("the account page after the password", onAccount, false)
	if got := b.text("user-name"); got != tn.Admin.Name {
		b.t.Fatalf("#user-name = %q, want %q", got, tn.Admin.Name)
	}
}

func (b *browser) registerPasskey(name string, errorExpected bool) pageState {
	b.t.Helper()
	b.do("registering a passkey",
		chromedp.SendKeys(chromedp.ID("passkey-name"), name),
		chromedp.Click(chromedp.ID("passkey-register")),
	)
	return b.waitFor("the passkey "+name+" in the list", passkeyListed(name), errorExpected)
}

func (b *browser) signOut() {
	b.t.Helper()
	b.do("signing out", chromedp.Click(chromedp.ID("logout")))
	b.waitFor("the login page after signing out", onLogin, false)
	if status := b.graphqlStatus(); status != 401 {
		b.t.Fatalf("GraphQL after signing out: status %d, want 401", status)
	}
}

func passkeys(t *testing.T, app *apptest.App, tn *apptest.Tenant) []*ent.Passkey {
	t.Helper()
	ctx := app.System(tn.Tenant.ID)
	n, err := app.Client().Passkey.Query().Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := app.Client().Passkey.Query().Order(entpasskey.ByCreatedAt()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(all) {
		t.Fatalf("Count = %d but All has %d passkeys", n, len(all))
	}
	return all
}

// TestBrowserPasskeyFlow drives the sign-in and account pages in headless
// Chromium with a virtual WebAuthn authenticator: password sign-in,
// passkey registration, sign-out and username-less passkey sign-in; and
// that responses without the user-verified flag are refused.
func TestBrowserPasskeyFlow(t *testing.T) {
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 55*time.Second)
	defer cancel()

	app := apptest.New(t, "sqlite")
	// The browser judges cookie expiry, and go-webauthn ceremony expiry,
	// by the wall clock: start the fake clock at the real time.
	app.Clock.Set(time.Now())

	t.Run("register and sign in with a passkey", func(t *testing.T) {
		start := time.Now()
		tn := app.NewTenant(t, "acme")
		b := startBrowser(ctx, t, chrome, app)
		t.Logf("browser started in %v", time.Since(start).Round(time.Millisecond))

		b.signInWithPassword(tn)
		b.registerPasskey("Laptop", false)
		if got := passkeys(t, app, tn); len(got) != 1 || got[0].Name != "Laptop" || got[0].UserID != tn.Admin.ID {
			t.Fatalf("stored passkeys = %v, want one named Laptop of the admin", got)
		}
		b.signOut()
		b.do("opening /account signed out", chromedp.Navigate(b.base+"/account"))
		b.waitFor("the account page to send the browser to /login", onLogin, false)

		b.do("signing in with the passkey", chromedp.Click(chromedp.ID("passkey-login")))
		b.waitFor("the account page after the passkey", onAccount, false)
		if got := b.text("user-name"); got != tn.Admin.Name {
			t.Fatalf("#user-name after passkey sign-in = %q, want %q", got, tn.Admin.Name)
		}
		b.waitFor("the passkey in the list", passkeyListed("Laptop"), false)
		if status := b.graphqlStatus(); status != 200 {
			t.Fatalf("GraphQL after passkey sign-in: status %d, want 200", status)
		}
		got := passkeys(t, app, tn)
		if len(got) != 1 || got[0].LastUsedAt == nil {
			t.Fatalf("after passkey sign-in: passkeys %v, want one with a last use", got)
		}
		t.Logf("flow done in %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("responses without user verification are refused", func(t *testing.T) {
		start := time.Now()
		tn := app.NewTenant(t, "bravo")
		b := startBrowser(ctx, t, chrome, app)
		b.signInWithPassword(tn)

		b.setBadUV(true)
		st := b.registerPasskey("Laptop", true)
		t.Logf("registration without UV: #error = %q", st.Error)
		// The browser passed the response on and the server refused it.
		if !strings.Contains(st.Error, apierr.Message("en", "user_verification_required", nil)) &&
			!strings.Contains(st.Error, apierr.Message("zh-CN", "user_verification_required", nil)) {
			t.Errorf("#error = %q, want the server's user_verification_required message", st.Error)
		}
		if n := len(passkeys(t, app, tn)); n != 0 {
			t.Fatalf("a registration without user verification stored %d passkeys", n)
		}
		if ok, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](passkeyListed("Laptop"))); ok {
			t.Fatal("the page lists a passkey that was refused")
		}

		// A passkey registered properly must not sign in without UV either.
		b.setBadUV(false)
		b.do("clearing the error", chromedp.Navigate(b.base+"/account"))
		b.waitFor("the account page", onAccount, false)
		b.registerPasskey("Laptop", false)
		if n := len(passkeys(t, app, tn)); n != 1 {
			t.Fatalf("after a proper registration: %d passkeys, want 1", n)
		}
		b.signOut()
		b.setBadUV(true)
		b.do("signing in with the passkey without UV", chromedp.Click(chromedp.ID("passkey-login")))
		st = b.waitFor("an error on the login page", "false", true)
		t.Logf("sign-in without UV: #error = %q", st.Error)
		if !strings.Contains(app.Logs.String(), "passkey: user not verified: assertion has no UV flag") {
			t.Error("the server log does not say that the assertion had no UV flag")
		}
		if st.Path != "/login" {
			t.Fatalf("after a refused passkey sign-in the page is %s, want /login", st.Path)
		}
		if status := b.graphqlStatus(); status != 401 {
			t.Fatalf("GraphQL after a refused passkey sign-in: status %d, want 401", status)
		}
		if got := passkeys(t, app, tn); len(got) != 1 || got[0].LastUsedAt != nil {
			t.Fatalf("after a refused sign-in: passkeys %v, want one never used", got)
		}
		t.Logf("flow done in %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("authenticator app as the second step", func(t *testing.T) {
		start := time.Now()
		tn := app.NewTenant(t, "charlie")
		b := startBrowser(ctx, t, chrome, app)
		b.signInWithPassword(tn)

		b.do("starting TOTP enrolment", chromedp.Click(chromedp.ID("totp-enrol")))
		b.waitFor("the TOTP secret", `document.getElementById("totp-secret").textContent !== ""`, false)
		secret := b.text("totp-secret")
		code, err := totp.GenerateCode(secret, app.Clock.Now())
		if err != nil {
			t.Fatalf("code for secret %q: %v", secret, err)
		}
		b.do("confirming TOTP",
			chromedp.SendKeys(chromedp.ID("totp-code"), code),
			chromedp.Click(chromedp.ID("totp-confirm")),
		)
		b.waitFor("the recovery codes", `document.querySelectorAll("#recovery-codes li").length > 0 && !document.getElementById("recovery").hidden`, false)
		b.do("closing the recovery codes", chromedp.Click(chromedp.ID("recovery-done")))
		b.waitFor("the account page with TOTP on", onAccount+` && document.getElementById("totp-status").textContent.includes("On since")`, false)
		b.signOut()

		// A code is single-use: the next one is from the next time step.
		app.Clock.Advance(30 * time.Second)
		// The login page remembers the tenant.
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](
			`document.getElementById("tenant").value === `+jsString(tn.Slug))); err != nil || !ok {
			t.Fatalf("the tenant field is not filled in with %s (%v)", tn.Slug, err)
		}
		b.do("signing in with the password",
			chromedp.SendKeys(chromedp.ID("email"), "admin@"+tn.Slug+".test"),
			chromedp.SendKeys(chromedp.ID("password"), apptest.Password),
			chromedp.Click(chromedp.ID("login-submit")),
		)
		b.waitFor("the code form", `!document.getElementById("mfa-form").hidden`, false)
		code, err = totp.GenerateCode(secret, app.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.do("entering the code",
			chromedp.SendKeys(chromedp.ID("mfa-code"), code),
			chromedp.Click(chromedp.ID("mfa-submit")),
		)
		b.waitFor("the account page after the second step", onAccount, false)
		if got := b.text("user-name"); got != tn.Admin.Name {
			t.Fatalf("#user-name after the second step = %q, want %q", got, tn.Admin.Name)
		}

		// Past the step-up window, adding a passkey asks for a code first
		// and then goes on by itself.
		app.Clock.Advance(rule.StepUpWindow + time.Minute)
		b.do("registering a passkey late",
			chromedp.SendKeys(chromedp.ID("passkey-name"), "Key"),
			chromedp.Click(chromedp.ID("passkey-register")),
		)
		st := b.waitFor("the step-up request", "false", true)
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!document.getElementById("stepup-form").hidden`)); err != nil || !ok {
			t.Fatalf("no step-up form after %q (%v)", st.Error, err)
		}
		code, err = totp.GenerateCode(secret, app.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.do("stepping up",
			chromedp.SendKeys(chromedp.ID("stepup-code"), code),
			chromedp.Click(chromedp.ID("stepup-submit")),
		)
		b.waitFor("the passkey after the step-up", passkeyListed("Key"), false)
		t.Logf("flow done in %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("password change then passkey as the required second factor", func(t *testing.T) {
		start := time.Now()
		tn := app.NewTenant(t, "delta")
		sys := app.System(tn.Tenant.ID)
		s := tn.Tenant.Settings.WithDefaults()
		s.Auth.MFA = settings.MFAEveryone
		app.Tx(t, sys, func(c *ent.Client) error {
			if err := c.Tenant.UpdateOneID(tn.Tenant.ID).SetSettings(s).Exec(sys); err != nil {
				return err
			}
			return c.User.UpdateOneID(tn.Admin.ID).SetMustChangePassword(true).Exec(sys)
		})
		b := startBrowser(ctx, t, chrome, app)
		b.do("opening /login", chromedp.Navigate(b.base+"/login"))
		b.waitFor("the login page", onLogin, false)
		b.do("signing in",
			chromedp.SendKeys(chromedp.ID("tenant"), tn.Slug),
			chromedp.SendKeys(chromedp.ID("email"), "admin@"+tn.Slug+".test"),
			chromedp.SendKeys(chromedp.ID("password"), apptest.Password),
			chromedp.Click(chromedp.ID("login-submit")),
		)
		b.waitFor("the password change form", `!document.getElementById("password-form").hidden`, false)
		const newPassword = "a much longer passphrase 4 Custos"
		b.do("changing the password",
			chromedp.SendKeys(chromedp.ID("new-password"), newPassword),
			chromedp.SendKeys(chromedp.ID("new-password-confirm"), newPassword),
			chromedp.Click(chromedp.ID("password-submit")),
		)
		b.waitFor("the account page in set-up mode",
			`location.pathname === "/account" && document.body.dataset.ready === "true" && !document.getElementById("notice").hidden`, false)
		b.do("registering the first passkey",
			chromedp.SendKeys(chromedp.ID("passkey-name"), "Phone"),
			chromedp.Click(chromedp.ID("passkey-register")),
		)
		b.waitFor("the full account page with the passkey", onAccount+" && "+passkeyListed("Phone"), false)
		if got := b.text("user-name"); got != tn.Admin.Name {
			t.Fatalf("#user-name = %q, want %q", got, tn.Admin.Name)
		}
		u, err := app.Client().User.Get(sys, tn.Admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.MustChangePassword {
			t.Error("the user must still change the password")
		}
		t.Logf("flow done in %v", time.Since(start).Round(time.Millisecond))
	})
}
