package forms

import (
	"net/mail"
	"strings"
)

// emailFormat is "email": an address such as li.na@example.com. It is
// stricter than gojsonschema's built-in, which it replaces once installed:
// no display name, no angle brackets, a domain with at least two labels.
type emailFormat struct{}

// ID implements Plugin.
func (emailFormat) ID() string { return "format.email" }

// Name implements Format.
func (emailFormat) Name() string { return "email" }

// IsFormat implements Format; values other than strings pass.
func (emailFormat) IsFormat(input any) bool {
	s, ok := input.(string)
	if !ok {
		return true
	}
	if len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at <= 64 && isDomainName(s[at+1:])
}

// isDomainName reports whether s is an ASCII host name with at least two
// labels (punycode for international names), the last not numeric.
func isDomainName(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	return strings.Trim(tld, "0123456789") != ""
}

var _ Format = emailFormat{}
