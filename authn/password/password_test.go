package password

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cheapParams keeps most tests fast: 64 KiB, one pass.
func cheapParams() Params {
	return Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func TestRoundTrip(t *testing.T) {
	h := NewHasher(cheapParams(), 2)
	ctx := t.Context()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	ok, err := h.Verify(ctx, encoded, "correct horse battery staple")
	if err != nil || !ok {
		t.Errorf("Verify(right) = %v, %v; want true, nil", ok, err)
	}
	ok, err = h.Verify(ctx, encoded, "correct horse battery stapler")
	if err != nil || ok {
		t.Errorf("Verify(wrong) = %v, %v; want false, nil", ok, err)
	}
	ok, err = h.Verify(ctx, encoded, "")
	if err != nil || ok {
		t.Errorf("Verify(empty) = %v, %v; want false, nil", ok, err)
	}
}

func TestDefaultParams(t *testing.T) {
	h := NewHasher(DefaultParams(), 1)
	ctx := t.Context()
	encoded, err := h.Hash(ctx, "hunter2")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	shape := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !shape.MatchString(encoded) {
		t.Errorf("hash %q does not have the PHC shape", encoded)
	}
	if ok, err := h.Verify(ctx, encoded, "hunter2"); err != nil || !ok {
		t.Errorf("Verify = %v, %v; want true, nil", ok, err)
	}
	if h.NeedsRehash(encoded) {
		t.Error("NeedsRehash of a fresh hash = true")
	}
}

// TestKnownVector checks interoperability with a hash made by the argon2
// reference CLI (a test vector of golang.org/x/crypto/argon2: password
// "password", salt "somesalt", t=2, m=64, p=1, 24-byte key).
func TestKnownVector(t *testing.T) {
	const encoded = "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$Bo1ismRVk2qm6+YAYLCmWHDb+j3fjUH3"
	h := NewHasher(cheapParams(), 1)
	ok, err := h.Verify(t.Context(), encoded, "password")
	if err != nil || !ok {
		t.Errorf("Verify = %v, %v; want true, nil", ok, err)
	}
	if !h.NeedsRehash(encoded) {
		t.Error("NeedsRehash of a hash with other parameters = false")
	}
}

func TestHashesDiffer(t *testing.T) {
	h := NewHasher(cheapParams(), 2)
	a, err := h.Hash(t.Context(), "same")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(t.Context(), "same")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two hashes of the same password are both %q", a)
	}
}

func TestMalformed(t *testing.T) {
	const salt = "c29tZXNhbHRzb21lc2FsdA" // 16 bytes
	const key = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing key", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x"},
		{"no leading dollar", "argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"params reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"params missing", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"params extra", "$argon2id$v=19$m=64,t=1,p=1,k=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"not a number", "$argon2id$v=19$m=lots,t=1,p=1$" + salt + "$" + key},
		{"memory overflows", "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key},
		{"memory above 1 GiB", "$argon2id$v=19$m=1048577,t=1,p=1$" + salt + "$" + key},
		{"memory below 8 per thread", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key},
		{"time zero", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"time above 100", "$argon2id$v=19$m=64,t=101,p=1$" + salt + "$" + key},
		{"threads zero", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads above 255", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{"empty key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$"},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"newline in base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt[:8] + "\n" + salt[8:] + "$" + key},
		{"non-canonical base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt[:len(salt)-1] + "B$" + key},
		{"url base64", "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHQ$Bo1ismRVk2qm6-YAYLCmWHDb-j3fjUH3"},
		{"too long", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 4000)},
	}
	h := NewHasher(cheapParams(), 1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(t.Context(), tt.encoded, "password")
			if err == nil || ok {
				t.Errorf("Verify(%q) = %v, %v; want false and an error", tt.encoded, ok, err)
			}
			t.Logf("error: %v", err)
			if !h.NeedsRehash(tt.encoded) {
				t.Errorf("NeedsRehash(%q) = false", tt.encoded)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	old := NewHasher(cheapParams(), 1)
	encoded, err := old.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	if old.NeedsRehash(encoded) {
		t.Error("NeedsRehash with the same params = true")
	}
	change := []func(*Params){
		func(p *Params) { p.Memory *= 2 },
		func(p *Params) { p.Time++ },
		func(p *Params) { p.Threads++ },
		func(p *Params) { p.SaltLen++ },
		func(p *Params) { p.KeyLen++ },
	}
	for i, f := range change {
		p := cheapParams()
		f(&p)
		if !NewHasher(p, 1).NeedsRehash(encoded) {
			t.Errorf("change %d: NeedsRehash = false", i)
		}
	}
}

func TestInvalidParams(t *testing.T) {
	tests := []struct {
		name string
		p    Params
	}{
		{"zero", Params{}},
		{"no threads", Params{Memory: 64, Time: 1, SaltLen: 16, KeyLen: 32}},
		{"no time", Params{Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}},
		{"no key", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16}},
		{"short salt", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32}},
		{"huge memory", Params{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.p.Validate() == nil {
				t.Error("Validate() = nil")
			}
			h := NewHasher(tt.p, 1)
			if _, err := h.Hash(t.Context(), "pw"); err == nil {
				t.Error("Hash: no error")
			}
			if err := h.VerifyDummy(t.Context(), "pw"); err == nil {
				t.Error("VerifyDummy: no error")
			}
		})
	}
	if err := DefaultParams().Validate(); err != nil {
		t.Errorf("DefaultParams().Validate() = %v", err)
	}
}

// countingKDF wraps h's key derivation to count calls and record the most
// that ever ran at once; each call lasts at least hold.
func countingKDF(h *Hasher, hold time.Duration) (calls, peak *atomic.Int64) {
	calls, peak = new(atomic.Int64), new(atomic.Int64)
	var running atomic.Int64
	next := h.kdf
	h.kdf = func(password, salt []byte, p Params) []byte {
		calls.Add(1)
		n := running.Add(1)
		defer running.Add(-1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		time.Sleep(hold)
		return next(password, salt, p)
	}
	return calls, peak
}

func TestConcurrencyBound(t *testing.T) {
	const bound, workers = 2, 8
	h := NewHasher(cheapParams(), bound)
	calls, peak := countingKDF(h, 20*time.Millisecond)

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			_, err := h.Hash(t.Context(), "pw")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Hash: %v", err)
		}
	}
	if calls.Load() != workers {
		t.Errorf("calls = %d, want %d", calls.Load(), workers)
	}
	if p := peak.Load(); p > bound || p < 1 {
		t.Errorf("peak concurrency = %d, want 1 to %d", p, bound)
	}
}

func TestWaitRespectsContext(t *testing.T) {
	h := NewHasher(cheapParams(), 1)
	started, release := make(chan struct{}), make(chan struct{})
	next := h.kdf
	h.kdf = func(password, salt []byte, p Params) []byte {
		close(started)
		<-release
		return next(password, salt, p)
	}

	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "holds the only slot")
		done <- err
	}()
	<-started

	ctx, cancel := context.WithCancel(t.Context())
	waited := make(chan error, 1)
	go func() {
		_, err := h.Verify(ctx, encode(cheapParams(), make([]byte, 16), make([]byte, 32)), "waits")
		waited <- err
	}()
	time.Sleep(10 * time.Millisecond) // let Verify start waiting
	cancel()
	if err := <-waited; !errors.Is(err, context.Canceled) {
		t.Errorf("Verify while waiting = %v, want context.Canceled", err)
	}

	expired, cancelNow := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancelNow()
	if err := h.VerifyDummy(expired, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("VerifyDummy while waiting = %v, want context.DeadlineExceeded", err)
	}

	close(release)
	if err := <-done; err != nil {
		t.Errorf("Hash holding the slot: %v", err)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := NewHasher(cheapParams(), 1)
	calls, _ := countingKDF(h, 0)
	for i := range 3 {
		if err := h.VerifyDummy(t.Context(), "anything"); err != nil {
			t.Fatalf("VerifyDummy: %v", err)
		}
		if got := calls.Load(); got != int64(i+1) {
			t.Errorf("after %d calls, %d derivations ran; want %d", i+1, got, i+1)
		}
	}
	if h.dummy == "" || h.NeedsRehash(h.dummy) {
		t.Errorf("dummy %q does not carry the Hasher's params", h.dummy)
	}
	dummy := h.dummy
	if err := h.VerifyDummy(t.Context(), "again"); err != nil || h.dummy != dummy {
		t.Errorf("dummy changed from %q to %q (err %v)", dummy, h.dummy, err)
	}
}

func TestVerifyUsesStoredParams(t *testing.T) {
	strong := Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 24, KeyLen: 48}
	encoded, err := NewHasher(strong, 1).Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHasher(cheapParams(), 1)
	if ok, err := h.Verify(t.Context(), encoded, "pw"); err != nil || !ok {
		t.Errorf("Verify = %v, %v; want true, nil", ok, err)
	}
	if !h.NeedsRehash(encoded) {
		t.Error("NeedsRehash = false for other params")
	}
}
