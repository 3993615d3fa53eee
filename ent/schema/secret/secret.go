// Package secret owns the Go type of encrypted columns. A Text holds either
// the plaintext a client sent (on its way in) or the ciphertext the database
// stores (on its way out), never both: the sealing hook turns the first into
// the second, and a plaintext that reaches the database driver is refused.
// Reading a value back goes through the disclosure policy, never through
// this type.
package secret

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
)

// ErrPlaintext is returned when a value that was never sealed is written.
var ErrPlaintext = errors.New("secret: refusing to store a plaintext value")

// Text is a personal value: plaintext from a client, or a ciphertext from
// the database.
type Text struct {
	plain  string
	sealed []byte
	isSet  bool // plain holds a client value
}

// Plain returns a Text holding a client's plaintext.
func Plain(s string) Text { return Text{plain: s, isSet: true} }

// Sealed returns a Text holding a ciphertext.
func Sealed(b []byte) Text { return Text{sealed: b} }

// Plaintext returns the client's plaintext and whether there is one.
func (t Text) Plaintext() (string, bool) { return t.plain, t.isSet }

// Ciphertext returns the stored ciphertext, nil when there is none.
func (t Text) Ciphertext() []byte { return t.sealed }

// IsZero reports whether t holds nothing.
func (t Text) IsZero() bool { return !t.isSet && len(t.sealed) == 0 }

// String never reveals the value.
func (t Text) String() string {
	switch {
	case t.isSet:
		return "secret.Text(plaintext)"
	case len(t.sealed) > 0:
		return "secret.Text(sealed)"
	}
	return "secret.Text(empty)"
}

// Value implements driver.Valuer. Only ciphertexts reach the database.
func (t Text) Value() (driver.Value, error) {
	if t.isSet {
		return nil, ErrPlaintext
	}
	if len(t.sealed) == 0 {
		return nil, nil
	}
	return t.sealed, nil
}

// Scan implements sql.Scanner.
func (t *Text) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Text{}
	case []byte:
		*t = Text{sealed: append([]byte(nil), v...)}
	case string:
		*t = Text{sealed: []byte(v)}
	default:
		return fmt.Errorf("secret: cannot scan %T", src)
	}
	return nil
}

// UnmarshalGQL reads a client's plaintext.
func (t *Text) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("secret: want a string, got %T", v)
	}
	*t = Plain(s)
	return nil
}

// MarshalGQL is never used to reveal a value: GraphQL reads personal fields
// through resolvers that apply the disclosure policy. It writes null.
func (t Text) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, "null") }
