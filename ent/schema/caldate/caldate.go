// Package caldate owns calendar dates: a day without a time or a zone, such
// as a next follow-up date or a contract's start. It is stored as
// "YYYY-MM-DD" text on both databases and travels as that string in GraphQL,
// so a date never shifts when read in another time zone.
package caldate

import (
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"time"
)

const layout = "2006-01-02"

// Date is a calendar day. The zero Date is not a valid day.
type Date struct {
	t time.Time // midnight UTC of the day
}

// New returns the date of year, month and day, normalised like time.Date.
func New(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// Of returns the calendar day of t in loc (a tenant's time zone).
func Of(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return New(y, m, d)
}

// Parse reads a "YYYY-MM-DD" date.
func Parse(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("caldate: %q is not a YYYY-MM-DD date", s)
	}
	return Date{t}, nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String returns d as "YYYY-MM-DD".
func (d Date) String() string { return d.t.Format(layout) }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// AddDays returns the date n days after d.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Start returns the first instant of d in loc.
func (d Date) Start(loc *time.Location) time.Time {
	y, m, day := d.t.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, loc)
}

// Value implements driver.Valuer: dates are stored as text.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan implements sql.Scanner for text and time columns.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case string:
		p, err := Parse(v)
		*d = p
		return err
	case []byte:
		p, err := Parse(string(v))
		*d = p
		return err
	case time.Time:
		*d = New(v.Date())
		return nil
	}
	return fmt.Errorf("caldate: cannot scan %T", src)
}

// MarshalGQL writes d as a GraphQL string.
func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(d.String())) }

// UnmarshalGQL reads d from a GraphQL string.
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("caldate: a date must be a YYYY-MM-DD string")
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// MarshalJSON writes d as a JSON string.
func (d Date) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// UnmarshalJSON reads d from a JSON string.
func (d *Date) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("caldate: a date must be a JSON string")
	}
	p, err := Parse(s)
	*d = p
	return err
}
