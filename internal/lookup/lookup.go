// Package lookup owns the derived keys that find records by a personal value
// without reading the value itself. Today the key is the normalised value;
// when personal fields are encrypted the key becomes a blind index, and only
// this package changes.
package lookup

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// NormalizeEmail trims an email address, folds full-width characters to
// their ASCII forms and lower-cases it.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(norm.NFKC.String(email)))
}

// UserEmail returns the key under which a user's email is kept unique within
// a tenant and found at sign-in.
func UserEmail(email string) string {
	return NormalizeEmail(email)
}
