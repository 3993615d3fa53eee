// Package bigram owns the name tokens quick search finds names by: the
// distinct pairs of adjacent characters of a name, lower-cased. Every
// substring of two or more characters of a name has all its pairs among the
// name's, so a PostgreSQL GIN index over them narrows a "name contains"
// search to a few rows, Chinese names included (which have no word
// boundaries for a full-text index, and whose two-character fragments are
// too short for trigrams).
package bigram

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
)

// Tokens are the distinct bigrams of a text, in order of first occurrence.
// They are stored as a PostgreSQL text[] (and as its text form on SQLite).
type Tokens []string

// Of returns the tokens of s: nil for texts shorter than two characters.
func Of(s string) Tokens {
	runes := []rune(strings.ToLower(s))
	if len(runes) < 2 {
		return nil
	}
	out := make(Tokens, 0, len(runes)-1)
	seen := make(map[string]bool, len(runes)-1)
	for i := 0; i+1 < len(runes); i++ {
		t := string(runes[i : i+2])
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Value implements driver.Valuer: the array literal `{"ab","bc"}`.
func (t Tokens) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, tok := range t {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, r := range tok {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// Scan implements sql.Scanner for the array literal Value writes and
// PostgreSQL returns (elements quoted or not).
func (t *Tokens) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
		*t = nil
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("bigram: cannot scan %T", src)
	}
	out, err := parse(s)
	if err != nil {
		return err
	}
	*t = out
	return nil
}

var errMalformed = errors.New("bigram: malformed array literal")

// parse reads a one-dimensional array literal of text.
func parse(s string) (Tokens, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, errMalformed
	}
	body := []rune(s[1 : len(s)-1])
	if len(body) == 0 {
		return Tokens{}, nil
	}
	var (
		out Tokens
		cur strings.Builder
	)
	for i := 0; i <= len(body); {
		if i < len(body) && body[i] == '"' {
			i++
			for ; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' && i+1 < len(body) {
					i++
				}
				cur.WriteRune(body[i])
			}
			if i >= len(body) {
				return nil, errMalformed
			}
			i++ // closing quote
		} else {
			for ; i < len(body) && body[i] != ','; i++ {
				cur.WriteRune(body[i])
			}
		}
		out = append(out, cur.String())
		cur.Reset()
		if i < len(body) && body[i] != ',' {
			return nil, errMalformed
		}
		i++ // the comma, or past the end
	}
	return out, nil
}
