package normalize

import "strings"

// maxE164Digits is the most digits an E.164 number has, calling code
// included.
const maxE164Digits = 15

// Phone returns the E.164 form ("+", calling code, national number; at most
// 15 digits) of a phone number written in any common way. defaultRegion is
// the calling code ("86", or "+86") used when the number has no country
// prefix; with an empty or malformed defaultRegion only numbers with a
// prefix are accepted.
//
// It accepts full-width characters (through Text), the separators space,
// "-", ".", "/", "(", ")" and Unicode dashes, and these prefixes: "+" and
// "00" (international), "(+86)", "+44 (0)20..." (the "(0)" trunk prefix is
// dropped), and a bare "86" only when a valid mainland mobile number
// follows ("86-138 1234 5678"). Without a prefix the national trunk prefix
// is dropped: "0" in most regions ("010-12345678" → "+861012345678"), "1"
// in North America, "8" in region "7"; Italy ("39") keeps its leading 0.
//
// Mainland China ("86") numbers are checked: mobiles 1[3-9] and 9 digits,
// landlines with an area code (10 and 2X, then 8 digits; 3-digit area codes
// then 7 or 8 digits), and 400/800 service numbers; a local number without
// its area code and short service numbers (95588) are refused. North
// American ("1") numbers need 10 digits. Other calling codes are checked
// only for length.
//
// An extension ("x123", "ext. 123", "#123", "转123", "分机123", up to 6
// digits) is dropped: the result names the line, so that a search or a
// duplicate check by phone finds a switchboard number however the extension
// is written. Phone returns "" and false for anything else: letters, a
// second number, too few digits, or more than 15.
func Phone(s, defaultRegion string) (string, bool) {
	main, ok := cutExtension(strings.ToLower(Text(s)))
	if !ok {
		return "", false
	}
	digits, plus, ok := phoneDigits(main)
	if !ok || digits == "" {
		return "", false
	}
	switch {
	case plus:
		return international(digits)
	case strings.HasPrefix(digits, "00"):
		return international(digits[2:])
	case len(digits) == 13 && strings.HasPrefix(digits, "86") && isCNMobile(digits[2:]):
		return "+" + digits, true
	}
	region := strings.TrimPrefix(defaultRegion, "+")
	if code, _, ok := SplitCallingCode(region + "0000000"); !ok || code != region {
		return "", false
	}
	return national(region, digits)
}

// cutExtension returns s without a trailing extension, and false when what
// follows a marker is not an extension of 1 to 6 digits.
func cutExtension(s string) (string, bool) {
	at := -1
	for _, m := range [...]string{"ext", "x", "#", "转", "分机"} {
		if i := strings.Index(s, m); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		return s, true
	}
	main, ext := s[:at], s[at:]
	ext = strings.TrimLeft(ext, "extension转分机号#.:： ")
	n := 0
	for _, r := range ext {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == ' ' || r == '-':
		default:
			return "", false
		}
	}
	return main, n >= 1 && n <= 6
}

// phoneDigits returns the digits of a number, and whether it starts with
// "+", dropping separators and the "(0)" trunk prefix that may follow a
// "+" prefix. It returns false for any other character, a "+" after a
// digit, or more than one "+".
func phoneDigits(s string) (digits string, plus, ok bool) {
	var b strings.Builder
	b.Grow(len(s))
	compact := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '/', '‐', '‑', '‒', '–', '—', '―', '−':
			return -1
		}
		return r
	}, s)
	for i := 0; i < len(compact); i++ {
		c := compact[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == '+':
			if plus || b.Len() > 0 {
				return "", false, false
			}
			plus = true
		case c == '(' && plus && b.Len() > 0 && strings.HasPrefix(compact[i:], "(0)"):
			i += 2 // "+44 (0)20 ...": the 0 is not dialled from abroad
		case c == '(' || c == ')':
		default:
			return "", false, false
		}
	}
	return b.String(), plus, true
}

// international checks digits that start with a calling code and returns
// their E.164 form.
func international(digits string) (string, bool) {
	code, nat, ok := SplitCallingCode(digits)
	if !ok {
		return "", false
	}
	switch code {
	case "86":
		// "+86 010 1234 5678": the trunk 0 is often written after +86.
		nat = strings.TrimPrefix(nat, "0")
		if !isCNMobile(nat) && !isCNLandline(nat) && !isCNService(nat) {
			return "", false
		}
	case "1":
		if len(nat) != 10 || nat[0] < '2' {
			return "", false
		}
	default:
		if len(nat) < 4 || len(code)+len(nat) < 7 {
			return "", false
		}
	}
	if len(code)+len(nat) > maxE164Digits {
		return "", false
	}
	return "+" + code + nat, true
}

// national checks digits written without a country prefix in region and
// returns their E.164 form.
func national(region, digits string) (string, bool) {
	switch region {
	case "86":
		switch {
		case isCNMobile(digits), isCNService(digits):
			return "+86" + digits, true
		case strings.HasPrefix(digits, "0") && isCNLandline(digits[1:]):
			return "+86" + digits[1:], true
		}
		return "", false
	case "1":
		if len(digits) == 11 && digits[0] == '1' {
			digits = digits[1:]
		}
	case "7":
		if len(digits) == 11 && digits[0] == '8' {
			digits = digits[1:]
		}
	case "39":
		// Italian numbers keep their leading 0.
		return international(region + digits)
	default:
		digits = strings.TrimPrefix(digits, "0")
	}
	if digits == "" || digits[0] == '0' {
		return "", false
	}
	return international(region + digits)
}

// isCNMobile reports whether d is a mainland mobile number: 1[3-9] and 9
// more digits.
func isCNMobile(d string) bool {
	return len(d) == 11 && allDigits(d) && d[0] == '1' && d[1] >= '3'
}

// isCNLandline reports whether d is a mainland landline with its area code
// and without the trunk 0: "10" or "2X" and 8 digits, or a 3-digit area
// code from 3 to 9 and 7 or 8 digits. The local number must not start with
// 0.
func isCNLandline(d string) bool {
	if !allDigits(d) || len(d) < 10 {
		return false
	}
	switch {
	case strings.HasPrefix(d, "10") || d[0] == '2':
		return len(d) == 10 && d[2] != '0'
	case d[0] >= '3':
		return len(d) <= 11 && d[3] != '0'
	}
	return false
}

// isCNService reports whether d is a 400 or 800 service number.
func isCNService(d string) bool {
	return len(d) == 10 && allDigits(d) && (strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800"))
}

// allDigits reports whether s holds only ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isTwoDigitCode reports whether p, two digits, is an E.164 calling code
// of two digits. "1" and "7" have one digit and every other code has three;
// calling codes are prefix-free, so this is enough to split any number.
func isTwoDigitCode(p string) bool {
	switch p {
	case "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44",
		"45", "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58",
		"60", "61", "62", "63", "64", "65", "66", "81", "82", "84", "86", "90", "91",
		"92", "93", "94", "95", "98":
		return true
	}
	return false
}

// SplitCallingCode splits an international number, with or without its
// leading "+" and holding only digits after it, into its calling code and
// national number: "+8613812345678" gives "86" and "13812345678". It
// returns false when number is not all digits, starts with 0, or is too
// short to hold a calling code.
func SplitCallingCode(number string) (code, nationalNumber string, ok bool) {
	d := strings.TrimPrefix(number, "+")
	if d == "" || !allDigits(d) || d[0] == '0' {
		return "", "", false
	}
	n := 3
	switch {
	case d[0] == '1' || d[0] == '7':
		n = 1
	case len(d) >= 2 && isTwoDigitCode(d[:2]):
		n = 2
	}
	if len(d) <= n {
		return "", "", false
	}
	return d[:n], d[n:], true
}
