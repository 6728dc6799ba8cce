package destinations

import "net/netip"

// Scopes of addresses that are never looked up in a geolocation database.
const (
	ScopePublic      = "public"
	ScopePrivate     = "private"
	ScopeLoopback    = "loopback"
	ScopeLinkLocal   = "link-local"
	ScopeCGNAT       = "cgnat"
	ScopeMulticast   = "multicast"
	ScopeReserved    = "reserved"
	ScopeDocumenting = "documentation"
)

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")                                                                                                   // RFC 6598
	ietf      = netip.MustParsePrefix("192.0.0.0/24")                                                                                                    // RFC 6890
	bench     = netip.MustParsePrefix("198.18.0.0/15")                                                                                                   // RFC 2544
	class4    = netip.MustParsePrefix("240.0.0.0/4")                                                                                                     // RFC 1112
	nat64     = netip.MustParsePrefix("64:ff9b::/96")                                                                                                    // RFC 6052
	doc6      = netip.MustParsePrefix("2001:db8::/32")                                                                                                   // RFC 3849
	doc4      = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")} // RFC 5737
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	broadcast = netip.MustParseAddr("255.255.255.255")
)

// Scope classifies an address (capture-and-performance.md §6.2). A NAT64 address is judged by the
// IPv4 address it embeds. Only "public" addresses are looked up.
func Scope(a netip.Addr) string {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case !a.IsValid():
		return ScopeReserved
	case a.IsLoopback():
		return ScopeLoopback
	case a.IsMulticast() || a == broadcast:
		return ScopeMulticast
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return ScopeLinkLocal
	case a.IsPrivate():
		return ScopePrivate // 10/8, 172.16/12, 192.168/16, fc00::/7
	case cgnat.Contains(a):
		return ScopeCGNAT
	case doc6.Contains(a):
		return ScopeDocumenting
	case a.IsUnspecified() || ietf.Contains(a) || bench.Contains(a) || class4.Contains(a) || thisNet.Contains(a):
		return ScopeReserved
	}
	for _, p := range doc4 {
		if p.Contains(a) {
			return ScopeDocumenting
		}
	}
	return ScopePublic
}

// lookupAddr is the address to look up for a (public) destination: NAT64 addresses are looked
// up by their embedded IPv4 address.
func lookupAddr(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return a
}
