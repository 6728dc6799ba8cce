// Package lab runs the lab bench of docs/LAB.md in one command: the access point (hostapd, only
// for a Wi-Fi AP), DHCP and DNS (dnsmasq), the nftables rules (NAT to an uplink, or an offline
// network whose every TCP connection lands on the fake internet of package fakenet), and the
// evidence capture of the AP interface; and it takes all of it down again in order.
package lab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// Plan is what the lab is asked to be.
type Plan struct {
	AP      string // interface the lab devices join: a Wi-Fi AP, a switch port, a veth
	Monitor string // optional wireless interface to capture in monitor mode
	Uplink  string // interface to route to with NAT; "" for the offline lab
	Dir     string // session folder
	Subnet  netip.Prefix
	// TLSIntercept terminates TLS in the fake internet with a lab CA (offline only).
	TLSIntercept bool
	// NoIPv6 leaves IPv6 out of the offline lab (the AP interface has it disabled): AAAA
	// questions then get no answer, and phones fall back to IPv4.
	NoIPv6 bool
	// Wireless says the AP is a Wi-Fi interface: only then is hostapd configured and started.
	Wireless bool
	// The access point's settings (hostapd), used when Wireless.
	SSID, Passphrase, Country string
	Channel                   int
}

// Table is the nftables table the lab owns; nothing else in the ruleset is touched.
const Table = "droneaudit_lab"

// FakeTCPPort is where the offline lab's redirect sends every TCP connection.
const FakeTCPPort = 64001

// FakeUDPPorts are the UDP ports the fake internet reads: DNS goes to dnsmasq and DHCP stays
// with it; these are the other services drone apps and phones commonly use: NTP (123), QUIC
// (443), STUN/TURN (3478, 3479), CoAP (5683), IKE/IPsec NAT-T (500, 4500), OpenVPN (1194),
// WireGuard (51820), Agora/video relays (8000, 8443), DJI's older UDP relays (8801).
var FakeUDPPorts = []uint16{123, 443, 500, 1194, 3478, 3479, 4500, 5683, 8000, 8443, 8801, 51820}

// LabULA is the lab's IPv6 address (a unique local /64, RFC 4193) so AAAA questions get an
// answer that leads to the fake internet too.
var LabULA = netip.MustParsePrefix("fd64:da1a:b::1/64")

var ifaceName = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,15}$`)

// Check validates the plan before anything is touched.
func (p Plan) Check() error {
	for _, n := range []struct{ flag, v string }{{"--ap", p.AP}, {"--monitor", p.Monitor}, {"--uplink", p.Uplink}} {
		if n.v != "" && !ifaceName.MatchString(n.v) {
			return fmt.Errorf("%s %q is not an interface name", n.flag, n.v)
		}
	}
	switch {
	case p.AP == "":
		return errors.New("--ap IFACE is required")
	case p.AP == p.Uplink || p.AP == p.Monitor || (p.Uplink != "" && p.Uplink == p.Monitor):
		return errors.New("--ap, --monitor and --uplink must be different interfaces")
	case !p.Subnet.IsValid() || !p.Subnet.Addr().Is4():
		return errors.New("--subnet must be an IPv4 prefix such as 192.168.50.0/24")
	case p.Subnet.Bits() < 16 || p.Subnet.Bits() > 28:
		return fmt.Errorf("--subnet %s: want a prefix length from /16 to /28", p.Subnet)
	case p.Subnet.Masked() != p.Subnet:
		return fmt.Errorf("--subnet %s: give the network address (%s)", p.Subnet, p.Subnet.Masked())
	case p.TLSIntercept && p.Uplink != "":
		return errors.New("--tls-intercept works in the offline lab only (without --uplink)")
	case p.Dir == "":
		return errors.New("-w DIR is required")
	case (p.Wireless || p.Monitor != "") && (p.Channel < 1 || p.Channel > 233):
		return fmt.Errorf("--channel %d: want a Wi-Fi channel from 1 to 233", p.Channel)
	}
	if p.Wireless {
		// IEEE 802.11i: a passphrase is 8 to 63 printable ASCII characters. Neither it nor the
		// SSID may hold a line break: hostapd reads its file line by line.
		if l := len(p.Passphrase); l < 8 || l > 63 || !printableASCII(p.Passphrase) {
			return errors.New("--passphrase: WPA2 wants 8 to 63 printable ASCII characters")
		}
		if len(p.SSID) == 0 || len(p.SSID) > 32 || strings.ContainsFunc(p.SSID, unicode.IsControl) {
			return errors.New("--ssid: 1 to 32 bytes without control characters")
		}
		if !regexp.MustCompile(`^[A-Z]{2}$`).MatchString(p.Country) {
			return errors.New("--country: an ISO 3166-1 alpha-2 code such as DE or BE")
		}
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] > 126 {
			return false
		}
	}
	return true
}

// IPv6Disabled reports whether IPv6 is off on iface (or in the kernel), as the lab's IPv6
// address could not be added then.
func IPv6Disabled(iface string) bool {
	b, err := os.ReadFile(filepath.Join("/proc/sys/net/ipv6/conf", iface, "disable_ipv6"))
	if err != nil {
		_, err := os.Stat("/proc/sys/net/ipv6")
		return err != nil
	}
	return strings.TrimSpace(string(b)) == "1"
}

// ipv6 reports whether the offline lab gives the AP its IPv6 address.
func (p Plan) ipv6() bool { return p.Offline() && !p.NoIPv6 }

// Offline reports whether the lab routes nothing out.
func (p Plan) Offline() bool { return p.Uplink == "" }

// LabIP is the lab host's address: the first in the subnet.
func (p Plan) LabIP() netip.Addr { return p.Subnet.Addr().Next() }

// DHCPRange is the range dnsmasq leases from: .10 to .250 of a /24, within smaller subnets
// everything after the lab address but the broadcast address.
func (p Plan) DHCPRange() (first, last netip.Addr) {
	size := uint32(1) << (32 - p.Subnet.Bits())
	base := p.Subnet.Addr().As4()
	b := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	lo, hi := b+2, b+size-2
	if size >= 64 {
		lo, hi = b+10, min(b+size-2, b+250)
	}
	at := func(v uint32) netip.Addr {
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	return at(lo), at(hi)
}

// Netmask is the subnet mask in dotted form, as dnsmasq's dhcp-range wants it.
func (p Plan) Netmask() string {
	m := ^uint32(0) << (32 - p.Subnet.Bits())
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}

// Path names a file in the session folder.
func (p Plan) Path(name string) string { return filepath.Join(p.Dir, name) }

// IsWireless reports whether an interface is a Wi-Fi interface (it has a wireless or phy80211
// entry in sysfs, as iw and NetworkManager test it).
func IsWireless(iface string) bool {
	for _, e := range []string{"wireless", "phy80211"} {
		if _, err := os.Stat(filepath.Join("/sys/class/net", iface, e)); err == nil {
			return true
		}
	}
	return false
}
