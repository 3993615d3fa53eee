// Package money owns amounts of money: an exact decimal amount with an ISO
// 4217 currency, its storage on PostgreSQL and SQLite, and its form in the
// API. It is a leaf package: sales modules (quotes, contracts, receipts) build
// on it.
//
// # Amounts
//
// An [Amount] is an exact decimal number with at most [Scale] (4) fractional
// digits and at most [Precision]-[Scale] (16) integer digits, so that it fits
// a NUMERIC(20,4) column. Its arithmetic is exact: an operation whose result
// would not fit returns an error wrapping [ErrOverflow] instead of wrapping
// around or rounding, and [Parse] refuses a value that would need a fifth
// fractional digit ([ErrScale]) rather than round it. The zero Amount is 0.
// Amounts are comparable: a == b holds exactly when a.Cmp(b) == 0.
//
// The text form of an amount is the plain decimal notation "-1234.5": an
// optional minus sign, one or more digits, and optionally a point followed by
// one or more digits. Exponents ("1e3"), a plus sign, thousands separators,
// blanks, a bare point (".5", "5.") and NaN or Infinity are refused, so that
// a value means one thing to every reader. [Amount.String] writes the
// canonical form with exactly four fractional digits ("1234.5000", "0.0000",
// "-0.0001"); it is the form stored in the databases and sent in the API, and
// one amount has exactly one canonical form. Rounding to a currency's minor
// units, for display, is left to the caller ([Currency.MinorUnits]).
//
// # Storage
//
// An Amount is stored as its canonical text: [Amount.Value] returns that
// string, which a NUMERIC(20,4) column on PostgreSQL takes as an exact number
// and a TEXT column on SQLite keeps as written. The SQLite column must be
// TEXT: a NUMERIC or DECIMAL column there has numeric affinity and would turn
// the text into a floating-point REAL. [Amount.Scan] reads text (string or
// []byte) and integers, and refuses a float64, which only a REAL column (or
// an SQL expression computed in floating point) produces; it also refuses
// NULL, so a nullable column needs a Nillable ent field. On SQLite the column
// holds text, so ordering, comparison and SUM in SQL there are textual or
// floating-point and wrong: compare and add amounts in Go ([Amount.Cmp],
// [Sum]).
//
// In an ent schema an amount is declared as an Other field with the column
// types of [SchemaType], and a currency as a string field of Go type
// [Currency], which ent validates on create and update through
// [Currency.Validate]:
//
//	field.Other("amount", money.Amount{}).
//		SchemaType(money.SchemaType()),
//	field.String("currency").
//		GoType(money.Currency("")),
//
// With entgql, add Annotations(entgql.Type("Decimal")) to the amount field
// and bind the GraphQL scalar Decimal to money.Amount in gqlgen.yml. These
// declarations are checked against ent's field builder (v0.14.5) by this
// package's tests; field.String("amount").GoType(money.Amount{}) with the same
// SchemaType is accepted by the builder too, but Other says what the field is.
//
// # API form
//
// In GraphQL and JSON an amount is a string in the text form above, such as
// "1234.50"; it is written in canonical form ("1234.5000"). A number is
// refused, since a client or a JSON decoder may already have rounded it
// through a float.
package money

import (
	"errors"
	"fmt"
)

// ErrCurrencyMismatch reports an operation on amounts of two currencies.
var ErrCurrencyMismatch = errors.New("money: currency mismatch")

// Money is an amount in a currency.
type Money struct {
	Amount   Amount   `json:"amount"`
	Currency Currency `json:"currency"`
}

// String returns m as its canonical amount and its currency code, such as
// "1234.5000 CNY".
func (m Money) String() string { return m.Amount.String() + " " + string(m.Currency) }

// Add returns m + o. It refuses two different currencies with
// ErrCurrencyMismatch, and a sum out of range with ErrOverflow.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	a, err := m.Amount.Add(o.Amount)
	if err != nil {
		return Money{}, fmt.Errorf("%w (%s)", err, m.Currency)
	}
	return Money{Amount: a, Currency: m.Currency}, nil
}

// Sub returns m - o. It refuses two different currencies with
// ErrCurrencyMismatch, and a difference out of range with ErrOverflow.
func (m Money) Sub(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s - %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	a, err := m.Amount.Sub(o.Amount)
	if err != nil {
		return Money{}, fmt.Errorf("%w (%s)", err, m.Currency)
	}
	return Money{Amount: a, Currency: m.Currency}, nil
}

// Sum adds items up by currency and returns one total for each currency that
// occurs; it returns an empty map for no items. An item without a currency is
// refused with ErrCurrency, and a total out of range with ErrOverflow. Totals
// are computed here, in Go, and never with SQL SUM, which SQLite would do in
// floating point on the text it stores.
func Sum(items []Money) (map[Currency]Amount, error) {
	totals := make(map[Currency]Amount)
	for i, m := range items {
		if m.Currency == "" {
			return nil, fmt.Errorf("%w: item %d has no currency", ErrCurrency, i)
		}
		t, err := totals[m.Currency].Add(m.Amount)
		if err != nil {
			return nil, fmt.Errorf("%w (total of %s at item %d)", err, m.Currency, i)
		}
		totals[m.Currency] = t
	}
	return totals, nil
}

// SchemaType returns the column type of an amount for each ent dialect, keyed
// by ent's dialect names: NUMERIC(20,4) on PostgreSQL ("postgres") and TEXT on
// SQLite ("sqlite3"). Each call returns a new map.
func SchemaType() map[string]string {
	return map[string]string{
		"postgres": "numeric(20,4)",
		"sqlite3":  "text",
	}
}
