package safehttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-crm/custos/internal/safehttp"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr     string
		allowed  bool // with default options
		loopback bool // allowed with AllowLoopback
	}{
		// Public addresses.
		{"8.8.8.8", true, true},
		{"1.1.1.1", true, true},
		{"93.184.216.34", true, true},
		{"2606:4700:4700::1111", true, true},
		{"2a00:1450:4001:80b::200e", true, true},
		{"::ffff:8.8.8.8", true, true},
		{"64:ff9b::808:808", true, true}, // NAT64 of 8.8.8.8
		// Loopback.
		{"127.0.0.1", false, true},
		{"127.255.255.254", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		// Private.
		{"10.0.0.5", false, false},
		{"10.255.255.255", false, false},
		{"172.16.0.1", false, false},
		{"172.31.255.255", false, false},
		{"192.168.1.1", false, false},
		{"fc00::1", false, false},
		{"fd12:3456:789a::1", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"::ffff:192.168.0.1", false, false},
		{"64:ff9b::a00:1", false, false}, // NAT64 of 10.0.0.1
		// Link-local, including cloud metadata.
		{"169.254.169.254", false, false},
		{"169.254.0.1", false, false},
		{"::ffff:169.254.169.254", false, false},
		{"fe80::1", false, false},
		{"fe80::1%eth0", false, false},
		{"fd00:ec2::254", false, false}, // AWS IPv6 metadata (ULA)
		// Unspecified, multicast, broadcast, reserved.
		{"0.0.0.0", false, false},
		{"0.1.2.3", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"239.255.255.250", false, false},
		{"ff02::1", false, false},
		{"ff05::2", false, false},
		{"255.255.255.255", false, false},
		{"240.0.0.1", false, false},
		// Special purpose.
		{"100.64.0.1", false, false},
		{"100.127.255.255", false, false},
		{"192.0.0.8", false, false},
		{"198.18.0.1", false, false},
		{"198.19.255.255", false, false},
		{"192.88.99.1", false, false},
		{"::7f00:1", false, false}, // IPv4-compatible
		{"100::1", false, false},
		{"2001::1", false, false},       // Teredo
		{"2002:a00:1::1", false, false}, // 6to4 of 10.0.0.1
		{"64:ff9b:1::1", false, false},
		{"fec0::1", false, false},
		// Documentation ranges are refused.
		{"192.0.2.1", false, false},
		{"198.51.100.1", false, false},
		{"203.0.113.1", false, false},
		{"2001:db8::1", false, false},
		{"3fff::1", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			for _, o := range []safehttp.Options{{}, {AllowLoopback: true}} {
				want := tt.allowed
				if o.AllowLoopback {
					want = tt.loopback
				}
				err := safehttp.CheckAddr(ip, o)
				if want && err != nil {
					t.Errorf("CheckAddr(%s, loopback=%v) = %v, want allowed", tt.addr, o.AllowLoopback, err)
				}
				if !want && !errors.Is(err, safehttp.ErrForbiddenAddress) {
					t.Errorf("CheckAddr(%s, loopback=%v) = %v, want ErrForbiddenAddress", tt.addr, o.AllowLoopback, err)
				}
			}
		})
	}
	if err := safehttp.CheckAddr(netip.Addr{}, safehttp.Options{AllowLoopback: true}); !errors.Is(err, safehttp.ErrForbiddenAddress) {
		t.Errorf("CheckAddr(zero) = %v, want ErrForbiddenAddress", err)
	}
}

func okServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), nil
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	srv := okServer(t)
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	t.Run("refused by default", func(t *testing.T) {
		c := safehttp.NewClient(safehttp.Options{})
		for _, u := range []string{
			srv.URL,
			fmt.Sprintf("http://localhost:%d/", port),
			fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port),
		} {
			if _, err := get(t.Context(), c, u); !errors.Is(err, safehttp.ErrForbiddenAddress) {
				t.Errorf("GET %s: err = %v, want ErrForbiddenAddress", u, err)
			}
		}
	})
	t.Run("reachable with AllowLoopback", func(t *testing.T) {
		c := safehttp.NewClient(safehttp.Options{AllowLoopback: true})
		body, err := get(t.Context(), c, srv.URL)
		if err != nil || body != "ok" {
			t.Fatalf("GET %s = %q, %v; want ok", srv.URL, body, err)
		}
	})
}

// TestHostResolvingToPrivateAddress checks that a host name is judged by the
// address it resolves to: "internal.example" maps to 10.0.0.5, which must be
// refused at dial time even with loopback allowed. The test's timeout would
// catch an actual connection attempt to the unroutable 10.0.0.5; the
// internal test asserts that no dial happens at all.
func TestHostResolvingToPrivateAddress(t *testing.T) {
	t.Parallel()
	var lookups atomic.Int32
	c := safehttp.NewClient(safehttp.Options{
		AllowLoopback: true,
		Timeout:       2 * time.Second,
		LookupIP: func(_ context.Context, host string) ([]netip.Addr, error) {
			lookups.Add(1)
			switch host {
			case "internal.example":
				return []netip.Addr{netip.MustParseAddr("10.0.0.5")}, nil
			case "mixed.example":
				return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("169.254.169.254")}, nil
			}
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		},
	})
	for _, u := range []string{
		"http://internal.example/",
		"https://internal.example/",
		"http://mixed.example/",
		"http://10.0.0.5/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[fd00:ec2::254]/",
	} {
		start := time.Now()
		_, err := get(t.Context(), c, u)
		if !errors.Is(err, safehttp.ErrForbiddenAddress) {
			t.Errorf("GET %s: err = %v, want ErrForbiddenAddress", u, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("GET %s took %v: a connection was attempted", u, d)
		}
	}
	if lookups.Load() == 0 {
		t.Error("LookupIP was never called")
	}
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	other := okServer(t)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/ok":
			io.WriteString(w, "ok")
		case r.URL.Path == "/same":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case r.URL.Path == "/other":
			http.Redirect(w, r, other.URL+"/", http.StatusFound)
		case r.URL.Path == "/localhost":
			// Same address, different host name: still another host.
			u, _ := url.Parse(srv.URL)
			http.Redirect(w, r, "http://localhost:"+u.Port()+"/ok", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/chain/"):
			var n int
			fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/chain/"), "%d", &n)
			if n == 0 {
				io.WriteString(w, "ok")
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c := safehttp.NewClient(safehttp.Options{AllowLoopback: true})

	tests := []struct {
		path string
		ok   bool
	}{
		{"/same", true},
		{"/chain/3", true},
		{"/chain/4", false},
		{"/other", false},
		{"/localhost", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			body, err := get(t.Context(), c, srv.URL+tt.path)
			if tt.ok && (err != nil || body != "ok") {
				t.Errorf("GET %s = %q, %v; want ok", tt.path, body, err)
			}
			if !tt.ok && !errors.Is(err, safehttp.ErrRedirectRefused) {
				t.Errorf("GET %s: err = %v, want ErrRedirectRefused", tt.path, err)
			}
		})
	}
}

func TestResponseLimit(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2048)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		io.WriteString(w, big)
	}))
	t.Cleanup(srv.Close)

	c := safehttp.NewClient(safehttp.Options{AllowLoopback: true, MaxResponseBytes: 1024})
	for _, p := range []string{"/", "/chunked"} {
		if _, err := get(t.Context(), c, srv.URL+p); !errors.Is(err, safehttp.ErrResponseTooLarge) {
			t.Errorf("GET %s: err = %v, want ErrResponseTooLarge", p, err)
		}
	}
	c = safehttp.NewClient(safehttp.Options{AllowLoopback: true, MaxResponseBytes: 2048})
	if body, err := get(t.Context(), c, srv.URL+"/chunked"); err != nil || body != big {
		t.Errorf("GET at the limit: %d bytes, %v", len(body), err)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	if got := safehttp.NewClient(safehttp.Options{}).Timeout; got != safehttp.DefaultTimeout {
		t.Errorf("default Timeout = %v, want %v", got, safehttp.DefaultTimeout)
	}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	c := safehttp.NewClient(safehttp.Options{AllowLoopback: true, Timeout: 200 * time.Millisecond})
	_, err := get(t.Context(), c, srv.URL)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("slow server: err = %v, want a timeout", err)
	}
}
