package forms

import "strings"

// usccAlphabet holds the 31 characters of a unified social credit code, in
// the order of their values (GB 32100-2015: no I, O, S, V or Z).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccFormat is "uscc": an 18-character unified social credit code
// (统一社会信用代码, GB 32100-2015), whose last character is a MOD 31 check
// over the first 17, such as 91350100M000100Y43.
type usccFormat struct{}

// ID implements Plugin.
func (usccFormat) ID() string { return "format.uscc" }

// Name implements Format.
func (usccFormat) Name() string { return "uscc" }

// IsFormat implements Format; values other than strings pass.
func (usccFormat) IsFormat(input any) bool {
	s, ok := input.(string)
	if !ok {
		return true
	}
	if len(s) != 18 {
		return false
	}
	c, ok := usccCheck(s[:17])
	return ok && s[17] == c
}

// usccCheck returns the check character of the first 17 characters, and
// false when one of them is not in the alphabet.
func usccCheck(s string) (byte, bool) {
	weights := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(usccAlphabet, s[i])
		if v < 0 {
			return 0, false
		}
		sum += v * weights[i]
	}
	return usccAlphabet[(31-sum%31)%31], true
}

var _ Format = usccFormat{}
