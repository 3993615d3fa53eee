package vault

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// formatVersion is the first byte of every envelope and wrapped record key.
const formatVersion = 1

// adPrefix starts every associated data this package builds.
const adPrefix = "custos/v1"

// sealEnvelope encrypts plaintext under aead into an envelope carrying
// keyID: version, key id length, key id, nonce, ciphertext and tag.
func sealEnvelope(aead cipher.AEAD, keyID string, plaintext, ad []byte) []byte {
	out := make([]byte, 0, 2+len(keyID)+aead.Overhead()+len(plaintext))
	out = append(out, formatVersion, byte(len(keyID)))
	out = append(out, keyID...)
	return aead.Seal(out, nil, plaintext, ad)
}

// openEnvelope decrypts an envelope that must carry keyID. Every failure
// wraps ErrDecrypt.
func openEnvelope(aead cipher.AEAD, keyID string, envelope, ad []byte) ([]byte, error) {
	id, sealed, ok := parseEnvelope(envelope)
	if !ok {
		return nil, fmt.Errorf("%w: malformed envelope", ErrDecrypt)
	}
	if id != keyID {
		return nil, fmt.Errorf("%w: envelope is under key %s, want %s", ErrDecrypt, id, keyID)
	}
	pt, err := aead.Open(nil, nil, sealed, ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// parseEnvelope splits an envelope into its key id and the nonce,
// ciphertext and tag that follow it.
func parseEnvelope(b []byte) (keyID string, sealed []byte, ok bool) {
	if len(b) < 2 || b[0] != formatVersion {
		return "", nil, false
	}
	n := int(b[1])
	if n == 0 || len(b) < 2+n {
		return "", nil, false
	}
	return string(b[2 : 2+n]), b[2+n:], true
}

// parseWrappedRecordKey splits a wrapped record key into the tenant key id,
// the record key id and the nonce, ciphertext and tag that follow them.
func parseWrappedRecordKey(b []byte) (tenantKeyID, recordKeyID string, sealed []byte, ok bool) {
	tenantKeyID, rest, ok := parseEnvelope(b)
	if !ok || len(rest) < 1 {
		return "", "", nil, false
	}
	n := int(rest[0])
	if n == 0 || len(rest) < 1+n {
		return "", "", nil, false
	}
	return tenantKeyID, string(rest[1 : 1+n]), rest[1+n:], true
}

// putLen writes n as a 4-byte big-endian length.
func putLen(b []byte, n int) {
	binary.BigEndian.PutUint32(b, uint32(n))
}

// appendLP appends s preceded by its 4-byte big-endian length.
func appendLP(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// fieldADLen is the length of the associated data of a field ciphertext.
func fieldADLen(ref Ref, column string) int {
	return len(adPrefix) + 16 + len(ref.TenantID) + len(ref.Table) + len(column) + len(ref.RowID)
}

// appendFieldAD appends the associated data of a field ciphertext:
// "custos/v1" || lp(tenant) || lp(table) || lp(column) || lp(row).
func appendFieldAD(b []byte, ref Ref, column string) []byte {
	b = append(b, adPrefix...)
	b = appendLP(b, ref.TenantID)
	b = appendLP(b, ref.Table)
	b = appendLP(b, column)
	return appendLP(b, ref.RowID)
}

// recordKeyAD is the associated data of a wrapped record key:
// "custos/v1" || lp("record-key") || lp(tenant) || lp(table) || lp(row) ||
// lp(record key id).
func recordKeyAD(ref Ref, recordKeyID string) []byte {
	b := make([]byte, 0, len(adPrefix)+5*4+len("record-key")+len(ref.TenantID)+len(ref.Table)+len(ref.RowID)+len(recordKeyID))
	b = append(b, adPrefix...)
	b = appendLP(b, "record-key")
	b = appendLP(b, ref.TenantID)
	b = appendLP(b, ref.Table)
	b = appendLP(b, ref.RowID)
	return appendLP(b, recordKeyID)
}

// tenantKeyAD is the associated data of a wrapped tenant key:
// "custos/v1" || lp("tenant-key") || lp(tenant) || lp(purpose) || lp(key id).
func tenantKeyAD(tenantID, purpose, keyID string) []byte {
	b := make([]byte, 0, len(adPrefix)+4*4+len("tenant-key")+len(tenantID)+len(purpose)+len(keyID))
	b = append(b, adPrefix...)
	b = appendLP(b, "tenant-key")
	b = appendLP(b, tenantID)
	b = appendLP(b, purpose)
	return appendLP(b, keyID)
}

// newKeyID returns a random key id: 16 lower-case hex digits.
func newKeyID() (string, error) {
	b, err := randomBytes(8)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("vault: reading random bytes: %w", err)
	}
	return b, nil
}
