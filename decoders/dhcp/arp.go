package dhcp

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// ARP is one Ethernet/IPv4 ARP packet (RFC 826).
type ARP struct {
	Op        uint16 // 1 request, 2 reply
	SenderMAC net.HardwareAddr
	SenderIP  netip.Addr
	TargetMAC net.HardwareAddr
	TargetIP  netip.Addr
}

// ParseARPFrame decodes an ARP packet from an Ethernet frame (with or without one 802.1Q tag).
// It returns false for any other frame.
func ParseARPFrame(frame []byte) (ARP, bool) {
	if len(frame) < 14 {
		return ARP{}, false
	}
	et := binary.BigEndian.Uint16(frame[12:])
	p := frame[14:]
	if et == 0x8100 && len(frame) >= 18 {
		et = binary.BigEndian.Uint16(frame[16:])
		p = frame[18:]
	}
	if et != 0x0806 {
		return ARP{}, false
	}
	return ParseARP(p)
}

// ParseARP decodes the ARP packet itself: hardware type Ethernet, protocol IPv4.
func ParseARP(p []byte) (ARP, bool) {
	if len(p) < 28 || binary.BigEndian.Uint16(p) != 1 || binary.BigEndian.Uint16(p[2:]) != 0x0800 || p[4] != 6 || p[5] != 4 {
		return ARP{}, false
	}
	return ARP{
		Op:        binary.BigEndian.Uint16(p[6:]),
		SenderMAC: net.HardwareAddr(append([]byte(nil), p[8:14]...)),
		SenderIP:  netip.AddrFrom4([4]byte(p[14:18])),
		TargetMAC: net.HardwareAddr(append([]byte(nil), p[18:24]...)),
		TargetIP:  netip.AddrFrom4([4]byte(p[24:28])),
	}, true
}
