// Package normalize owns turning personal values into the canonical form
// that blind indexes and dedupe compare: two spellings of one phone number,
// e-mail address or WeChat id normalise to one string, so that they give one
// blind index. Anything that computes a blind index or a match key calls it;
// it imports nothing from the project. Every function is pure.
//
// The rules are versioned: Version is stored with every blind index, and any
// change to a rule that can change an output must bump it (old indexes are
// then recomputed).
package normalize

import (
	"strings"
	"unicode"
)

// Version is the version of the normalisation rules. Bump it when any rule
// changes; it is stored with every index value.
const Version byte = 1

// Text folds full-width ASCII (U+FF01–U+FF5E) and the ideographic space
// (U+3000) to their half-width forms, drops zero-width spaces and byte-order
// marks (U+200B, U+FEFF) that copy and paste leaves behind, trims white
// space and collapses every run of white space to one ASCII space. It does
// not change case.
func Text(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending
	for _, r := range s {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		case r == 0x200B || r == 0xFEFF:
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Email returns the canonical form of an e-mail address: Text, then lower
// case. It returns "" and false for a value that is not an address: one
// without exactly one "@", with an empty side, or with white space inside.
func Email(s string) (string, bool) {
	s = strings.ToLower(Text(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || strings.ContainsRune(s, ' ') {
		return "", false
	}
	return s, true
}

// WeChat returns the canonical form of a WeChat id: Text, then lower case
// (WeChat ids are case-insensitive). It returns "" and false for an empty
// value or one with white space or control characters inside. It does not
// enforce WeChat's current id syntax, because old ids and phone numbers used
// as ids do not follow it.
func WeChat(s string) (string, bool) {
	s = strings.ToLower(Text(s))
	if s == "" {
		return "", false
	}
	for _, r := range s {
		if r == ' ' || unicode.IsControl(r) {
			return "", false
		}
	}
	return s, true
}
