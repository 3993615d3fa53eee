package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

// The TLS modes. The zero value "" means TLSStartTLS.
const (
	// TLSStartTLS connects in clear text and requires the STARTTLS command
	// before anything else is sent; a server that does not offer it is an
	// error, never a reason to continue in clear text. It is the default for
	// smtp:// URLs.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (smtps://, port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone speaks clear text. It is only allowed when Host is a loopback
	// address, so that credentials and messages never cross a network
	// unencrypted; it suits a local relay or a test server.
	TLSNone TLSMode = "none"
)

// Defaults applied when a Config or a CUSTOS_SMTP_URL leaves a value out.
const (
	// DefaultTimeout bounds one Send: connecting, the TLS handshake and the
	// whole SMTP conversation.
	DefaultTimeout = 30 * time.Second
	// DefaultPort is the submission port, used with STARTTLS or no TLS.
	DefaultPort = 587
	// DefaultImplicitPort is the submission port for implicit TLS.
	DefaultImplicitPort = 465
)

// redactedPassword replaces the password in Redacted.
const redactedPassword = "xxxxx"

// Config says how to reach the SMTP server that sends Custos's e-mail. It is
// usually made by ParseURL from the CUSTOS_SMTP_URL setting.
type Config struct {
	// Host is the server's DNS name or IP address, without brackets.
	Host string
	// Port is the server's TCP port; zero means DefaultImplicitPort with
	// TLSImplicit and DefaultPort otherwise.
	Port int
	// Username and Password are sent with AUTH PLAIN when Username is not
	// empty. No authentication is attempted when it is empty.
	Username, Password string
	// From is the sender of every message, in the From header and in the
	// envelope (MAIL FROM).
	From mail.Address
	// TLS says how the connection is protected; "" means TLSStartTLS.
	TLS TLSMode
	// RootCAs verifies the server's certificate; nil means the system's
	// roots.
	RootCAs *x509.CertPool
	// Timeout bounds one Send; zero means DefaultTimeout.
	Timeout time.Duration
}

// ParseURL parses the CUSTOS_SMTP_URL setting, such as
//
//	smtp://user:pass@smtp.example.com:587?from=Custos%20%3Cnoreply%40example.com%3E
//	smtps://user:pass@smtp.example.com?from=noreply@example.com
//	smtp://127.0.0.1:2525?from=noreply@x.test&tls=none
//
// The scheme is smtp (STARTTLS, default port 587) or smtps (implicit TLS,
// default port 465). The user name and password are percent-encoded. The
// query parameters are from (required: an RFC 5322 address), tls (starttls,
// implicit or none; implicit only with smtps, which implies it) and timeout
// (a Go duration, default 30s); any other parameter is an error.
//
// An error names the part of the URL that is wrong but never repeats what
// the URL says, so that it cannot carry the password into a log, not even a
// password pasted without percent-encoding that spilled into another part.
func ParseURL(raw string) (Config, error) {
	cfg, err := parseURL(raw)
	if err != nil {
		return Config{}, fmt.Errorf("CUSTOS_SMTP_URL: %w", err)
	}
	return cfg, nil
}

func parseURL(raw string) (Config, error) {
	if strings.TrimSpace(raw) == "" {
		return Config{}, errors.New("missing")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Config{}, errors.New("scheme: must be smtp:// or smtps://")
	}
	var cfg Config
	switch strings.ToLower(scheme) {
	case "smtp":
		cfg.TLS = TLSStartTLS
	case "smtps":
		cfg.TLS = TLSImplicit
	default:
		return Config{}, errors.New("scheme: must be smtp:// or smtps://")
	}

	// The authority ends at the first '/', '?' or '#'; the user information
	// ends at its last '@'. The URL is taken apart by hand rather than by
	// net/url, whose errors quote the whole URL, password included.
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	path, rawQuery, _ := strings.Cut(tail, "?")
	if strings.Contains(path, "@") {
		// Most likely a password with an unencoded '/' or '#'.
		return Config{}, errors.New("user information: percent-encode '/', '?', '#' and '@' in the user name and password")
	}
	if strings.Contains(tail, "#") {
		return Config{}, errors.New("fragment: not allowed")
	}
	if path != "" && path != "/" {
		return Config{}, errors.New("path: not allowed")
	}
	hostport := authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		var err error
		cfg.Username, cfg.Password, err = parseUserinfo(authority[:at])
		if err != nil {
			return Config{}, err
		}
		hostport = authority[at+1:]
	}
	host, port, err := parseHostPort(hostport)
	if err != nil {
		return Config{}, err
	}
	cfg.Host = host

	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Config{}, errors.New("query: not valid percent-encoding")
	}
	for _, key := range slices.Sorted(maps.Keys(query)) {
		switch key {
		case "from", "tls", "timeout":
			if len(query[key]) > 1 {
				return Config{}, fmt.Errorf("%s: given more than once", key)
			}
		default:
			return Config{}, errors.New("query: unknown parameter (the known ones are from, tls and timeout)")
		}
	}

	if query.Has("tls") {
		mode := TLSMode(query.Get("tls"))
		switch {
		case mode != TLSStartTLS && mode != TLSImplicit && mode != TLSNone:
			return Config{}, errors.New("tls: must be starttls, implicit or none")
		case cfg.TLS == TLSImplicit && mode != TLSImplicit:
			return Config{}, errors.New("tls: smtps:// always uses implicit TLS")
		case cfg.TLS != TLSImplicit && mode == TLSImplicit:
			return Config{}, errors.New("tls: implicit TLS needs the smtps:// scheme")
		}
		cfg.TLS = mode
	}

	cfg.Port = port
	if cfg.Port == 0 {
		cfg.Port = defaultPort(cfg.TLS)
	}

	from := query.Get("from")
	if from == "" {
		return Config{}, errors.New("from: missing")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return Config{}, errors.New("from: not an e-mail address such as noreply@example.com or Custos <noreply@example.com>")
	}
	cfg.From = *addr

	cfg.Timeout = DefaultTimeout
	if query.Has("timeout") {
		d, err := time.ParseDuration(query.Get("timeout"))
		if err != nil || d <= 0 {
			return Config{}, errors.New("timeout: must be a positive Go duration such as 30s")
		}
		cfg.Timeout = d
	}

	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parseUserinfo decodes "user[:password]".
func parseUserinfo(s string) (username, password string, err error) {
	rawUser, rawPass, _ := strings.Cut(s, ":")
	username, err = url.PathUnescape(rawUser)
	if err != nil {
		return "", "", errors.New("user: not valid percent-encoding")
	}
	password, err = url.PathUnescape(rawPass)
	if err != nil {
		return "", "", errors.New("password: not valid percent-encoding")
	}
	if username == "" && password != "" {
		return "", "", errors.New("user: missing before the password")
	}
	return username, password, nil
}

// parseHostPort splits "host", "host:port", "[v6]" or "[v6]:port". The port
// is zero when absent.
func parseHostPort(s string) (host string, port int, err error) {
	rawPort := ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", 0, errors.New("host: IPv6 address without its closing ']'")
		}
		host, rest := s[1:end], s[end+1:]
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", 0, errors.New("host: not an IPv6 address")
		}
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return "", 0, errors.New("host: unexpected text after the IPv6 address")
			}
			rawPort = p
		}
		s = host
	} else {
		if strings.Count(s, ":") > 1 {
			return "", 0, errors.New("host: IPv6 addresses must be written in brackets, as in [::1]")
		}
		var hasPort bool
		s, rawPort, hasPort = strings.Cut(s, ":")
		if hasPort && rawPort == "" {
			return "", 0, errors.New("port: empty")
		}
		if s == "" {
			return "", 0, errors.New("host: missing")
		}
		if !isHostName(s) {
			return "", 0, errors.New("host: must be a DNS name (in ASCII) or an IP address")
		}
	}
	if rawPort != "" {
		p, err := strconv.Atoi(rawPort)
		if err != nil || p < 1 || p > 65535 || strings.Trim(rawPort, "0123456789") != "" {
			return "", 0, errors.New("port: must be a number from 1 to 65535")
		}
		port = p
	}
	return s, port, nil
}

// isHostName reports whether s is made of letters, digits, '-' and '.', as
// DNS names and IPv4 addresses are.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// defaultPort is the port used when none is given.
func defaultPort(mode TLSMode) int {
	if mode == TLSImplicit {
		return DefaultImplicitPort
	}
	return DefaultPort
}

// Validate reports the first problem with c: a missing or malformed host or
// sender, an unknown TLS mode, TLSNone with a host that is not a loopback
// address, a password without a user name, a negative timeout.
func (c Config) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("mail: config: %w", err)
	}
	return nil
}

func (c Config) validate() error {
	switch {
	case c.Host == "":
		return errors.New("host: missing")
	case strings.HasPrefix(c.Host, "["):
		return errors.New("host: must be written without brackets")
	case !isHostName(c.Host):
		if addr, err := netip.ParseAddr(c.Host); err != nil || addr.Zone() != "" {
			return errors.New("host: must be a DNS name (in ASCII) or an IP address")
		}
	}
	if c.Port < 0 || c.Port > 65535 {
		return errors.New("port: must be a number from 1 to 65535")
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit:
	case TLSNone:
		if !isLoopback(c.Host) {
			return errors.New("tls: none is only allowed for a loopback host such as 127.0.0.1, so that credentials never cross the network in clear text")
		}
	default:
		return errors.New("tls: must be starttls, implicit or none")
	}
	if c.Username == "" && c.Password != "" {
		return errors.New("user: missing before the password")
	}
	if strings.ContainsRune(c.Username, 0) || strings.ContainsRune(c.Password, 0) {
		return errors.New("user: the user name and password cannot contain NUL")
	}
	if err := checkAddress(c.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if c.Timeout < 0 {
		return errors.New("timeout: must not be negative")
	}
	return nil
}

// isLoopback reports whether host is "localhost" or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// withDefaults fills in the zero TLS mode, port and timeout.
func (c Config) withDefaults() Config {
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Port == 0 {
		c.Port = defaultPort(c.TLS)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// addr is the server's host:port.
func (c Config) addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// Redacted returns c as a CUSTOS_SMTP_URL with the password replaced by
// xxxxx, for logs. Parsing it gives c back, but for the password.
func (c Config) Redacted() string {
	c = c.withDefaults()
	u := url.URL{Scheme: "smtp", Host: c.addr()}
	if c.TLS == TLSImplicit {
		u.Scheme = "smtps"
	}
	switch {
	case c.Username != "" && c.Password != "":
		u.User = url.UserPassword(c.Username, redactedPassword)
	case c.Username != "":
		u.User = url.User(c.Username)
	}
	q := url.Values{}
	q.Set("from", c.From.String())
	if c.TLS == TLSNone {
		q.Set("tls", string(TLSNone))
	}
	if c.Timeout != DefaultTimeout {
		q.Set("timeout", c.Timeout.String())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// String returns c.Redacted(), so that a Config printed by accident does not
// show the password.
func (c Config) String() string { return c.Redacted() }

// GoString returns c.Redacted(), so that %#v does not show the password.
func (c Config) GoString() string { return c.Redacted() }
