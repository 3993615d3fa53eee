package money

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"regexp"
	"sync"
	"testing"
)

var canonical = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,15})\.[0-9]{4}$`)

// FuzzParse checks that whatever Parse accepts has one canonical form, which
// parses back to an equal amount.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "-0", "1234.5", "-0.0001", "1.50000", maxText, minText, "1e3", ".5", "00.10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		c := a.String()
		if !canonical.MatchString(c) || c == "-0.0000" {
			t.Fatalf("Parse(%q).String() = %q is not canonical", s, c)
		}
		if b := MustParse(c); b != a || b.Cmp(a) != 0 {
			t.Fatalf("Parse(%q) = %q parses back as %q", s, c, b)
		}
	})
}

// ratOf returns a as an exact rational, from its text.
func ratOf(t *testing.T, a Amount) *big.Rat {
	r, ok := new(big.Rat).SetString(a.String())
	if !ok {
		t.Fatalf("%q is not a rational", a)
	}
	return r
}

// randomAmount returns an amount with up to 20 random digits.
func randomAmount(r *rand.Rand) Amount {
	digits := r.IntN(Precision) + 1
	var s []byte
	for range digits {
		s = append(s, byte('0'+r.IntN(10)))
	}
	whole, frac := s, []byte("0")
	if n := len(s); n > Precision-Scale || (n > Scale && r.IntN(4) > 0) {
		whole, frac = s[:n-Scale], s[n-Scale:]
	}
	text := fmt.Sprintf("%s.%s", whole, frac)
	if r.IntN(2) == 0 {
		text = "-" + text
	}
	return MustParse(text)
}

// TestArithmeticAgainstBigRat compares Add, Sub, MulInt, Cmp and == with
// exact rational arithmetic on random amounts.
func TestArithmeticAgainstBigRat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	limit, _ := new(big.Rat).SetString(maxText)
	inRange := func(x *big.Rat) bool { return new(big.Rat).Abs(x).Cmp(limit) <= 0 }
	check := func(what string, got Amount, err error, want *big.Rat) {
		t.Helper()
		if !inRange(want) {
			if err == nil {
				t.Fatalf("%s = %s; want ErrOverflow", what, got)
			}
			return
		}
		if err != nil || ratOf(t, got).Cmp(want) != 0 || got != MustParse(got.String()) {
			t.Fatalf("%s = %s, %v; want %s", what, got, err, want.FloatString(Scale))
		}
	}
	for range 5000 {
		a, b := randomAmount(r), randomAmount(r)
		ra, rb := ratOf(t, a), ratOf(t, b)
		s, err := a.Add(b)
		check(fmt.Sprintf("%s + %s", a, b), s, err, new(big.Rat).Add(ra, rb))
		d, err := a.Sub(b)
		check(fmt.Sprintf("%s - %s", a, b), d, err, new(big.Rat).Sub(ra, rb))
		n := r.Int64N(1<<40) - 1<<39
		p, err := a.MulInt(n)
		check(fmt.Sprintf("%s * %d", a, n), p, err, new(big.Rat).Mul(ra, new(big.Rat).SetInt64(n)))
		if a.Cmp(b) != ra.Cmp(rb) || (a == b) != (ra.Cmp(rb) == 0) || a.Sign() != ra.Sign() {
			t.Fatalf("comparing %s and %s", a, b)
		}
	}
}

// TestConcurrentUse reads shared amounts from many goroutines; run with
// -race it shows that no method writes to its receiver.
func TestConcurrentUse(t *testing.T) {
	shared := []Amount{MustParse(maxText), MustParse("-1234.5678"), MustParse("0.3")}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				for _, a := range shared {
					_ = a.String()
					_, _ = a.Add(shared[2])
					_, _ = a.MulInt(3)
					_ = a.Neg()
					_ = a.Cmp(shared[1])
					_, _ = a.Value()
				}
			}
		})
	}
	wg.Wait()
	if shared[0].String() != maxText || shared[2] != MustParse("0.3") {
		t.Fatal("shared amounts changed")
	}
}
