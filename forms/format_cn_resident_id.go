package forms

import "time"

// cnResidentIDFormat is "cn_resident_id": an 18-character citizen
// identification number (公民身份号码, GB 11643-1999): a six-digit region
// code, the birth date as YYYYMMDD, a three-digit sequence number and an
// ISO 7064 MOD 11-2 check character, a digit or an upper-case X.
type cnResidentIDFormat struct{}

// ID implements Plugin.
func (cnResidentIDFormat) ID() string { return "format.cn_resident_id" }

// Name implements Format.
func (cnResidentIDFormat) Name() string { return "cn_resident_id" }

// IsFormat implements Format; values other than strings pass.
func (cnResidentIDFormat) IsFormat(input any) bool {
	s, ok := input.(string)
	if !ok {
		return true
	}
	if len(s) != 18 || !allDigits(s[:17]) || s[0] == '0' {
		return false
	}
	if !isBirthDate(s[6:14]) {
		return false
	}
	return s[17] == residentIDCheck(s[:17])
}

// residentIDCheck returns the check character of the first 17 digits.
func residentIDCheck(digits string) byte {
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(digits[i]-'0') * weights[i]
	}
	return "10X98765432"[sum%11]
}

// isBirthDate reports whether s, eight digits YYYYMMDD, is a calendar date
// from 1800 on.
func isBirthDate(s string) bool {
	t, err := time.Parse("20060102", s)
	return err == nil && t.Year() >= 1800
}

var _ Format = cnResidentIDFormat{}
