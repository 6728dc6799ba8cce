package netfixture

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Format selects the capture file format.
type Format int

// Capture formats.
const (
	Pcap Format = iota
	Pcapng
)

// Writer writes Ethernet frames built with gopacket's serialisation into a pcap or pcapng file,
// one millisecond apart from Start.
type Writer struct {
	bw     *bufio.Writer
	pw     *pcapgo.Writer
	nw     *pcapgo.NgWriter
	now    time.Time
	Step   time.Duration
	Frames int
	buf    gopacket.SerializeBuffer
	// MACOf, when set, gives the link-layer address frames to and from an IP address carry;
	// without it every address has MAC(addr).
	MACOf func(netip.Addr) net.HardwareAddr
}

func (w *Writer) mac(a netip.Addr) net.HardwareAddr {
	if w.MACOf != nil {
		return w.MACOf(a)
	}
	return MAC(a)
}

// Start is the time of the first frame of every fixture.
var Start = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// NewWriter starts a capture file. For pcapng a non-empty keylog is written first as a
// Decryption Secrets Block (secrets type 0x544c534b, NSS key log), as Wireshark expects.
func NewWriter(w io.Writer, f Format, keylog []byte) (*Writer, error) {
	cw := &Writer{bw: bufio.NewWriterSize(w, 1<<20), now: Start, Step: time.Millisecond, buf: gopacket.NewSerializeBuffer()}
	var err error
	if f == Pcapng {
		cw.nw, err = pcapgo.NewNgWriter(cw.bw, layers.LinkTypeEthernet)
		if err == nil && len(keylog) > 0 {
			err = cw.nw.WriteDecryptionSecretsBlock(0x544c534b, keylog)
		}
	} else {
		cw.pw = pcapgo.NewWriter(cw.bw)
		err = cw.pw.WriteFileHeader(65536, layers.LinkTypeEthernet)
	}
	if err != nil {
		return nil, err
	}
	return cw, nil
}

// Frame writes one link-layer frame.
func (w *Writer) Frame(data []byte) error {
	ci := gopacket.CaptureInfo{Timestamp: w.now, CaptureLength: len(data), Length: len(data), InterfaceIndex: 0}
	w.now = w.now.Add(w.Step)
	w.Frames++
	if w.nw != nil {
		return w.nw.WritePacket(ci, data)
	}
	return w.pw.WritePacket(ci, data)
}

// SetTime sets the time of the next frame; the frames after it follow Step apart.
func (w *Writer) SetTime(t time.Time) { w.now = t }

// Close flushes the file.
func (w *Writer) Close() error {
	if w.nw != nil {
		if err := w.nw.Flush(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

// MAC is the fixture's hardware address of an IP address: locally administered, ending in the
// address's last bytes, so a test can predict it.
func MAC(a netip.Addr) net.HardwareAddr {
	b := a.As16()
	return net.HardwareAddr{0x02, 0x00, b[12], b[13], b[14], b[15]}
}

func (w *Writer) serialize(src, dst netip.Addr, l4 gopacket.SerializableLayer, setNet func(gopacket.NetworkLayer) error, payload []byte) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: w.mac(src), DstMAC: w.mac(dst)}
	var nl gopacket.SerializableLayer
	var proto layers.IPProtocol
	switch l4.(type) {
	case *layers.TCP:
		proto = layers.IPProtocolTCP
	default:
		proto = layers.IPProtocolUDP
	}
	if src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		if err := setNet(ip); err != nil {
			return nil, err
		}
		nl = ip
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		if err := setNet(ip); err != nil {
			return nil, err
		}
		nl = ip
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(w.buf, opts, eth, nl, l4, gopacket.Payload(payload)); err != nil {
		return nil, err
	}
	return w.buf.Bytes(), nil
}

// UDP writes one UDP datagram.
func (w *Writer) UDP(src, dst netip.AddrPort, payload []byte) error {
	u := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	b, err := w.serialize(src.Addr(), dst.Addr(), u, u.SetNetworkLayerForChecksum, payload)
	if err != nil {
		return err
	}
	return w.Frame(b)
}

// TCPConn is one TCP connection being written: it tracks sequence numbers each way.
type TCPConn struct {
	w      *Writer
	client netip.AddrPort
	server netip.AddrPort
	seq    [2]uint32 // next sequence number: [0] client, [1] server
	// MSS is the largest payload per segment.
	MSS int
}

// TCP writes a three-way handshake and returns the connection.
func (w *Writer) TCP(client, server netip.AddrPort) (*TCPConn, error) {
	c := &TCPConn{w: w, client: client, server: server, seq: [2]uint32{1000, 5000}, MSS: 1448}
	if err := c.segment(true, c.seq[0], nil, true, false, false); err != nil {
		return nil, err
	}
	c.seq[0]++
	if err := c.segment(false, c.seq[1], nil, true, false, true); err != nil {
		return nil, err
	}
	c.seq[1]++
	return c, c.segment(true, c.seq[0], nil, false, false, true)
}

// Continue makes the connection's next segments go to w: the connection runs on into the next
// file of a rotated capture.
func (c *TCPConn) Continue(w *Writer) { c.w = w }

// Segment builds (without writing) the frame of one segment whose payload starts rel bytes after
// the side's current sequence number; tests write such frames in any order to exercise
// reassembly.
func (c *TCPConn) Segment(fromClient bool, rel int, data []byte) ([]byte, error) {
	d := 1
	if fromClient {
		d = 0
	}
	frame, err := c.build(fromClient, c.seq[d]+uint32(rel), data, false, false, true)
	return append([]byte(nil), frame...), err
}

// Advance moves a side's sequence number past n bytes written with Segment.
func (c *TCPConn) Advance(fromClient bool, n int) {
	if fromClient {
		c.seq[0] += uint32(n)
	} else {
		c.seq[1] += uint32(n)
	}
}

// Send writes data from one side, split into MSS-sized segments.
func (c *TCPConn) Send(fromClient bool, data []byte) error {
	d := 1
	if fromClient {
		d = 0
	}
	for len(data) > 0 {
		n := min(len(data), c.MSS)
		if err := c.segment(fromClient, c.seq[d], data[:n], false, false, true); err != nil {
			return err
		}
		c.seq[d] += uint32(n)
		data = data[n:]
	}
	return nil
}

// Close writes FIN from both sides and the last ACK.
func (c *TCPConn) Close() error {
	if err := c.segment(true, c.seq[0], nil, false, true, true); err != nil {
		return err
	}
	c.seq[0]++
	if err := c.segment(false, c.seq[1], nil, false, true, true); err != nil {
		return err
	}
	c.seq[1]++
	return c.segment(true, c.seq[0], nil, false, false, true)
}

func (c *TCPConn) segment(fromClient bool, seq uint32, data []byte, syn, fin, ack bool) error {
	b, err := c.build(fromClient, seq, data, syn, fin, ack)
	if err != nil {
		return err
	}
	return c.w.Frame(b)
}

func (c *TCPConn) build(fromClient bool, seq uint32, data []byte, syn, fin, ack bool) ([]byte, error) {
	src, dst := c.client, c.server
	ackn := c.seq[1]
	if !fromClient {
		src, dst = dst, src
		ackn = c.seq[0]
	}
	t := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, SYN: syn, FIN: fin, ACK: ack, PSH: len(data) > 0, Window: 65535}
	if ack {
		t.Ack = ackn
	}
	return c.w.serialize(src.Addr(), dst.Addr(), t, t.SetNetworkLayerForChecksum, data)
}
