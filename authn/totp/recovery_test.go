package totp

import (
	"bytes"
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"
)

func TestNewRecoveryCodes(t *testing.T) {
	shape := regexp.MustCompile(`^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}$`)
	codes, hashes, err := NewRecoveryCodes()
	if err != nil {
		t.Fatalf("NewRecoveryCodes: %v", err)
	}
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("got %d codes and %d hashes, want %d of each", len(codes), len(hashes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for i, code := range codes {
		t.Run(code, func(t *testing.T) {
			if !shape.MatchString(code) {
				t.Errorf("code %q is not xxxxx-xxxxx from the unambiguous alphabet", code)
			}
			if strings.ContainsAny(code, "0O1IL") {
				t.Errorf("code %q has an ambiguous character", code)
			}
			if seen[code] {
				t.Errorf("code %q issued twice", code)
			}
			seen[code] = true
			if len(hashes[i]) != sha256.Size {
				t.Errorf("hash length = %d, want %d", len(hashes[i]), sha256.Size)
			}
			if !bytes.Equal(HashRecoveryCode(code), hashes[i]) {
				t.Errorf("HashRecoveryCode(%q) differs from the stored hash", code)
			}
			for _, plain := range []string{code, strings.ReplaceAll(code, "-", "")} {
				if bytes.Contains(hashes[i], []byte(plain)) {
					t.Errorf("stored hash contains the plaintext %q", plain)
				}
			}
			if got := MatchRecoveryCode(hashes, code); got != i {
				t.Errorf("MatchRecoveryCode(%q) = %d, want %d", code, got, i)
			}
		})
	}
}

func TestNewRecoveryCodesDifferEachTime(t *testing.T) {
	a, _, err := NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a, ",") == strings.Join(b, ",") {
		t.Error("two calls returned the same codes")
	}
}

// TestRecoveryAlphabetUniform draws many codes and checks every symbol of the
// alphabet turns up and no other does, a coarse check that rejection
// sampling covers the whole alphabet.
func TestRecoveryAlphabetUniform(t *testing.T) {
	counts := map[rune]int{}
	const draws = 500
	for range draws {
		code, err := randomRecoveryCode()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range code {
			counts[r]++
		}
	}
	if len(counts) != len(recoveryAlphabet) {
		t.Errorf("saw %d distinct symbols, want %d", len(counts), len(recoveryAlphabet))
	}
	expected := draws * recoveryCodeLen / len(recoveryAlphabet) // about 161
	for _, r := range recoveryAlphabet {
		if n := counts[r]; n < expected/2 || n > expected*2 {
			t.Errorf("symbol %q drawn %d times, expected about %d", r, n, expected)
		}
	}
}

func TestMatchRecoveryCode(t *testing.T) {
	codes, hashes, err := NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	code := codes[3]
	bare := strings.ReplaceAll(code, "-", "")
	blanked := append([][]byte(nil), hashes...)
	blanked[3] = nil

	tests := []struct {
		name   string
		hashes [][]byte
		typed  string
		want   int
	}{
		{"as shown", hashes, code, 3},
		{"lower case without dash", hashes, strings.ToLower(bare), 3},
		{"mixed case with spaces", hashes, " " + strings.ToLower(code[:5]) + " " + code[6:] + "\n", 3},
		{"extra dashes", hashes, strings.Join(strings.Split(bare, ""), "-"), 3},
		{"wrong code", hashes, "22222-22222", -1},
		{"one symbol changed", hashes, changeOne(code), -1},
		{"too short", hashes, code[:9], -1},
		{"too long", hashes, code + "2", -1},
		{"empty", hashes, "", -1},
		{"ambiguous characters", hashes, "00000-OOOOO", -1},
		{"over-long input", hashes, code + strings.Repeat(" ", 1000), -1},
		{"used entry blanked", blanked, code, -1},
		{"other codes still match after blanking", blanked, codes[4], 4},
		{"no stored hashes", nil, code, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchRecoveryCode(tt.hashes, tt.typed); got != tt.want {
				t.Errorf("MatchRecoveryCode(%q) = %d, want %d", tt.typed, got, tt.want)
			}
		})
	}
}

func TestHashRecoveryCodeNormalises(t *testing.T) {
	want := sha256.Sum256([]byte("ABCDE23456"))
	for _, typed := range []string{"ABCDE-23456", "abcde23456", " abcde - 23456 ", "AbCdE\t23456"} {
		t.Run(typed, func(t *testing.T) {
			if got := HashRecoveryCode(typed); !bytes.Equal(got, want[:]) {
				t.Errorf("HashRecoveryCode(%q) = %x, want SHA-256 of ABCDE23456 %x", typed, got, want)
			}
		})
	}
}

// changeOne returns code with its first symbol replaced by another symbol of
// the alphabet.
func changeOne(code string) string {
	repl := "2"
	if code[0] == '2' {
		repl = "3"
	}
	return repl + code[1:]
}
