package money

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

const (
	// Scale is the number of fractional digits of an amount.
	Scale = 4
	// Precision is the number of digits of an amount, integer and fractional
	// together: an amount fits NUMERIC(Precision, Scale).
	Precision = 20
)

// maxTextLen bounds how much of a refused input an error message quotes.
const maxTextLen = 48

var (
	// ErrSyntax reports a text that is not a plain decimal amount.
	ErrSyntax = errors.New("money: not a plain decimal amount")
	// ErrScale reports an amount with more than four fractional digits.
	ErrScale = errors.New("money: more than 4 fractional digits")
	// ErrOverflow reports an amount with more than 16 integer digits.
	ErrOverflow = errors.New("money: amount out of range")
	// ErrScan reports a database value that cannot be read as an amount.
	ErrScan = errors.New("money: cannot scan an amount")
)

// Amount is an exact decimal amount with at most 4 fractional and 16 integer
// digits. The zero Amount is 0. Amounts are values: no method changes its
// receiver except Scan and the Unmarshal methods, and a == b holds exactly
// when a.Cmp(b) == 0.
type Amount struct {
	// d is 0 (the zero Decimal) or a finite, non-zero value with exponent
	// -Scale and at most Precision digits. That single representation of each
	// value, whose coefficient apd keeps inline rather than behind a pointer,
	// is what makes == exact; normalize is the only way to build a non-zero d.
	d apd.Decimal
}

// Zero returns the amount 0, the same as Amount{}.
func Zero() Amount { return Amount{} }

// Parse reads an amount in plain decimal notation, such as "1234.5",
// "-0.0001" or "42". It refuses exponents, a plus sign, thousands separators,
// blanks and a bare point (ErrSyntax), a value with a non-zero fifth
// fractional digit (ErrScale: nothing is rounded; trailing zeros such as in
// "1.50000" are accepted), and more than 16 integer digits (ErrOverflow).
func Parse(s string) (Amount, error) {
	rest, neg := strings.CutPrefix(s, "-")
	whole, frac, point := strings.Cut(rest, ".")
	if !digits(whole) || (point && !digits(frac)) {
		return Amount{}, fmt.Errorf("%w: %q", ErrSyntax, clip(s))
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > Precision-Scale {
		return Amount{}, fmt.Errorf("%w: %q has more than %d integer digits", ErrOverflow, clip(s), Precision-Scale)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > Scale {
		return Amount{}, fmt.Errorf("%w: %q", ErrScale, clip(s))
	}
	var x apd.Decimal
	if _, ok := x.Coeff.SetString(whole+frac+strings.Repeat("0", Scale-len(frac)), 10); !ok {
		return Amount{}, fmt.Errorf("%w: %q", ErrSyntax, clip(s))
	}
	x.Exponent = -Scale
	x.Negative = neg
	return normalize(&x)
}

// MustParse is like Parse but panics on an error. It is meant for constants
// in code and tests.
func MustParse(s string) Amount {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > maxTextLen {
		return s[:maxTextLen] + "..."
	}
	return s
}

// arith returns a context for exact arithmetic on amounts: its precision holds
// any sum or product of an amount with an int64 unrounded, and a rounded
// (inexact) result is an error.
func arith() *apd.Context {
	return &apd.Context{
		Precision:   2 * Precision,
		MaxExponent: apd.MaxExponent,
		MinExponent: apd.MinExponent,
		Traps:       apd.DefaultTraps | apd.Inexact,
		Rounding:    apd.RoundHalfEven,
	}
}

// normalize returns x as an Amount in its single representation: 0 as the
// zero Decimal, any other value with exponent -Scale. It refuses a value that
// needs more fractional digits (ErrScale) or more digits (ErrOverflow).
func normalize(x *apd.Decimal) (Amount, error) {
	if x.Form != apd.Finite {
		return Amount{}, fmt.Errorf("%w: %s", ErrSyntax, x.String())
	}
	if x.IsZero() {
		return Amount{}, nil
	}
	q := x
	if x.Exponent != -Scale {
		q = new(apd.Decimal)
		if _, err := arith().Quantize(q, x, -Scale); err != nil {
			if x.Exponent < -Scale {
				return Amount{}, fmt.Errorf("%w: %s", ErrScale, x.String())
			}
			return Amount{}, fmt.Errorf("%w: %s", ErrOverflow, x.String())
		}
	}
	if apd.NumDigits(&q.Coeff) > Precision {
		return Amount{}, fmt.Errorf("%w: %s", ErrOverflow, q.Text('f'))
	}
	var a Amount
	a.d.Negative = q.Negative
	a.d.Exponent = -Scale
	a.d.Coeff.Set(&q.Coeff) // a fresh coefficient of at most 20 digits stays inline
	return a, nil
}

// String returns a in canonical form: an optional minus sign, the integer
// digits without leading zeros (a single 0 when there are none) and exactly
// four fractional digits, such as "1234.5000", "0.0000" or "-0.0001".
func (a Amount) String() string {
	ds := a.d.Coeff.Text(10) // the absolute value times 10^Scale ("0" for 0)
	if len(ds) <= Scale {
		ds = strings.Repeat("0", Scale+1-len(ds)) + ds
	}
	var b strings.Builder
	b.Grow(len(ds) + 2)
	if a.d.Negative {
		b.WriteByte('-')
	}
	b.WriteString(ds[:len(ds)-Scale])
	b.WriteByte('.')
	b.WriteString(ds[len(ds)-Scale:])
	return b.String()
}

// Add returns a + b, or ErrOverflow if the sum has more than 16 integer digits.
func (a Amount) Add(b Amount) (Amount, error) {
	var r apd.Decimal
	if _, err := arith().Add(&r, &a.d, &b.d); err != nil {
		return Amount{}, fmt.Errorf("%w: %s + %s", ErrOverflow, a, b)
	}
	s, err := normalize(&r)
	if err != nil {
		return Amount{}, fmt.Errorf("%w: %s + %s", ErrOverflow, a, b)
	}
	return s, nil
}

// Sub returns a - b, or ErrOverflow if the difference has more than 16 integer
// digits.
func (a Amount) Sub(b Amount) (Amount, error) {
	var r apd.Decimal
	if _, err := arith().Sub(&r, &a.d, &b.d); err != nil {
		return Amount{}, fmt.Errorf("%w: %s - %s", ErrOverflow, a, b)
	}
	s, err := normalize(&r)
	if err != nil {
		return Amount{}, fmt.Errorf("%w: %s - %s", ErrOverflow, a, b)
	}
	return s, nil
}

// MulInt returns a × n, such as a unit price times a quantity, or ErrOverflow
// if the product has more than 16 integer digits.
func (a Amount) MulInt(n int64) (Amount, error) {
	var r apd.Decimal
	if _, err := arith().Mul(&r, &a.d, apd.New(n, 0)); err != nil {
		return Amount{}, fmt.Errorf("%w: %s * %d", ErrOverflow, a, n)
	}
	p, err := normalize(&r)
	if err != nil {
		return Amount{}, fmt.Errorf("%w: %s * %d", ErrOverflow, a, n)
	}
	return p, nil
}

// Neg returns -a. It cannot overflow: the range of amounts is symmetric.
func (a Amount) Neg() Amount {
	if a.IsZero() {
		return Amount{}
	}
	n := a
	n.d.Negative = !a.d.Negative
	return n
}

// Cmp compares a and b and returns -1 if a < b, 0 if a == b and +1 if a > b.
func (a Amount) Cmp(b Amount) int { return a.d.Cmp(&b.d) }

// IsZero reports whether a is 0.
func (a Amount) IsZero() bool { return a.d.IsZero() }

// Sign returns -1 if a < 0, 0 if a is 0 and +1 if a > 0.
func (a Amount) Sign() int { return a.d.Sign() }

// Value implements driver.Valuer: an amount is stored as its canonical text,
// which PostgreSQL reads into NUMERIC(20,4) and SQLite keeps in a TEXT column.
func (a Amount) Value() (driver.Value, error) { return a.String(), nil }

// Scan implements sql.Scanner. It reads text (string or []byte, as from a
// TEXT or NUMERIC column) and int64. It refuses float64, which only a REAL
// column or an SQL expression computed in floating point produces and which
// may already have lost digits, and NULL, for which an ent field must be
// Nillable. All errors wrap ErrScan, and those of the text also ErrSyntax,
// ErrScale or ErrOverflow.
func (a *Amount) Scan(src any) error {
	var (
		p   Amount
		err error
	)
	switch v := src.(type) {
	case string:
		p, err = Parse(v)
	case []byte:
		p, err = Parse(string(v))
	case int64:
		p, err = normalize(apd.New(v, 0))
	case float64:
		return fmt.Errorf("%w from float64 %v: amounts are never read through floating point; store them in a NUMERIC(20,4) or TEXT column", ErrScan, v)
	case nil:
		return fmt.Errorf("%w from NULL: declare a nullable amount field Nillable", ErrScan)
	default:
		return fmt.Errorf("%w from %T", ErrScan, src)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrScan, err)
	}
	*a = p
	return nil
}

// MarshalGQL writes a as a GraphQL string in canonical form.
func (a Amount) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, `"`+a.String()+`"`)
}

// UnmarshalGQL reads a from a GraphQL string such as "1234.50". It refuses a
// number, whether an int, a float or a json.Number, with ErrSyntax: a client
// sends an amount as a string so that no float rounds it on the way.
func (a *Amount) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%w: got %T; send an amount as a string such as \"1234.50\"", ErrSyntax, v)
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// MarshalJSON writes a as a JSON string in canonical form.
func (a Amount) MarshalJSON() ([]byte, error) { return []byte(`"` + a.String() + `"`), nil }

// UnmarshalJSON reads a from a JSON string such as "1234.50". It refuses a
// JSON number with ErrSyntax, for the reason given at UnmarshalGQL. As the
// json package expects, null leaves a unchanged.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if len(b) == 0 || b[0] != '"' {
		return fmt.Errorf("%w: a JSON amount must be a string such as \"1234.50\", not %s", ErrSyntax, clip(string(b)))
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*a = p
	return nil
}
