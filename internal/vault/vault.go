// Package vault owns Custos's keys and field encryption: a master key that
// wraps per-tenant keys, per-record data keys wrapped by the tenant key,
// AES-256-GCM field ciphertexts whose associated data binds tenant, table,
// column and row, and HMAC-SHA256 blind indexes.
//
// It is a leaf package: it imports nothing from the project, and it reaches
// storage only through the KeyStore interface. The server opens one Vault at
// start-up and passes it to the ent hooks and domain services that encrypt,
// decrypt and index personal data; no other code handles keys. A Vault is
// safe for concurrent use. It never logs, and no error it returns carries key
// material or plaintext.
//
// # Key hierarchy
//
// The master key (MasterKeySize random bytes in a key file) is never used
// directly: Open derives from it a key-check value (KeyCheck) and a wrapping
// key, HMAC-SHA256(master, "custos/tenant-key-wrap/v1"). Each tenant has a
// data key and an index key (32 random bytes each) wrapped by the wrapping
// key. Each record holding personal data has its own 32-byte record key
// wrapped by its tenant's data key; the record stores that wrapped key next
// to its ciphertexts, so erasing a person means destroying one wrapped key.
//
// # Formats (version 1)
//
// Every ciphertext this package writes is an envelope:
//
//	byte 0        version (1)
//	byte 1        key id length n (1..255)
//	bytes 2..2+n  key id (ASCII; ids are 16 lower-case hex digits)
//	next 12 bytes random nonce
//	rest          AES-256-GCM ciphertext followed by its 16-byte tag
//
// In the associated data below, lp(x) is x preceded by its length as a
// 4-byte big-endian integer, so that no two different lists of parts give
// the same bytes ("a|b" + "c" never collides with "a" + "|bc").
//
//   - A field ciphertext (Seal) is an envelope whose key id is the record
//     key's id, encrypted under the record key, with associated data
//     "custos/v1" || lp(tenant) || lp(table) || lp(column) || lp(row).
//   - A wrapped record key (NewRecordKey) carries two key ids: version (1),
//     tenant key id length, tenant key id, record key id length, record key
//     id, then nonce and ciphertext of the 32-byte key under the tenant data
//     key, with associated data "custos/v1" || lp("record-key") ||
//     lp(tenant) || lp(table) || lp(row) || lp(record key id).
//   - A wrapped tenant key (TenantKeys.WrappedDataKey, WrappedIndexKey) is an
//     envelope whose key id is TenantKeys.KeyID, under the wrapping key, with
//     associated data "custos/v1" || lp("tenant-key") || lp(tenant) ||
//     lp(purpose) || lp(key id), purpose being "data" or "index".
//   - A blind index (BlindIndex) is one byte holding the normaliser version
//     followed by the first IndexSize bytes of HMAC-SHA256 under the tenant
//     index key of lp(column) || normaliser version byte || value.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
)

// The sentinel errors of the vault. Callers test for them with errors.Is.
var (
	// ErrMasterKeyMismatch is returned by Open when the master key does not
	// match the key check stored in the database.
	ErrMasterKeyMismatch = errors.New("vault: the configured master key is not the one this database was created with")
	// ErrNoTenantKeys is returned by a KeyStore, and passed on by the vault,
	// when a tenant has no keys yet; EnsureTenant creates them.
	ErrNoTenantKeys = errors.New("vault: the tenant has no keys")
	// ErrTenantKeysExist is returned by KeyStore.SaveTenantKeys when the
	// tenant already has keys.
	ErrTenantKeysExist = errors.New("vault: the tenant already has keys")
	// ErrDecrypt is returned (wrapped) when a ciphertext or wrapped key cannot
	// be opened: it was moved to another tenant, table, column or row, was
	// tampered with, or its key was destroyed.
	ErrDecrypt = errors.New("vault: cannot decrypt")
)

// IndexSize is the length in bytes of the HMAC part of a blind index; the
// value BlindIndex returns is one byte longer.
const IndexSize = 16

// defaultRecordKeyCacheSize is the record key cache bound when Options
// leaves it unset.
const defaultRecordKeyCacheSize = 10000

// TenantKeys is a tenant's keys as the KeyStore stores them: both keys
// wrapped by the master key, and the id they share.
type TenantKeys struct {
	KeyID           string
	WrappedDataKey  []byte
	WrappedIndexKey []byte
}

// KeyStore persists the key check and the wrapped tenant keys. The
// application implements it over its database; the vault never sees SQL.
type KeyStore interface {
	// LoadKeyCheck returns the stored key check, or nil and no error when
	// none is stored yet.
	LoadKeyCheck(ctx context.Context) ([]byte, error)
	// SaveKeyCheck stores the key check.
	SaveKeyCheck(ctx context.Context, check []byte) error
	// LoadTenantKeys returns the tenant's keys, or an error wrapping
	// ErrNoTenantKeys when the tenant has none.
	LoadTenantKeys(ctx context.Context, tenantID string) (TenantKeys, error)
	// SaveTenantKeys stores the tenant's keys, or returns an error wrapping
	// ErrTenantKeysExist when the tenant already has keys (the first writer
	// wins).
	SaveTenantKeys(ctx context.Context, tenantID string, k TenantKeys) error
}

// Options tunes a Vault. The zero value is ready to use.
type Options struct {
	// RecordKeyCacheSize bounds how many unwrapped record keys the vault
	// keeps; 0 or less means 10000.
	RecordKeyCacheSize int
}

// Ref names the record a field belongs to. All three parts are required and
// are bound into the associated data of the record's ciphertexts.
type Ref struct {
	TenantID, Table, RowID string
}

// Vault encrypts and decrypts fields and computes blind indexes. Build one
// with Open; it is safe for concurrent use.
type Vault struct {
	store KeyStore
	wrap  cipher.AEAD // the tenant-key wrapping key, derived from the master key
	// fingerprint keys Fingerprint, derived from the master key.
	fingerprint []byte

	mu      sync.RWMutex
	tenants map[string]*tenantKey

	records *lru
}

// tenantKey is a tenant's unwrapped keys, ready to use.
type tenantKey struct {
	id    string
	data  cipher.AEAD
	index []byte
}

// recordKey is an unwrapped record key, ready to use, with the record it
// was wrapped for.
type recordKey struct {
	tenantID, table, rowID string
	id                     string
	aead                   cipher.AEAD
}

// Open checks master against the key check stored through store, storing it
// when none is stored yet, and returns a Vault. It returns
// ErrMasterKeyMismatch when master is not the key the database was created
// with.
func Open(ctx context.Context, master []byte, store KeyStore, opts Options) (*Vault, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("vault: master key has %d bytes, want %d", len(master), MasterKeySize)
	}
	if store == nil {
		return nil, errors.New("vault: nil key store")
	}
	check := KeyCheck(master)
	stored, err := store.LoadKeyCheck(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading key check: %w", err)
	}
	if stored == nil {
		saveErr := store.SaveKeyCheck(ctx, check)
		// Read it back: if another server started against the same empty
		// database at the same moment, its save may have won (and ours
		// failed on a unique key), and the two keys must agree.
		if stored, err = store.LoadKeyCheck(ctx); err != nil {
			return nil, fmt.Errorf("loading key check: %w", err)
		}
		if stored == nil {
			if saveErr == nil {
				saveErr = errors.New("vault: key store did not keep the key check")
			}
			return nil, fmt.Errorf("saving key check: %w", saveErr)
		}
	}
	if !hmac.Equal(stored, check) {
		return nil, ErrMasterKeyMismatch
	}
	wrap, err := newAEAD(derive(master, "custos/tenant-key-wrap/v1"))
	if err != nil {
		return nil, err
	}
	size := opts.RecordKeyCacheSize
	if size <= 0 {
		size = defaultRecordKeyCacheSize
	}
	return &Vault{
		store:       store,
		wrap:        wrap,
		fingerprint: derive(master, "custos/fingerprint/v1"),
		tenants:     make(map[string]*tenantKey),
		records:     newLRU(size),
	}, nil
}

// EnsureTenant makes sure the tenant has keys, creating a random data key
// and index key wrapped by the master key when it has none. It is
// idempotent and safe to race: when another server saved keys first, those
// are loaded instead.
func (v *Vault) EnsureTenant(ctx context.Context, tenantID string) error {
	if tenantID == "" {
		return errors.New("vault: empty tenant id")
	}
	if v.cachedTenant(tenantID) != nil {
		return nil
	}
	stored, err := v.store.LoadTenantKeys(ctx, tenantID)
	switch {
	case err == nil:
	case errors.Is(err, ErrNoTenantKeys):
		stored, err = v.newTenantKeys(tenantID)
		if err != nil {
			return err
		}
		err = v.store.SaveTenantKeys(ctx, tenantID, stored)
		if errors.Is(err, ErrTenantKeysExist) {
			stored, err = v.store.LoadTenantKeys(ctx, tenantID)
		}
		if err != nil {
			return fmt.Errorf("saving keys of tenant %s: %w", tenantID, err)
		}
	default:
		return fmt.Errorf("loading keys of tenant %s: %w", tenantID, err)
	}
	_, err = v.addTenant(tenantID, stored)
	return err
}

// newTenantKeys makes a tenant's keys and wraps them for storage.
func (v *Vault) newTenantKeys(tenantID string) (TenantKeys, error) {
	id, err := newKeyID()
	if err != nil {
		return TenantKeys{}, err
	}
	dataKey, err := randomBytes(32)
	if err != nil {
		return TenantKeys{}, err
	}
	indexKey, err := randomBytes(32)
	if err != nil {
		return TenantKeys{}, err
	}
	return TenantKeys{
		KeyID:           id,
		WrappedDataKey:  sealEnvelope(v.wrap, id, dataKey, tenantKeyAD(tenantID, "data", id)),
		WrappedIndexKey: sealEnvelope(v.wrap, id, indexKey, tenantKeyAD(tenantID, "index", id)),
	}, nil
}

// cachedTenant returns the tenant's keys when they are cached.
func (v *Vault) cachedTenant(tenantID string) *tenantKey {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.tenants[tenantID]
}

// tenant returns the tenant's keys, loading and unwrapping them on first
// use. It returns an error wrapping ErrNoTenantKeys when the tenant has no
// keys.
func (v *Vault) tenant(ctx context.Context, tenantID string) (*tenantKey, error) {
	if tk := v.cachedTenant(tenantID); tk != nil {
		return tk, nil
	}
	stored, err := v.store.LoadTenantKeys(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("loading keys of tenant %s: %w", tenantID, err)
	}
	return v.addTenant(tenantID, stored)
}

// addTenant unwraps stored keys and caches them. When another goroutine
// cached the tenant first, its entry is kept and returned.
func (v *Vault) addTenant(tenantID string, stored TenantKeys) (*tenantKey, error) {
	dataKey, err := openEnvelope(v.wrap, stored.KeyID, stored.WrappedDataKey, tenantKeyAD(tenantID, "data", stored.KeyID))
	if err != nil {
		return nil, fmt.Errorf("unwrapping data key of tenant %s: %w", tenantID, err)
	}
	indexKey, err := openEnvelope(v.wrap, stored.KeyID, stored.WrappedIndexKey, tenantKeyAD(tenantID, "index", stored.KeyID))
	if err != nil {
		return nil, fmt.Errorf("unwrapping index key of tenant %s: %w", tenantID, err)
	}
	data, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	tk := &tenantKey{id: stored.KeyID, data: data, index: indexKey}
	v.mu.Lock()
	defer v.mu.Unlock()
	if prev := v.tenants[tenantID]; prev != nil {
		return prev, nil
	}
	v.tenants[tenantID] = tk
	return tk, nil
}

// NewRecordKey returns a fresh 32-byte data key for the record ref, wrapped
// by the tenant data key with associated data binding tenant, table and
// row. The wrapped form carries the tenant key id and its own key id; store
// it with the record and pass it to Seal and Open. The tenant must have keys
// (EnsureTenant).
func (v *Vault) NewRecordKey(ctx context.Context, ref Ref) ([]byte, error) {
	if err := ref.check(); err != nil {
		return nil, err
	}
	tk, err := v.tenant(ctx, ref.TenantID)
	if err != nil {
		return nil, err
	}
	id, err := newKeyID()
	if err != nil {
		return nil, err
	}
	key, err := randomBytes(32)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	header := make([]byte, 0, 3+len(tk.id)+len(id)+tk.data.Overhead()+len(key))
	header = append(header, formatVersion, byte(len(tk.id)))
	header = append(header, tk.id...)
	header = append(header, byte(len(id)))
	header = append(header, id...)
	wrapped := tk.data.Seal(header, nil, key, recordKeyAD(ref, id))
	// The record is usually written right away: keep the key ready.
	v.records.add(string(wrapped), &recordKey{
		tenantID: ref.TenantID, table: ref.Table, rowID: ref.RowID,
		id: id, aead: aead,
	})
	return wrapped, nil
}

// errForeignRecordKey is returned when a cached record key is used for
// another record than the one it was wrapped for.
var errForeignRecordKey = fmt.Errorf("%w: record key belongs to another record", ErrDecrypt)

// recordKey returns the unwrapped record key for ref, from the cache or by
// unwrapping it with the tenant data key. Every failure to use the key for
// this record wraps ErrDecrypt.
//
// Every personal field GraphQL returns comes through here, usually in a
// fresh goroutine whose stack is still small: the cache hit is kept apart
// from the unwrapping so that its frame stays small.
func (v *Vault) recordKey(ctx context.Context, ref Ref, wrapped []byte) (*recordKey, error) {
	if rk := v.records.get(wrapped); rk != nil {
		// A wrapped key opens only for the record it was made for; a cache
		// hit must not be more lenient than an unwrap.
		if rk.tenantID != ref.TenantID || rk.table != ref.Table || rk.rowID != ref.RowID {
			return nil, errForeignRecordKey
		}
		return rk, nil
	}
	return v.unwrapRecordKey(ctx, ref, wrapped)
}

// unwrapRecordKey unwraps a record key that is not cached, and caches it.
func (v *Vault) unwrapRecordKey(ctx context.Context, ref Ref, wrapped []byte) (*recordKey, error) {
	tenantKeyID, recordKeyID, sealed, ok := parseWrappedRecordKey(wrapped)
	if !ok {
		return nil, fmt.Errorf("%w: malformed record key", ErrDecrypt)
	}
	tk, err := v.tenant(ctx, ref.TenantID)
	if errors.Is(err, ErrNoTenantKeys) {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	if err != nil {
		return nil, err
	}
	if tk.id != tenantKeyID {
		return nil, fmt.Errorf("%w: unknown tenant key %s", ErrDecrypt, tenantKeyID)
	}
	key, err := tk.data.Open(nil, nil, sealed, recordKeyAD(ref, recordKeyID))
	if err != nil {
		return nil, fmt.Errorf("%w: record key does not open for this record", ErrDecrypt)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	rk := &recordKey{
		tenantID: ref.TenantID, table: ref.Table, rowID: ref.RowID,
		id: recordKeyID, aead: aead,
	}
	v.records.add(string(wrapped), rk)
	return rk, nil
}

// ForgetRecordKey drops a wrapped record key from the cache. Call it when
// the key is destroyed (erasure), so that no unwrapped copy outlives it in
// memory.
func (v *Vault) ForgetRecordKey(wrappedRecordKey []byte) {
	v.records.remove(wrappedRecordKey)
}

// Seal encrypts plaintext for column of the record ref under the record's
// key (from NewRecordKey). The result is a field ciphertext in the format
// the package documents. A wrapped key that does not open for ref gives an
// error wrapping ErrDecrypt.
func (v *Vault) Seal(ctx context.Context, ref Ref, wrappedRecordKey []byte, column string, plaintext []byte) ([]byte, error) {
	if err := ref.checkColumn(column); err != nil {
		return nil, err
	}
	rk, err := v.recordKey(ctx, ref, wrappedRecordKey)
	if err != nil {
		return nil, fmt.Errorf("sealing %s.%s: %w", ref.Table, column, err)
	}
	// One allocation: header, ciphertext and tag, then (past the capacity
	// handed to Seal) the associated data.
	headerLen := 2 + len(rk.id)
	outLen := headerLen + rk.aead.Overhead() + len(plaintext)
	buf := make([]byte, outLen, outLen+fieldADLen(ref, column))
	ad := appendFieldAD(buf[outLen:outLen], ref, column)
	out := append(buf[:0:outLen], formatVersion, byte(len(rk.id)))
	out = append(out, rk.id...)
	return rk.aead.Seal(out, nil, plaintext, ad), nil
}

// Open decrypts a field ciphertext made by Seal for the same record and
// column. Every failure to decrypt (another tenant, table, column or row in
// the associated data, tampered bytes, a destroyed or foreign record key)
// gives an error wrapping ErrDecrypt; failures of the key store are passed
// on as they are.
func (v *Vault) Open(ctx context.Context, ref Ref, wrappedRecordKey []byte, column string, ciphertext []byte) ([]byte, error) {
	if err := ref.checkColumn(column); err != nil {
		return nil, decryptError(err)
	}
	rk, err := v.recordKey(ctx, ref, wrappedRecordKey)
	if err != nil {
		return nil, openError(ref.Table, column, err)
	}
	keyID, sealed, ok := parseEnvelope(ciphertext)
	if !ok {
		return nil, openError(ref.Table, column, errMalformedCiphertext)
	}
	if keyID != rk.id {
		return nil, openError(ref.Table, column, errForeignCiphertext)
	}
	// One allocation: the associated data, then room for the plaintext.
	adLen := fieldADLen(ref, column)
	ptLen := max(len(sealed)-rk.aead.Overhead(), 0)
	buf := make([]byte, 0, adLen+ptLen)
	ad := appendFieldAD(buf, ref, column)
	pt, err := rk.aead.Open(ad[adLen:adLen], nil, sealed, ad)
	if err != nil {
		return nil, openError(ref.Table, column, ErrDecrypt)
	}
	return pt, nil
}

// The reasons Open gives for a ciphertext it cannot open.
var (
	errMalformedCiphertext = fmt.Errorf("%w: malformed ciphertext", ErrDecrypt)
	errForeignCiphertext   = fmt.Errorf("%w: ciphertext is under another record key", ErrDecrypt)
)

// openError wraps why Open failed for column of table. It and decryptError
// are apart from Open, and the reasons are made once, so that Open's frame
// stays small: GraphQL opens each personal field in a goroutine of its own,
// whose stack starts small and should not have to grow for it.
//
//go:noinline
func openError(table, column string, err error) error {
	return fmt.Errorf("opening %s.%s: %w", table, column, err)
}

// decryptError wraps err as a failure to decrypt.
//
//go:noinline
func decryptError(err error) error {
	return fmt.Errorf("%w: %w", ErrDecrypt, err)
}

// SealString is Seal for a string plaintext.
func (v *Vault) SealString(ctx context.Context, ref Ref, wrappedRecordKey []byte, column, plaintext string) ([]byte, error) {
	return v.Seal(ctx, ref, wrappedRecordKey, column, []byte(plaintext))
}

// OpenString is Open returning the plaintext as a string.
func (v *Vault) OpenString(ctx context.Context, ref Ref, wrappedRecordKey []byte, column string, ciphertext []byte) (string, error) {
	pt, err := v.Open(ctx, ref, wrappedRecordKey, column, ciphertext)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

// BlindIndex returns the blind index of a normalised value for column: one
// byte holding normVersion, then the first IndexSize bytes of HMAC-SHA256
// under the tenant's index key of the column, normVersion and value. Equal
// values give equal indexes within a tenant and unrelated ones across
// tenants; the leading byte tells which normaliser version made the value.
func (v *Vault) BlindIndex(ctx context.Context, tenantID, column string, normVersion byte, normalized string) ([]byte, error) {
	if tenantID == "" || column == "" {
		return nil, errors.New("vault: blind index needs a tenant and a column")
	}
	tk, err := v.tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, tk.index)
	var n [4]byte
	putLen(n[:], len(column))
	mac.Write(n[:])
	mac.Write([]byte(column))
	mac.Write([]byte{normVersion})
	mac.Write([]byte(normalized))
	out := make([]byte, 1, 1+sha256.Size)
	out[0] = normVersion
	return mac.Sum(out)[:1+IndexSize], nil
}

// check reports a Ref with a missing part.
func (r Ref) check() error {
	if r.TenantID == "" || r.Table == "" || r.RowID == "" {
		return errors.New("vault: record ref needs a tenant, a table and a row")
	}
	return nil
}

// checkColumn reports a Ref with a missing part or an empty column.
func (r Ref) checkColumn(column string) error {
	if err := r.check(); err != nil {
		return err
	}
	if column == "" {
		return errors.New("vault: empty column")
	}
	return nil
}

// newAEAD returns AES-256-GCM under key with a random 12-byte nonce that
// Seal prepends to its output and Open reads back.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return aead, nil
}

// derive returns HMAC-SHA256(key, label), a 32-byte key for one purpose.
func derive(key []byte, label string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(label))
	return mac.Sum(nil)
}

// Fingerprint returns a keyed hash of value for purpose (such as
// "throttle:ip"), for counting or matching values that are not tenant data
// without storing them: HMAC-SHA256 under a key derived from the master key.
func (v *Vault) Fingerprint(purpose, value string) []byte {
	m := hmac.New(sha256.New, v.fingerprint)
	m.Write(appendLP(nil, purpose))
	m.Write([]byte(value))
	return m.Sum(nil)
}
