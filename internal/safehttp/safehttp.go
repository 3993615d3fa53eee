// Package safehttp owns outbound HTTP to addresses that tenants configure
// (OpenID discovery, JWKS and token endpoints, later webhooks): a client whose
// dialer refuses loopback, private, link-local and other non-public addresses
// on the address actually connected to, so DNS rebinding cannot slip through,
// with timeouts and no redirects to other hosts.
//
// Every request to a tenant-supplied URL must go through a client built by
// NewClient; nothing else in the server may dial such addresses. The client
// reads no proxy settings from the environment, follows at most three
// redirects and only to the same scheme and host, and limits response bodies.
package safehttp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Defaults applied by NewClient when Options leaves a field zero.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 1 << 20

	dialTimeout            = 5 * time.Second
	tlsHandshakeTimeout    = 5 * time.Second
	maxResponseHeaderBytes = 64 << 10
	idleConnTimeout        = 90 * time.Second
	maxRedirects           = 3
)

// Errors returned by the client; they are wrapped, so test with errors.Is.
var (
	ErrForbiddenAddress = errors.New("safehttp: refusing to connect to a non-public address")
	ErrRedirectRefused  = errors.New("safehttp: refusing redirect")
	ErrResponseTooLarge = errors.New("safehttp: response body too large")
)

// Options configures a client built by NewClient.
type Options struct {
	// AllowLoopback permits 127.0.0.0/8 and ::1. It exists for development
	// and tests only: the server exposes it as a flag that must stay off in
	// production, where it would let tenants reach services on the host.
	AllowLoopback bool

	// Timeout bounds a whole request, body included; zero means
	// DefaultTimeout.
	Timeout time.Duration

	// MaxResponseBytes bounds a response body; reading past it fails with
	// ErrResponseTooLarge. Zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64

	// LookupIP resolves a host name to the addresses to dial; nil means
	// net.DefaultResolver. Tests use it to map names to addresses without
	// DNS. Every address it returns is checked before dialing and again,
	// by the dialer's Control hook, on the socket actually connected.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
}

// NewClient returns the HTTP client for tenant-configured addresses. It owns
// its transport: no proxy from the environment, a dialer that refuses
// non-public addresses, TLS handshake, response header and whole-request
// timeouts, a limit on response headers and bodies, and a redirect policy
// that allows at most three redirects, each to the original scheme and host.
func NewClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	d := newDialer(o)
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  o.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		MaxIdleConns:           100,
		IdleConnTimeout:        idleConnTimeout,
	}
	return &http.Client{
		Transport:     &limitTransport{base: tr, max: o.MaxResponseBytes},
		Timeout:       o.Timeout,
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect allows at most maxRedirects redirects, each to the scheme
// and host (port included) of the request that started the chain.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, maxRedirects)
	}
	orig := via[0].URL
	if req.URL.Scheme != orig.Scheme || !equalFoldASCII(req.URL.Host, orig.Host) {
		return fmt.Errorf("%w: from %s://%s to %s://%s", ErrRedirectRefused,
			orig.Scheme, orig.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// equalFoldASCII reports whether a and b are equal under ASCII case folding,
// which is how host names compare.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// dialer resolves host names itself, refuses forbidden addresses before
// dialing and, through net.Dialer.Control, on the socket about to connect.
type dialer struct {
	opts   Options
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// dial connects to one checked ip:port; it is a field so tests can
	// observe that refused addresses are never dialed.
	dial func(ctx context.Context, network, address string) (net.Conn, error)
}

func newDialer(o Options) *dialer {
	d := &dialer{opts: o, lookup: o.LookupIP}
	if d.lookup == nil {
		d.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	nd := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		Control:   control(o),
	}
	d.dial = nd.DialContext
	return d
}

// control returns the net.Dialer Control hook: it runs after the socket is
// created and before it connects, with the literal address being connected,
// so it judges the address the kernel will actually use.
func control(o Options) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: unparsable address %q", ErrForbiddenAddress, address)
		}
		return CheckAddr(ap.Addr(), o)
	}
}

// DialContext resolves address's host, refuses the host when any of its
// addresses is forbidden, and dials the addresses in order until one
// connects.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("safehttp: unsupported network %q", network)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("safehttp: dial %q: %w", address, err)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		addrs, err = d.lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("safehttp: resolving %q: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("safehttp: resolving %q: no addresses", host)
		}
	}
	// A host with any forbidden address is refused as a whole: a public
	// service never publishes internal addresses, so one is a sign of
	// misconfiguration or an attack, and refusing keeps the outcome
	// independent of address order.
	for _, ip := range addrs {
		if err := CheckAddr(ip, d.opts); err != nil {
			return nil, fmt.Errorf("safehttp: dial %s: %w", host, err)
		}
	}
	var errs []error
	for _, ip := range addrs {
		target := net.JoinHostPort(ip.Unmap().String(), port)
		conn, err := d.dial(ctx, network, target)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// limitTransport bounds every response body it returns.
type limitTransport struct {
	base *http.Transport
	max  int64
}

// RoundTrip sends req and wraps the response body so that reading more than
// the limit fails with ErrResponseTooLarge.
func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", ErrResponseTooLarge, resp.ContentLength, t.max)
	}
	resp.Body = &limitedBody{rc: resp.Body, remaining: t.max}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the underlying
// transport, so http.Client.CloseIdleConnections works.
func (t *limitTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// limitedBody is a response body that fails once more than its limit is read.
type limitedBody struct {
	rc        io.ReadCloser
	remaining int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.rc.Read(p)
	b.remaining -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
