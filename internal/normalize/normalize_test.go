package normalize_test

import (
	"testing"

	"github.com/custos-crm/custos/internal/normalize"
)

func TestText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"abc", "abc"},
		{"  Zhang   San  ", "Zhang San"},
		{"Ｚｈａｎｇ　Ｓａｎ", "Zhang San"}, // full-width letters, ideographic space
		{"１３８－１２３４－５６７８", "138-1234-5678"},
		{"！～", "!~"},                     // U+FF01 and U+FF5E, the ends of the range
		{"\uFF00\uFF5F", "\uFF00\uFF5F"}, // just outside the range
		{"张\t三\n\u00A0丰", "张 三 丰"},
		{"\uFEFFa\u200Bb", "ab"},
		{"北京市　朝阳区", "北京市 朝阳区"},
		{"MiXeD", "MiXeD"},
	}
	for _, tc := range cases {
		if got := normalize.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEmail(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"zhang.san@example.com", "zhang.san@example.com", true},
		{"  Zhang.San@Example.COM ", "zhang.san@example.com", true},
		{"ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zhang@example.com", true},
		{"", "", false},
		{"zhang", "", false},
		{"@example.com", "", false},
		{"zhang@", "", false},
		{"a@b@c", "", false},
		{"zhang san@example.com", "", false},
	}
	for _, tc := range cases {
		got, ok := normalize.Email(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Email(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWeChat(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Zhang_San88", "zhang_san88", true},
		{" wxid_ABC123 ", "wxid_abc123", true},
		{"ｗｘｉｄ＿ａｂｃ", "wxid_abc", true},
		{"13812345678", "13812345678", true},
		{"", "", false},
		{"   ", "", false},
		{"zhang san", "", false},
		{"a\x00b", "", false},
	}
	for _, tc := range cases {
		got, ok := normalize.WeChat(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("WeChat(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPhone(t *testing.T) {
	cases := []struct {
		in, region, want string
	}{
		// One mobile, every common spelling.
		{"13812345678", "86", "+8613812345678"},
		{"+86 138 1234 5678", "86", "+8613812345678"},
		{"138-1234-5678", "86", "+8613812345678"},
		{"138 1234 5678", "86", "+8613812345678"},
		{"138.1234.5678", "86", "+8613812345678"},
		{"(+86)13812345678", "86", "+8613812345678"},
		{"（＋８６）１３８１２３４５６７８", "86", "+8613812345678"},
		{"+86-138-1234-5678", "86", "+8613812345678"},
		{"+8613812345678", "86", "+8613812345678"},
		{"0086 138 1234 5678", "86", "+8613812345678"},
		{"008613812345678", "86", "+8613812345678"},
		{"86-138-1234-5678", "86", "+8613812345678"},
		{"8613812345678", "86", "+8613812345678"},
		{"8613812345678", "1", "+8613812345678"},
		{"１３８１２３４５６７８", "86", "+8613812345678"},
		{"１３８－１２３４－５６７８", "86", "+8613812345678"},
		{"138\u20141234\u20145678", "86", "+8613812345678"},
		{"  13812345678  ", "+86", "+8613812345678"},
		{"+86 138 1234 5678", "", "+8613812345678"},
		{"19912345678", "86", "+8619912345678"},

		// Mainland landlines and service numbers.
		{"010-12345678", "86", "+861012345678"},
		{"(010) 1234 5678", "86", "+861012345678"},
		{"+86 10 1234 5678", "86", "+861012345678"},
		{"+86 010 1234 5678", "86", "+861012345678"},
		{"+86 (0)10 1234 5678", "86", "+861012345678"},
		{"021-62345678", "86", "+862162345678"},
		{"0571 8888 6666", "86", "+8657188886666"},
		{"0571-8888666", "86", "+865718888666"},
		{"0571/88886666", "86", "+8657188886666"},
		{"400-820-8820", "86", "+864008208820"},
		{"800 820 8820", "86", "+868008208820"},

		// Extensions are dropped.
		{"010-12345678 转 801", "86", "+861012345678"},
		{"010-12345678转801", "86", "+861012345678"},
		{"010-12345678 分机 801", "86", "+861012345678"},
		{"010-12345678 x123", "86", "+861012345678"},
		{"010-12345678 ext. 123", "86", "+861012345678"},
		{"010-12345678#123", "86", "+861012345678"},
		{"+1 415 555 2671 ext 12", "86", "+14155552671"},

		// Other countries.
		{"+1 415 555 2671", "86", "+14155552671"},
		{"+1 (415) 555-2671", "86", "+14155552671"},
		{"(415) 555-2671", "1", "+14155552671"},
		{"1-415-555-2671", "1", "+14155552671"},
		{"001 415 555 2671", "86", "+14155552671"},
		{"+44 20 7946 0958", "86", "+442079460958"},
		{"+44 (0)20 7946 0958", "86", "+442079460958"},
		{"020 7946 0958", "44", "+442079460958"},
		{"+852 2123 4567", "86", "+85221234567"},
		{"+886 912 345 678", "86", "+886912345678"},
		{"06 1234 5678", "39", "+390612345678"},
		{"8 912 345 67 89", "7", "+79123456789"},
		{"+49 30 1234567", "86", "+49301234567"},
	}
	for _, tc := range cases {
		got, ok := normalize.Phone(tc.in, tc.region)
		if !ok || got != tc.want {
			t.Errorf("Phone(%q, %q) = %q, %v; want %q", tc.in, tc.region, got, ok, tc.want)
		}
	}
}

func TestPhoneRefuses(t *testing.T) {
	cases := []struct{ in, region string }{
		{"", "86"},
		{"   ", "86"},
		{"abc", "86"},
		{"call me", "86"},
		{"138abcd5678", "86"},
		{"tel 13812345678", "86"},
		{"1381234567", "86"},           // 10 digits: not a mobile
		{"138123456789", "86"},         // 12 digits
		{"12345678901", "86"},          // 12x is not a mobile prefix
		{"88886666", "86"},             // local number without its area code
		{"95588", "86"},                // short service number
		{"010-1234567", "86"},          // Beijing needs 8 digits
		{"010-02345678", "86"},         // local numbers do not start with 0
		{"+86 123 4567 8901", "86"},    // not a valid mainland number
		{"8612345678901", "86"},        // 86 not followed by a mobile, and not a national number
		{"13812345678", ""},            // no prefix and no default region
		{"13812345678", "x"},           // malformed region
		{"13812345678", "8"},           // no such calling code
		{"+1 415 555 267", "86"},       // North America needs 10 digits
		{"+1 015 555 2671", "86"},      // area codes start 2-9
		{"+44 1234567890123456", "86"}, // more than 15 digits
		{"0044 20 7946 0958 1234 56", "86"},
		{"+0 123 4567", "86"},
		{"++86 13812345678", "86"},
		{"86+13812345678", "86"},
		{"13812345678, 13987654321", "86"},
		{"13812345678 / 13987654321", "86"},
		{"010-12345678 转", "86"},
		{"010-12345678 x 1234567", "86"}, // extension too long
		{"010-12345678 ext abc", "86"},
		{"+44", "86"},
		{"+", "86"},
		{"-", "86"},
	}
	for _, tc := range cases {
		if got, ok := normalize.Phone(tc.in, tc.region); ok || got != "" {
			t.Errorf("Phone(%q, %q) = %q, %v; want refused", tc.in, tc.region, got, ok)
		}
	}
}

func TestSplitCallingCode(t *testing.T) {
	cases := []struct {
		in, code, nat string
		ok            bool
	}{
		{"+8613812345678", "86", "13812345678", true},
		{"14155552671", "1", "4155552671", true},
		{"+79123456789", "7", "9123456789", true},
		{"+85221234567", "852", "21234567", true},
		{"+442079460958", "44", "2079460958", true},
		{"+35312345678", "353", "12345678", true},
		{"+86", "", "", false},
		{"", "", "", false},
		{"+0123", "", "", false},
		{"+86a", "", "", false},
	}
	for _, tc := range cases {
		code, nat, ok := normalize.SplitCallingCode(tc.in)
		if code != tc.code || nat != tc.nat || ok != tc.ok {
			t.Errorf("SplitCallingCode(%q) = %q, %q, %v; want %q, %q, %v", tc.in, code, nat, ok, tc.code, tc.nat, tc.ok)
		}
	}
}

// TestPhoneIdempotent checks that a normalised number normalises to itself.
func TestPhoneIdempotent(t *testing.T) {
	for _, in := range []string{"13812345678", "010-12345678", "+1 415 555 2671", "+44 20 7946 0958", "0571 8888 6666"} {
		once, ok := normalize.Phone(in, "86")
		if !ok {
			t.Fatalf("Phone(%q) refused", in)
		}
		for _, region := range []string{"86", "1", ""} {
			if twice, ok := normalize.Phone(once, region); !ok || twice != once {
				t.Errorf("Phone(%q, %q) = %q, %v; want %q", once, region, twice, ok, once)
			}
		}
	}
	for _, in := range []string{"Zhang@Example.com", " a@b "} {
		once, _ := normalize.Email(in)
		if twice, _ := normalize.Email(once); twice != once {
			t.Errorf("Email not idempotent on %q: %q then %q", in, once, twice)
		}
	}
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138 1234 5678", "010-12345678 转 801", "（＋８６）１３８", "+44 (0)20 7946 0958"} {
		f.Add(s, "86")
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		got, ok := normalize.Phone(s, region)
		if !ok {
			if got != "" {
				t.Fatalf("Phone(%q, %q) = %q, false", s, region, got)
			}
			return
		}
		if len(got) < 8 || len(got) > 16 || got[0] != '+' {
			t.Fatalf("Phone(%q, %q) = %q: not E.164", s, region, got)
		}
		if again, ok := normalize.Phone(got, region); !ok || again != got {
			t.Fatalf("Phone(%q) = %q, %v; not idempotent", got, again, ok)
		}
	})
}
