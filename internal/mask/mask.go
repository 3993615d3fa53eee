// Package mask owns how a personal value looks when a viewer may see only
// part of it: which characters of a phone number, e-mail address, ID number,
// bank account, WeChat id, name or address stay visible. Its functions are
// pure; the policy of who sees what lives elsewhere (the disclosure layer
// decides, then calls Mask). It imports only internal/normalize, for the
// full-width folding and the calling codes of phone numbers.
//
// The formats, for values written in any common way (full-width characters
// are folded first; leading and trailing space is dropped):
//
//	KindPhone        13812345678          → 138****5678
//	                 +86 138 1234 5678    → +86 138****5678
//	                 +1 (415) 555-2671    → +1 415***2671
//	                 88886666             → ****6666
//	                 95588                → ***88
//	KindEmail        zhang.san@example.com → z***@example.com
//	KindIDNumber     110105199001011234   → 110***********1234
//	                 E12345678            → *******78
//	KindBankAccount  6222 0212 3456 1234  → **** **** **** 1234
//	KindText         张三丰                → 张**
//	KindWeChat       wxid_abc123          → wx***3
//
// Phone numbers keep the first 3 and last 4 digits of the national number
// when it has 10 digits or more, only the last 4 when it has 8 or 9, and
// only the last 2 when shorter; an international prefix is shown as "+"
// and the calling code, and an extension is not shown. ID numbers keep the
// first 3 and last 4 characters when they have 14 or more (mainland IDs
// have 15 or 18), otherwise the last 2 when they have 6 or more, otherwise
// nothing. These two kinds keep the length of what they hide, as Chinese
// forms conventionally do. The other kinds hide the length: an e-mail
// address keeps the first character of its local part and the whole domain;
// a bank account shows only its last 4 characters in the fixed form
// "**** **** **** 1234" (nothing when it has fewer than 8); text (names,
// addresses) keeps its first character and adds "**"; a WeChat id keeps its
// first 2 and last character when it has 6 or more, otherwise only its
// first. A value of one character is fully hidden. An empty value stays
// empty, and an unknown kind hides everything.
package mask

import (
	"strings"

	"github.com/custos-crm/custos/internal/normalize"
)

// Kind names a masking format.
type Kind string

// The masking formats.
const (
	KindPhone       Kind = "phone"
	KindEmail       Kind = "email"
	KindIDNumber    Kind = "id_number"
	KindBankAccount Kind = "bank_account"
	KindText        Kind = "text" // names, addresses, free text
	KindWeChat      Kind = "wechat"
)

// hidden is what a value becomes when nothing of it may show.
const hidden = "***"

// Mask returns value as a viewer who may see only part of it sees it, in
// the format of kind. It never returns more of value than the format
// allows; an unknown kind returns "***" for any non-empty value.
func Mask(kind Kind, value string) string {
	s := normalize.Text(value)
	if s == "" {
		return ""
	}
	switch kind {
	case KindPhone:
		return phone(s)
	case KindEmail:
		return email(s)
	case KindIDNumber:
		return idNumber(s)
	case KindBankAccount:
		return bankAccount(s)
	case KindText:
		return text(s)
	case KindWeChat:
		return weChat(s)
	}
	return hidden
}

// phone masks a phone number; see the package documentation.
func phone(s string) string {
	var b strings.Builder
	plus := false
scan:
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			plus = true
		case strings.ContainsRune(" -./()‐‑‒–—―−", r):
		default:
			break scan // an extension, or not a phone number at all
		}
	}
	d := b.String()
	if d == "" {
		return hidden
	}
	if !plus && strings.HasPrefix(d, "00") && len(d) > 2 {
		plus, d = true, d[2:]
	}
	if plus {
		if code, nat, ok := normalize.SplitCallingCode(d); ok {
			return "+" + code + " " + phoneDigits(nat)
		}
	}
	return phoneDigits(d)
}

// phoneDigits masks the digits of a national number.
func phoneDigits(d string) string {
	n := len(d)
	switch {
	case n >= 10:
		return d[:3] + stars(n-7) + d[n-4:]
	case n >= 8:
		return stars(n-4) + d[n-4:]
	case n >= 3:
		return stars(n-2) + d[n-2:]
	}
	return stars(n)
}

// email masks an e-mail address; a value without a local part and a domain
// is masked as text.
func email(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return text(s)
	}
	first := []rune(s[:at])[0]
	return string(first) + hidden + s[at:]
}

// idNumber masks an identity document number.
func idNumber(s string) string {
	r := []rune(compact(s))
	n := len(r)
	switch {
	case n >= 14:
		return string(r[:3]) + stars(n-7) + string(r[n-4:])
	case n >= 6:
		return stars(n-2) + string(r[n-2:])
	}
	return stars(n)
}

// bankAccount masks a bank account or card number.
func bankAccount(s string) string {
	r := []rune(compact(s))
	if len(r) < 8 {
		return "****"
	}
	return "**** **** **** " + string(r[len(r)-4:])
}

// text masks a name, an address or other free text.
func text(s string) string {
	r := []rune(s)
	if len(r) < 2 {
		return "**"
	}
	return string(r[0]) + "**"
}

// weChat masks a WeChat id.
func weChat(s string) string {
	r := []rune(s)
	switch n := len(r); {
	case n >= 6:
		return string(r[:2]) + hidden + string(r[n-1])
	case n >= 2:
		return string(r[0]) + hidden
	}
	return hidden
}

// compact drops the spaces and hyphens people write inside numbers.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
}

// stars returns n asterisks.
func stars(n int) string {
	return strings.Repeat("*", n)
}
