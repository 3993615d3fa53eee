package server

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"direct client, header ignored", "203.0.113.7:5000", []string{"1.2.3.4"}, "203.0.113.7"},
		{"through a trusted proxy", "10.1.2.3:443", []string{"198.51.100.9"}, "198.51.100.9"},
		{"spoofed hop before the real client", "10.1.2.3:443", []string{"6.6.6.6, 198.51.100.9"}, "198.51.100.9"},
		{"two trusted proxies", "10.1.2.3:443", []string{"198.51.100.9, 192.0.2.1"}, "198.51.100.9"},
		{"several headers", "10.1.2.3:443", []string{"6.6.6.6", "198.51.100.9"}, "198.51.100.9"},
		{"garbage hop stops the walk", "10.1.2.3:443", []string{"198.51.100.9, nonsense"}, "10.1.2.3"},
		{"only trusted hops", "10.1.2.3:443", []string{"10.9.9.9"}, "10.9.9.9"},
		{"IPv6 client", "[2001:db8::1]:443", nil, "2001:db8::1"},
		{"IPv4-mapped", "[::ffff:203.0.113.7]:1", nil, "203.0.113.7"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIP(r, trusted); got != tc.want {
				t.Fatalf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}
