package money

import (
	"errors"
	"fmt"
	"slices"
)

// ErrCurrency reports a code that is not an active ISO 4217 currency, or a
// missing currency.
var ErrCurrency = errors.New("money: not an active ISO 4217 currency")

// Currency is an ISO 4217 alphabetic currency code, such as "CNY". A Currency
// read from the database is not checked, so rows written under an older
// currency list still load; one taken from input is made with ParseCurrency,
// and ent checks it with Validate on create and update.
type Currency string

// ParseCurrency returns the currency with code s. It accepts only the codes of
// the active list, written in upper case as ISO writes them ("CNY", not
// "cny"), and refuses anything else with ErrCurrency.
func ParseCurrency(s string) (Currency, error) {
	c := Currency(s)
	if err := c.Validate(); err != nil {
		return "", err
	}
	return c, nil
}

// Validate returns nil if c is on the active list and an error wrapping
// ErrCurrency if not. Through it ent validates a field of Go type Currency.
func (c Currency) Validate() error {
	if _, ok := minorUnits[c]; !ok {
		if c == "" {
			return fmt.Errorf("%w: no currency", ErrCurrency)
		}
		return fmt.Errorf("%w: %q", ErrCurrency, clip(string(c)))
	}
	return nil
}

// MinorUnits returns the number of decimal digits of c's minor unit in ISO
// 4217, such as 2 for CNY (fen), 0 for JPY and 3 for KWD, and whether c is on
// the active list at all.
func (c Currency) MinorUnits() (digits int, ok bool) {
	d, ok := minorUnits[c]
	return int(d), ok
}

// String returns the code of c.
func (c Currency) String() string { return string(c) }

// Currencies returns the codes of the active list in alphabetical order, in a
// new slice.
func Currencies() []Currency {
	cs := make([]Currency, 0, len(minorUnits))
	for c := range minorUnits {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// minorUnits is the active list: the currencies of ISO 4217 list one that have
// a minor unit, with its number of digits, as in force in 2026. Left out are
// the codes without a minor unit (precious metals XAU, XAG, XPD, XPT; bond
// market units XBA–XBD; XDR, XSU, XUA; XTS and XXX), and the codes withdrawn
// or replaced since 2021: HRK and BGN (now EUR), ANG (now XCG), SLL (now
// SLE), ZWL (now ZWG) and CUC. The funds codes (BOV, CHE, CHW, CLF, COU, MXV,
// USN, UYI, UYW) are on it, as in ISO's list. It is never modified.
var minorUnits = map[Currency]int8{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BOV": 2,
	"BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2,
	"CAD": 2, "CDF": 2, "CHE": 2, "CHF": 2, "CHW": 2, "CLF": 4, "CLP": 0, "CNY": 2, "COP": 2,
	"COU": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2,
	"DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2,
	"EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2,
	"FJD": 2, "FKP": 2,
	"GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2,
	"HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0,
	"JMD": 2, "JOD": 3, "JPY": 0,
	"KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2,
	"LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
	"MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
	"MVR": 2, "MWK": 2, "MXN": 2, "MXV": 2, "MYR": 2, "MZN": 2,
	"NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2,
	"OMR": 3,
	"PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0,
	"QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0,
	"SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2,
	"SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
	"THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2,
	"UAH": 2, "UGX": 0, "USD": 2, "USN": 2, "UYI": 0, "UYU": 2, "UYW": 4, "UZS": 2,
	"VED": 2, "VES": 2, "VND": 0, "VUV": 0,
	"WST": 2,
	"XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
	"YER": 2,
	"ZAR": 2, "ZMW": 2, "ZWG": 2,
}
