// Package pulid owns Custos identifiers: a three-letter type prefix followed by
// a ULID drawn from crypto/rand, so that ids are time-ordered, not guessable,
// and name the entity type they belong to.
package pulid

import (
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/oklog/ulid/v2"
)

// PrefixLen is the length of every id's type prefix.
const PrefixLen = 3

// ID is a prefixed ULID such as "cus01JD3Y6M4V8W6Z1F2K3N4P5Q6R".
type ID string

// New returns a fresh id with the given prefix, timestamped at now.
func New(prefix string, now time.Time) ID {
	if len(prefix) != PrefixLen {
		panic(fmt.Sprintf("pulid: prefix %q must have %d characters", prefix, PrefixLen))
	}
	u, err := ulid.New(ulid.Timestamp(now), rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("pulid: reading random bytes: %v", err))
	}
	return ID(prefix + u.String())
}

// Prefix returns the type prefix of id, or "" when id is too short.
func (id ID) Prefix() string {
	if len(id) < PrefixLen {
		return ""
	}
	return string(id[:PrefixLen])
}

// Valid reports whether id has the shape of a Custos id with the given prefix.
func (id ID) Valid(prefix string) bool {
	if id.Prefix() != prefix || len(id) != PrefixLen+ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(string(id[PrefixLen:]))
	return err == nil
}

// String returns the id as a string.
func (id ID) String() string { return string(id) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (id *ID) UnmarshalGQL(v any) error { return id.Scan(v) }

// MarshalGQL implements graphql.Marshaler. The empty ID is written as
// null: optional references (a ticket's customerID, an event's actorID) are
// stored as "" when unset, and a client must read them as absent, not as an
// id. Required ids are never empty.
func (id ID) MarshalGQL(w io.Writer) {
	if id == "" {
		_, _ = io.WriteString(w, "null")
		return
	}
	_, _ = io.WriteString(w, strconv.Quote(string(id)))
}

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		*id = ID(v)
	case []byte:
		*id = ID(string(v))
	case ID:
		*id = v
	default:
		return fmt.Errorf("pulid: unexpected type %T", v)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }
