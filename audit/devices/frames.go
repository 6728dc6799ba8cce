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
	maxLocal   = 64      // lab-scope source addresses kept per device
)

// groupBit is the I/G bit of an address packed by macBits: a group (multicast) address names no
// device.
const groupBit = 1 << 40

// frameDev is what the frames say about one device: when it was seen, how much it sent and
// received, and the lab-scope addresses it sent from. An internet address is a device's own
// only when it opens flows from it (part.Ended): a gateway sends frames from every internet
// server whose answers it forwards.
type frameDev struct {
	first, last         int64 // Unix nanoseconds: comparing integers is cheaper than times, per frame
	framesOut, framesIn int64
	bytesOut, bytesIn   int64
	lastSrc             netip.Addr
	local               map[netip.Addr]struct{}
}

func (d *frameDev) sent(t int64, n int64) {
	if d.framesOut == 0 || t < d.first {
		d.first = t
	}
	if t > d.last {
		d.last = t
	}
	d.framesOut++
	d.bytesOut += n
}

// source records an address the device sent from. It reports whether the address is a new
// lab-scope address of the device.
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
	if d.local == nil {
		d.local = map[netip.Addr]struct{}{}
	}
	d.local[a] = struct{}{}
	return true
}

// labScope reports whether an address belongs to a lab segment rather than the internet:
// private (RFC 1918, ULA), link-local or shared (CGNAT) space.
func labScope(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// cached is one entry of the reader's small cache of recently used devices.
type cached struct {
	mac uint64
	dev *frameDev
}

// frames is the reader goroutine's part of the inventory.
type frames struct {
	byMAC   map[uint64]*frameDev
	byIP    map[netip.Addr]*frameDev // devices of captures without link-layer addresses (raw IP)
	ipMAC   map[netip.Addr]uint64    // an address → the device that sent from it first
	recent  [2]cached                // a flow's frames alternate between two devices
	next    int
	packets int64
	dropped int64 // frames of devices beyond maxDevices
}

func newFrames() *frames {
	return &frames{byMAC: map[uint64]*frameDev{}, byIP: map[netip.Addr]*frameDev{}, ipMAC: map[netip.Addr]uint64{}}
}

// dev returns the device of a MAC address, or nil when too many are followed already.
func (f *frames) dev(mac uint64) *frameDev {
	if f.recent[0].mac == mac && f.recent[0].dev != nil {
		return f.recent[0].dev
	}
	if f.recent[1].mac == mac && f.recent[1].dev != nil {
		return f.recent[1].dev
	}
	d := f.byMAC[mac]
	if d == nil {
		if len(f.byMAC) >= maxDevices {
			f.dropped++
			return nil
		}
		d = &frameDev{}
		f.byMAC[mac] = d
	}
	f.recent[f.next] = cached{mac, d}
	f.next ^= 1
	return d
}

func (f *frames) devIP(a netip.Addr) *frameDev {
	d := f.byIP[a]
	if d == nil {
		if len(f.byIP) >= maxDevices {
			f.dropped++
			return nil
		}
		d = &frameDev{}
		f.byIP[a] = d
	}
	return d
}

// packet accounts one frame: to the device that sent it (by its link-layer source address, or
// by its lab-scope IP address where the capture has none) and to the device it was sent to.
func (f *frames) packet(ev *engine.PacketEvent) {
	f.packets++
	p := ev.Packet
	n := int64(p.OrigLen)
	if n == 0 {
		n = int64(len(p.Data))
	}
	src, dst, hasSrc, hasDst := linkAddrs(p.LinkType, p.Data)
	t := ev.Transport
	if hasSrc {
		if src != 0 && src&groupBit == 0 {
			if d := f.dev(src); d != nil {
				d.sent(p.Time.UnixNano(), n)
				if t != nil {
					f.own(d, src, t.Src.Addr())
				} else if p.LinkType == capture.LinkEthernet {
					if a, ok := dhcp.ParseARPFrame(p.Data); ok {
						f.own(d, src, a.SenderIP)
					}
				}
			}
		}
		if hasDst && dst != 0 && dst&groupBit == 0 {
			if d := f.dev(dst); d != nil {
				d.framesIn++
				d.bytesIn += n
			}
		}
		return
	}
	if t == nil {
		return
	}
	if a := t.Src.Addr().Unmap(); labScope(a) {
		if d := f.devIP(a); d != nil {
			d.sent(p.Time.UnixNano(), n)
			d.source(a)
		}
	}
	if a := t.Dst.Addr().Unmap(); labScope(a) {
		if d := f.devIP(a); d != nil {
			d.framesIn++
			d.bytesIn += n
		}
	}
}

// own records a source address of the device with MAC mac.
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
