package vault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/custos-crm/custos/internal/vault"
)

func newMaster(t testing.TB) []byte {
	t.Helper()
	m := make([]byte, vault.MasterKeySize)
	if _, err := rand.Read(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// newVault opens a vault over store with master, failing the test on error.
func newVault(t testing.TB, master []byte, store vault.KeyStore, opts vault.Options) *vault.Vault {
	t.Helper()
	v, err := vault.Open(context.Background(), master, store, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return v
}

// setup returns a vault with tenants t1 and t2, and its store and master key.
func setup(t testing.TB) (*vault.Vault, *memStore, []byte) {
	t.Helper()
	master, store := newMaster(t), newMemStore()
	v := newVault(t, master, store, vault.Options{})
	for _, tenant := range []string{"t1", "t2"} {
		if err := v.EnsureTenant(context.Background(), tenant); err != nil {
			t.Fatalf("EnsureTenant(%s): %v", tenant, err)
		}
	}
	return v, store, master
}

func newRecordKey(t testing.TB, v *vault.Vault, ref vault.Ref) []byte {
	t.Helper()
	k, err := v.NewRecordKey(context.Background(), ref)
	if err != nil {
		t.Fatalf("NewRecordKey(%+v): %v", ref, err)
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	v, store, master := setup(t)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "row-1"}
	key := newRecordKey(t, v, ref)

	for _, plain := range []string{"", "13812345678", "张三", strings.Repeat("地址", 500)} {
		ct, err := v.SealString(ctx, ref, key, "phone", plain)
		if err != nil {
			t.Fatalf("SealString: %v", err)
		}
		if plain != "" && bytes.Contains(ct, []byte(plain)) {
			t.Errorf("ciphertext contains the plaintext %q", plain)
		}
		got, err := v.OpenString(ctx, ref, key, "phone", ct)
		if err != nil || got != plain {
			t.Errorf("OpenString = %q, %v; want %q", got, err, plain)
		}
		// A second server (cold caches) opens it too.
		cold := newVault(t, master, store, vault.Options{})
		got, err = cold.OpenString(ctx, ref, key, "phone", ct)
		if err != nil || got != plain {
			t.Errorf("cold OpenString = %q, %v; want %q", got, err, plain)
		}
	}

	a, _ := v.SealString(ctx, ref, key, "phone", "same")
	b, _ := v.SealString(ctx, ref, key, "phone", "same")
	if bytes.Equal(a, b) {
		t.Error("two seals of one value are equal; nonces must be random")
	}
}

func TestMovedCiphertextFails(t *testing.T) {
	ctx := context.Background()
	v, store, master := setup(t)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "row-1"}
	key := newRecordKey(t, v, ref)
	ct, err := v.SealString(ctx, ref, key, "phone", "13812345678")
	if err != nil {
		t.Fatal(err)
	}
	otherRow := vault.Ref{TenantID: "t1", Table: "customers", RowID: "row-2"}
	otherRowKey := newRecordKey(t, v, otherRow)
	otherTable := vault.Ref{TenantID: "t1", Table: "contacts", RowID: "row-1"}
	otherTableKey := newRecordKey(t, v, otherTable)
	otherTenant := vault.Ref{TenantID: "t2", Table: "customers", RowID: "row-1"}
	otherTenantKey := newRecordKey(t, v, otherTenant)

	cases := []struct {
		name   string
		ref    vault.Ref
		key    []byte
		column string
	}{
		{"other column", ref, key, "email"},
		{"other row, its own key", otherRow, otherRowKey, "phone"},
		{"other row, moved key", otherRow, key, "phone"},
		{"other table, its own key", otherTable, otherTableKey, "phone"},
		{"other table, moved key", otherTable, key, "phone"},
		{"other tenant, its own key", otherTenant, otherTenantKey, "phone"},
		{"other tenant, moved key", otherTenant, key, "phone"},
		{"destroyed key (nil)", ref, nil, "phone"},
		{"destroyed key (zeroed)", ref, make([]byte, len(key)), "phone"},
		{"empty column", ref, key, ""},
	}
	for _, tc := range cases {
		for _, temp := range []string{"warm", "cold"} {
			t.Run(tc.name+"/"+temp, func(t *testing.T) {
				vv := v
				if temp == "cold" {
					vv = newVault(t, master, store, vault.Options{})
				}
				got, err := vv.Open(ctx, tc.ref, tc.key, tc.column, ct)
				if !errors.Is(err, vault.ErrDecrypt) {
					t.Fatalf("Open = %q, %v; want ErrDecrypt", got, err)
				}
				if strings.Contains(err.Error(), "13812345678") {
					t.Errorf("error %q leaks the plaintext", err)
				}
			})
		}
	}
}

func TestFlippedByteFails(t *testing.T) {
	ctx := context.Background()
	v, store, master := setup(t)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "row-1"}
	key := newRecordKey(t, v, ref)
	ct, err := v.SealString(ctx, ref, key, "name", "张三")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := v.Open(ctx, ref, key, "name", bad); !errors.Is(err, vault.ErrDecrypt) {
			t.Errorf("ciphertext byte %d flipped: err = %v, want ErrDecrypt", i, err)
		}
	}
	if _, err := v.Open(ctx, ref, key, "name", ct[:len(ct)-1]); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("truncated ciphertext: err = %v, want ErrDecrypt", err)
	}
	for i := range key {
		bad := bytes.Clone(key)
		bad[i] ^= 0x01
		cold := newVault(t, master, store, vault.Options{})
		if _, err := cold.Open(ctx, ref, bad, "name", ct); !errors.Is(err, vault.ErrDecrypt) {
			t.Errorf("wrapped key byte %d flipped: err = %v, want ErrDecrypt", i, err)
		}
	}
}

func TestForgottenAndDestroyedKey(t *testing.T) {
	ctx := context.Background()
	v, _, _ := setup(t)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "row-1"}
	key := newRecordKey(t, v, ref)
	ct, _ := v.SealString(ctx, ref, key, "name", "张三")
	v.ForgetRecordKey(key)
	if v.RecordKeyCacheLen() != 0 {
		t.Fatalf("cache holds %d keys after ForgetRecordKey, want 0", v.RecordKeyCacheLen())
	}
	// Forgetting only drops the cached copy: the wrapped key still opens.
	if got, err := v.OpenString(ctx, ref, key, "name", ct); err != nil || got != "张三" {
		t.Fatalf("OpenString after forget = %q, %v", got, err)
	}
	// Destroying the wrapped key (crypto-shredding) makes the data unreadable.
	for i := range key {
		key[i] = 0
	}
	if _, err := v.Open(ctx, ref, key, "name", ct); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("Open with destroyed key: err = %v, want ErrDecrypt", err)
	}
}

func TestKeyIDsInCiphertexts(t *testing.T) {
	ctx := context.Background()
	v, store, _ := setup(t)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "row-1"}
	key := newRecordKey(t, v, ref)
	ct, err := v.SealString(ctx, ref, key, "phone", "13812345678")
	if err != nil {
		t.Fatal(err)
	}

	// Wrapped record key: version, tenant key id, record key id.
	tenantKeyID := store.keys("t1").KeyID
	if key[0] != 1 || int(key[1]) != len(tenantKeyID) || string(key[2:2+len(tenantKeyID)]) != tenantKeyID {
		t.Fatalf("wrapped record key does not start with version 1 and tenant key id %q: %x", tenantKeyID, key[:20])
	}
	rest := key[2+len(tenantKeyID):]
	recordKeyID := string(rest[1 : 1+int(rest[0])])
	if len(recordKeyID) != 16 || recordKeyID == tenantKeyID {
		t.Fatalf("record key id = %q", recordKeyID)
	}
	// 12-byte nonce + 32-byte key + 16-byte tag follow.
	if got := len(rest) - 1 - len(recordKeyID); got != 12+32+16 {
		t.Errorf("wrapped record key body is %d bytes, want %d", got, 12+32+16)
	}

	// Field ciphertext: version, record key id, nonce, ciphertext, tag.
	if ct[0] != 1 || int(ct[1]) != len(recordKeyID) || string(ct[2:2+len(recordKeyID)]) != recordKeyID {
		t.Fatalf("ciphertext does not start with version 1 and record key id %q: %x", recordKeyID, ct[:20])
	}
	if got, want := len(ct), 2+len(recordKeyID)+12+len("13812345678")+16; got != want {
		t.Errorf("ciphertext is %d bytes, want %d", got, want)
	}

	// Stored tenant keys carry their key id too.
	tk := store.keys("t1")
	for _, w := range [][]byte{tk.WrappedDataKey, tk.WrappedIndexKey} {
		if w[0] != 1 || string(w[2:2+int(w[1])]) != tk.KeyID {
			t.Errorf("wrapped tenant key does not carry key id %q", tk.KeyID)
		}
		if bytes.Equal(w, tk.WrappedDataKey) == bytes.Equal(w, tk.WrappedIndexKey) {
			t.Error("data and index keys are wrapped identically")
		}
	}
}

func TestOpenChecksMasterKey(t *testing.T) {
	ctx := context.Background()
	master, store := newMaster(t), newMemStore()
	if _, err := vault.Open(ctx, master, store, vault.Options{}); err != nil {
		t.Fatalf("first Open: %v", err)
	}
	if !bytes.Equal(store.check, vault.KeyCheck(master)) {
		t.Fatalf("first Open stored %x, want KeyCheck(master) %x", store.check, vault.KeyCheck(master))
	}
	if len(store.check) != 32 || bytes.Contains(store.check, master) {
		t.Fatal("key check must be a 32-byte MAC, not the key")
	}
	if _, err := vault.Open(ctx, master, store, vault.Options{}); err != nil {
		t.Fatalf("second Open with the same key: %v", err)
	}
	_, err := vault.Open(ctx, newMaster(t), store, vault.Options{})
	if !errors.Is(err, vault.ErrMasterKeyMismatch) {
		t.Fatalf("Open with another key: err = %v, want ErrMasterKeyMismatch", err)
	}
	if !strings.Contains(err.Error(), "not the one this database was created with") {
		t.Errorf("error %q does not explain the mismatch", err)
	}
	if _, err := vault.Open(ctx, master[:16], store, vault.Options{}); err == nil {
		t.Error("Open with a 16-byte key succeeded")
	}
}

func TestOpenRacingFirstStart(t *testing.T) {
	ctx := context.Background()
	master := newMaster(t)

	// Another server with the same key saved the check first: fine.
	store := newMemStore()
	store.racer = vault.KeyCheck(master)
	if _, err := vault.Open(ctx, master, store, vault.Options{}); err != nil {
		t.Errorf("Open after a racer with the same key: %v", err)
	}

	// Another server with another key saved first: refuse.
	store = newMemStore()
	store.racer = vault.KeyCheck(newMaster(t))
	if _, err := vault.Open(ctx, master, store, vault.Options{}); !errors.Is(err, vault.ErrMasterKeyMismatch) {
		t.Errorf("Open after a racer with another key: err = %v, want ErrMasterKeyMismatch", err)
	}
}

func TestEnsureTenantIdempotent(t *testing.T) {
	ctx := context.Background()
	v, store, master := setup(t)
	before := store.keys("t1")
	for range 3 {
		if err := v.EnsureTenant(ctx, "t1"); err != nil {
			t.Fatal(err)
		}
	}
	cold := newVault(t, master, store, vault.Options{})
	if err := cold.EnsureTenant(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if store.saves() != 2 { // t1 and t2 once each
		t.Errorf("tenant keys saved %d times, want 2", store.saves())
	}
	if after := store.keys("t1"); after.KeyID != before.KeyID || !bytes.Equal(after.WrappedDataKey, before.WrappedDataKey) {
		t.Error("EnsureTenant replaced existing keys")
	}
	a, _ := v.BlindIndex(ctx, "t1", "phone", 1, "+8613812345678")
	b, _ := cold.BlindIndex(ctx, "t1", "phone", 1, "+8613812345678")
	if !bytes.Equal(a, b) {
		t.Error("two vaults give different blind indexes for one tenant")
	}
}

func TestEnsureTenantRace(t *testing.T) {
	ctx := context.Background()
	master, store := newMaster(t), newMemStore()
	vaults := make([]*vault.Vault, 8)
	for i := range vaults {
		vaults[i] = newVault(t, master, store, vault.Options{})
	}
	var wg sync.WaitGroup
	for _, v := range vaults {
		wg.Go(func() {
			if err := v.EnsureTenant(ctx, "t1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want, _ := vaults[0].BlindIndex(ctx, "t1", "email", 1, "a@example.com")
	for i, v := range vaults[1:] {
		if got, _ := v.BlindIndex(ctx, "t1", "email", 1, "a@example.com"); !bytes.Equal(got, want) {
			t.Errorf("vault %d uses other tenant keys than vault 0", i+1)
		}
	}
	if store.saves() != 1 {
		t.Errorf("tenant keys saved %d times, want 1", store.saves())
	}
}

func TestNoTenantKeys(t *testing.T) {
	ctx := context.Background()
	v := newVault(t, newMaster(t), newMemStore(), vault.Options{})
	ref := vault.Ref{TenantID: "nobody", Table: "customers", RowID: "1"}
	if _, err := v.NewRecordKey(ctx, ref); !errors.Is(err, vault.ErrNoTenantKeys) {
		t.Errorf("NewRecordKey: err = %v, want ErrNoTenantKeys", err)
	}
	if _, err := v.BlindIndex(ctx, "nobody", "phone", 1, "x"); !errors.Is(err, vault.ErrNoTenantKeys) {
		t.Errorf("BlindIndex: err = %v, want ErrNoTenantKeys", err)
	}
	if _, err := v.NewRecordKey(ctx, vault.Ref{TenantID: "nobody", Table: "customers"}); err == nil {
		t.Error("NewRecordKey without a row id succeeded")
	}
}

func TestStoreErrorsPassThrough(t *testing.T) {
	ctx := context.Background()
	master, store := newMaster(t), newMemStore()
	v := newVault(t, master, store, vault.Options{})
	if err := v.EnsureTenant(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "1"}
	key := newRecordKey(t, v, ref)
	ct, _ := v.SealString(ctx, ref, key, "name", "x")

	down := errors.New("database is down")
	store.loadErr = down
	cold := newVault(t, master, store, vault.Options{})
	_, err := cold.Open(ctx, ref, key, "name", ct)
	if !errors.Is(err, down) || errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("Open with the store down: err = %v; want the store error, not ErrDecrypt", err)
	}
}

func TestBlindIndex(t *testing.T) {
	ctx := context.Background()
	v, _, _ := setup(t)
	idx := func(tenant, column string, version byte, value string) []byte {
		t.Helper()
		b, err := v.BlindIndex(ctx, tenant, column, version, value)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := idx("t1", "phone", 1, "+8613812345678")
	if vault.IndexSize != 16 || len(a) != 1+vault.IndexSize {
		t.Fatalf("len = %d, want 17", len(a))
	}
	if a[0] != 1 {
		t.Errorf("first byte = %d, want the normaliser version 1", a[0])
	}
	if b := idx("t1", "phone", 7, "+8613812345678"); b[0] != 7 || bytes.Equal(a[1:], b[1:]) {
		t.Errorf("version 7 index = %x; want first byte 7 and another MAC", b)
	}
	if !bytes.Equal(a, idx("t1", "phone", 1, "+8613812345678")) {
		t.Error("one tenant's index of one value is not stable")
	}
	if bytes.Equal(a, idx("t2", "phone", 1, "+8613812345678")) {
		t.Error("two tenants' indexes of one value are equal")
	}
	if bytes.Equal(a, idx("t1", "mobile", 1, "+8613812345678")) {
		t.Error("two columns' indexes of one value are equal")
	}
	if bytes.Equal(a, idx("t1", "phone", 1, "+8613812345679")) {
		t.Error("two values have one index")
	}
	// Length-prefixing keeps column/value boundaries apart.
	if bytes.Equal(idx("t1", "ab", 1, "c"), idx("t1", "a", 1, "bc")) {
		t.Error("column and value boundary is ambiguous")
	}
}

func TestCacheBound(t *testing.T) {
	ctx := context.Background()
	master, store := newMaster(t), newMemStore()
	v := newVault(t, master, store, vault.Options{RecordKeyCacheSize: 3})
	if err := v.EnsureTenant(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	type rec struct {
		ref vault.Ref
		key []byte
		ct  []byte
	}
	var recs []rec
	for i := range 10 {
		ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: fmt.Sprint(i)}
		key := newRecordKey(t, v, ref)
		ct, err := v.SealString(ctx, ref, key, "name", fmt.Sprint("name ", i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{ref, key, ct})
		if n := v.RecordKeyCacheLen(); n > 3 {
			t.Fatalf("cache holds %d keys, bound is 3", n)
		}
	}
	for i, r := range recs { // evicted keys are unwrapped again
		if got, err := v.OpenString(ctx, r.ref, r.key, "name", r.ct); err != nil || got != fmt.Sprint("name ", i) {
			t.Errorf("record %d: OpenString = %q, %v", i, got, err)
		}
	}
	if n := v.RecordKeyCacheLen(); n != 3 {
		t.Errorf("cache holds %d keys, want 3", n)
	}
	if n := newVault(t, master, store, vault.Options{}).RecordKeyCacheLen(); n != 0 {
		t.Errorf("fresh vault caches %d keys", n)
	}
}

func TestConcurrentSealOpen(t *testing.T) {
	ctx := context.Background()
	master, store := newMaster(t), newMemStore()
	v := newVault(t, master, store, vault.Options{RecordKeyCacheSize: 4}) // small: force evictions
	refs := make([]vault.Ref, 10)
	keys := make([][]byte, len(refs))
	for i := range refs {
		refs[i] = vault.Ref{TenantID: fmt.Sprint("t", i%3), Table: "customers", RowID: fmt.Sprint(i)}
		if err := v.EnsureTenant(ctx, refs[i].TenantID); err != nil {
			t.Fatal(err)
		}
		keys[i] = newRecordKey(t, v, refs[i])
	}
	// A second vault starting cold loads tenants concurrently.
	cold := newVault(t, master, store, vault.Options{RecordKeyCacheSize: 4})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				n := (g + i) % len(refs)
				plain := fmt.Sprintf("g%d-i%d", g, i)
				ct, err := v.SealString(ctx, refs[n], keys[n], "name", plain)
				if err != nil {
					t.Error(err)
					return
				}
				for _, vv := range []*vault.Vault{v, cold} {
					if got, err := vv.OpenString(ctx, refs[n], keys[n], "name", ct); err != nil || got != plain {
						t.Errorf("OpenString = %q, %v; want %q", got, err, plain)
						return
					}
				}
				if _, err := cold.BlindIndex(ctx, refs[n].TenantID, "name", 1, plain); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestOpenCachedKeyAllocs(t *testing.T) {
	ctx := context.Background()
	v, _, _ := setup(t)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "row-1"}
	key := newRecordKey(t, v, ref)
	ct, _ := v.SealString(ctx, ref, key, "phone", "13812345678")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := v.Open(ctx, ref, key, "phone", ct); err != nil {
			t.Fatal(err)
		}
	})
	// One buffer for associated data and plaintext; building a cipher would
	// cost several more.
	if allocs > 1 {
		t.Errorf("Open with a cached record key allocates %.0f times, want at most 1", allocs)
	}
}

func TestLoadMasterKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // WriteFile is subject to umask
			t.Fatal(err)
		}
		return p
	}
	good := newMaster(t)

	got, err := vault.LoadMasterKey(write("good.key", good, 0o600))
	if err != nil || !bytes.Equal(got, good) {
		t.Fatalf("LoadMasterKey(good) = %x, %v", got, err)
	}
	if _, err := vault.LoadMasterKey(write("owner-read-only.key", good, 0o400)); err != nil {
		t.Errorf("LoadMasterKey(0400) = %v", err)
	}

	cases := []struct {
		name, path string
		wants      []string
	}{
		{"missing", filepath.Join(dir, "missing.key"), []string{"does not exist", "head -c 32 /dev/urandom >", "chmod 600"}},
		{"short", write("short.key", good[:31], 0o600), []string{"31 bytes", "head -c 32 /dev/urandom >"}},
		{"long", write("long.key", append(bytes.Clone(good), '\n'), 0o600), []string{"more than 32 bytes", "head -c 32"}},
		{"empty", write("empty.key", nil, 0o600), []string{"0 bytes"}},
		{"mode 0644", write("loose.key", good, 0o644), []string{"0644", "chmod 600"}},
		{"mode 0660", write("group.key", good, 0o660), []string{"chmod 600"}},
		{"mode 0602", write("other-write.key", good, 0o602), []string{"chmod 600"}},
		{"directory", dir, []string{"not a regular file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := vault.LoadMasterKey(tc.path)
			if err == nil {
				t.Fatalf("LoadMasterKey = %x, nil; want an error", key)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := vault.LoadMasterKey(filepath.Join(dir, "missing.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
}

func TestGenerateMasterKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	path := filepath.Join(dir, "master.key")
	key, err := vault.GenerateMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != vault.MasterKeySize {
		t.Fatalf("key has %d bytes", len(key))
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", info.Mode().Perm())
	}
	if dinfo, _ := os.Stat(dir); dinfo.Mode().Perm()&0o077 != 0 {
		t.Errorf("key directory mode = %04o, want 0700", dinfo.Mode().Perm())
	}
	loaded, err := vault.LoadMasterKey(path)
	if err != nil || !bytes.Equal(loaded, key) {
		t.Fatalf("LoadMasterKey = %x, %v; want the generated key", loaded, err)
	}
	if _, err := vault.GenerateMasterKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second GenerateMasterKeyFile: err = %v, want fs.ErrExist", err)
	}
	if again, _ := vault.LoadMasterKey(path); !bytes.Equal(again, key) {
		t.Error("second GenerateMasterKeyFile changed the file")
	}
	other, err := vault.GenerateMasterKeyFile(filepath.Join(dir, "other.key"))
	if err != nil || bytes.Equal(other, key) {
		t.Errorf("another key = %x, %v; want a different key", other, err)
	}
}

func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	v, _, _ := setup(b)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "01J9ZQ3T5W8X2Y4Z6A7B8C9D0E"}
	key := newRecordKey(b, v, ref)
	ct, err := v.SealString(ctx, ref, key, "phone", "13812345678")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Open(ctx, ref, key, "phone", ct); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenPage opens a 50-row page of 3 fields each with cold record
// keys: at most one unwrap per row.
func BenchmarkOpenPage(b *testing.B) {
	ctx := context.Background()
	master, store := newMaster(b), newMemStore()
	v := newVault(b, master, store, vault.Options{})
	if err := v.EnsureTenant(ctx, "t1"); err != nil {
		b.Fatal(err)
	}
	type row struct {
		ref vault.Ref
		key []byte
		cts [3][]byte
	}
	rows := make([]row, 50)
	for i := range rows {
		r := &rows[i]
		r.ref = vault.Ref{TenantID: "t1", Table: "customers", RowID: fmt.Sprint(i)}
		r.key = newRecordKey(b, v, r.ref)
		for j, col := range []string{"name", "phone", "email"} {
			r.cts[j], _ = v.SealString(ctx, r.ref, r.key, col, "some personal value")
		}
	}
	for _, cold := range []bool{false, true} {
		b.Run(fmt.Sprint("coldKeys=", cold), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				vv := v
				if cold {
					b.StopTimer()
					vv = newVault(b, master, store, vault.Options{})
					if err := vv.EnsureTenant(ctx, "t1"); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				for _, r := range rows {
					for j, col := range []string{"name", "phone", "email"} {
						if _, err := vv.Open(ctx, r.ref, r.key, col, r.cts[j]); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}

func BenchmarkSeal(b *testing.B) {
	ctx := context.Background()
	v, _, _ := setup(b)
	ref := vault.Ref{TenantID: "t1", Table: "customers", RowID: "01J9ZQ3T5W8X2Y4Z6A7B8C9D0E"}
	key := newRecordKey(b, v, ref)
	plain := []byte("13812345678")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Seal(ctx, ref, key, "phone", plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlindIndex(b *testing.B) {
	ctx := context.Background()
	v, _, _ := setup(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.BlindIndex(ctx, "t1", "phone", 1, "+8613812345678"); err != nil {
			b.Fatal(err)
		}
	}
}
