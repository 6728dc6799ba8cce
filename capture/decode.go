package capture

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"droneaudit/netflow"
)

// Transport is the network view of one packet: addresses and the transport payload.
type Transport struct {
	Proto    netflow.Proto // netflow.TCP or netflow.UDP
	Src, Dst netip.AddrPort
	SrcMAC   net.HardwareAddr // nil when the link layer has none
	DstMAC   net.HardwareAddr
	TCPFlags uint8 // FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
	Seq      uint32
	Payload  []byte // aliases the packet's data
}

// TCP flag bits.
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagACK = 0x10
)

// NetDecoder turns link-layer frames into Transports. It keeps gopacket's DecodingLayerParser
// state, so use one per goroutine.
type NetDecoder struct {
	eth    layers.Ethernet
	dot1q  layers.Dot1Q
	sll    layers.LinuxSLL
	sll2   layers.LinuxSLL2
	loop   layers.Loopback
	ip4    layers.IPv4
	ip6    layers.IPv6
	udp    layers.UDP
	tcp    layers.TCP
	pay    gopacket.Payload
	parser map[gopacket.LayerType]*gopacket.DecodingLayerParser
	types  []gopacket.LayerType
	out    Transport
}

// NewNetDecoder returns a decoder for the IP link types.
func NewNetDecoder() *NetDecoder {
	d := &NetDecoder{parser: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	all := []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop, &d.ip4, &d.ip6, &d.udp, &d.tcp, &d.pay}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2,
		layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true
		d.parser[first] = p
	}
	return d
}

// IsIP reports whether frames of this link type carry IP that NetDecoder understands.
func (lt LinkType) IsIP() bool {
	switch lt {
	case LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkNull, LinkLoop, LinkRaw, LinkIPv4, LinkIPv6:
		return true
	}
	return false
}

func firstLayer(lt LinkType, data []byte) (gopacket.LayerType, bool) {
	switch lt {
	case LinkEthernet:
		return layers.LayerTypeEthernet, true
	case LinkLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case LinkLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case LinkNull, LinkLoop:
		return layers.LayerTypeLoopback, true
	case LinkIPv4:
		return layers.LayerTypeIPv4, true
	case LinkIPv6:
		return layers.LayerTypeIPv6, true
	case LinkRaw:
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6, true
		}
		return layers.LayerTypeIPv4, true
	}
	return 0, false
}

// Decode returns the transport view of p, or ok=false when p carries no TCP or UDP (ARP, ICMP,
// fragments after the first, other link types). The result is valid until the next call.
func (d *NetDecoder) Decode(p *Packet) (t *Transport, ok bool, err error) {
	if d.fast(p.LinkType, p.Data) {
		return &d.out, true, nil
	}
	return d.decodeLayers(p)
}

// decodeLayers is Decode through gopacket's DecodingLayerParser: every frame the fast path
// declines, and the reference the fast path is tested against.
func (d *NetDecoder) decodeLayers(p *Packet) (t *Transport, ok bool, err error) {
	first, known := firstLayer(p.LinkType, p.Data)
	if !known {
		return nil, false, nil
	}
	parser := d.parser[first]
	d.types = d.types[:0]
	if derr := parser.DecodeLayers(p.Data, &d.types); derr != nil {
		// Unsupported layers are ignored; anything else is a malformed frame.
		if _, unsupported := derr.(gopacket.UnsupportedLayerType); !unsupported {
			err = fmt.Errorf("frame %d: %w", p.Frame, derr)
		}
	}
	out := &d.out
	*out = Transport{}
	var src, dst netip.Addr
	haveIP := false
	for _, lt := range d.types {
		switch lt {
		case layers.LayerTypeEthernet:
			out.SrcMAC, out.DstMAC = d.eth.SrcMAC, d.eth.DstMAC
		case layers.LayerTypeIPv4:
			if d.ip4.FragOffset != 0 {
				return nil, false, err
			}
			src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
			haveIP = true
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
			haveIP = true
		case layers.LayerTypeUDP:
			if !haveIP {
				return nil, false, err
			}
			out.Proto = netflow.UDP
			out.Src = netip.AddrPortFrom(src, uint16(d.udp.SrcPort))
			out.Dst = netip.AddrPortFrom(dst, uint16(d.udp.DstPort))
			out.Payload = d.udp.Payload
			return out, true, nil
		case layers.LayerTypeTCP:
			if !haveIP {
				return nil, false, err
			}
			out.Proto = netflow.TCP
			out.Src = netip.AddrPortFrom(src, uint16(d.tcp.SrcPort))
			out.Dst = netip.AddrPortFrom(dst, uint16(d.tcp.DstPort))
			out.Seq = d.tcp.Seq
			out.TCPFlags = tcpFlags(&d.tcp)
			out.Payload = d.tcp.Payload
			return out, true, nil
		}
	}
	return nil, false, err
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	if t.FIN {
		f |= FlagFIN
	}
	if t.SYN {
		f |= FlagSYN
	}
	if t.RST {
		f |= FlagRST
	}
	if t.PSH {
		f |= 0x08
	}
	if t.ACK {
		f |= FlagACK
	}
	return f
}
