package passkey

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/descope/virtualwebauthn"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

const (
	testRPID   = "localhost"
	testOrigin = "http://localhost:8080"
)

// memCeremonies is an in-memory Ceremonies store.
type memCeremonies struct {
	mu sync.Mutex
	m  map[string]memEntry
	// ignoreExpiry makes Take hand out expired ceremonies, to show the
	// Service checks expiry itself.
	ignoreExpiry bool
}

// memEntry is one stored ceremony.
type memEntry struct {
	data    []byte
	expires time.Time
}

func newMemCeremonies() *memCeremonies {
	return &memCeremonies{m: make(map[string]memEntry)}
}

func (c *memCeremonies) Put(_ context.Context, id string, data []byte, expires time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; ok {
		return fmt.Errorf("duplicate ceremony id %q", id)
	}
	c.m[id] = memEntry{data: bytes.Clone(data), expires: expires}
	return nil
}

func (c *memCeremonies) Take(_ context.Context, id string, now time.Time) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	delete(c.m, id)
	if !ok || (!c.ignoreExpiry && !now.Before(e.expires)) {
		return nil, ErrCeremonyNotFound
	}
	return e.data, nil
}

// peek returns the stored ceremony without taking it.
func (c *memCeremonies) peek(t *testing.T, id string) ceremony {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var cer ceremony
	if err := json.Unmarshal(c.m[id].data, &cer); err != nil {
		t.Fatalf("decode ceremony: %v", err)
	}
	return cer
}

func (c *memCeremonies) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// fixture is a Service with a virtual authenticator, credential and user.
type fixture struct {
	svc   *Service
	store *memCeremonies
	rp    virtualwebauthn.RelyingParty
	auth  virtualwebauthn.Authenticator
	vcred virtualwebauthn.Credential
	user  User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store := newMemCeremonies()
	svc, err := New(Config{
		RPID:          testRPID,
		RPDisplayName: "Custos",
		Origins:       []string{testOrigin},
	}, store)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	user := User{
		ID:          []byte("01HZX3K9Q7W8E5R4T2Y6U1I0OP"),
		Name:        "ada@example.com",
		DisplayName: "Ada Lovelace",
	}
	return &fixture{
		svc:   svc,
		store: store,
		rp:    virtualwebauthn.RelyingParty{Name: "Custos", ID: testRPID, Origin: testOrigin},
		auth:  virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: user.ID}),
		vcred: newVirtualCredential(t),
		user:  user,
	}
}

// newVirtualCredential returns a virtual EC2 credential whose public key
// coordinates are a full 32 bytes. virtualwebauthn v1.0.3 encodes them with
// big.Int.Bytes, which drops leading zero bytes, so about one key in 128 would
// be rejected by go-webauthn as malformed and make the tests flaky.
func newVirtualCredential(t *testing.T) virtualwebauthn.Credential {
	t.Helper()
	for range 100 {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			t.Fatalf("parse virtual key: %v", err)
		}
		pub, ok := k.(*ecdsa.PrivateKey)
		if !ok {
			t.Fatalf("virtual key is a %T", k)
		}
		if len(pub.X.Bytes()) == 32 && len(pub.Y.Bytes()) == 32 {
			return c
		}
	}
	t.Fatal("no full-length virtual key in 100 tries")
	return virtualwebauthn.Credential{}
}

// attest begins a registration for f.user and returns the ceremony id and the
// virtual authenticator's response.
func (f *fixture) attest(t *testing.T, now time.Time) (string, []byte) {
	t.Helper()
	id, options, err := f.svc.BeginRegistration(context.Background(), f.user, now)
	if err != nil {
		t.Fatalf("BeginRegistration: %v", err)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatalf("ParseAttestationOptions: %v", err)
	}
	if opts.RelyingPartyID != testRPID || opts.UserID != string(f.user.ID) {
		t.Fatalf("options rp %q user %q", opts.RelyingPartyID, opts.UserID)
	}
	return id, []byte(virtualwebauthn.CreateAttestationResponse(f.rp, f.auth, f.vcred, *opts))
}

// register registers f.vcred for f.user and adds it to the user's credentials.
func (f *fixture) register(t *testing.T, now time.Time) Credential {
	t.Helper()
	id, resp := f.attest(t, now)
	cred, err := f.svc.FinishRegistration(context.Background(), f.user, id, resp, now.Add(time.Second))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	cred.Name = "Virtual key"
	f.user.Credentials = append(f.user.Credentials, cred)
	f.auth.AddCredential(f.vcred)
	return cred
}

// assert begins a sign-in and returns the ceremony id and the virtual
// authenticator's assertion for f.vcred.
func (f *fixture) assert(t *testing.T, now time.Time) (string, []byte) {
	t.Helper()
	id, options, err := f.svc.BeginLogin(context.Background(), now)
	if err != nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	opts, err := virtualwebauthn.ParseAssertionOptions(string(options))
	if err != nil {
		t.Fatalf("ParseAssertionOptions: %v", err)
	}
	if len(opts.AllowCredentials) != 0 {
		t.Fatalf("discoverable login has allowCredentials %v", opts.AllowCredentials)
	}
	return id, []byte(virtualwebauthn.CreateAssertionResponse(f.rp, f.auth, f.vcred, *opts))
}

// lookup finds f.user by its handle.
func (f *fixture) lookup(_ context.Context, handle []byte) (User, error) {
	if !bytes.Equal(handle, f.user.ID) {
		return User{}, fmt.Errorf("user handle %x: %w", handle, ErrUnknownCredential)
	}
	return f.user, nil
}

func TestRegisterThenUsernamelessLogin(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.vcred.Counter = 5
	f.auth.Options.BackupEligible = true
	f.auth.Options.BackupState = true

	cred := f.register(t, now)
	if !bytes.Equal(cred.ID, f.vcred.ID) {
		t.Fatalf("credential id %x, want %x", cred.ID, f.vcred.ID)
	}
	if len(cred.PublicKey) == 0 || len(cred.AAGUID) != 16 {
		t.Fatalf("credential public key %d bytes, AAGUID %d bytes", len(cred.PublicKey), len(cred.AAGUID))
	}
	if !cred.UserVerified || !cred.BackupEligible || !cred.BackupState || cred.SignCount != 5 {
		t.Fatalf("credential %+v: want UV, BE, BS and sign count 5", cred)
	}

	f.vcred.Counter = 6
	id, resp := f.assert(t, now.Add(time.Minute))
	u, got, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now.Add(time.Minute+time.Second))
	if err != nil {
		t.Fatalf("FinishLogin: %v", err)
	}
	if !bytes.Equal(u.ID, f.user.ID) || u.Name != f.user.Name {
		t.Fatalf("user %+v, want %+v", u, f.user)
	}
	if !bytes.Equal(got.ID, cred.ID) || got.SignCount != 6 || got.Name != "Virtual key" || !got.UserVerified {
		t.Fatalf("credential %+v: want id %x, sign count 6, name kept, UV", got, cred.ID)
	}
	if !bytes.Equal(got.PublicKey, cred.PublicKey) || !bytes.Equal(got.AAGUID, cred.AAGUID) {
		t.Fatal("credential key material changed across login")
	}
	if f.store.len() != 0 {
		t.Fatalf("%d ceremonies left in the store", f.store.len())
	}
}

func TestZeroCountersAreNotAClone(t *testing.T) {
	// Synced passkeys always report a sign count of zero.
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)
	for i := range 2 {
		id, resp := f.assert(t, now)
		_, got, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now)
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if got.SignCount != 0 {
			t.Fatalf("login %d: sign count %d", i, got.SignCount)
		}
	}
}

func TestOptionsRequireUserVerification(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	existing := f.register(t, now)

	_, options, err := f.svc.BeginRegistration(context.Background(), f.user, now)
	if err != nil {
		t.Fatal(err)
	}
	var creation struct {
		AuthenticatorSelection struct {
			ResidentKey        string `json:"residentKey"`
			RequireResidentKey bool   `json:"requireResidentKey"`
			UserVerification   string `json:"userVerification"`
		} `json:"authenticatorSelection"`
		ExcludeCredentials []struct {
			ID string `json:"id"`
		} `json:"excludeCredentials"`
	}
	if err := json.Unmarshal(options, &creation); err != nil {
		t.Fatal(err)
	}
	sel := creation.AuthenticatorSelection
	if sel.UserVerification != "required" || sel.ResidentKey != "required" || !sel.RequireResidentKey {
		t.Fatalf("authenticatorSelection %+v: want UV and resident key required", sel)
	}
	if len(creation.ExcludeCredentials) != 1 ||
		creation.ExcludeCredentials[0].ID != base64.RawURLEncoding.EncodeToString(existing.ID) {
		t.Fatalf("excludeCredentials %+v: want the existing credential", creation.ExcludeCredentials)
	}
	opts, err := virtualwebauthn.ParseAttestationOptions(string(options))
	if err != nil {
		t.Fatal(err)
	}
	if !f.vcred.IsExcludedForAttestation(*opts) {
		t.Fatal("existing credential is not excluded")
	}

	_, options, err = f.svc.BeginLogin(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	var request struct {
		UserVerification string          `json:"userVerification"`
		RPID             string          `json:"rpId"`
		AllowCredentials json.RawMessage `json:"allowCredentials"`
	}
	if err := json.Unmarshal(options, &request); err != nil {
		t.Fatal(err)
	}
	if request.UserVerification != "required" || request.RPID != testRPID || request.AllowCredentials != nil {
		t.Fatalf("request options %s: want UV required, rpId, no allowCredentials", options)
	}
}

func TestRegistrationWithoutUserVerification(t *testing.T) {
	f := newFixture(t)
	f.auth.Options.UserNotVerified = true
	now := time.Now()
	id, resp := f.attest(t, now)
	_, err := f.svc.FinishRegistration(context.Background(), f.user, id, resp, now)
	if !errors.Is(err, ErrUserNotVerified) {
		t.Fatalf("err = %v, want ErrUserNotVerified", err)
	}
}

func TestLoginWithoutUserVerification(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)
	f.auth.Options.UserNotVerified = true
	id, resp := f.assert(t, now)
	_, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now)
	if !errors.Is(err, ErrUserNotVerified) {
		t.Fatalf("err = %v, want ErrUserNotVerified", err)
	}
}

// TestLibraryAlsoRefusesMissingUserVerification shows that go-webauthn itself
// refuses a cleared UV flag for the ceremonies this package begins, so the
// flag is refused even without this package's own check.
func TestLibraryAlsoRefusesMissingUserVerification(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.auth.Options.UserNotVerified = true

	id, resp := f.attest(t, now)
	cer := f.store.peek(t, id)
	if cer.Session.UserVerification != protocol.VerificationRequired {
		t.Fatalf("registration session UV %q", cer.Session.UserVerification)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(resp)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Response.AttestationObject.AuthData.Flags.HasUserVerified() {
		t.Fatal("virtual authenticator set UV")
	}
	_, err = f.svc.wa.CreateCredential(webauthnUser{f.user}, cer.Session, parsed)
	if err == nil || !strings.Contains(libError(err).Error(), "User verification required") {
		t.Fatalf("library registration err = %v, want a user verification error", libError(err))
	}

	f.auth.Options.UserNotVerified = false
	f.register(t, now)
	f.auth.Options.UserNotVerified = true
	id, resp = f.assert(t, now)
	cer = f.store.peek(t, id)
	if cer.Session.UserVerification != protocol.VerificationRequired {
		t.Fatalf("login session UV %q", cer.Session.UserVerification)
	}
	aparsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
	if err != nil {
		t.Fatal(err)
	}
	wu := webauthnUser{f.user}
	_, _, err = f.svc.wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return wu, nil }, cer.Session, aparsed)
	if err == nil || !strings.Contains(libError(err).Error(), "User verification required") {
		t.Fatalf("library login err = %v, want a user verification error", libError(err))
	}
}

func TestCounterRegression(t *testing.T) {
	for _, tc := range []struct {
		name  string
		again uint32
	}{
		{"backwards", 3},
		{"unchanged", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			now := time.Now()
			f.vcred.Counter = 1
			f.register(t, now)

			f.vcred.Counter = 10
			id, resp := f.assert(t, now)
			_, got, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now)
			if err != nil {
				t.Fatalf("first login: %v", err)
			}
			f.user.Credentials[0] = got

			f.vcred.Counter = tc.again
			id, resp = f.assert(t, now)
			u, got, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now)
			if !errors.Is(err, ErrCloneDetected) {
				t.Fatalf("err = %v, want ErrCloneDetected", err)
			}
			if !bytes.Equal(got.ID, f.vcred.ID) || !bytes.Equal(u.ID, f.user.ID) {
				t.Fatalf("clone: got credential %x user %x, want them returned", got.ID, u.ID)
			}
			if got.SignCount != 10 {
				t.Fatalf("clone: sign count %d, want the stored 10", got.SignCount)
			}
		})
	}
}

func TestCeremonyReplay(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	id, resp := f.attest(t, now)
	if _, err := f.svc.FinishRegistration(context.Background(), f.user, id, resp, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishRegistration(context.Background(), f.user, id, resp, now); !errors.Is(err, ErrCeremonyNotFound) {
		t.Fatalf("registration replay err = %v, want ErrCeremonyNotFound", err)
	}
	// The user did not store the credential above; register it for real.
	f.register(t, now)

	id, resp = f.assert(t, now)
	if _, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now); !errors.Is(err, ErrCeremonyNotFound) {
		t.Fatalf("login replay err = %v, want ErrCeremonyNotFound", err)
	}
}

func TestFailedFinishConsumesCeremony(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)
	id, resp := f.assert(t, now)
	if _, _, err := f.svc.FinishLogin(context.Background(), id, []byte(`{}`), f.lookup, now); err == nil {
		t.Fatal("garbage assertion accepted")
	}
	if _, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now); !errors.Is(err, ErrCeremonyNotFound) {
		t.Fatalf("err = %v, want ErrCeremonyNotFound", err)
	}
}

func TestExpiredCeremony(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		t.Run(fmt.Sprintf("storeIgnoresExpiry=%v", ignore), func(t *testing.T) {
			f := newFixture(t)
			f.store.ignoreExpiry = ignore
			now := time.Now()
			late := now.Add(DefaultCeremonyTTL + time.Second)

			id, resp := f.attest(t, now)
			if _, err := f.svc.FinishRegistration(context.Background(), f.user, id, resp, late); !errors.Is(err, ErrCeremonyNotFound) {
				t.Fatalf("registration err = %v, want ErrCeremonyNotFound", err)
			}

			f.register(t, now)
			id, resp = f.assert(t, now)
			if _, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, late); !errors.Is(err, ErrCeremonyNotFound) {
				t.Fatalf("login err = %v, want ErrCeremonyNotFound", err)
			}
		})
	}
}

func TestCeremonyTTL(t *testing.T) {
	store := newMemCeremonies()
	svc, err := New(Config{RPID: testRPID, RPDisplayName: "Custos", Origins: []string{testOrigin}, CeremonyTTL: time.Minute}, store)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, _, err := svc.BeginLogin(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	exp := store.m[id].expires
	store.mu.Unlock()
	if !exp.Equal(now.Add(time.Minute)) {
		t.Fatalf("expires %v, want %v", exp, now.Add(time.Minute))
	}
	if cer := store.peek(t, id); !cer.Session.Expires.Equal(exp) {
		t.Fatalf("session expires %v, want %v", cer.Session.Expires, exp)
	}
}

func TestUnknownCeremony(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	if _, err := f.svc.FinishRegistration(context.Background(), f.user, "nope", []byte(`{}`), now); !errors.Is(err, ErrCeremonyNotFound) {
		t.Fatalf("err = %v, want ErrCeremonyNotFound", err)
	}
	if _, _, err := f.svc.FinishLogin(context.Background(), "", []byte(`{}`), f.lookup, now); !errors.Is(err, ErrCeremonyNotFound) {
		t.Fatalf("err = %v, want ErrCeremonyNotFound", err)
	}
}

func TestCeremonyKindMismatch(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)

	regID, _, err := f.svc.BeginRegistration(context.Background(), f.user, now)
	if err != nil {
		t.Fatal(err)
	}
	_, resp := f.assert(t, now)
	if _, _, err := f.svc.FinishLogin(context.Background(), regID, resp, f.lookup, now); !errors.Is(err, ErrCeremonyNotFound) {
		t.Fatalf("err = %v, want ErrCeremonyNotFound", err)
	}

	loginID, _, err := f.svc.BeginLogin(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.FinishRegistration(context.Background(), f.user, loginID, []byte(`{}`), now); !errors.Is(err, ErrCeremonyNotFound) {
		t.Fatalf("err = %v, want ErrCeremonyNotFound", err)
	}
}

func TestWrongOrigin(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.rp.Origin = "http://evil.example:8080"
	id, resp := f.attest(t, now)
	if _, err := f.svc.FinishRegistration(context.Background(), f.user, id, resp, now); err == nil {
		t.Fatal("registration from a foreign origin accepted")
	} else {
		t.Logf("registration: %v", err)
	}

	f.rp.Origin = testOrigin
	f.register(t, now)
	f.rp.Origin = "http://localhost:9090"
	id, resp = f.assert(t, now)
	if _, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now); err == nil {
		t.Fatal("login from a foreign origin accepted")
	} else {
		t.Logf("login: %v", err)
	}
}

func TestWrongRPID(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)
	f.rp.ID = "example.com"
	id, resp := f.assert(t, now)
	if _, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now); err == nil {
		t.Fatal("assertion for another RP id accepted")
	} else {
		t.Logf("wrong RP id: %v", err)
	}
}

func TestUnknownCredential(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)

	// The user's stored list does not hold the credential (e.g. it was deleted).
	other := newVirtualCredential(t)
	f.auth.AddCredential(other)
	f.vcred = other
	id, resp := f.assert(t, now)
	_, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now)
	if !errors.Is(err, ErrUnknownCredential) {
		t.Fatalf("err = %v, want ErrUnknownCredential", err)
	}

	// No user has the handle.
	f.auth.Options.UserHandle = []byte("someone-else")
	id, resp = f.assert(t, now)
	_, _, err = f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now)
	if !errors.Is(err, ErrUnknownCredential) {
		t.Fatalf("err = %v, want ErrUnknownCredential", err)
	}
}

func TestForgedSignature(t *testing.T) {
	// An attacker with a different key but the victim's credential id.
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)
	forged := newVirtualCredential(t)
	forged.ID = f.vcred.ID
	f.vcred = forged
	id, resp := f.assert(t, now)
	if _, _, err := f.svc.FinishLogin(context.Background(), id, resp, f.lookup, now); err == nil {
		t.Fatal("assertion signed by another key accepted")
	} else {
		t.Logf("forged: %v", err)
	}
}

func TestFinishRegistrationForAnotherUser(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	id, resp := f.attest(t, now)
	mallory := User{ID: []byte("mallory"), Name: "mallory", DisplayName: "Mallory"}
	if _, err := f.svc.FinishRegistration(context.Background(), mallory, id, resp, now); err == nil {
		t.Fatal("ceremony begun for one user finished for another")
	} else {
		t.Logf("other user: %v", err)
	}
}

func TestRegisterExistingCredential(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.register(t, now)
	// An authenticator ignoring excludeCredentials.
	id, resp := f.attest(t, now)
	if _, err := f.svc.FinishRegistration(context.Background(), f.user, id, resp, now); !errors.Is(err, ErrCredentialExists) {
		t.Fatalf("err = %v, want ErrCredentialExists", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	good := Config{RPID: testRPID, RPDisplayName: "Custos", Origins: []string{testOrigin}}
	store := newMemCeremonies()
	for name, mut := range map[string]func(*Config){
		"no rp id":     func(c *Config) { c.RPID = "" },
		"no name":      func(c *Config) { c.RPDisplayName = "" },
		"no origins":   func(c *Config) { c.Origins = nil },
		"negative ttl": func(c *Config) { c.CeremonyTTL = -time.Second },
		"bad rp id":    func(c *Config) { c.RPID = "http://localhost" },
	} {
		cfg := good
		mut(&cfg)
		if _, err := New(cfg, store); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	if _, err := New(good, nil); err == nil {
		t.Error("New accepted a nil store")
	}
}
