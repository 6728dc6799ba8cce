package netfixture

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// Key identifies a destination the way the inventory does.
type Key struct {
	Addr  netip.AddrPort
	Proto string // "tcp" or "udp"
}

// Totals are what the generator sent to one destination.
type Totals struct {
	Out, In int64 // transport payload bytes client → server, server → client
	Flows   int
}

// Expect is the ground truth of a generated lab capture.
type Expect struct {
	DNSQueries map[string]bool
	TLSSNI     map[string]bool
	QUICSNI    map[string]bool
	HTTPHosts  map[string]bool
	Dest       map[Key]*Totals
	Packets    int
}

// LabHost is one destination of the generated lab: a name, its addresses and what it speaks.
type LabHost struct {
	Name string
	V4   netip.Addr
	V6   netip.Addr // invalid: IPv4 only
}

// LabHosts are the destinations of the generated traffic: DJI, CDN, map and analytics names as
// listed in shared/formats/dji-network.md §2, on addresses chosen for the fixture.
var LabHosts = []LabHost{
	{"flysafe-api.dji.com", netip.MustParseAddr("47.91.161.230"), netip.Addr{}},
	{"mydjiflight.dji.com", netip.MustParseAddr("47.246.1.1"), netip.MustParseAddr("2001:4860:4860::8888")},
	{"active.dji.com", netip.MustParseAddr("120.76.1.1"), netip.Addr{}},
	{"statistical-report.djiservice.org", netip.MustParseAddr("47.88.1.10"), netip.Addr{}},
	{"dl.djicdn.com", netip.MustParseAddr("185.199.108.153"), netip.MustParseAddr("2606:50c0:8000::153")},
	{"events.mapbox.com", netip.MustParseAddr("8.8.4.4"), netip.Addr{}},
	{"maps.googleapis.com", netip.MustParseAddr("142.250.74.10"), netip.MustParseAddr("2a00:1450:4001:80e::200a")},
	{"sentry.djiops.com", netip.MustParseAddr("35.186.247.156"), netip.Addr{}},
	{"es-flight-api-eu.djigate.com", netip.MustParseAddr("3.120.0.10"), netip.Addr{}},
	{"bugly.qq.com", netip.MustParseAddr("119.28.1.1"), netip.Addr{}},
}

// Lab addresses: the phone, its IPv6 address and the lab resolver/gateway.
var (
	Phone    = netip.MustParseAddr("192.168.50.23")
	Phone6   = netip.MustParseAddr("fd00:50::23")
	Resolver = netip.MustParseAddr("192.168.50.1")
	Broker   = netip.MustParseAddr("192.168.50.10")
)

// Mix describes a generated capture.
type Mix struct {
	Packets int    // stop after at least this many frames
	Seed    uint64 //
	// BulkSegments is the mean number of full-size data segments after each TLS request; it sets
	// the mean frame size (0 means 3).
	BulkSegments int
}

// Lab holds the real TLS and QUIC sessions a generated capture replays, and the NSS key log of
// those sessions (for a pcapng Decryption Secrets Block or a key log file).
type Lab struct {
	tls    map[string][][]Chunk // per name: sessions (post-quantum and classic)
	quic   map[string][]Chunk
	KeyLog []byte
}

// NewLab runs the sessions: two crypto/tls sessions per host (with and without the
// post-quantum key share, ALPN http/1.1, an HTTP/1.1 request inside) and a quic-go connection
// for every third host (QUIC v1 and v2 alternately).
func NewLab(ctx context.Context) (*Lab, error) {
	p := &Lab{tls: map[string][][]Chunk{}, quic: map[string][]Chunk{}}
	var keys bytes.Buffer
	for i, h := range LabHosts {
		for _, classic := range []bool{false, true} {
			resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", 100+40*i, strings.Repeat("x", 100+40*i))
			s, err := TLSSession(TLSOptions{ServerName: h.Name, ALPN: []string{"http/1.1"}, Classic: classic, KeyLog: &keys,
				Request: []byte("GET /api/v1/config HTTP/1.1\r\nHost: " + h.Name + "\r\n\r\n"), Response: []byte(resp)})
			if err != nil {
				return nil, err
			}
			p.tls[h.Name] = append(p.tls[h.Name], s)
		}
		if i%3 == 0 {
			s, err := QUICSession(ctx, QUICOptions{ServerName: h.Name, Version2: i%2 == 1, KeyLog: &keys, Message: []byte("ping " + h.Name)})
			if err != nil {
				return nil, err
			}
			p.quic[h.Name] = s
		}
	}
	p.KeyLog = keys.Bytes()
	return p, nil
}

// Generate writes a lab capture: DHCP and ARP from the phone, DNS lookups and answers, TLS
// sessions (some with the ClientHello's segments reordered), QUIC connections (v1 and v2),
// clear-text HTTP POSTs with JSON coordinates, and MQTT CONNECT+PUBLISH to a lab broker. The
// TLS and QUIC bytes come from real crypto/tls and quic-go sessions made once and replayed on
// many flows.
func (p *Lab) Generate(w *Writer, m Mix) (*Expect, error) {
	rng := rand.New(rand.NewPCG(m.Seed, m.Seed^0x9e3779b97f4a7c15))
	bulk := m.BulkSegments
	if bulk == 0 {
		bulk = 3
	}
	e := &Expect{DNSQueries: map[string]bool{}, TLSSNI: map[string]bool{}, QUICSNI: map[string]bool{}, HTTPHosts: map[string]bool{}, Dest: map[Key]*Totals{}}
	g := &gen{w: w, rng: rng, e: e}
	if err := g.dhcp(); err != nil {
		return nil, err
	}
	port := uint16(40000)
	nextPort := func() uint16 {
		port++
		if port < 40000 {
			port = 40000
		}
		return port
	}
	for w.Frames < m.Packets {
		h := LabHosts[rng.IntN(len(LabHosts))]
		v6 := h.V6.IsValid() && rng.IntN(5) == 0
		src, dst := Phone, h.V4
		if v6 {
			src, dst = Phone6, h.V6
		}
		var err error
		switch k := rng.IntN(100); {
		case k < 30:
			err = g.dnsPair(netip.AddrPortFrom(src, nextPort()), h, v6)
		case k < 75:
			sess := p.tls[h.Name][rng.IntN(2)]
			err = g.tlsFlow(netip.AddrPortFrom(src, nextPort()), netip.AddrPortFrom(dst, 443), h.Name, sess, rng.IntN(2*bulk+1), rng.IntN(8) == 0)
		case k < 87:
			q, ok := p.quic[h.Name]
			if !ok {
				continue
			}
			err = g.quicFlow(netip.AddrPortFrom(src, nextPort()), netip.AddrPortFrom(dst, 443), h.Name, q)
		case k < 94:
			err = g.httpPost(netip.AddrPortFrom(src, nextPort()), netip.AddrPortFrom(dst, 80), h.Name)
		default:
			err = g.mqtt(netip.AddrPortFrom(Phone, nextPort()), netip.AddrPortFrom(Broker, 1883))
		}
		if err != nil {
			return nil, err
		}
	}
	e.Packets = w.Frames
	return e, nil
}

type gen struct {
	w   *Writer
	rng *rand.Rand
	e   *Expect
}

func (g *gen) total(dst netip.AddrPort, proto string) *Totals {
	k := Key{dst, proto}
	t := g.e.Dest[k]
	if t == nil {
		t = &Totals{}
		g.e.Dest[k] = t
	}
	return t
}

func (g *gen) dhcp() error {
	// A DHCPREQUEST with host name, then an ARP reply: the lab device's name and MAC.
	b := make([]byte, 240)
	b[0], b[1], b[2] = 1, 1, 6
	copy(b[28:], MAC(Phone))
	copy(b[236:], []byte{99, 130, 83, 99})
	b = append(b, 53, 1, 3, 50, 4)
	b = append(b, Phone.AsSlice()...)
	b = append(b, 12, 10)
	b = append(b, "DJI-RC-Pro"...)
	b = append(b, 255)
	src := netip.AddrPortFrom(netip.IPv4Unspecified(), 68)
	dst := netip.AddrPortFrom(netip.MustParseAddr("255.255.255.255"), 67)
	t := g.total(dst, "udp")
	t.Out += int64(len(b))
	t.Flows++
	return g.w.UDP(src, dst, b)
}

func (g *gen) dnsPair(client netip.AddrPort, h LabHost, v6 bool) error {
	id := uint16(g.rng.Uint32())
	query, resp, err := dnsExchange(id, h, v6)
	if err != nil {
		return err
	}
	srv := netip.AddrPortFrom(Resolver, 53)
	if client.Addr().Is6() {
		srv = netip.AddrPortFrom(netip.MustParseAddr("fd00:50::1"), 53)
	}
	g.e.DNSQueries[h.Name] = true
	t := g.total(srv, "udp")
	t.Out += int64(len(query))
	t.In += int64(len(resp))
	t.Flows++
	if err := g.w.UDP(client, srv, query); err != nil {
		return err
	}
	return g.w.UDP(srv, client, resp)
}

func (g *gen) tlsFlow(client, server netip.AddrPort, sni string, sess []Chunk, bulk int, reorder bool) error {
	c, err := g.w.TCP(client, server)
	if err != nil {
		return err
	}
	t := g.total(server, "tcp")
	t.Flows++
	for i, ch := range sess {
		if i == 0 && reorder && len(ch.Data) > c.MSS {
			// Send the ClientHello's second segment before the first.
			first, second := ch.Data[:c.MSS], ch.Data[c.MSS:]
			b2, err := c.Segment(true, len(first), second)
			if err != nil {
				return err
			}
			b1, err := c.Segment(true, 0, first)
			if err != nil {
				return err
			}
			if err := g.w.Frame(b2); err != nil {
				return err
			}
			if err := g.w.Frame(b1); err != nil {
				return err
			}
			c.Advance(true, len(ch.Data))
		} else if err := c.Send(ch.FromClient, ch.Data); err != nil {
			return err
		}
		if ch.FromClient {
			t.Out += int64(len(ch.Data))
		} else {
			t.In += int64(len(ch.Data))
		}
	}
	if bulk > 0 {
		// Application data from the server: opaque TLS application-data records.
		rec := make([]byte, bulk*c.MSS)
		for off := 0; off < len(rec); off += 16384 + 5 {
			n := min(16384, len(rec)-off-5)
			if n <= 0 {
				break
			}
			rec[off], rec[off+1], rec[off+2], rec[off+3], rec[off+4] = 23, 3, 3, byte(n>>8), byte(n)
		}
		if err := c.Send(false, rec); err != nil {
			return err
		}
		t.In += int64(len(rec))
	}
	g.e.TLSSNI[sni] = true
	return c.Close()
}

func (g *gen) quicFlow(client, server netip.AddrPort, sni string, sess []Chunk) error {
	t := g.total(server, "udp")
	t.Flows++
	for _, ch := range sess {
		src, dst := client, server
		if !ch.FromClient {
			src, dst = server, client
			t.In += int64(len(ch.Data))
		} else {
			t.Out += int64(len(ch.Data))
		}
		if err := g.w.UDP(src, dst, ch.Data); err != nil {
			return err
		}
	}
	g.e.QUICSNI[sni] = true
	return nil
}

func (g *gen) httpPost(client, server netip.AddrPort, host string) error {
	body, _ := json.Marshal(map[string]any{"latitude": 22.907809968 + g.rng.Float64()/1000, "longitude": 113.703482143, "sn": "1581F5BKD225D00A0A12"})
	req := fmt.Sprintf("POST /api/v1/geo_fence/noflyzone_params HTTP/1.1\r\nHost: %s\r\nUser-Agent: DJI-Fly\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, len(body), body)
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	c, err := g.w.TCP(client, server)
	if err != nil {
		return err
	}
	if err := c.Send(true, []byte(req)); err != nil {
		return err
	}
	if err := c.Send(false, []byte(resp)); err != nil {
		return err
	}
	t := g.total(server, "tcp")
	t.Flows++
	t.Out += int64(len(req))
	t.In += int64(len(resp))
	g.e.HTTPHosts[host] = true
	return c.Close()
}

func (g *gen) mqtt(client, server netip.AddrPort) error {
	str := func(b []byte, s string) []byte { return append(append(b, byte(len(s)>>8), byte(len(s))), s...) }
	pkt := func(first byte, body []byte) []byte { return append([]byte{first, byte(len(body))}, body...) }
	var cb []byte
	cb = str(cb, "MQTT")
	cb = append(cb, 5, 0xc2, 0, 60, 0)
	cb = str(cb, "pilot2-rc")
	cb = str(cb, "fh2")
	cb = str(cb, "pw")
	pub := str(nil, "thing/product/1581F5BKD225D00A0A12/osd")
	pub = append(pub, 0)
	pub = append(pub, fmt.Sprintf(`{"data":{"latitude":22.9078,"longitude":113.7034,"n":%d}}`, g.rng.IntN(1000))...)
	out := append(pkt(0x10, cb), pkt(0x30, pub)...)
	in := []byte{0x20, 3, 0, 0, 0}
	c, err := g.w.TCP(client, server)
	if err != nil {
		return err
	}
	if err := c.Send(true, out[:len(pkt(0x10, cb))]); err != nil {
		return err
	}
	if err := c.Send(false, in); err != nil {
		return err
	}
	if err := c.Send(true, out[len(pkt(0x10, cb)):]); err != nil {
		return err
	}
	t := g.total(server, "tcp")
	t.Flows++
	t.Out += int64(len(out))
	t.In += int64(len(in))
	return c.Close()
}

// HandClientHello returns a TLS record holding a ClientHello built field by field (RFC 8446
// §4.1.2): TLS 1.3, three suites, server_name, ALPN h2, and — when ech is set — an
// encrypted_client_hello extension (0xfe0d) as a client using ECH or GREASE ECH sends it. Go's
// crypto/tls sends ECH only with a real ECHConfig, so tests of ECH recognition use this.
func HandClientHello(sni string, ech bool) []byte {
	var body []byte
	u16 := func(b []byte, v int) []byte { return append(b, byte(v>>8), byte(v)) }
	body = u16(body, 0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	body = u16(body, 6)
	body = u16(u16(u16(body, 0x1301), 0x1302), 0x1303)
	body = append(body, 1, 0)
	var ext []byte
	add := func(typ int, data []byte) {
		ext = u16(u16(ext, typ), len(data))
		ext = append(ext, data...)
	}
	name := u16(append(u16(nil, len(sni)+3), 0), len(sni))
	add(0x0000, append(name, sni...))
	add(0x0010, []byte{0, 3, 2, 'h', '2'})
	add(0x002b, []byte{2, 3, 4})
	add(0x000a, []byte{0, 2, 0, 0x1d})
	if ech {
		add(0xfe0d, []byte{0, 0, 1, 0, 1, 7, 0, 0, 0, 0})
	}
	body = append(u16(body, len(ext)), ext...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// dnsExchange builds a query for h's address (AAAA when v6, else A) and its answer, with id.
func dnsExchange(id uint16, h LabHost, v6 bool) (query, resp []byte, err error) {
	typ := dnsmessage.TypeA
	if v6 {
		typ = dnsmessage.TypeAAAA
	}
	name := dnsmessage.MustNewName(h.Name + ".")
	q := dnsmessage.Question{Name: name, Type: typ, Class: dnsmessage.ClassINET}
	qb := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	qb.StartQuestions()
	qb.Question(q)
	if query, err = qb.Finish(); err != nil {
		return nil, nil, err
	}
	rb := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RecursionDesired: true, RecursionAvailable: true})
	rb.EnableCompression()
	rb.StartQuestions()
	rb.Question(q)
	rb.StartAnswers()
	hdr := dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET, TTL: 300}
	if v6 {
		err = rb.AAAAResource(hdr, dnsmessage.AAAAResource{AAAA: h.V6.As16()})
	} else {
		err = rb.AResource(hdr, dnsmessage.AResource{A: h.V4.As4()})
	}
	if err != nil {
		return nil, nil, err
	}
	resp, err = rb.Finish()
	return query, resp, err
}
