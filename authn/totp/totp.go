// Package totp owns time-based one-time passwords (RFC 6238) and recovery
// codes for two-factor sign-in: enrolment, verification with replay
// protection, and single-use recovery codes stored only as hashes. It is a
// leaf package: storage is the caller's; every function takes the time from
// its caller.
//
// Codes use the parameters every authenticator app supports: HMAC-SHA1, six
// digits and a 30-second period. Verify accepts one step of clock skew either
// way.
//
// github.com/pquerna/otp computes the codes but keeps no state, so it cannot
// refuse a code that was already used. Verify does: the caller stores the
// step it returns and passes it back next time.
package totp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"
)

const (
	// period is the length of a time step in seconds.
	period = 30
	// digits is the number of digits in a code.
	digits = 6
	// skew is how many steps either side of the current one Verify accepts.
	skew = 1
	// secretBytes is the size of a new secret: 160 bits, the HMAC-SHA1
	// output size recommended by RFC 4226.
	secretBytes = 20
	// minSecretBytes is the smallest secret accepted: 128 bits, the minimum
	// of RFC 4226 section 4. It keeps an empty or truncated stored secret
	// from ever producing a code.
	minSecretBytes = 16
	// maxCodeInput bounds the typed code before any work is done on it.
	maxCodeInput = 64
)

// ErrInvalidLabel is returned by NewEnrolment when the issuer or account is
// empty or contains a colon, which separates them in the otpauth label.
var ErrInvalidLabel = errors.New("totp: issuer and account must be non-empty and contain no colon")

// ErrInvalidSecret is returned when a secret is not base32 or is shorter
// than 128 bits.
var ErrInvalidSecret = errors.New("totp: secret is not base32 of at least 128 bits")

// ErrBeforeEpoch is returned by GenerateCode for a time before 1970, which
// has no time step.
var ErrBeforeEpoch = errors.New("totp: time is before the Unix epoch")

// Enrolment is a new TOTP secret and the otpauth URI that carries it to an
// authenticator app (usually as a QR code).
type Enrolment struct {
	// Secret is the shared secret in base32 without padding. The caller
	// stores it (encrypted) once the user has confirmed a first code.
	Secret string
	// URI is the otpauth://totp/... key URI with issuer, account, secret,
	// algorithm, digits and period.
	URI string
}

// NewEnrolment draws a 160-bit secret from crypto/rand and builds the
// otpauth URI for issuer (for example "Custos (acme)") and account (the
// user's email address). Neither may be empty or contain a colon.
func NewEnrolment(issuer, account string) (Enrolment, error) {
	if issuer == "" || strings.Contains(issuer, ":") {
		return Enrolment{}, fmt.Errorf("%w: issuer %q", ErrInvalidLabel, issuer)
	}
	if account == "" || strings.Contains(account, ":") {
		return Enrolment{}, fmt.Errorf("%w: account %q", ErrInvalidLabel, account)
	}
	key, err := pqtotp.Generate(pqtotp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      period,
		SecretSize:  secretBytes,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		Rand:        rand.Reader,
	})
	if err != nil {
		return Enrolment{}, fmt.Errorf("totp: generate key: %w", err)
	}
	return Enrolment{Secret: key.Secret(), URI: key.String()}, nil
}

// Step returns the time step of t: Unix seconds divided by 30, rounded down.
func Step(t time.Time) int64 {
	u := t.Unix()
	s := u / period
	if u%period < 0 {
		s--
	}
	return s
}

// GenerateCode returns the six-digit code for secret at t. Sign-in never
// needs it; tests and the test OpenID/TOTP helpers do.
func GenerateCode(secret string, t time.Time) (string, error) {
	norm, err := normaliseSecret(secret)
	if err != nil {
		return "", err
	}
	step := Step(t)
	if step < 0 {
		return "", fmt.Errorf("%w: %s", ErrBeforeEpoch, t.UTC().Format(time.RFC3339))
	}
	code, err := codeAt(norm, step)
	if err != nil {
		return "", fmt.Errorf("totp: generate code: %w", err)
	}
	return code, nil
}

// Verify reports whether code is valid for secret at now, and returns the
// step it matched, to be stored as the new lastUsedStep.
//
// It accepts the step of now and one step on either side, but never a step
// at or before lastUsedStep: a code is single-use, and once a code has been
// used an older one is refused too. Pass 0 before the first successful
// verification. When ok is false, step is lastUsedStep unchanged, so storing
// it regardless does no harm.
//
// Spaces in code are ignored; anything other than six ASCII digits is simply
// not ok, as is a malformed secret. Generated codes are compared with the
// given one in constant time, and every candidate step is checked.
//
// Replay protection holds only if the caller stores the step atomically: a
// conditional update such as "SET last_step = $s WHERE last_step < $s",
// treating zero rows updated as a failed sign-in, so that two concurrent
// requests with the same code cannot both succeed.
func Verify(secret, code string, now time.Time, lastUsedStep int64) (step int64, ok bool) {
	given, valid := normaliseCode(code)
	if !valid {
		return lastUsedStep, false
	}
	norm, err := normaliseSecret(secret)
	if err != nil {
		return lastUsedStep, false
	}
	matched := int64(-1)
	current := Step(now)
	for s := current - skew; s <= current+skew; s++ {
		if s <= lastUsedStep || s < 0 {
			continue
		}
		want, err := codeAt(norm, s)
		if err != nil {
			return lastUsedStep, false
		}
		// Keep the latest matching step, so that a code which happens to
		// be valid in two steps cannot be replayed in the later one.
		if subtle.ConstantTimeCompare([]byte(want), []byte(given)) == 1 {
			matched = s
		}
	}
	if matched < 0 {
		return lastUsedStep, false
	}
	return matched, true
}

// codeAt returns the six-digit code for the normalised secret at step.
func codeAt(secret string, step int64) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{
		Digits:    otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1,
	})
}

// normaliseSecret upper-cases secret, drops surrounding white space and
// padding, and checks that it is base32 of at least minSecretBytes. It
// returns the secret in the form hotp expects.
func normaliseSecret(secret string) (string, error) {
	s := strings.TrimRight(strings.ToUpper(strings.TrimSpace(secret)), "=")
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSecret, err)
	}
	if len(raw) < minSecretBytes {
		return "", fmt.Errorf("%w: %d bytes", ErrInvalidSecret, len(raw))
	}
	return s, nil
}

// normaliseCode removes white space from code and reports whether what is
// left is exactly six ASCII digits.
func normaliseCode(code string) (string, bool) {
	if len(code) > maxCodeInput {
		return "", false
	}
	c := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, code)
	if len(c) != digits {
		return "", false
	}
	for i := range len(c) {
		if c[i] < '0' || c[i] > '9' {
			return "", false
		}
	}
	return c, true
}
