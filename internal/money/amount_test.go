package money

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	maxText = "9999999999999999.9999"
	minText = "-9999999999999999.9999"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{in: "0", want: "0.0000"},
		{in: "-0", want: "0.0000"},
		{in: "-0.0000", want: "0.0000"},
		{in: "1234.5", want: "1234.5000"},
		{in: "1234.50", want: "1234.5000"},
		{in: "-0.0001", want: "-0.0001"},
		{in: "0.0001", want: "0.0001"},
		{in: "42", want: "42.0000"},
		{in: "007.10", want: "7.1000"},
		{in: "1.50000000", want: "1.5000"}, // trailing zeros round nothing
		{in: maxText, want: maxText},
		{in: minText, want: minText},
		{in: "0000000000000000000001.5", want: "1.5000"},
		{in: "1234567890123456.1234", want: "1234567890123456.1234"},

		{in: "0.00001", err: ErrScale},
		{in: "1.23456", err: ErrScale},
		{in: "-0.00000001", err: ErrScale},
		{in: "10000000000000000", err: ErrOverflow},
		{in: "-10000000000000000.0000", err: ErrOverflow},
		{in: "99999999999999999", err: ErrOverflow},

		{in: "", err: ErrSyntax},
		{in: "-", err: ErrSyntax},
		{in: ".5", err: ErrSyntax},
		{in: "5.", err: ErrSyntax},
		{in: "+5", err: ErrSyntax},
		{in: "--5", err: ErrSyntax},
		{in: "1e3", err: ErrSyntax},
		{in: "1E3", err: ErrSyntax},
		{in: "1,234.50", err: ErrSyntax},
		{in: "1 234", err: ErrSyntax},
		{in: " 1", err: ErrSyntax},
		{in: "1 ", err: ErrSyntax},
		{in: "1.2.3", err: ErrSyntax},
		{in: "NaN", err: ErrSyntax},
		{in: "Infinity", err: ErrSyntax},
		{in: "0x10", err: ErrSyntax},
		{in: "１２", err: ErrSyntax}, // full-width digits
		{in: "¥12", err: ErrSyntax},
	} {
		a, err := Parse(tc.in)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("Parse(%q) = %v, %v; want error %v", tc.in, a, err, tc.err)
			}
			continue
		}
		if err != nil || a.String() != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, a.String(), err, tc.want)
			continue
		}
		// The canonical form parses back to the same amount.
		if b := MustParse(a.String()); b != a {
			t.Errorf("Parse(%q).String() does not parse back: %v", tc.in, b)
		}
	}
}

func TestParseErrorQuotesShortInput(t *testing.T) {
	_, err := Parse(strings.Repeat("9", 10000))
	if !errors.Is(err, ErrOverflow) || len(err.Error()) > 200 {
		t.Fatalf("error for a long input: %v", err)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse accepted 1e3")
		}
	}()
	MustParse("1e3")
}

func TestZero(t *testing.T) {
	var z Amount
	if z != Zero() || z != MustParse("0") || z != MustParse("-0.0000") {
		t.Fatal("zero amounts differ under ==")
	}
	if !z.IsZero() || z.Sign() != 0 || z.String() != "0.0000" || z.Neg() != z {
		t.Fatalf("zero: %v %v %q %v", z.IsZero(), z.Sign(), z.String(), z.Neg())
	}
}

func TestArithmetic(t *testing.T) {
	for _, tc := range []struct {
		op, a, b, want string
		err            error
	}{
		{op: "+", a: "0.1", b: "0.2", want: "0.3000"},
		{op: "+", a: "1234.5", b: "-1234.5", want: "0.0000"},
		{op: "+", a: "-0.0001", b: "0.0001", want: "0.0000"},
		{op: "+", a: "0", b: "-7.25", want: "-7.2500"},
		{op: "+", a: "9999999999999999.9998", b: "0.0001", want: maxText},
		{op: "+", a: maxText, b: "0.0001", err: ErrOverflow},
		{op: "+", a: minText, b: "-0.0001", err: ErrOverflow},
		{op: "+", a: maxText, b: minText, want: "0.0000"},
		{op: "-", a: "0.3", b: "0.1", want: "0.2000"},
		{op: "-", a: "0.1", b: "0.3", want: "-0.2000"},
		{op: "-", a: minText, b: "0.0001", err: ErrOverflow},
		{op: "-", a: maxText, b: minText, err: ErrOverflow},
		{op: "-", a: "5", b: "5", want: "0.0000"},
	} {
		a, b := MustParse(tc.a), MustParse(tc.b)
		var (
			got Amount
			err error
		)
		if tc.op == "+" {
			got, err = a.Add(b)
		} else {
			got, err = a.Sub(b)
		}
		if tc.err != nil {
			if !errors.Is(err, tc.err) || got != (Amount{}) {
				t.Errorf("%s %s %s = %v, %v; want error %v", tc.a, tc.op, tc.b, got, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want || got != MustParse(tc.want) {
			t.Errorf("%s %s %s = %v, %v; want %s", tc.a, tc.op, tc.b, got, err, tc.want)
		}
	}
}

func TestPointOnePlusPointTwo(t *testing.T) {
	s, err := MustParse("0.1").Add(MustParse("0.2"))
	if err != nil || s != MustParse("0.3") || s.Cmp(MustParse("0.3")) != 0 {
		t.Fatalf("0.1 + 0.2 = %v, %v", s, err)
	}
}

func TestMulInt(t *testing.T) {
	for _, tc := range []struct {
		a    string
		n    int64
		want string
		err  error
	}{
		{a: "19.99", n: 3, want: "59.9700"},
		{a: "0.0001", n: -1, want: "-0.0001"},
		{a: "123.4567", n: 0, want: "0.0000"},
		{a: "0", n: 9223372036854775807, want: "0.0000"},
		{a: "0.0001", n: 99999999999999999, want: "9999999999999.9999"},
		{a: "1", n: 9999999999999999, want: "9999999999999999.0000"},
		{a: "1", n: 10000000000000000, err: ErrOverflow},
		{a: maxText, n: 2, err: ErrOverflow},
		{a: maxText, n: -1, want: minText},
		{a: maxText, n: -9223372036854775808, err: ErrOverflow},
		{a: "0.0001", n: -9223372036854775808, want: "-922337203685477.5808"},
	} {
		got, err := MustParse(tc.a).MulInt(tc.n)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s * %d = %v, %v; want error %v", tc.a, tc.n, got, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want || got != MustParse(tc.want) {
			t.Errorf("%s * %d = %v, %v; want %s", tc.a, tc.n, got, err, tc.want)
		}
	}
}

func TestNegCmpSign(t *testing.T) {
	a, b := MustParse("-2.5"), MustParse("10")
	if a.Cmp(b) != -1 || b.Cmp(a) != 1 || a.Cmp(MustParse("-2.50")) != 0 {
		t.Fatal("Cmp")
	}
	if MustParse("-0.0001").Cmp(Zero()) != -1 || Zero().Cmp(MustParse("0.0001")) != -1 {
		t.Fatal("Cmp around zero")
	}
	if MustParse(minText).Cmp(MustParse(maxText)) != -1 {
		t.Fatal("Cmp of the extremes")
	}
	if a.Sign() != -1 || b.Sign() != 1 || a.IsZero() {
		t.Fatal("Sign")
	}
	if a.Neg() != MustParse("2.5") || a.Neg().Neg() != a || MustParse(minText).Neg().String() != maxText {
		t.Fatal("Neg")
	}
}

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		src  any
		want string
		err  error
	}{
		{src: "1234.5000", want: "1234.5000"},
		{src: []byte("-0.0001"), want: "-0.0001"},
		{src: "12.340000", want: "12.3400"}, // e.g. a NUMERIC without a scale
		{src: int64(42), want: "42.0000"},
		{src: int64(-9999999999999999), want: "-9999999999999999.0000"},
		{src: int64(10000000000000000), err: ErrOverflow},
		{src: "1e3", err: ErrSyntax},
		{src: "0.00001", err: ErrScale},
		{src: 0.1, err: ErrScan},
		{src: float64(3), err: ErrScan},
		{src: nil, err: ErrScan},
		{src: true, err: ErrScan},
	} {
		a := MustParse("7")
		err := a.Scan(tc.src)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || !errors.Is(err, ErrScan) {
				t.Errorf("Scan(%#v) = %v; want error %v", tc.src, err, tc.err)
			}
			if a != MustParse("7") {
				t.Errorf("a failed Scan(%#v) changed the amount to %v", tc.src, a)
			}
			continue
		}
		if err != nil || a.String() != tc.want {
			t.Errorf("Scan(%#v) = %v, %v; want %s", tc.src, a, err, tc.want)
		}
	}
}

func TestValue(t *testing.T) {
	for _, s := range []string{"0", "1234.5", "-0.0001", maxText} {
		a := MustParse(s)
		v, err := a.Value()
		if err != nil || v != a.String() {
			t.Errorf("Value(%s) = %#v, %v", s, v, err)
		}
		var back Amount
		if err := back.Scan(v); err != nil || back != a {
			t.Errorf("Value/Scan round trip of %s: %v, %v", s, back, err)
		}
	}
}

func TestGQL(t *testing.T) {
	var buf bytes.Buffer
	MustParse("1234.5").MarshalGQL(&buf)
	if buf.String() != `"1234.5000"` {
		t.Fatalf("MarshalGQL = %s", buf.String())
	}
	var a Amount
	if err := a.UnmarshalGQL("1234.50"); err != nil || a != MustParse("1234.5") {
		t.Fatalf("UnmarshalGQL(string) = %v, %v", a, err)
	}
	for _, v := range []any{1234.5, int64(1), 1, json.Number("1.5"), nil, "1e3", "1.00001"} {
		a := MustParse("7")
		if err := a.UnmarshalGQL(v); err == nil || a != MustParse("7") {
			t.Errorf("UnmarshalGQL(%#v) = %v, %v; want an error", v, a, err)
		}
	}
	if err := a.UnmarshalGQL(1234.5); !errors.Is(err, ErrSyntax) {
		t.Errorf("UnmarshalGQL(float) error %v does not wrap ErrSyntax", err)
	}
}

func TestJSON(t *testing.T) {
	type row struct {
		Price Amount `json:"price"`
	}
	b, err := json.Marshal(row{MustParse("-12.3")})
	if err != nil || string(b) != `{"price":"-12.3000"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var r row
	if err := json.Unmarshal([]byte(`{"price":"1234.50"}`), &r); err != nil || r.Price != MustParse("1234.5") {
		t.Fatalf("Unmarshal string = %v, %v", r.Price, err)
	}
	if err := json.Unmarshal([]byte(`{"price":"\u0031.5"}`), &r); err != nil || r.Price != MustParse("1.5") {
		t.Fatalf("Unmarshal escaped string = %v, %v", r.Price, err)
	}
	r.Price = MustParse("7")
	if err := json.Unmarshal([]byte(`{"price":null}`), &r); err != nil || r.Price != MustParse("7") {
		t.Fatalf("Unmarshal null = %v, %v", r.Price, err)
	}
	for _, in := range []string{`{"price":1234.5}`, `{"price":1}`, `{"price":"1e3"}`, `{"price":"0.00001"}`, `{"price":true}`, `{"price":'1'}`} {
		r.Price = MustParse("7")
		if err := json.Unmarshal([]byte(in), &r); err == nil || r.Price != MustParse("7") {
			t.Errorf("Unmarshal(%s) = %v, %v; want an error", in, r.Price, err)
		}
	}
	if err := r.Price.UnmarshalJSON([]byte(`1234.5`)); !errors.Is(err, ErrSyntax) {
		t.Errorf("UnmarshalJSON(number) error %v does not wrap ErrSyntax", err)
	}
}
