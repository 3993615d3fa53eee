package forms

import (
	"net/url"
	"strings"
)

// urlFormat is "url": an absolute http or https URL with a host, no
// credentials and no blanks, at most 2048 bytes, such as
// https://example.com/a?b=c. Draft-07's "uri" accepts any scheme.
type urlFormat struct{}

// ID implements Plugin.
func (urlFormat) ID() string { return "format.url" }

// Name implements Format.
func (urlFormat) Name() string { return "url" }

// IsFormat implements Format; values other than strings pass.
func (urlFormat) IsFormat(input any) bool {
	s, ok := input.(string)
	if !ok {
		return true
	}
	if len(s) > 2048 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Hostname() == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

var _ Format = urlFormat{}
