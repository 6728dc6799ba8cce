// Package dhcp ties addresses to lab devices: DHCPv4 messages (RFC 2131, options RFC 2132 and
// RFC 4702) give a device's hardware address, the IP address it was offered or asked for, the
// host name and vendor class it announced, and the list of parameters it asked for (option 55,
// whose order fingerprints the client's DHCP stack); ARP (RFC 826) gives IPv4-to-MAC bindings
// for devices that kept an address from an earlier lease.
package dhcp

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// Message types (option 53, RFC 2132 §9.6).
const (
	Discover = 1
	Offer    = 2
	Request  = 3
	Decline  = 4
	Ack      = 5
	Nak      = 6
	Release  = 7
	Inform   = 8
)

// Message is what a DHCPv4 message says about its client.
type Message struct {
	Op          byte // 1 request (client to server), 2 reply
	Type        byte // option 53
	XID         uint32
	ClientMAC   net.HardwareAddr
	ClientIP    netip.Addr // ciaddr
	YourIP      netip.Addr // yiaddr: the address offered or acknowledged
	RequestedIP netip.Addr // option 50
	HostName    string     // option 12
	FQDN        string     // option 81
	VendorClass string     // option 60, e.g. "android-dhcp-14"
	// ParamList is the parameter request list (option 55) in the client's order.
	ParamList []byte
	ClientID  string     // option 61 in hex: type byte, then usually the hardware address
	ServerID  netip.Addr // option 54: the DHCP server that offered or acknowledged
}

// Fingerprint returns the parameter request list as DHCP fingerprint databases write it:
// the option codes in order, joined by commas ("1,3,6,15,26,28,51,58,59,43"); "" without one.
func (m *Message) Fingerprint() string {
	var sb strings.Builder
	for i, c := range m.ParamList {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(int(c)))
	}
	return sb.String()
}

// Error says where in a message decoding stopped.
type Error struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("dhcp: offset %d: %s", e.Offset, e.Reason) }

const fixedLen = 236 // op … file, before the magic cookie (RFC 2131 §2)

var magic = []byte{99, 130, 83, 99}

// LooksLike reports whether a UDP payload starts like a DHCPv4 message with the magic cookie.
func LooksLike(b []byte) bool {
	return len(b) >= fixedLen+4 && (b[0] == 1 || b[0] == 2) && b[1] == 1 && b[2] == 6 && string(b[fixedLen:fixedLen+4]) == string(magic)
}

// Parse decodes a DHCPv4 message. Options are read until the end option or the end of the
// message; a damaged option ends the walk with an error but keeps what was read.
func Parse(b []byte) (*Message, error) {
	if len(b) < fixedLen+4 {
		return nil, &Error{0, fmt.Sprintf("%d bytes, shorter than a DHCP message", len(b))}
	}
	if string(b[fixedLen:fixedLen+4]) != string(magic) {
		return nil, &Error{fixedLen, "no DHCP magic cookie"}
	}
	m := &Message{Op: b[0], XID: binary.BigEndian.Uint32(b[4:])}
	hlen := int(b[2])
	if b[1] == 1 && hlen == 6 {
		m.ClientMAC = net.HardwareAddr(append([]byte(nil), b[28:34]...))
	}
	m.ClientIP = addr4(b[12:16])
	m.YourIP = addr4(b[16:20])
	off := fixedLen + 4
	for off < len(b) {
		code := b[off]
		if code == 0 {
			off++
			continue
		}
		if code == 255 {
			break
		}
		if off+2 > len(b) || off+2+int(b[off+1]) > len(b) {
			return m, &Error{off, fmt.Sprintf("option %d runs past the end", code)}
		}
		v := b[off+2 : off+2+int(b[off+1])]
		switch code {
		case 53:
			if len(v) == 1 {
				m.Type = v[0]
			}
		case 12:
			m.HostName = clean(v)
		case 50:
			if len(v) == 4 {
				m.RequestedIP = addr4(v)
			}
		case 60:
			m.VendorClass = clean(v)
		case 55:
			m.ParamList = append([]byte(nil), v...)
		case 61:
			m.ClientID = hex.EncodeToString(v)
		case 54:
			if len(v) == 4 {
				m.ServerID = addr4(v)
			}
		case 81:
			// flags, rcode1, rcode2, then the name: wire format when flag E is set (RFC 4702 §2.3.1).
			if len(v) > 3 {
				if v[0]&0x04 != 0 {
					m.FQDN = wireName(v[3:])
				} else {
					m.FQDN = clean(v[3:])
				}
			}
		}
		off += 2 + len(v)
	}
	return m, nil
}

func addr4(b []byte) netip.Addr {
	a := netip.AddrFrom4([4]byte(b))
	if a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// clean keeps printable ASCII of a text option and drops a trailing NUL some clients send.
func clean(v []byte) string {
	var sb strings.Builder
	for _, c := range v {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func wireName(v []byte) string {
	var labels []string
	for len(v) > 0 && v[0] != 0 && len(labels) < 64 {
		l := int(v[0])
		if 1+l > len(v) {
			break
		}
		labels = append(labels, clean(v[1:1+l]))
		v = v[1+l:]
	}
	return strings.Join(labels, ".")
}
