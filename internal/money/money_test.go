package money

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
)

func TestParseCurrency(t *testing.T) {
	for _, tc := range []struct {
		code  string
		minor int
	}{
		{"CNY", 2}, {"USD", 2}, {"EUR", 2}, {"JPY", 0}, {"HKD", 2}, {"GBP", 2}, {"TWD", 2},
		{"SGD", 2}, {"KRW", 0}, {"AUD", 2}, {"CAD", 2}, {"CHF", 2}, {"MOP", 2}, {"KWD", 3},
		{"BHD", 3}, {"CLF", 4}, {"UYW", 4}, {"VND", 0}, {"XOF", 0}, {"XCG", 2}, {"ZWG", 2},
	} {
		c, err := ParseCurrency(tc.code)
		if err != nil || c != Currency(tc.code) || c.String() != tc.code {
			t.Errorf("ParseCurrency(%q) = %q, %v", tc.code, c, err)
			continue
		}
		if d, ok := c.MinorUnits(); !ok || d != tc.minor {
			t.Errorf("%s.MinorUnits() = %d, %v; want %d", tc.code, d, ok, tc.minor)
		}
	}
	for _, bad := range []string{"", "cny", "Cny", "RMB", "CN", "CNYY", " CNY", "XAU", "XXX", "XTS", "XDR", "HRK", "ANG", "ZWL"} {
		if c, err := ParseCurrency(bad); !errors.Is(err, ErrCurrency) || c != "" {
			t.Errorf("ParseCurrency(%q) = %q, %v; want ErrCurrency", bad, c, err)
		}
		if _, ok := Currency(bad).MinorUnits(); ok {
			t.Errorf("MinorUnits of %q is known", bad)
		}
	}
}

func TestCurrencies(t *testing.T) {
	cs := Currencies()
	if len(cs) < 150 || !slices.IsSorted(cs) {
		t.Fatalf("Currencies() has %d codes, sorted %v", len(cs), slices.IsSorted(cs))
	}
	for _, c := range cs {
		if len(c) != 3 || c.Validate() != nil {
			t.Errorf("listed currency %q does not validate", c)
		}
		for _, r := range c {
			if r < 'A' || r > 'Z' {
				t.Errorf("listed currency %q is not three upper-case letters", c)
			}
		}
		if d, _ := c.MinorUnits(); d < 0 || d > Scale {
			t.Errorf("%s has %d minor digits, more than an amount holds", c, d)
		}
	}
	cs[0] = "ZZZ"
	if Currencies()[0] == "ZZZ" {
		t.Fatal("Currencies returned the table itself")
	}
}

func m(amount string, c Currency) Money { return Money{Amount: MustParse(amount), Currency: c} }

func TestMoneyAdd(t *testing.T) {
	s, err := m("0.1", "CNY").Add(m("0.2", "CNY"))
	if err != nil || s != m("0.3", "CNY") || s.String() != "0.3000 CNY" {
		t.Fatalf("Add = %v, %v", s, err)
	}
	d, err := m("10", "USD").Sub(m("0.0001", "USD"))
	if err != nil || d != m("9.9999", "USD") {
		t.Fatalf("Sub = %v, %v", d, err)
	}
	if _, err := m("1", "CNY").Add(m("1", "USD")); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("Add CNY + USD: %v", err)
	}
	if _, err := m("1", "CNY").Sub(m("1", "")); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("Sub CNY - none: %v", err)
	}
	if _, err := m(maxText, "EUR").Add(m("1", "EUR")); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add overflow: %v", err)
	}
	if _, err := m(minText, "EUR").Sub(m("1", "EUR")); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Sub overflow: %v", err)
	}
}

func TestSum(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items []Money
		want  map[Currency]string
		err   error
	}{
		{name: "none", items: nil, want: map[Currency]string{}},
		{
			name:  "by currency",
			items: []Money{m("0.1", "CNY"), m("100", "USD"), m("0.2", "CNY"), m("-30.5", "USD"), m("5", "JPY")},
			want:  map[Currency]string{"CNY": "0.3000", "USD": "69.5000", "JPY": "5.0000"},
		},
		{
			name:  "to zero",
			items: []Money{m("12.34", "EUR"), m("-12.34", "EUR")},
			want:  map[Currency]string{"EUR": "0.0000"},
		},
		{
			// Summed in order, a running total can go out of range even if
			// the final one would not: Sum reports it rather than wrapping.
			name:  "overflow",
			items: []Money{m(maxText, "HKD"), m("0.0001", "HKD"), m("-1", "HKD")},
			err:   ErrOverflow,
		},
		{
			name:  "no currency",
			items: []Money{m("1", "CNY"), m("1", "")},
			err:   ErrCurrency,
		},
	} {
		got, err := Sum(tc.items)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || got != nil {
				t.Errorf("%s: Sum = %v, %v; want error %v", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Sum: %v", tc.name, err)
			continue
		}
		texts := make(map[Currency]string, len(got))
		for c, a := range got {
			texts[c] = a.String()
		}
		if !maps.Equal(texts, tc.want) {
			t.Errorf("%s: Sum = %v; want %v", tc.name, texts, tc.want)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	b, err := json.Marshal(m("1234.5", "CNY"))
	if err != nil || string(b) != `{"amount":"1234.5000","currency":"CNY"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back Money
	if err := json.Unmarshal(b, &back); err != nil || back != m("1234.5", "CNY") {
		t.Fatalf("Unmarshal = %v, %v", back, err)
	}
}

func TestSchemaType(t *testing.T) {
	st := SchemaType()
	if len(st) != 2 || st["postgres"] != "numeric(20,4)" || st["sqlite3"] != "text" {
		t.Fatalf("SchemaType() = %v", st)
	}
	st["postgres"] = "float8"
	if SchemaType()["postgres"] != "numeric(20,4)" {
		t.Fatal("SchemaType returned a shared map")
	}
}
