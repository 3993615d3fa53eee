package safehttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"
)

// TestDialRefusesBeforeConnecting checks that a forbidden address is never
// handed to the underlying dialer, so no packet goes to it.
func TestDialRefusesBeforeConnecting(t *testing.T) {
	t.Parallel()
	d := newDialer(Options{
		AllowLoopback: true,
		LookupIP: func(_ context.Context, host string) ([]netip.Addr, error) {
			return []netip.Addr{netip.MustParseAddr("10.0.0.5")}, nil
		},
	})
	var dialed []string
	d.dial = func(_ context.Context, _, address string) (net.Conn, error) {
		dialed = append(dialed, address)
		return nil, errors.New("test: dial not expected")
	}
	for _, addr := range []string{"internal.example:80", "10.0.0.5:443", "[::ffff:10.0.0.5]:80", "169.254.169.254:80"} {
		if _, err := d.DialContext(t.Context(), "tcp", addr); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("DialContext(%s) = %v, want ErrForbiddenAddress", addr, err)
		}
	}
	if len(dialed) != 0 {
		t.Errorf("dialed %v, want nothing", dialed)
	}
	if _, err := d.DialContext(t.Context(), "udp", "8.8.8.8:53"); err == nil {
		t.Error("DialContext(udp) succeeded, want an error")
	}
}

// TestControlRefusesActualAddress checks the second line of defence: the
// dialer's Control hook refuses a forbidden address on the socket itself,
// before connect, even when the pre-dial check is bypassed.
func TestControlRefusesActualAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()

	d := newDialer(Options{})
	// Call the controlled net.Dialer directly, skipping DialContext's check.
	_, err = d.dial(t.Context(), "tcp", ln.Addr().String())
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("dial %s = %v, want ErrForbiddenAddress", ln.Addr(), err)
	}
	select {
	case <-accepted:
		t.Fatal("the listener accepted a connection: Control ran too late")
	case <-time.After(100 * time.Millisecond):
	}

	// The same hook lets the connection through when loopback is allowed.
	c, err := newDialer(Options{AllowLoopback: true}).dial(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with AllowLoopback: %v", err)
	}
	c.Close()

	if err := control(Options{})("tcp", "not-an-address", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("control(unparsable) = %v, want ErrForbiddenAddress", err)
	}
}

func TestTransportIgnoresEnvironmentProxy(t *testing.T) {
	t.Parallel()
	c := NewClient(Options{})
	lt, ok := c.Transport.(*limitTransport)
	if !ok {
		t.Fatalf("Transport is %T", c.Transport)
	}
	tr := lt.base
	if tr.Proxy != nil {
		t.Error("Transport.Proxy is set; the environment's proxy must not be used")
	}
	if tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout == 0 || tr.MaxResponseHeaderBytes == 0 {
		t.Errorf("timeouts or header limit unset: %+v", tr)
	}
	var _ http.RoundTripper = lt
}
