package totp

import (
	"encoding/base32"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// rfcSecret is the SHA-1 seed of RFC 6238 appendix B, "12345678901234567890",
// in base32.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestNewEnrolment(t *testing.T) {
	tests := []struct {
		name, issuer, account string
	}{
		{"tenant issuer", "Custos (acme)", "alice@example.com"},
		{"plain issuer", "Custos", "bob+2fa@example.org"},
		{"non-ASCII", "Custos (北京分公司)", "张伟@example.cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEnrolment(tt.issuer, tt.account)
			if err != nil {
				t.Fatalf("NewEnrolment: %v", err)
			}
			if !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(e.Secret) {
				t.Errorf("Secret %q is not 32 unpadded base32 symbols (160 bits)", e.Secret)
			}
			if !strings.HasPrefix(e.URI, "otpauth://totp/") {
				t.Errorf("URI %q does not start with otpauth://totp/", e.URI)
			}
			key, err := otp.NewKeyFromURL(e.URI)
			if err != nil {
				t.Fatalf("NewKeyFromURL(%q): %v", e.URI, err)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"type", key.Type(), "totp"},
				{"issuer", key.Issuer(), tt.issuer},
				{"account", key.AccountName(), tt.account},
				{"secret", key.Secret(), e.Secret},
				{"period", key.Period(), uint64(30)},
				{"digits", key.Digits(), otp.DigitsSix},
				{"algorithm", key.Algorithm(), otp.AlgorithmSHA1},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v (URI %s)", c.what, c.got, c.want, e.URI)
				}
			}
			// The label's issuer prefix must agree with the issuer parameter.
			u, err := url.Parse(e.URI)
			if err != nil {
				t.Fatal(err)
			}
			if want := "/" + tt.issuer + ":" + tt.account; u.Path != want {
				t.Errorf("label = %q, want %q", u.Path, want)
			}
			now := time.Unix(1_700_000_000, 0)
			code, err := GenerateCode(e.Secret, now)
			if err != nil {
				t.Fatalf("GenerateCode: %v", err)
			}
			if _, ok := Verify(e.Secret, code, now, 0); !ok {
				t.Error("Verify of a code for the new secret failed")
			}
		})
	}
}

func TestNewEnrolmentSecretsDiffer(t *testing.T) {
	a, err := NewEnrolment("Custos", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewEnrolment("Custos", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if a.Secret == b.Secret {
		t.Errorf("two enrolments drew the same secret %q", a.Secret)
	}
}

func TestNewEnrolmentRejectsBadLabel(t *testing.T) {
	tests := []struct {
		name, issuer, account string
	}{
		{"empty issuer", "", "alice@example.com"},
		{"empty account", "Custos", ""},
		{"colon in issuer", "Custos: acme", "alice@example.com"},
		{"colon in account", "Custos", "alice:x@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEnrolment(tt.issuer, tt.account)
			if !errors.Is(err, ErrInvalidLabel) {
				t.Errorf("NewEnrolment(%q, %q) error = %v, want ErrInvalidLabel", tt.issuer, tt.account, err)
			}
		})
	}
}

func TestRFCSecret(t *testing.T) {
	if got := base32.StdEncoding.EncodeToString([]byte("12345678901234567890")); got != rfcSecret {
		t.Fatalf("base32 of the RFC seed = %q, want %q", got, rfcSecret)
	}
}

func TestStep(t *testing.T) {
	tests := []struct {
		unix int64
		want int64
	}{
		{0, 0},
		{29, 0},
		{30, 1},
		{59, 1},
		{60, 2},
		{1111111109, 37037036},
		{20000000000, 666666666},
		{-1, -1},
		{-30, -1},
		{-31, -2},
	}
	for _, tt := range tests {
		t.Run(time.Unix(tt.unix, 0).UTC().Format(time.RFC3339), func(t *testing.T) {
			if got := Step(time.Unix(tt.unix, 0)); got != tt.want {
				t.Errorf("Step(%d) = %d, want %d", tt.unix, got, tt.want)
			}
		})
	}
}

// TestRFC6238Vectors checks the SHA-1 vectors of RFC 6238 appendix B. The RFC
// lists eight-digit codes; six-digit codes are their last six digits.
func TestRFC6238Vectors(t *testing.T) {
	tests := []struct {
		unix  int64
		eight string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	}
	for _, tt := range tests {
		t.Run(tt.eight, func(t *testing.T) {
			at := time.Unix(tt.unix, 0)
			eight, err := hotp.GenerateCodeCustom(rfcSecret, uint64(Step(at)), hotp.ValidateOpts{
				Digits: otp.DigitsEight, Algorithm: otp.AlgorithmSHA1,
			})
			if err != nil || eight != tt.eight {
				t.Fatalf("eight-digit code = %q, %v; want %q (vector or step computation wrong)", eight, err, tt.eight)
			}
			six := tt.eight[2:]
			got, err := GenerateCode(rfcSecret, at)
			if err != nil || got != six {
				t.Errorf("GenerateCode = %q, %v; want %q", got, err, six)
			}
			step, ok := Verify(rfcSecret, six, at, 0)
			if !ok || step != Step(at) {
				t.Errorf("Verify(%q) = %d, %v; want %d, true", six, step, ok, Step(at))
			}
		})
	}
}

func TestVerifyWindow(t *testing.T) {
	now := time.Unix(1_700_000_015, 0) // in the middle of a step
	cur := Step(now)
	tests := []struct {
		name   string
		offset int64 // steps from now at which the code is generated
		wantOK bool
	}{
		{"current step", 0, true},
		{"previous step", -1, true},
		{"next step", 1, true},
		{"two steps back", -2, false},
		{"two steps ahead", 2, false},
		{"an hour back", -120, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := mustCode(t, rfcSecret, now.Add(time.Duration(tt.offset)*period*time.Second))
			step, ok := Verify(rfcSecret, code, now, 0)
			if ok != tt.wantOK {
				t.Fatalf("Verify(code at step %+d) ok = %v, want %v", tt.offset, ok, tt.wantOK)
			}
			if ok && step != cur+tt.offset {
				t.Errorf("Verify step = %d, want %d", step, cur+tt.offset)
			}
			if !ok && step != 0 {
				t.Errorf("failed Verify step = %d, want lastUsedStep 0", step)
			}
		})
	}
}

func TestVerifyReplay(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	cur := Step(now)
	current := mustCode(t, rfcSecret, now)
	previous := mustCode(t, rfcSecret, now.Add(-period*time.Second))
	next := mustCode(t, rfcSecret, now.Add(period*time.Second))

	s, ok := Verify(rfcSecret, current, now, 0)
	if !ok || s != cur {
		t.Fatalf("first Verify = %d, %v; want %d, true", s, ok, cur)
	}

	tests := []struct {
		name     string
		code     string
		at       time.Time
		lastUsed int64
		wantOK   bool
		wantStep int64
	}{
		{"same code again", current, now, s, false, s},
		{"same code a step later", current, now.Add(period * time.Second), s, false, s},
		{"older step's code after a newer one", previous, now, s, false, s},
		{"newer step's code", next, now, s, true, s + 1},
		{"same code, replay state lost", current, now, 0, true, s},
		{"same code, lastUsedStep one step earlier", current, now, s - 1, true, s},
		{"anything while lastUsedStep is in the future", next, now, s + 1, false, s + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := Verify(rfcSecret, tt.code, tt.at, tt.lastUsed)
			if ok != tt.wantOK || step != tt.wantStep {
				t.Errorf("Verify = %d, %v; want %d, %v", step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
}

func TestVerifyInput(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	code := mustCode(t, rfcSecret, now)
	other := "000000"
	if other == code {
		other = "111111"
	}
	tests := []struct {
		name   string
		secret string
		code   string
		wantOK bool
	}{
		{"plain", rfcSecret, code, true},
		{"space in the middle", rfcSecret, code[:3] + " " + code[3:], true},
		{"surrounding white space", rfcSecret, "\t " + code + " \n", true},
		{"spaces everywhere", rfcSecret, strings.Join(strings.Split(code, ""), " "), true},
		{"lower-case secret with padding", strings.ToLower(rfcSecret) + "====", code, true},
		{"wrong code", rfcSecret, other, false},
		{"empty", rfcSecret, "", false},
		{"only spaces", rfcSecret, "      ", false},
		{"five digits", rfcSecret, code[:5], false},
		{"seven digits", rfcSecret, code + "0", false},
		{"letters", rfcSecret, "12a456", false},
		{"dash", rfcSecret, code[:3] + "-" + code[3:], false},
		{"sign", rfcSecret, "+" + code[1:], false},
		{"non-ASCII digits", rfcSecret, "١٢٣٤٥٦", false},
		{"very long", rfcSecret, code + strings.Repeat(" ", 1000), false},
		{"empty secret", "", code, false},
		{"secret not base32", "not base32!", code, false},
		{"secret too short", base32.StdEncoding.EncodeToString([]byte("0123456789")), mustCode(t, base32.StdEncoding.EncodeToString([]byte("0123456789")), now), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := Verify(tt.secret, tt.code, now, 7)
			if ok != tt.wantOK {
				t.Errorf("Verify(%q, %q) ok = %v, want %v", tt.secret, tt.code, ok, tt.wantOK)
			}
			if !ok && step != 7 {
				t.Errorf("failed Verify step = %d, want lastUsedStep 7", step)
			}
		})
	}
}

func TestGenerateCodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		at     time.Time
		want   error
	}{
		{"empty secret", "", time.Unix(59, 0), ErrInvalidSecret},
		{"not base32", "ABC!DEF", time.Unix(59, 0), ErrInvalidSecret},
		{"80-bit secret", base32.StdEncoding.EncodeToString([]byte("0123456789")), time.Unix(59, 0), ErrInvalidSecret},
		{"before the epoch", rfcSecret, time.Unix(-1, 0), ErrBeforeEpoch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, err := GenerateCode(tt.secret, tt.at)
			if !errors.Is(err, tt.want) {
				t.Errorf("GenerateCode = %q, %v; want error %v", code, err, tt.want)
			}
		})
	}
}

// mustCode returns a code for secret at t, bypassing the secret length check
// so that tests can build codes for secrets Verify must refuse.
func mustCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := hotp.GenerateCodeCustom(secret, uint64(Step(at)), hotp.ValidateOpts{
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		t.Fatalf("generate code: %v", err)
	}
	return code
}
