package disclosure_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/disclosure"
	"github.com/custos-crm/custos/internal/vault"
)

// memKeys is an in-memory vault.KeyStore.
type memKeys struct {
	mu      sync.Mutex
	check   []byte
	tenants map[string]vault.TenantKeys
}

func (s *memKeys) LoadKeyCheck(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check, nil
}

func (s *memKeys) SaveKeyCheck(_ context.Context, check []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.check = check
	return nil
}

func (s *memKeys) LoadTenantKeys(_ context.Context, tenantID string) (vault.TenantKeys, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.tenants[tenantID]
	if !ok {
		return vault.TenantKeys{}, vault.ErrNoTenantKeys
	}
	return k, nil
}

func (s *memKeys) SaveTenantKeys(_ context.Context, tenantID string, k vault.TenantKeys) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tenants[tenantID]; ok {
		return vault.ErrTenantKeysExist
	}
	s.tenants[tenantID] = k
	return nil
}

// record is a customer row holding a sealed mobile number.
type record struct {
	ref    vault.Ref
	key    []byte
	mobile []byte
}

// sealedMobile opens a vault on fresh keys and seals "13812345678" as the
// mobile of a customer row.
func sealedMobile() (*vault.Vault, record, error) {
	ctx := context.Background()
	master := make([]byte, vault.MasterKeySize)
	rand.Read(master)
	v, err := vault.Open(ctx, master, &memKeys{tenants: map[string]vault.TenantKeys{}}, vault.Options{})
	if err != nil {
		return nil, record{}, err
	}
	if err := v.EnsureTenant(ctx, "t1"); err != nil {
		return nil, record{}, err
	}
	r := record{ref: vault.Ref{TenantID: "t1", Table: "Customer", RowID: "c1"}}
	if r.key, err = v.NewRecordKey(ctx, r.ref); err != nil {
		return nil, record{}, err
	}
	r.mobile, err = v.SealString(ctx, r.ref, r.key, "mobile", "13812345678")
	return v, r, err
}

func newVault(t testing.TB) (*vault.Vault, record) {
	t.Helper()
	v, r, err := sealedMobile()
	if err != nil {
		t.Fatal(err)
	}
	return v, r
}

// policy returns decision for every field and records the names it was
// asked about.
func policy(decision disclosure.Decision, asked *[]string) disclosure.Policy {
	var mu sync.Mutex
	return disclosure.PolicyFunc(func(_ context.Context, _ *viewer.Viewer, field string) disclosure.Decision {
		mu.Lock()
		defer mu.Unlock()
		*asked = append(*asked, field)
		return decision
	})
}

var customerMobile = disclosure.NewField("Customer", "mobile", "mobile")

func TestRevealFollowsThePolicy(t *testing.T) {
	ctx := context.Background()
	v, r := newVault(t)
	for _, tc := range []struct {
		name     string
		decision disclosure.Decision
		sealed   []byte
		want     *string
		asks     bool
	}{
		{"clear", disclosure.Clear, r.mobile, ptr("13812345678"), true},
		{"masked", disclosure.Masked, r.mobile, ptr("138****5678"), true},
		{"hidden", disclosure.Hidden, r.mobile, nil, true},
		{"empty", disclosure.Clear, nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked []string
			d := disclosure.New(v, policy(tc.decision, &asked))
			got, err := d.Reveal(ctx, customerMobile, r.ref.TenantID, r.ref.RowID, r.key, tc.sealed)
			if err != nil || !equal(got, tc.want) {
				t.Errorf("Reveal = %v, %v; want %v", show(got), err, show(tc.want))
			}
			// Text is the same read for callers that hold a vault.Ref.
			text, err := d.Text(ctx, r.ref, r.key, "mobile", "mobile", secret.Sealed(tc.sealed))
			if err != nil || !equal(text, tc.want) {
				t.Errorf("Text = %v, %v; want %v", show(text), err, show(tc.want))
			}
			if want := map[bool]int{true: 2, false: 0}[tc.asks]; len(asked) != want || (want > 0 && (asked[0] != "Customer.mobile" || asked[1] != "Customer.mobile")) {
				t.Errorf("the policy was asked about %q, want Customer.mobile %d times", asked, want)
			}
		})
	}
}

func TestRevealFailureNamesTheFieldOnly(t *testing.T) {
	ctx := context.Background()
	v, r := newVault(t)
	d := disclosure.New(v, disclosure.ClearToReaders())
	// The ciphertext moved onto another row: its associated data no longer
	// matches, and the other row's key is not the one it was sealed under.
	other := vault.Ref{TenantID: "t1", Table: "Customer", RowID: "c2"}
	otherKey, err := v.NewRecordKey(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() (*string, error){
		"Reveal": func() (*string, error) {
			return d.Reveal(ctx, customerMobile, other.TenantID, other.RowID, otherKey, r.mobile)
		},
		"Text": func() (*string, error) {
			return d.Text(ctx, other, otherKey, "mobile", "mobile", secret.Sealed(r.mobile))
		},
		"Reveal with a key of another record": func() (*string, error) {
			return d.Reveal(ctx, customerMobile, other.TenantID, other.RowID, r.key, r.mobile)
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := call()
			if got != nil || !errors.Is(err, vault.ErrDecrypt) {
				t.Fatalf("= %v, %v; want an error wrapping vault.ErrDecrypt", show(got), err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "opening Customer.mobile: ") || strings.Contains(msg, "5678") {
				t.Errorf("error %q: want it to name Customer.mobile and nothing of the value", msg)
			}
		})
	}
}

func TestRevealAllocations(t *testing.T) {
	ctx := context.Background()
	v, r := newVault(t)
	d := disclosure.New(v, disclosure.ClearToReaders())
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := d.Reveal(ctx, customerMobile, r.ref.TenantID, r.ref.RowID, r.key, r.mobile); err != nil {
			t.Fatal(err)
		}
	})
	// The vault's buffer, the string and the pointer to it: the field's
	// policy name is built once, by NewField.
	if allocs > 3 {
		t.Errorf("Reveal allocates %.0f times, want at most 3", allocs)
	}
}

func ExampleDiscloser_Reveal() {
	ctx := context.Background()
	v, r, err := sealedMobile()
	if err != nil {
		panic(err)
	}
	masked := disclosure.New(v, disclosure.PolicyFunc(func(_ context.Context, _ *viewer.Viewer, field string) disclosure.Decision {
		if field == "Customer.mobile" {
			return disclosure.Masked
		}
		return disclosure.Clear
	}))
	mobile, _ := masked.Reveal(ctx, disclosure.NewField("Customer", "mobile", "mobile"), r.ref.TenantID, r.ref.RowID, r.key, r.mobile)
	fmt.Println(*mobile)
	// Output: 138****5678
}

func BenchmarkReveal(b *testing.B) {
	ctx := context.Background()
	v, r := newVault(b)
	d := disclosure.New(v, disclosure.ClearToReaders())
	for b.Loop() {
		if _, err := d.Reveal(ctx, customerMobile, r.ref.TenantID, r.ref.RowID, r.key, r.mobile); err != nil {
			b.Fatal(err)
		}
	}
}

func ptr(s string) *string { return &s }

func equal(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func show(s *string) string {
	if s == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", *s)
}
