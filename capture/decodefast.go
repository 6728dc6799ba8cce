package capture

import (
	"encoding/binary"
	"net"
	"net/netip"

	"droneaudit/netflow"
)

// The EtherTypes the fast path follows (IEEE 802.3 / IANA ieee-802-numbers).
const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherVLAN = 0x8100 // IEEE 802.1Q tag
	etherQinQ = 0x88a8 // IEEE 802.1ad service tag
)

// maxVLANTags bounds the VLAN tags the fast path walks; deeper stacks take gopacket's path.
const maxVLANTags = 4

// fast decodes the common, well-formed frame without gopacket: Ethernet (with up to
// maxVLANTags 802.1Q/802.1ad tags), Linux SLL and SLL2, BSD loopback and raw IP, then IPv4
// without options or fragmentation, or IPv6 whose next header is TCP or UDP, then TCP or UDP. It
// fills d.out exactly as gopacket's DecodingLayerParser path would, including its length rules
// (IPv4 total length 0 meaning "the captured length", trailing padding trimmed by the IP length,
// UDP length 0 meaning "the rest"), and reports false for anything else: an unusual header, any
// length or field that does not hold, an empty layer. Decode then runs gopacket's parser, so the
// malformed-frame errors keep gopacket's text. FuzzDecodeFastPath holds the two paths equal.
//
// Header layouts: Ethernet II (IEEE 802.3 clause 3.2.6), 802.1Q tags (IEEE 802.1Q 9.6),
// LINKTYPE_LINUX_SLL/SLL2 and LINKTYPE_NULL/LOOP (https://www.tcpdump.org/linktypes.html),
// IPv4 (RFC 791 3.1), IPv6 (RFC 8200 3), TCP (RFC 9293 3.1), UDP (RFC 768).
func (d *NetDecoder) fast(lt LinkType, b []byte) bool {
	var srcMAC, dstMAC net.HardwareAddr
	var et uint16
	switch lt {
	case LinkEthernet:
		if len(b) < 14 {
			return false
		}
		dstMAC, srcMAC = net.HardwareAddr(b[0:6]), net.HardwareAddr(b[6:12])
		et = binary.BigEndian.Uint16(b[12:14])
		b = b[14:]
	case LinkLinuxSLL:
		// packet type, ARPHRD type, address length, 8-byte address, protocol
		if len(b) < 16 || binary.BigEndian.Uint16(b[4:6]) > 8 {
			return false
		}
		et = binary.BigEndian.Uint16(b[14:16])
		b = b[16:]
	case LinkLinuxSLL2:
		// protocol, reserved, interface index, ARPHRD type, packet type, address length, address
		if len(b) < 20 || b[11] > 8 {
			return false
		}
		switch binary.BigEndian.Uint16(b[8:10]) {
		case 770, 778, 803: // ARPHRD_FRAD, ARPHRD_IPGRE, ARPHRD_IEEE80211_RADIOTAP: not EtherType
			return false
		}
		et = binary.BigEndian.Uint16(b[0:2])
		b = b[20:]
	case LinkNull, LinkLoop:
		// The address family in either byte order, as gopacket guesses it from the first two bytes.
		if len(b) < 4 {
			return false
		}
		var fam uint32
		if b[0] == 0 && b[1] == 0 {
			fam = binary.BigEndian.Uint32(b[0:4])
		} else {
			fam = binary.LittleEndian.Uint32(b[0:4])
		}
		switch fam {
		case 2: // AF_INET
			et = etherIPv4
		case 10, 24, 28, 30: // AF_INET6 of Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			et = etherIPv6
		default:
			return false
		}
		b = b[4:]
	case LinkIPv4:
		et = etherIPv4
	case LinkIPv6:
		et = etherIPv6
	case LinkRaw:
		et = etherIPv4
		if len(b) > 0 && b[0]>>4 == 6 {
			et = etherIPv6
		}
	default:
		return false
	}
	for tags := 0; et == etherVLAN || et == etherQinQ; tags++ {
		if tags == maxVLANTags || len(b) < 4 {
			return false
		}
		et = binary.BigEndian.Uint16(b[2:4])
		b = b[4:]
	}

	var src, dst netip.Addr
	var proto byte
	switch et {
	case etherIPv4:
		// Version 4 with a 20-byte header: options take gopacket's path.
		if len(b) < 20 || b[0] != 0x45 {
			return false
		}
		n := int(binary.BigEndian.Uint16(b[2:4]))
		if n == 0 {
			n = len(b) // TCP segmentation offload leaves the total length 0: gopacket uses the frame's
		}
		if n < 20 {
			return false
		}
		if n < len(b) {
			b = b[:n] // Ethernet padding or a trailer
		}
		if binary.BigEndian.Uint16(b[6:8])&0x3fff != 0 {
			return false // more fragments, or a fragment after the first
		}
		proto = b[9]
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		b = b[20:]
	case etherIPv6:
		if len(b) < 40 || b[0]>>4 != 6 {
			return false
		}
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if n == 0 {
			return false // a jumbogram, or an error
		}
		proto = b[6] // extension headers take gopacket's path
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		b = b[40:]
		if n < len(b) {
			b = b[:n]
		}
	default:
		return false
	}
	if len(b) == 0 {
		return false
	}

	// Both transports start with the source and destination ports.
	var l4 netflow.Proto
	var flags uint8
	var seq uint32
	var pay []byte
	switch proto {
	case 6: // TCP
		if len(b) < 20 {
			return false
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			return false
		}
		l4, flags, seq, pay = netflow.TCP, b[13]&(FlagFIN|FlagSYN|FlagRST|0x08|FlagACK), binary.BigEndian.Uint32(b[4:8]), b[off:]
	case 17: // UDP
		if len(b) < 8 {
			return false
		}
		switch n := int(binary.BigEndian.Uint16(b[4:6])); {
		case n >= 8:
			pay = b[8:min(n, len(b))]
		case n == 0: // as gopacket: the rest of the packet (a jumbogram)
			pay = b[8:]
		default:
			return false
		}
		l4 = netflow.UDP
	default:
		return false
	}
	d.out = Transport{
		Proto:    l4,
		Src:      netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2])),
		Dst:      netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4])),
		SrcMAC:   srcMAC,
		DstMAC:   dstMAC,
		TCPFlags: flags,
		Seq:      seq,
		Payload:  pay,
	}
	return true
}
