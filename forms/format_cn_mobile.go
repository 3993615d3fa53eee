package forms

import "strings"

// cnMobileFormat is "cn_mobile": a mainland China mobile number, eleven
// digits starting 13–19, optionally prefixed with +86, such as 13800138000
// or +8613800138000.
type cnMobileFormat struct{}

// ID implements Plugin.
func (cnMobileFormat) ID() string { return "format.cn_mobile" }

// Name implements Format.
func (cnMobileFormat) Name() string { return "cn_mobile" }

// IsFormat implements Format; values other than strings pass.
func (cnMobileFormat) IsFormat(input any) bool {
	s, ok := input.(string)
	if !ok {
		return true
	}
	s = strings.TrimPrefix(s, "+86")
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	return allDigits(s)
}

// allDigits reports whether s is made of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var _ Format = cnMobileFormat{}
