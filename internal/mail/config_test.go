package mail_test

import (
	"fmt"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/mail"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	custos := netmail.Address{Name: "Custos", Address: "noreply@example.com"}
	tests := []struct {
		raw  string
		want mail.Config
	}{
		{
			"smtp://user:pass@smtp.example.com:587?from=Custos%20%3Cnoreply%40example.com%3E",
			mail.Config{Host: "smtp.example.com", Port: 587, Username: "user", Password: "pass", From: custos, TLS: mail.TLSStartTLS, Timeout: 30 * time.Second},
		},
		{
			"smtps://user:pass@smtp.example.com:465?from=Custos%20%3Cnoreply%40example.com%3E",
			mail.Config{Host: "smtp.example.com", Port: 465, Username: "user", Password: "pass", From: custos, TLS: mail.TLSImplicit, Timeout: 30 * time.Second},
		},
		{
			"smtp://127.0.0.1:2525?from=noreply@x.test&tls=none",
			mail.Config{Host: "127.0.0.1", Port: 2525, From: netmail.Address{Address: "noreply@x.test"}, TLS: mail.TLSNone, Timeout: 30 * time.Second},
		},
		{
			// Default ports, an explicit default mode, a timeout.
			"smtp://smtp.example.com?from=noreply@example.com&tls=starttls&timeout=5s",
			mail.Config{Host: "smtp.example.com", Port: 587, From: netmail.Address{Address: "noreply@example.com"}, TLS: mail.TLSStartTLS, Timeout: 5 * time.Second},
		},
		{
			"SMTPS://smtp.example.com/?from=noreply@example.com&tls=implicit",
			mail.Config{Host: "smtp.example.com", Port: 465, From: netmail.Address{Address: "noreply@example.com"}, TLS: mail.TLSImplicit, Timeout: 30 * time.Second},
		},
		{
			// Percent-encoded user and password with reserved characters.
			"smtps://apikey%40example.com:p%40ss%3Aw%2Fo%3Frd%23@smtp.example.com?from=noreply@example.com",
			mail.Config{Host: "smtp.example.com", Port: 465, Username: "apikey@example.com", Password: "p@ss:w/o?rd#", From: netmail.Address{Address: "noreply@example.com"}, TLS: mail.TLSImplicit, Timeout: 30 * time.Second},
		},
		{
			// An unescaped '@' in the password: the last '@' ends it.
			"smtp://user:p@ss@smtp.example.com?from=noreply@example.com",
			mail.Config{Host: "smtp.example.com", Port: 587, Username: "user", Password: "p@ss", From: netmail.Address{Address: "noreply@example.com"}, TLS: mail.TLSStartTLS, Timeout: 30 * time.Second},
		},
		{
			// A user without a password.
			"smtp://relay@[::1]:25?from=noreply@example.com&tls=none",
			mail.Config{Host: "::1", Port: 25, Username: "relay", From: netmail.Address{Address: "noreply@example.com"}, TLS: mail.TLSNone, Timeout: 30 * time.Second},
		},
		{
			"smtp://localhost:1025?from=%E9%80%9A%E7%9F%A5%20%3Cnoreply@example.com%3E&tls=none",
			mail.Config{Host: "localhost", Port: 1025, From: netmail.Address{Name: "通知", Address: "noreply@example.com"}, TLS: mail.TLSNone, Timeout: 30 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			got, err := mail.ParseURL(tt.raw)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if got.Host != tt.want.Host || got.Port != tt.want.Port || got.Username != tt.want.Username ||
				got.Password != tt.want.Password || got.From != tt.want.From || got.TLS != tt.want.TLS ||
				got.Timeout != tt.want.Timeout || got.RootCAs != nil {
				t.Errorf("ParseURL =\n%#v\nwant\n%#v\n(password %q, want %q)", got, tt.want, got.Password, tt.want.Password)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	// Every URL carries this password, or pieces of it, so that a leak into
	// an error message shows.
	const pw = "Sekr1tPw"
	tests := []struct {
		raw  string
		want string
	}{
		{"", "CUSTOS_SMTP_URL: missing"},
		{"smtp://u:" + pw + "@smtp.example.com", "CUSTOS_SMTP_URL: from: missing"},
		{"smtp://u:" + pw + "@smtp.example.com?from=", "CUSTOS_SMTP_URL: from: missing"},
		{"smtp://u:" + pw + "@smtp.example.com?from=not-an-address", "CUSTOS_SMTP_URL: from: not an e-mail address"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&from=b@x.test", "CUSTOS_SMTP_URL: from: given more than once"},
		{"u:" + pw + "@smtp.example.com?from=a@x.test", "CUSTOS_SMTP_URL: scheme:"},
		{"http://u:" + pw + "@smtp.example.com?from=a@x.test", "CUSTOS_SMTP_URL: scheme:"},
		{"smtp://u:" + pw + "@?from=a@x.test", "CUSTOS_SMTP_URL: host: missing"},
		{"smtp://u:" + pw + "@smtp.exa mple.com?from=a@x.test", "CUSTOS_SMTP_URL: host:"},
		{"smtp://u:" + pw + "@邮件.example?from=a@x.test", "CUSTOS_SMTP_URL: host:"},
		{"smtp://u:" + pw + "@::1:25?from=a@x.test&tls=none", "CUSTOS_SMTP_URL: host: IPv6 addresses must be written in brackets"},
		{"smtp://u:" + pw + "@[::1?from=a@x.test&tls=none", "CUSTOS_SMTP_URL: host:"},
		{"smtp://u:" + pw + "@[fe80::1%25eth0]:25?from=a@x.test", "CUSTOS_SMTP_URL: host:"},
		{"smtp://u:" + pw + "@smtp.example.com:0?from=a@x.test", "CUSTOS_SMTP_URL: port:"},
		{"smtp://u:" + pw + "@smtp.example.com:65536?from=a@x.test", "CUSTOS_SMTP_URL: port:"},
		{"smtp://u:" + pw + "@smtp.example.com:+25?from=a@x.test", "CUSTOS_SMTP_URL: port:"},
		{"smtp://u:" + pw + "@smtp.example.com:?from=a@x.test", "CUSTOS_SMTP_URL: port:"},
		{"smtp://u:" + pw + "@smtp.example.com/mail?from=a@x.test", "CUSTOS_SMTP_URL: path:"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test#frag", "CUSTOS_SMTP_URL: fragment:"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&form=b", "CUSTOS_SMTP_URL: query: unknown parameter"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&x=%zz", "CUSTOS_SMTP_URL: query:"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&tls=ssl", "CUSTOS_SMTP_URL: tls: must be starttls, implicit or none"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&tls=implicit", "CUSTOS_SMTP_URL: tls: implicit TLS needs the smtps:// scheme"},
		{"smtps://u:" + pw + "@smtp.example.com?from=a@x.test&tls=starttls", "CUSTOS_SMTP_URL: tls: smtps:// always uses implicit TLS"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&tls=none", "CUSTOS_SMTP_URL: tls: none is only allowed for a loopback host"},
		{"smtp://u:" + pw + "@10.0.0.5:25?from=a@x.test&tls=none", "CUSTOS_SMTP_URL: tls: none is only allowed for a loopback host"},
		{"smtp://u:" + pw + "@localhost.example.com?from=a@x.test&tls=none", "CUSTOS_SMTP_URL: tls: none is only allowed for a loopback host"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&timeout=soon", "CUSTOS_SMTP_URL: timeout:"},
		{"smtp://u:" + pw + "@smtp.example.com?from=a@x.test&timeout=-5s", "CUSTOS_SMTP_URL: timeout:"},
		{"smtp://u:" + pw + "%zz@smtp.example.com?from=a@x.test", "CUSTOS_SMTP_URL: password: not valid percent-encoding"},
		{"smtp://:" + pw + "@smtp.example.com?from=a@x.test", "CUSTOS_SMTP_URL: user: missing"},
		// Passwords pasted without percent-encoding spill into other parts;
		// the errors must not quote those parts either.
		{"smtp://u:Sekr/1tPw@smtp.example.com?from=a@x.test", "CUSTOS_SMTP_URL: user information: percent-encode"},
		{"smtp://u:Sekr?1tPw@smtp.example.com?from=a@x.test", "CUSTOS_SMTP_URL: port:"},
		{"smtp://u:Sekr#1tPw@smtp.example.com?from=a@x.test", "CUSTOS_SMTP_URL: user information: percent-encode"},
		{"smtp://u:4242?Sekr1tPw=1@smtp.example.com&from=a@x.test", "CUSTOS_SMTP_URL: query: unknown parameter"},
		{"smtp://u:4242?from=Sekr1tPw@smtp.example.com&tls=none", "CUSTOS_SMTP_URL: tls: none is only allowed for a loopback host"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			_, err := mail.ParseURL(tt.raw)
			if err == nil {
				t.Fatalf("ParseURL succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseURL = %q, want an error containing %q", err, tt.want)
			}
			for _, piece := range []string{pw, "Sekr", "1tPw"} {
				if strings.Contains(err.Error(), piece) {
					t.Errorf("error %q contains %q, a piece of the password", err, piece)
				}
			}
		})
	}
}

func TestNoneModeAllowsOnlyLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.2", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"localhost", true},
		{"LocalHost", true},
		{"smtp.example.com", false},
		{"localhost.example.com", false},
		{"10.0.0.5", false},
		{"192.168.1.1", false},
		{"0.0.0.0", false},
		{"::", false},
	}
	for _, tt := range tests {
		cfg := mail.Config{Host: tt.host, From: netmail.Address{Address: "noreply@example.com"}, TLS: mail.TLSNone}
		err := cfg.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("Validate with tls none and host %s = %v, want ok = %v", tt.host, err, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Validate with host %s = %q, want an error about loopback hosts", tt.host, err)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := mail.Config{Host: "smtp.example.com", From: netmail.Address{Address: "noreply@example.com"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(%v) = %v", good, err)
	}
	tests := []struct {
		name   string
		change func(c *mail.Config)
		want   string
	}{
		{"no host", func(c *mail.Config) { c.Host = "" }, "host: missing"},
		{"bracketed host", func(c *mail.Config) { c.Host = "[::1]" }, "host:"},
		{"host with line break", func(c *mail.Config) { c.Host = "smtp.example.com\r\n" }, "host:"},
		{"port", func(c *mail.Config) { c.Port = 70000 }, "port:"},
		{"tls mode", func(c *mail.Config) { c.TLS = "ssl" }, "tls:"},
		{"password without user", func(c *mail.Config) { c.Password = "secret" }, "user: missing"},
		{"no sender", func(c *mail.Config) { c.From = netmail.Address{} }, "from: missing"},
		{"sender with line break", func(c *mail.Config) { c.From.Name = "Custos\nBcc: x@y.test" }, "from: name: contains a line break"},
		{"negative timeout", func(c *mail.Config) { c.Timeout = -time.Second }, "timeout:"},
	}
	for _, tt := range tests {
		cfg := good
		tt.change(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "mail: config: ") {
			t.Errorf("%s: Validate = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string
	}{
		{
			"smtp://user:Sekr1tPw@smtp.example.com:587?from=Custos%20%3Cnoreply%40example.com%3E",
			"smtp://user:xxxxx@smtp.example.com:587?from=%22Custos%22+%3Cnoreply%40example.com%3E",
		},
		{
			"smtps://apikey%40example.com:Sekr1tPw@smtp.example.com?from=noreply@example.com&timeout=1m",
			"smtps://apikey%40example.com:xxxxx@smtp.example.com:465?from=%3Cnoreply%40example.com%3E&timeout=1m0s",
		},
		{
			"smtp://[::1]:2525?from=noreply@example.com&tls=none",
			"smtp://[::1]:2525?from=%3Cnoreply%40example.com%3E&tls=none",
		},
	}
	for _, tt := range tests {
		cfg, err := mail.ParseURL(tt.raw)
		if err != nil {
			t.Fatalf("ParseURL(%q): %v", tt.raw, err)
		}
		if got := cfg.Redacted(); got != tt.want {
			t.Errorf("Redacted() = %q, want %q", got, tt.want)
		}
		for _, s := range []string{
			fmt.Sprint(cfg), fmt.Sprintf("%v", &cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg),
		} {
			if strings.Contains(s, "Sekr1tPw") {
				t.Errorf("printed Config %q contains the password", s)
			}
		}
		// The redacted form parses back to the same settings.
		back, err := mail.ParseURL(cfg.Redacted())
		if err != nil {
			t.Fatalf("ParseURL(Redacted()): %v", err)
		}
		if cfg.Password != "" {
			back.Password = cfg.Password
		}
		if back != cfg {
			t.Errorf("ParseURL(Redacted()) = %v, want %v", back, cfg)
		}
	}
}
