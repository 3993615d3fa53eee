package bigram

import (
	"slices"
	"testing"
)

func TestOf(t *testing.T) {
	cases := map[string]Tokens{
		"":             nil,
		"王":            nil,
		"海禾投资海禾":       {"海禾", "禾投", "投资", "资海"},
		"Fabrikam Co.": {"fa", "ab", "br", "ri", "ik", "ka", "am", "m ", " c", "co", "o."},
		"ＡＢ":           {"ａｂ"},
		`say "hi"\`:    {"sa", "ay", "y ", ` "`, `"h`, "hi", `i"`, `"\`},
	}
	for in, want := range cases {
		if got := Of(in); !slices.Equal(got, want) {
			t.Errorf("Of(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEverySubstringsTokensAreTheNames(t *testing.T) {
	name := []rune("深圳府信文化传媒有限公司 Shenzhen Fuxin")
	all := Of(string(name))
	for i := 0; i < len(name); i++ {
		for j := i + 2; j <= len(name); j++ {
			for _, tok := range Of(string(name[i:j])) {
				if !slices.Contains(all, tok) {
					t.Fatalf("token %q of %q is not among the name's", tok, string(name[i:j]))
				}
			}
		}
	}
}

func TestValueScanRoundTrip(t *testing.T) {
	for _, in := range []Tokens{{}, {"海禾"}, {"a,", `"b`, `\c`, "{}", " d"}, Of("Fabrikam Logistics")} {
		v, err := in.Value()
		if err != nil {
			t.Fatal(err)
		}
		var out Tokens
		if err := out.Scan(v); err != nil {
			t.Fatalf("scan %q: %v", v, err)
		}
		if !slices.Equal(out, in) {
			t.Errorf("%q came back as %q", in, out)
		}
		var fromBytes Tokens
		if err := fromBytes.Scan([]byte(v.(string))); err != nil || !slices.Equal(fromBytes, in) {
			t.Errorf("bytes %q came back as %q (%v)", v, fromBytes, err)
		}
	}
	// PostgreSQL leaves simple elements unquoted.
	var pg Tokens
	if err := pg.Scan(`{ab,"c d",海禾}`); err != nil || !slices.Equal(pg, Tokens{"ab", "c d", "海禾"}) {
		t.Errorf("unquoted elements: %q (%v)", pg, err)
	}
	for _, bad := range []string{"", "ab", "{", `{"ab}`, `{"a"b}`} {
		var x Tokens
		if err := x.Scan(bad); err == nil {
			t.Errorf("Scan(%q) accepted a malformed literal: %q", bad, x)
		}
	}
}
