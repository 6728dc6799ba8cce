package destinations

import "net/netip"

// Scopes say how far bytes sent to a destination went. A position that reaches a loopback address
// has not left the device; one sent to a lab address has left the device but not the site; one
// sent to any other address has left the site. Broadcast is a scope of its own: every listener in
// range hears it, whoever they are. The policy says which scopes fail an audit.
const (
	ScopeOnDevice   = "on-device"   // loopback: programs on the device itself
	ScopeLabNetwork = "lab-network" // private, link-local, multicast: the lab's own network
	ScopeInternet   = "internet"    // every address that may route beyond the site
	ScopeBroadcast  = "broadcast"   // the limited broadcast address, and over-the-air broadcasts
)

// Scopes lists the scopes in order of distance from the device.
var Scopes = []string{ScopeOnDevice, ScopeLabNetwork, ScopeInternet, ScopeBroadcast}

// Address classes: what kind of address a destination has. Only "public" addresses are looked
// up in a geolocation database.
const (
	ClassPublic      = "public"
	ClassPrivate     = "private"
	ClassLoopback    = "loopback"
	ClassLinkLocal   = "link-local"
	ClassCGNAT       = "cgnat"
	ClassMulticast   = "multicast"
	ClassBroadcast   = "broadcast"
	ClassReserved    = "reserved"
	ClassDocumenting = "documentation"
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
	broadcast = netip.MustParseAddr("255.255.255.255") // RFC 919 limited broadcast
)

// Class classifies an address (RFC 6890 special-purpose registries). A NAT64 address is judged
// by the IPv4 address it embeds.
func Class(a netip.Addr) string {
	a = lookupAddr(a)
	switch {
	case !a.IsValid():
		return ClassReserved
	case a.IsLoopback():
		return ClassLoopback
	case a == broadcast:
		return ClassBroadcast
	case a.IsMulticast():
		return ClassMulticast
	case a.IsLinkLocalUnicast():
		return ClassLinkLocal
	case a.IsPrivate():
		return ClassPrivate // 10/8, 172.16/12, 192.168/16, fc00::/7
	case cgnat.Contains(a):
		return ClassCGNAT
	case doc6.Contains(a):
		return ClassDocumenting
	case a.IsUnspecified() || ietf.Contains(a) || bench.Contains(a) || class4.Contains(a) || thisNet.Contains(a):
		return ClassReserved
	}
	for _, p := range doc4 {
		if p.Contains(a) {
			return ClassDocumenting
		}
	}
	return ClassPublic
}

// Scope says how far bytes sent to an address went. Carrier-grade NAT, documentation and reserved
// addresses count as the internet: nothing shows that they stay on the site.
func Scope(a netip.Addr) string { return ScopeOfClass(Class(a)) }

// ScopeOfClass maps an address class to its scope.
func ScopeOfClass(class string) string {
	switch class {
	case ClassLoopback:
		return ScopeOnDevice
	case ClassPrivate, ClassLinkLocal, ClassMulticast:
		return ScopeLabNetwork
	case ClassBroadcast:
		return ScopeBroadcast
	}
	return ScopeInternet
}

// lookupAddr is the address to classify and look up: NAT64 addresses are judged by their
// embedded IPv4 address.
func lookupAddr(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return a
}
