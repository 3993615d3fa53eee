// Package password owns password hashes: argon2id in PHC string form, with a
// bound on how many hashes run at once.
//
// A hash looks like
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. Every hash, and every
// verification, takes memory and CPU time on purpose; a Hasher runs at most a
// fixed number at once, so a burst of sign-ins queues instead of exhausting
// memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Bounds on parameters, for the Hasher's own and for those read from stored
// hashes, so a corrupt or hostile hash cannot make Verify allocate or spin
// without limit.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 100
	minSaltLen = 8
	maxSaltLen = 1024
	minKeyLen  = 4
	maxKeyLen  = 1024
	// maxEncodedLen bounds the PHC string read before any decoding.
	maxEncodedLen = 16 + 40 + (maxSaltLen+maxKeyLen)*4/3 + 8
)

// Params are the argon2id cost parameters and lengths.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
}

// DefaultParams returns the OWASP minimum for argon2id: 19 MiB of memory, two
// passes, one thread, a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Validate reports whether p is within the bounds this package accepts:
// memory from 8 KiB per thread up to 1 GiB, time from 1 to 100, at least one
// thread, a salt of 8 to 1024 bytes and a key of 4 to 1024 bytes.
func (p Params) Validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("threads %d below 1", p.Threads)
	case p.Memory < 8*uint32(p.Threads):
		return fmt.Errorf("memory %d KiB below 8 KiB per thread", p.Memory)
	case p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB above %d", p.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d not between 1 and %d", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d not between %d and %d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d not between %d and %d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hasher hashes and verifies passwords with fixed Params, running at most a
// fixed number of hashes at once. It is safe for concurrent use.
type Hasher struct {
	params Params
	// sem holds one token per hash running.
	sem chan struct{}
	// kdf derives the key; tests replace it to observe the bound.
	kdf func(password, salt []byte, p Params) []byte

	dummyOnce sync.Once
	dummy     string
	dummyErr  error
}

// NewHasher returns a Hasher that runs at most maxConcurrent hashes at once
// (others wait; ctx cancels the wait). A maxConcurrent below 1 is taken as 1.
// Invalid params are reported by Hash; check them early with Params.Validate.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	return &Hasher{
		params: p,
		sem:    make(chan struct{}, max(maxConcurrent, 1)),
		kdf:    idKey,
	}
}

func idKey(password, salt []byte, p Params) []byte {
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// Hash returns the PHC string of password under a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.params.Validate(); err != nil {
		return "", fmt.Errorf("password: hash params: %w", err)
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key, err := h.derive(ctx, []byte(password), salt, h.params)
	if err != nil {
		return "", fmt.Errorf("password: hash: %w", err)
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded. A malformed encoded hash
// is an error; a wrong password is (false, nil). The hash is recomputed with
// the parameters stored in encoded, which may differ from h's.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, fmt.Errorf("password: verify: %w", err)
	}
	got, err := h.derive(ctx, []byte(password), salt, p)
	if err != nil {
		return false, fmt.Errorf("password: verify: %w", err)
	}
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// VerifyDummy runs one verification against a fixed dummy hash with h's
// parameters and discards the outcome, which is always a mismatch. Sign-in
// uses it for unknown users, so every failure costs the same work as a wrong
// password for a user whose hash has h's parameters. The dummy is made once
// per Hasher, on first use; it is a random salt and key, not the hash of any
// password.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	h.dummyOnce.Do(func() {
		if err := h.params.Validate(); err != nil {
			h.dummyErr = fmt.Errorf("password: dummy params: %w", err)
			return
		}
		buf := make([]byte, h.params.SaltLen+h.params.KeyLen)
		if _, err := rand.Read(buf); err != nil {
			h.dummyErr = fmt.Errorf("password: dummy: %w", err)
			return
		}
		h.dummy = encode(h.params, buf[:h.params.SaltLen], buf[h.params.SaltLen:])
	})
	if h.dummyErr != nil {
		return h.dummyErr
	}
	_, err := h.Verify(ctx, h.dummy, password)
	return err
}

// NeedsRehash reports whether encoded uses parameters other than h's, so the
// password should be hashed again after the next successful verification. A
// malformed encoded hash needs rehashing too.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != h.params
}

// derive runs the key derivation once a slot is free. A derivation once
// started runs to its end; ctx only cancels the wait. It runs on an OS
// thread of its own at a lower priority (lowerThreadPriority), so that on a
// busy machine sign-ins wait for the CPU rather than the rest of the API and
// the database: hashing is the one part of a request that may be slow.
func (h *Hasher) derive(ctx context.Context, password, salt []byte, p Params) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wait for slot: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for slot: %w", ctx.Err())
	}
	defer func() { <-h.sem }()
	key := make(chan []byte, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		lowerThreadPriority()
		key <- h.kdf(password, salt, p)
	}()
	return <-key, nil
}

// encode returns the PHC string of a key.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// decode parses a PHC string strictly: exactly the fields encode writes, in
// its order, canonical decimal numbers, canonical unpadded base64, and
// parameters within Params.Validate's bounds.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	if len(encoded) > maxEncodedLen {
		return Params{}, nil, nil, fmt.Errorf("hash longer than %d bytes", maxEncodedLen)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return Params{}, nil, nil, fmt.Errorf("hash has %d fields, want 5", len(parts)-1)
	}
	if parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("algorithm %q is not argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, fmt.Errorf("version %q is not v=%d", parts[2], argon2.Version)
	}
	m, t, threads, err := decodeCosts(parts[3])
	if err != nil {
		return Params{}, nil, nil, err
	}
	if salt, err = decodeBase64(parts[4]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("salt: %w", err)
	}
	if key, err = decodeBase64(parts[5]); err != nil {
		return Params{}, nil, nil, fmt.Errorf("key: %w", err)
	}
	p = Params{Memory: m, Time: t, SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if threads > 255 {
		return Params{}, nil, nil, fmt.Errorf("threads %d above 255", threads)
	}
	p.Threads = uint8(threads)
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}

// decodeCosts parses "m=<memory>,t=<time>,p=<threads>".
func decodeCosts(s string) (m, t, p uint32, err error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return 0, 0, 0, fmt.Errorf("parameters %q are not m,t,p", s)
	}
	var vals [3]uint32
	for i, name := range [...]string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return 0, 0, 0, fmt.Errorf("parameter %q is not %s", fields[i], name)
		}
		if vals[i], err = decimal(digits); err != nil {
			return 0, 0, 0, fmt.Errorf("parameter %s: %w", name[:1], err)
		}
	}
	return vals[0], vals[1], vals[2], nil
}

// decimal parses a canonical unsigned decimal: digits only, no sign, no
// leading zero.
func decimal(s string) (uint32, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a canonical decimal", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	return uint32(n), nil
}

// decodeBase64 decodes canonical unpadded standard base64; the decoder alone
// would also accept embedded newlines.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	if base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("base64 %q is not canonical", s)
	}
	return b, nil
}
