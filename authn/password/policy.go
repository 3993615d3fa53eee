package password

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// commonList holds widely used passwords of at least 8 characters, one per
// line (from @zxcvbn-ts/language-common, MIT; see common-passwords.LICENSE).
//
//go:embed common-passwords.txt
var commonList string

// Policy is a tenant's password policy. There are no composition rules:
// length and a check against common passwords do more for security.
type Policy struct {
	MinLength int
	MaxLength int
}

// The bounds of a policy.
const (
	MinMinLength     = 8
	DefaultMaxLength = 256
)

// Problem says why a password is refused: a message key of the error
// catalogue and its parameters.
type Problem struct {
	MessageKey string
	Params     []string
}

// CommonPasswords answers whether a password is on the bundled list. It is
// built once, on first use.
type CommonPasswords struct {
	once sync.Once
	set  map[string]struct{}
}

// Contains reports whether pw, compared case-insensitively, is common.
func (c *CommonPasswords) Contains(pw string) bool {
	c.once.Do(func() {
		lines := strings.Split(commonList, "\n")
		c.set = make(map[string]struct{}, len(lines))
		for _, l := range lines {
			if l = strings.TrimSpace(l); l != "" {
				c.set[strings.ToLower(l)] = struct{}{}
			}
		}
	})
	_, ok := c.set[strings.ToLower(pw)]
	return ok
}

// Check returns the problem with pw under p, or nil.
func (p Policy) Check(pw string, common *CommonPasswords) *Problem {
	minLen := max(p.MinLength, MinMinLength)
	maxLen := p.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < minLen:
		return &Problem{MessageKey: "too_short", Params: []string{"min", itoa(minLen)}}
	case n > maxLen:
		return &Problem{MessageKey: "too_long", Params: []string{"max", itoa(maxLen)}}
	case common != nil && common.Contains(pw):
		return &Problem{MessageKey: "common_password"}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
