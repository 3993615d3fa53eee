package safehttp

import (
	"fmt"
	"net/netip"
)

// blockedRange is a special-purpose address range that outbound requests may
// not reach, with the reason reported in errors.
type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// blockedRanges returns the special-purpose ranges (IANA IPv4 and IPv6
// special-purpose address registries) that are refused on top of what
// netip.Addr already classifies. It builds a fresh slice on each call so the
// package holds no mutable state; the cost is negligible next to a dial.
//
// Documentation ranges are refused: no real identity provider or webhook
// receiver lives there, and refusing them keeps test fixtures honest.
func blockedRanges() []blockedRange {
	r := func(p, reason string) blockedRange {
		return blockedRange{prefix: netip.MustParsePrefix(p), reason: reason}
	}
	return []blockedRange{
		r("0.0.0.0/8", "this network"),
		r("100.64.0.0/10", "shared address space (CGNAT)"),
		r("192.0.0.0/24", "IETF protocol assignments"),
		r("192.0.2.0/24", "documentation"),
		r("192.88.99.0/24", "6to4 relay anycast"),
		r("198.18.0.0/15", "benchmarking"),
		r("198.51.100.0/24", "documentation"),
		r("203.0.113.0/24", "documentation"),
		r("240.0.0.0/4", "reserved or broadcast"),
		r("::/96", "IPv4-compatible IPv6"),
		r("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
		r("100::/64", "discard-only"),
		r("2001::/23", "IETF protocol assignments (Teredo, benchmarking, ORCHID)"),
		r("2001:db8::/32", "documentation"),
		r("2002::/16", "6to4"),
		r("3fff::/20", "documentation"),
		r("5f00::/16", "segment routing"),
		r("fec0::/10", "site-local"),
	}
}

// nat64Prefix is the well-known NAT64 prefix whose last 32 bits embed an IPv4
// address that a translator would connect to.
const nat64Prefix = "64:ff9b::/96"

// CheckAddr reports whether ip may be connected to under o: it returns nil
// for a public unicast address and an error wrapping ErrForbiddenAddress
// otherwise. It is exported for tests and for validating configuration.
//
// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry, and
// so are addresses under the NAT64 well-known prefix 64:ff9b::/96. Loopback
// addresses (127.0.0.0/8, ::1) pass only when o.AllowLoopback is set.
func CheckAddr(ip netip.Addr, o Options) error {
	if reason := forbiddenReason(ip, o); reason != "" {
		return fmt.Errorf("%w: %s (%s)", ErrForbiddenAddress, ip, reason)
	}
	return nil
}

// forbiddenReason returns why ip may not be connected to, or "" when it may.
func forbiddenReason(ip netip.Addr, o Options) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() && netip.MustParsePrefix(nat64Prefix).Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:16]))
	}
	switch {
	case ip.IsLoopback():
		if o.AllowLoopback {
			return ""
		}
		return "loopback"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case !ip.IsGlobalUnicast():
		return "not global unicast"
	}
	for _, b := range blockedRanges() {
		if b.prefix.Contains(ip) {
			return b.reason
		}
	}
	return ""
}
