package authn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/auditevent"
	"github.com/custos-crm/custos/ent/user"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/apptest"
	"github.com/custos-crm/custos/internal/store/storetest"
	"github.com/custos-crm/custos/internal/tenancy"
)

// observedHasher wraps the app's hasher, records how many hashes run at
// once, makes each one slow, and can hold them all until released.
type observedHasher struct {
	inner   authn.PasswordHasher
	delay   time.Duration
	hold    chan struct{} // nil: no holding
	running atomic.Int64
	peak    atomic.Int64
}

func (h *observedHasher) run(fn func()) {
	n := h.running.Add(1)
	defer h.running.Add(-1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	if h.hold != nil {
		// Bounded, so that a broken limit fails the test instead of
		// hanging it.
		select {
		case <-h.hold:
		case <-time.After(5 * time.Second):
		}
	}
	time.Sleep(h.delay)
	fn()
}

func (h *observedHasher) Hash(ctx context.Context, pw string) (s string, err error) {
	h.run(func() { s, err = h.inner.Hash(ctx, pw) })
	return s, err
}

func (h *observedHasher) Verify(ctx context.Context, encoded, pw string) (ok bool, err error) {
	h.run(func() { ok, err = h.inner.Verify(ctx, encoded, pw) })
	return ok, err
}

func (h *observedHasher) VerifyDummy(ctx context.Context, pw string) (err error) {
	h.run(func() { err = h.inner.VerifyDummy(ctx, pw) })
	return err
}

// signInRig serves a Service of its own, limited to one hash at a time, on
// the app's database.
type signInRig struct {
	app    *apptest.App
	tn     *apptest.Tenant
	hasher *observedHasher
	svc    *authn.Service
	srv    *httptest.Server
}

func newSignInRig(t *testing.T, dialectName string, hasher *observedHasher, maxWait time.Duration) *signInRig {
	t.Helper()
	app := apptest.New(t, dialectName)
	rg := &signInRig{app: app, tn: app.NewTenant(t, "acme"), hasher: hasher}
	hasher.inner = app.Hasher
	svc, err := authn.NewService(authn.Config{
		Client: app.Client(), Hasher: hasher, Clock: app.Clock, Logger: app.Logger(),
		Throttle:       authn.ThrottleLimits{PerIP: 1 << 20, PerTenant: 1 << 20, PerAccount: 1 << 20},
		Hashing:        authn.HashLimits{Concurrent: 1, MaxWait: maxWait},
		ViewerCacheTTL: authn.ViewerCacheOff,
	})
	if err != nil {
		t.Fatal(err)
	}
	rg.svc = svc
	mux := http.NewServeMux()
	mux.Handle("POST /auth/login", svc.Login())
	mux.Handle("POST /auth/password", svc.Authenticate(authn.AllowRestricted(svc.ChangePassword())))
	mux.Handle("POST /auth/step-up", svc.Authenticate(authn.RequireViewer(svc.StepUp())))
	rg.srv = httptest.NewServer(mux)
	t.Cleanup(rg.srv.Close)
	return rg
}

func (rg *signInRig) newUser(t *testing.T, email string) *ent.User {
	t.Helper()
	return rg.app.NewUser(t, rg.tn, apptest.UserSpec{Email: email, Roles: []*ent.Role{rg.tn.Role(tenancy.RoleSales)}})
}

// answer is a response's status, code and Retry-After header.
type answer struct {
	status     int
	code       string
	retryAfter string
}

func (rg *signInRig) post(t *testing.T, path, token string, body any) answer {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, rg.srv.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Error(err)
		return answer{}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := rg.srv.Client().Do(req)
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer resp.Body.Close()
	var out struct{ Code string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return answer{resp.StatusCode, out.Code, resp.Header.Get("Retry-After")}
}

func (rg *signInRig) login(t *testing.T, email, pw string) answer {
	return rg.post(t, "/auth/login", "", loginBody("acme", email, pw))
}

func TestSignInHashingIsBounded(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialectName string) {
		hasher := &observedHasher{}
		rg := newSignInRig(t, dialectName, hasher, 100*time.Millisecond)
		rg.newUser(t, "first@acme.test")
		second := rg.newUser(t, "second@acme.test")
		guesser := rg.newUser(t, "guesser@acme.test")
		changer := rg.newUser(t, "changer@acme.test")
		stepper := rg.newUser(t, "stepper@acme.test")
		// Sessions made by the app's own service, which does not hold.
		changeTok := rg.app.Login(t, "acme", "changer@acme.test")
		stepTok := rg.app.Login(t, "acme", "stepper@acme.test")

		// The first sign-in takes the only slot and keeps it.
		hasher.hold = make(chan struct{})
		done := make(chan answer, 1)
		go func() { done <- rg.login(t, "first@acme.test", apptest.Password) }()
		deadline := time.Now().Add(10 * time.Second)
		for hasher.running.Load() != 1 {
			if time.Now().After(deadline) {
				t.Fatal("the first sign-in never started hashing")
			}
			time.Sleep(5 * time.Millisecond)
		}

		t.Run("requests past the wait bound are refused like a throttle", func(t *testing.T) {
			cases := []struct {
				name        string
				path, token string
				body        any
			}{
				{"correct password", "/auth/login", "", loginBody("acme", "second@acme.test", apptest.Password)},
				{"wrong password", "/auth/login", "", loginBody("acme", "guesser@acme.test", "not the password")},
				{"unknown user", "/auth/login", "", loginBody("acme", "nobody@acme.test", apptest.Password)},
				{"password change", "/auth/password", changeTok, map[string]string{"currentPassword": apptest.Password, "newPassword": "a fresh passphrase"}},
				{"step-up", "/auth/step-up", stepTok, map[string]string{"password": apptest.Password}},
			}
			got := make([]answer, len(cases))
			var wg sync.WaitGroup
			for i, tc := range cases {
				wg.Go(func() { got[i] = rg.post(t, tc.path, tc.token, tc.body) })
			}
			wg.Wait()
			for i, tc := range cases {
				if a := got[i]; a.status != http.StatusTooManyRequests || a.code != "RATE_LIMITED" || a.retryAfter != "1" {
					t.Errorf("%s: %+v, want 429 RATE_LIMITED with Retry-After 1", tc.name, a)
				}
			}
			// An administrator setting a password (createUser,
			// resetPassword) waits for the same slots.
			_, err := rg.svc.HashPassword(context.Background(), "an admin-set passphrase")
			if ae := apierr.As(err); ae == nil || ae.Code != apierr.RateLimited {
				t.Errorf("an admin password set: %v, want RATE_LIMITED", err)
			}
		})
		close(hasher.hold)
		if a := <-done; a.status != http.StatusOK {
			t.Fatalf("the sign-in holding the slot: %+v", a)
		}
		if p := hasher.peak.Load(); p != 1 {
			t.Fatalf("%d hashes ran at once, limit 1", p)
		}

		t.Run("refused attempts count against no account", func(t *testing.T) {
			sys := rg.app.System(rg.tn.Tenant.ID)
			for _, c := range []struct {
				u      *ent.User
				action string
			}{{second, "login.password"}, {guesser, "login.password"}, {changer, "password.change"}, {stepper, "step_up"}} {
				u, err := rg.app.Client().User.Query().Where(user.ID(c.u.ID)).Only(sys)
				if err != nil {
					t.Fatal(err)
				}
				if u.FailedLogins != 0 || u.LockedUntil != nil {
					t.Errorf("%s: failed logins %d, locked until %v", u.Name, u.FailedLogins, u.LockedUntil)
				}
				n, err := rg.app.Client().AuditEvent.Query().Where(auditevent.EntityID(c.u.ID), auditevent.Action(c.action)).Count(sys)
				if err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%s: %d %s events for a refused request", u.Name, n, c.action)
				}
			}
		})

		t.Run("with capacity the same requests succeed", func(t *testing.T) {
			if a := rg.login(t, "second@acme.test", apptest.Password); a.status != http.StatusOK {
				t.Errorf("sign-in: %+v", a)
			}
			if a := rg.post(t, "/auth/password", changeTok, map[string]string{"currentPassword": apptest.Password, "newPassword": "a fresh passphrase"}); a.status != http.StatusOK {
				t.Errorf("password change: %+v", a)
			}
			if a := rg.post(t, "/auth/step-up", stepTok, map[string]string{"password": apptest.Password}); a.status != http.StatusOK {
				t.Errorf("step-up: %+v", a)
			}
			hash, err := rg.svc.HashPassword(context.Background(), "an admin-set passphrase")
			if err != nil {
				t.Fatalf("an admin password set: %v", err)
			}
			if ok, err := rg.app.Hasher.Verify(context.Background(), hash, "an admin-set passphrase"); err != nil || !ok {
				t.Errorf("the admin-set hash does not verify: %v, %v", ok, err)
			}
		})
	})
}

func TestQueuedSignInsTakeTurns(t *testing.T) {
	hasher := &observedHasher{delay: 30 * time.Millisecond}
	rg := newSignInRig(t, "sqlite", hasher, 10*time.Second)
	const n = 6
	for i := range n {
		rg.newUser(t, fmt.Sprintf("u%d@acme.test", i))
	}
	got := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i] = rg.login(t, fmt.Sprintf("u%d@acme.test", i), apptest.Password) })
	}
	wg.Wait()
	for i, a := range got {
		if a.status != http.StatusOK {
			t.Errorf("sign-in %d within the wait bound: %+v", i, a)
		}
	}
	if p := hasher.peak.Load(); p != 1 {
		t.Fatalf("%d hashes ran at once, limit 1", p)
	}
}
