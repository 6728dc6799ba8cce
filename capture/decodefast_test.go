package capture

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"droneaudit/netflow"
)

// Frame builders for the fast-path tests. They write headers by hand (RFC 791, 8200, 9293, 768
// and the tcpdump link-type pages) so that malformed variants are as easy as well-formed ones.

func tcpSeg(sport, dport uint16, seq uint32, flags byte, opts, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, 7) // ack
	b = append(b, byte((20+len(opts))/4)<<4, flags, 0xff, 0xff, 0, 0, 0, 0)
	b = append(b, opts...)
	return append(b, payload...)
}

func udpDgram(sport, dport uint16, length int, payload []byte) []byte {
	if length < 0 {
		length = 8 + len(payload)
	}
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(length))
	b = append(b, 0, 0)
	return append(b, payload...)
}

// ip4Pkt writes an IPv4 header; total < 0 means the real total length.
func ip4Pkt(proto byte, total int, fragField uint16, opts, payload []byte) []byte {
	hl := 20 + len(opts)
	if total < 0 {
		total = hl + len(payload)
	}
	b := []byte{0x40 | byte(hl/4), 0}
	b = binary.BigEndian.AppendUint16(b, uint16(total))
	b = append(b, 0x12, 0x34)
	b = binary.BigEndian.AppendUint16(b, fragField)
	b = append(b, 64, proto, 0, 0, 192, 168, 7, 2, 203, 0, 113, 9)
	b = append(b, opts...)
	return append(b, payload...)
}

// ip6Pkt writes an IPv6 header; plen < 0 means the real payload length.
func ip6Pkt(nh byte, plen int, payload []byte) []byte {
	if plen < 0 {
		plen = len(payload)
	}
	b := []byte{0x60, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(plen))
	b = append(b, nh, 64)
	b = append(b, netip.MustParseAddr("2001:db8::7").AsSlice()...)
	b = append(b, netip.MustParseAddr("::ffff:198.51.100.4").AsSlice()...)
	return append(b, payload...)
}

// linkKinds are the link types NetDecoder reads, in the order buildFrame's selector picks them.
var linkKinds = [...]LinkType{LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkNull, LinkLoop, LinkRaw, LinkIPv4, LinkIPv6}

// buildFrame wraps an IP packet in a link header of the kind sel picks. Bits of sel: 0-2 the
// link type, 3-4 the number of VLAN tags (Ethernet and SLL), 5 IPv6 rather than IPv4, 6 the link
// header's type field left as hdr gives it rather than set. hdr fills the link header's other
// bytes (addresses, SLL fields, the loopback family's byte order).
func buildFrame(sel uint8, hdr, ip []byte) (LinkType, []byte) {
	lt := linkKinds[sel%8]
	tags := int(sel>>3) & 3
	et := uint16(etherIPv4)
	if sel&0x20 != 0 {
		et = etherIPv6
	}
	keep := sel&0x40 != 0
	fill := func(n int) []byte {
		b := make([]byte, n)
		copy(b, hdr)
		return b
	}
	// tagged returns the EtherType field's value and the tags that follow it.
	tagged := func() (uint16, []byte) {
		if tags == 0 {
			return et, nil
		}
		var t []byte
		for i := range tags {
			next := et
			if i < tags-1 {
				next = etherVLAN
			}
			t = append(t, 0x20, byte(i))
			t = binary.BigEndian.AppendUint16(t, next)
		}
		if tags > 1 {
			return etherQinQ, t
		}
		return etherVLAN, t
	}
	var h []byte
	switch lt {
	case LinkEthernet:
		h = fill(14)
		if !keep {
			first, t := tagged()
			binary.BigEndian.PutUint16(h[12:], first)
			h = append(h, t...)
		}
	case LinkLinuxSLL:
		h = fill(16)
		if !keep {
			h[4], h[5] = 0, h[5]%9
			first, t := tagged()
			binary.BigEndian.PutUint16(h[14:], first)
			h = append(h, t...)
		}
	case LinkLinuxSLL2:
		h = fill(20)
		if !keep {
			h[8], h[9], h[11] = 0, 1, h[11]%9
			first, t := tagged()
			binary.BigEndian.PutUint16(h[0:], first)
			h = append(h, t...)
		}
	case LinkNull, LinkLoop:
		h = fill(4)
		if !keep {
			fam := uint32(2)
			if et == etherIPv6 {
				fam = [...]uint32{10, 24, 28, 30}[int(h[3])%4]
			}
			if h[0]&1 != 0 {
				binary.LittleEndian.PutUint32(h, fam)
			} else {
				binary.BigEndian.PutUint32(h, fam)
			}
		}
	}
	return lt, append(h, ip...)
}

// checkFastPath fails t when the fast path accepts a frame and its result differs from
// gopacket's. It reports whether the fast path accepted.
func checkFastPath(t *testing.T, d *NetDecoder, lt LinkType, data []byte) bool {
	t.Helper()
	if !d.fast(lt, data) {
		return false
	}
	got := d.out
	p := &Packet{Frame: 1, LinkType: lt, Data: data}
	want, ok, err := d.decodeLayers(p)
	if err != nil || !ok {
		t.Fatalf("%v frame % x: fast path accepted, gopacket: ok %v, err %v", lt, data, ok, err)
	}
	if got.Proto != want.Proto || got.Src != want.Src || got.Dst != want.Dst || got.TCPFlags != want.TCPFlags || got.Seq != want.Seq {
		t.Fatalf("%v frame % x:\nfast     %v %v>%v flags %#x seq %d\ngopacket %v %v>%v flags %#x seq %d", lt, data,
			got.Proto, got.Src, got.Dst, got.TCPFlags, got.Seq, want.Proto, want.Src, want.Dst, want.TCPFlags, want.Seq)
	}
	if (got.SrcMAC == nil) != (want.SrcMAC == nil) || (got.DstMAC == nil) != (want.DstMAC == nil) ||
		!bytes.Equal(got.SrcMAC, want.SrcMAC) || !bytes.Equal(got.DstMAC, want.DstMAC) {
		t.Fatalf("%v frame % x: MACs %v>%v, gopacket %v>%v", lt, data, got.SrcMAC, got.DstMAC, want.SrcMAC, want.DstMAC)
	}
	// Both payloads alias data: equal lengths and capacities mean the same bytes at the same place.
	if len(got.Payload) != len(want.Payload) || cap(got.Payload) != cap(want.Payload) || !bytes.Equal(got.Payload, want.Payload) {
		t.Fatalf("%v frame % x: payload %d/%d bytes % x, gopacket %d/%d % x", lt, data,
			len(got.Payload), cap(got.Payload), got.Payload, len(want.Payload), cap(want.Payload), want.Payload)
	}
	return true
}

type fastCase struct {
	name string
	sel  uint8
	hdr  []byte
	ip   []byte
	fast bool // the fast path must take it (false: it must leave it to gopacket)
}

func fastCases() []fastCase {
	mac := []byte{0x02, 0, 0, 0, 0, 1, 0x60, 0x60, 0x1f, 0, 0, 2}
	pay := []byte("GET / HTTP/1.1\r\n\r\n")
	seg := tcpSeg(51000, 80, 1000, FlagSYN|FlagACK|0x08|0x20, nil, pay)
	mss := tcpSeg(51000, 443, 1, FlagSYN, []byte{2, 4, 5, 0xb4, 1, 1, 4, 2}, nil)
	dg := udpDgram(5353, 53, -1, []byte{1, 2, 3, 4, 5})
	pad := func(b []byte) []byte { return append(append([]byte(nil), b...), make([]byte, 6)...) }
	v4 := func(proto byte, l4 []byte) []byte { return ip4Pkt(proto, -1, 0x4000, nil, l4) }
	v6 := func(nh byte, l4 []byte) []byte { return ip6Pkt(nh, -1, l4) }
	var cs []fastCase
	for k := range uint8(8) {
		name := linkKinds[k].String()
		if linkKinds[k] != LinkIPv6 {
			cs = append(cs,
				fastCase{name + " ipv4 tcp", k, mac, v4(6, seg), true},
				fastCase{name + " ipv4 tcp mss", k, mac, v4(6, mss), true},
				fastCase{name + " ipv4 udp", k, mac, v4(17, dg), true},
				fastCase{name + " ipv4 udp padded", k, mac, pad(v4(17, dg)), true})
		}
		if linkKinds[k] != LinkIPv4 {
			cs = append(cs,
				fastCase{name + " ipv6 tcp", k | 0x20, mac, v6(6, seg), true},
				fastCase{name + " ipv6 udp padded", k | 0x20, mac, pad(v6(17, dg)), true})
		}
	}
	cs = append(cs,
		fastCase{"vlan", 0x08, mac, v4(6, seg), true},
		fastCase{"qinq", 0x10, mac, v4(17, dg), true},
		fastCase{"three tags ipv6", 0x18 | 0x20, mac, v6(6, seg), true},
		fastCase{"sll vlan", 0x08 | 1, mac, v4(6, seg), true},
		fastCase{"sll2 qinq", 0x10 | 2, mac, v4(6, seg), true},
		fastCase{"ipv4 total length 0 (TSO)", 0, mac, ip4Pkt(6, 0, 0, nil, seg), true},
		fastCase{"ipv4 total length past the frame", 0, mac, ip4Pkt(6, 200, 0, nil, seg), true},
		fastCase{"ipv6 payload length past the frame", 0x20, mac, ip6Pkt(17, 300, dg), true},
		fastCase{"udp length 0", 0, mac, v4(17, udpDgram(1, 2, 0, []byte{9, 9})), true},
		fastCase{"udp length past the datagram", 0, mac, v4(17, udpDgram(1, 2, 100, []byte{9, 9})), true},
		fastCase{"udp length inside the datagram", 0, mac, v4(17, udpDgram(1, 2, 9, []byte{9, 9})), true},
		fastCase{"tcp without payload", 0, mac, v4(6, tcpSeg(1, 2, 3, FlagFIN, nil, nil)), true},

		fastCase{"ipv4 options", 0, mac, ip4Pkt(6, -1, 0, []byte{1, 1, 1, 0}, seg), false},
		fastCase{"ipv4 first fragment", 0, mac, ip4Pkt(17, -1, 0x2000, nil, dg), false},
		fastCase{"ipv4 later fragment", 0, mac, ip4Pkt(17, -1, 0x0010, nil, dg), false},
		fastCase{"ipv4 total length below 20", 0, mac, ip4Pkt(6, 19, 0, nil, seg), false},
		fastCase{"ipv4 header only", 0, mac, ip4Pkt(6, 20, 0, nil, seg), false},
		fastCase{"ipv4 icmp", 0, mac, v4(1, []byte{8, 0, 0, 0, 0, 1, 0, 1}), false},
		fastCase{"ipv4 cut", 0, mac, v4(6, seg)[:15], false},
		fastCase{"ipv6 hop-by-hop", 0x20, mac, v6(0, append([]byte{6, 0, 1, 4, 0, 0, 0, 0}, seg...)), false},
		fastCase{"ipv6 payload length 0", 0x20, mac, ip6Pkt(6, 0, seg), false},
		fastCase{"ipv6 fragment header", 0x20, mac, v6(44, append([]byte{17, 0, 0, 1, 0, 0, 0, 1}, dg...)), false},
		fastCase{"tcp data offset 4", 0, mac, v4(6, append(append([]byte(nil), seg[:12]...), append([]byte{0x40}, seg[13:]...)...)), false},
		fastCase{"tcp data offset past the segment", 0, mac, ip4Pkt(6, 40, 0, nil, tcpSeg(1, 2, 3, 0, make([]byte, 20), nil)), false},
		fastCase{"tcp cut", 0, mac, v4(6, seg[:19]), false},
		fastCase{"udp length 7", 0, mac, v4(17, udpDgram(1, 2, 7, nil)), false},
		fastCase{"udp cut", 0, mac, v4(17, dg[:7]), false},
		fastCase{"802.3 length frame", 0x40, append(append([]byte(nil), mac...), 0, 40), v4(6, seg), false},
		fastCase{"arp", 0x40, append(append([]byte(nil), mac...), 8, 6), make([]byte, 28), false},
		fastCase{"sll address length 9", 0x40 | 1, []byte{0, 0, 0, 1, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 8, 0}, v4(6, seg), false},
		fastCase{"sll2 radiotap", 0x40 | 2, []byte{8, 0, 0, 0, 0, 0, 0, 1, 3, 0x23, 0, 6}, v4(6, seg), false},
		fastCase{"loopback family 0x1ff", 0x40 | 3, []byte{0xff, 1, 0, 0}, v4(6, seg), false},
		fastCase{"five vlan tags", 0x40, append(append([]byte(nil), mac...), 0x81, 0,
			0, 1, 0x81, 0, 0, 1, 0x81, 0, 0, 1, 0x81, 0, 0, 1, 0x81, 0, 0, 1, 8, 0), v4(6, seg), false},
		fastCase{"raw ipv4 version 5", 5, nil, append([]byte{0x55}, v4(6, seg)[1:]...), false},
	)
	return cs
}

// TestDecodeFastPath checks that the fast path takes the common frames of every link type, gives
// gopacket's result for them, and leaves the unusual ones to gopacket.
func TestDecodeFastPath(t *testing.T) {
	d := NewNetDecoder()
	for _, c := range fastCases() {
		lt, frame := buildFrame(c.sel, c.hdr, c.ip)
		if took := checkFastPath(t, d, lt, frame); took != c.fast {
			t.Errorf("%s: fast path took it: %v, want %v", c.name, took, c.fast)
		}
	}
	// One result spelled out, so that the two paths cannot agree on a wrong answer.
	lt, frame := buildFrame(0x08, []byte{0x02, 0, 0, 0, 0, 1, 0x60, 0x60, 0x1f, 0, 0, 2},
		ip4Pkt(6, -1, 0, nil, tcpSeg(51000, 80, 1000, FlagSYN|FlagACK|0x20, nil, []byte("hi"))))
	tr, ok, err := d.Decode(&Packet{LinkType: lt, Data: append(frame, 0, 0, 0, 0)})
	if !ok || err != nil || tr.Proto != netflow.TCP || tr.Src != netip.MustParseAddrPort("192.168.7.2:51000") ||
		tr.Dst != netip.MustParseAddrPort("203.0.113.9:80") || tr.TCPFlags != FlagSYN|FlagACK || tr.Seq != 1000 ||
		string(tr.Payload) != "hi" || tr.SrcMAC.String() != "60:60:1f:00:00:02" || tr.DstMAC.String() != "02:00:00:00:00:01" {
		t.Fatalf("ok %v err %v %+v", ok, err, tr)
	}
}

// FuzzDecodeFastPath builds frames of every link type around fuzzed IP packets (and feeds the
// fuzzed bytes as they are to every link type), and checks that whenever the fast path accepts a
// frame its Transport is gopacket's.
func FuzzDecodeFastPath(f *testing.F) {
	for _, c := range fastCases() {
		f.Add(c.sel, c.hdr, c.ip)
	}
	d := NewNetDecoder() // the fuzz function runs sequentially in each worker
	f.Fuzz(func(t *testing.T, sel uint8, hdr, ip []byte) {
		lt, frame := buildFrame(sel, hdr, ip)
		checkFastPath(t, d, lt, frame)
		raw := append(append([]byte(nil), hdr...), ip...)
		for _, lt := range linkKinds {
			checkFastPath(t, d, lt, raw)
		}
	})
}
