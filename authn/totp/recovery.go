package totp

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"
	"unicode"
)

// RecoveryCodeCount is the number of recovery codes NewRecoveryCodes issues.
const RecoveryCodeCount = 10

const (
	// recoveryAlphabet has 31 symbols: digits and upper-case letters
	// without 0, O, 1, I and L, which are easily misread.
	recoveryAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	// recoveryCodeLen is the number of symbols in a code, shown in two
	// groups of five.
	recoveryCodeLen = 10
	// maxRecoveryInput bounds a typed code before any work is done on it.
	maxRecoveryInput = 64
)

// NewRecoveryCodes returns RecoveryCodeCount distinct recovery codes, formatted
// "XXXXX-XXXXX" to be shown to the user once, and their hashes (same order)
// for the caller to store. The codes themselves must not be stored.
//
// A hash is the SHA-256 of the normalised code, unsalted and fast on
// purpose. Each code is ten symbols drawn uniformly from 31 by crypto/rand,
// about 49.5 bits of entropy, not a human-chosen secret, so there is no
// dictionary for a slow hash to defend against; a code is only a second
// factor, useless without the password (which is argon2id-hashed); and it is
// single-use. A slow hash would cost CPU on every attempt for little gain.
// Someone who can read the stored hashes can still search offline, at about
// 2^48 SHA-256 evaluations per code on average; the TOTP secret kept beside
// them is the more valuable target anyway.
func NewRecoveryCodes() (codes []string, hashes [][]byte, err error) {
	codes = make([]string, 0, RecoveryCodeCount)
	hashes = make([][]byte, 0, RecoveryCodeCount)
	seen := make(map[string]bool, RecoveryCodeCount)
	for len(codes) < RecoveryCodeCount {
		raw, err := randomRecoveryCode()
		if err != nil {
			return nil, nil, fmt.Errorf("totp: recovery codes: %w", err)
		}
		if seen[raw] {
			continue
		}
		seen[raw] = true
		codes = append(codes, raw[:5]+"-"+raw[5:])
		hashes = append(hashes, hashNormalised(raw))
	}
	return codes, hashes, nil
}

// HashRecoveryCode normalises a code someone typed (removing white space and
// dashes, upper-casing) and returns its SHA-256 hash, as NewRecoveryCodes
// computes it.
func HashRecoveryCode(code string) []byte {
	return hashNormalised(normaliseRecoveryCode(code))
}

// MatchRecoveryCode returns the index in hashes of the hash that code
// matches, or -1 if none does. The typed code is normalised as by
// HashRecoveryCode and compared in constant time against every stored hash.
// An empty or nil entry never matches, so a caller may blank used entries.
// The caller must then delete or mark the matched hash, conditionally so
// that two concurrent uses cannot both succeed, to keep the code single-use.
func MatchRecoveryCode(hashes [][]byte, code string) int {
	norm := normaliseRecoveryCode(code)
	if !isRecoveryCode(norm) {
		return -1
	}
	h := hashNormalised(norm)
	match := -1
	for i, stored := range hashes {
		if subtle.ConstantTimeCompare(stored, h) == 1 && match < 0 {
			match = i
		}
	}
	return match
}

// randomRecoveryCode draws recoveryCodeLen symbols uniformly from
// recoveryAlphabet, rejecting bytes that would bias the choice.
func randomRecoveryCode() (string, error) {
	const n = len(recoveryAlphabet)
	const limit = 256 - 256%n // largest multiple of n that fits in a byte
	out := make([]byte, 0, recoveryCodeLen)
	buf := make([]byte, 2*recoveryCodeLen)
	for len(out) < recoveryCodeLen {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, recoveryAlphabet[int(b)%n])
			if len(out) == recoveryCodeLen {
				break
			}
		}
	}
	return string(out), nil
}

// normaliseRecoveryCode removes white space and dashes from code and
// upper-cases it. Over-long input is returned empty, so it never matches.
func normaliseRecoveryCode(code string) string {
	if len(code) > maxRecoveryInput {
		return ""
	}
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, code))
}

// isRecoveryCode reports whether a normalised code has the length and
// alphabet of a recovery code.
func isRecoveryCode(norm string) bool {
	if len(norm) != recoveryCodeLen {
		return false
	}
	for i := range len(norm) {
		if strings.IndexByte(recoveryAlphabet, norm[i]) < 0 {
			return false
		}
	}
	return true
}

// hashNormalised returns the SHA-256 of a normalised recovery code.
func hashNormalised(norm string) []byte {
	sum := sha256.Sum256([]byte(norm))
	return sum[:]
}
