package devices

import (
	"encoding/binary"
	"net/netip"

	"droneaudit/capture"
	"droneaudit/decoders/dhcp"
	"droneaudit/engine"
)

// Bounds on the reader goroutine's state.
const (
	maxDevices = 1 << 16 // devices followed; frames of further addresses are counted as dropped
	maxLocal   = 64      // lab-scope addresses kept per device
)

// groupBit is the I/G bit of an address packed by macBits: a group (multicast) address names no
// device.
const groupBit = 1 << 40

// frameDev is what the frames outside TCP and UDP flows (ARP, ICMP, other link-layer
// protocols) say about one device; its flows are accounted by the shards (part.Ended).
type frameDev struct {
	first, last         int64 // Unix nanoseconds
	framesOut, framesIn int64
	lastSrc             netip.Addr
	local               addrSet // lab-scope addresses it claimed in ARP (or sent from, in cooked captures)
	at                  seenAt  // the first of these frames it sent
}

func (d *frameDev) seen(t int64) {
	if d.first == 0 || t < d.first {
		d.first = t
	}
	if t > d.last {
		d.last = t
	}
}

// source records an address the device sent from or claimed. It reports whether the address is
// a new lab-scope address of the device.
func (d *frameDev) source(a netip.Addr) bool {
	if a == d.lastSrc {
		return false
	}
	d.lastSrc = a
	if !labScope(a) {
		return false
	}
	if _, ok := d.local[a]; ok || len(d.local) >= maxLocal {
		return false
	}
	d.local.add(a)
	return true
}

// labScope reports whether an address belongs to a lab segment rather than the internet:
// private (RFC 1918, ULA), link-local or shared (CGNAT) space.
func labScope(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// frames is the reader goroutine's part of the inventory. TCP and UDP frames of Ethernet
// captures are left to the shards, which account them per flow: per frame the reader only
// counts.
type frames struct {
	byMAC   map[uint64]*frameDev
	ipMAC   map[netip.Addr]uint64 // an address → the device that claimed it first (ARP, cooked captures)
	packets int64
	dropped int64 // frames of devices beyond maxDevices
}

func newFrames() *frames {
	return &frames{byMAC: map[uint64]*frameDev{}, ipMAC: map[netip.Addr]uint64{}}
}

// dev returns the device of a MAC address, or nil when too many are followed already.
func (f *frames) dev(mac uint64) *frameDev {
	d := f.byMAC[mac]
	if d == nil {
		if len(f.byMAC) >= maxDevices {
			f.dropped++
			return nil
		}
		d = &frameDev{}
		f.byMAC[mac] = d
	}
	return d
}

// packet accounts one frame that no flow accounts: to the device that sent it and the one it
// was sent to, by link-layer address; an ARP packet also binds its sender's address. In Linux
// cooked captures (SLL, SLL2) flows carry no MAC address, so there the reader binds each TCP
// or UDP sender's address to the MAC address of the frame.
func (f *frames) packet(ev *engine.PacketEvent) {
	f.packets++
	p := ev.Packet
	t := ev.Transport
	if t != nil && p.LinkType == capture.LinkEthernet {
		return
	}
	src, dst, hasSrc, hasDst := linkAddrs(p.LinkType, p.Data)
	if !hasSrc || src == 0 || src&groupBit != 0 {
		return
	}
	d := f.dev(src)
	if d == nil {
		return
	}
	if t != nil {
		f.own(d, src, t.Src.Addr())
		return
	}
	ts := p.Time.UnixNano()
	d.seen(ts)
	if d.framesOut == 0 { // the reader sees frames in input order: the first is the earliest
		d.at = seenAt{in: ev.Input, frame: p.Frame, offset: p.Offset}
	}
	d.framesOut++
	if p.LinkType == capture.LinkEthernet {
		if a, ok := dhcp.ParseARPFrame(p.Data); ok {
			f.own(d, src, a.SenderIP)
		}
	}
	if hasDst && dst != 0 && dst&groupBit == 0 {
		if r := f.dev(dst); r != nil {
			r.seen(ts)
			r.framesIn++
		}
	}
}

// own records a lab-scope address of the device with MAC mac.
func (f *frames) own(d *frameDev, mac uint64, a netip.Addr) {
	a = a.Unmap()
	if d.source(a) {
		if _, ok := f.ipMAC[a]; !ok && len(f.ipMAC) < maxDevices*4 {
			f.ipMAC[a] = mac
		}
	}
}

// linkAddrs reads the link-layer source and destination addresses of a frame, packed by
// macBits: Ethernet has both; Linux cooked captures (SLL, SLL2) only the sender's.
func linkAddrs(lt capture.LinkType, b []byte) (src, dst uint64, hasSrc, hasDst bool) {
	switch lt {
	case capture.LinkEthernet:
		if len(b) < 14 {
			return 0, 0, false, false
		}
		return pack6(b[6:12]), pack6(b[0:6]), true, true
	case capture.LinkLinuxSLL: // packet type, ARPHRD type, address length, 8 bytes of address
		if len(b) < 16 || binary.BigEndian.Uint16(b[2:]) != 1 || binary.BigEndian.Uint16(b[4:]) != 6 {
			return 0, 0, false, false
		}
		return pack6(b[6:12]), 0, true, false
	case capture.LinkLinuxSLL2: // protocol, reserved, ifindex, ARPHRD type, packet type, length, address
		if len(b) < 20 || binary.BigEndian.Uint16(b[8:]) != 1 || b[11] != 6 {
			return 0, 0, false, false
		}
		return pack6(b[12:18]), 0, true, false
	}
	return 0, 0, false, false
}

func pack6(b []byte) uint64 {
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}
