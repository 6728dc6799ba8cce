package mdns

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/dns/dnsmessage"
)

// cameraResponse is an mDNS announcement of a camera as an mDNS responder sends it, built with
// x/net's encoder (which compresses names): PTR from the service type and from the service
// enumeration name, SRV, TXT and A/AAAA with the cache-flush bit.
func cameraResponse(t testing.TB) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{Response: true, Authoritative: true})
	b.EnableCompression()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	n := dnsmessage.MustNewName
	flush := dnsmessage.Class(0x8001)
	must(b.StartAnswers())
	must(b.PTRResource(dnsmessage.ResourceHeader{Name: n("_http._tcp.local."), Class: dnsmessage.ClassINET, TTL: 4500},
		dnsmessage.PTRResource{PTR: n("HIKVISION DS-2CD2143G0-I._http._tcp.local.")}))
	must(b.PTRResource(dnsmessage.ResourceHeader{Name: n("_services._dns-sd._udp.local."), Class: dnsmessage.ClassINET, TTL: 4500},
		dnsmessage.PTRResource{PTR: n("_http._tcp.local.")}))
	must(b.PTRResource(dnsmessage.ResourceHeader{Name: n("_onvif._sub._http._tcp.local."), Class: dnsmessage.ClassINET, TTL: 4500},
		dnsmessage.PTRResource{PTR: n("HIKVISION DS-2CD2143G0-I._http._tcp.local.")}))
	must(b.SRVResource(dnsmessage.ResourceHeader{Name: n("HIKVISION DS-2CD2143G0-I._http._tcp.local."), Class: flush, TTL: 120},
		dnsmessage.SRVResource{Priority: 0, Weight: 0, Port: 80, Target: n("Cam-Front.local.")}))
	must(b.TXTResource(dnsmessage.ResourceHeader{Name: n("HIKVISION DS-2CD2143G0-I._http._tcp.local."), Class: flush, TTL: 4500},
		dnsmessage.TXTResource{TXT: []string{"model=DS-2CD2143G0-I", "fw=V5.5.82", "serial=DS-2CD2143G0-I20200101AAWRE12345678"}}))
	must(b.StartAdditionals())
	must(b.AResource(dnsmessage.ResourceHeader{Name: n("Cam-Front.local."), Class: flush, TTL: 120}, dnsmessage.AResource{A: [4]byte{192, 168, 50, 64}}))
	must(b.AAAAResource(dnsmessage.ResourceHeader{Name: n("Cam-Front.local."), Class: flush, TTL: 120},
		dnsmessage.AAAAResource{AAAA: netip.MustParseAddr("fe80::4647:ccff:feaa:bbcc").As16()}))
	msg, err := b.Finish()
	must(err)
	return msg
}

// probe is a probe query built with gopacket's encoder (no compression): the questions for the
// names the device wants, with its proposed records in the authority section (RFC 6762 §8.2).
func probe(t testing.TB) []byte {
	t.Helper()
	d := &layers.DNS{
		Questions: []layers.DNSQuestion{{Name: []byte("RC-Pro.local"), Type: layers.DNSType(255), Class: layers.DNSClass(0x8001)}},
		Authorities: []layers.DNSResourceRecord{{Name: []byte("RC-Pro.local"), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 120,
			IP: net.IPv4(192, 168, 50, 30).To4()}},
		Answers: []layers.DNSResourceRecord{{Name: []byte("_googlecast._tcp.local"), Type: layers.DNSTypePTR, Class: layers.DNSClassIN, TTL: 120,
			PTR: []byte("Somebody else._googlecast._tcp.local")}},
	}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseAnnouncement(t *testing.T) {
	msg := cameraResponse(t)
	if !LooksLike(msg) {
		t.Fatal("LooksLike false")
	}
	m, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Response || len(m.Records) != 7 {
		t.Fatalf("%+v", m)
	}
	srv := m.Records[3]
	if srv.Type != TypeSRV || srv.Target != "Cam-Front.local" || srv.Port != 80 || !srv.Flush || srv.Class != 1 || srv.Section != Answer {
		t.Errorf("SRV %+v", srv)
	}
	if a := m.Records[5]; a.Section != Additional || a.Addr != netip.MustParseAddr("192.168.50.64") {
		t.Errorf("A %+v", a)
	}
	a := m.Announcement()
	if !slices.Equal(a.Hosts, []string{"Cam-Front.local"}) || !slices.Equal(a.Services, []string{"_http._tcp.local"}) || len(a.Addrs) != 2 {
		t.Errorf("announcement %+v", a)
	}
	want := Instance{Name: "HIKVISION DS-2CD2143G0-I", Service: "_http._tcp.local", Host: "Cam-Front.local", Port: 80,
		TXT: []string{"model=DS-2CD2143G0-I", "fw=V5.5.82", "serial=DS-2CD2143G0-I20200101AAWRE12345678"}}
	if len(a.Instances) != 1 || a.Instances[0].Name != want.Name || a.Instances[0].Service != want.Service || a.Instances[0].Host != want.Host ||
		a.Instances[0].Port != 80 || !slices.Equal(a.Instances[0].TXT, want.TXT) {
		t.Errorf("instances %+v", a.Instances)
	}
}

func TestProbeAuthorityIsTheSendersOwn(t *testing.T) {
	m, err := Parse(probe(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Response || len(m.Questions) != 1 || m.Questions[0].Name != "RC-Pro.local" || !m.Questions[0].Unicast {
		t.Fatalf("%+v", m)
	}
	a := m.Announcement()
	// The known answer (someone else's service) is not the querier's.
	if !slices.Equal(a.Hosts, []string{"RC-Pro.local"}) || len(a.Services) != 0 || len(a.Instances) != 0 {
		t.Errorf("%+v", a)
	}
}

func TestDamage(t *testing.T) {
	msg := cameraResponse(t)
	for _, c := range []struct {
		name string
		b    []byte
		recs int
	}{
		{"header", msg[:11], -1},
		{"cut in the fourth record", msg[:len(msg)-60], 3},
		{"forward pointer", append(append([]byte{}, msg[:12]...), 0xc0, 0x20), 0},
	} {
		m, err := Parse(c.b)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if c.recs < 0 {
			if m != nil {
				t.Errorf("%s: %+v", c.name, m)
			}
			continue
		}
		if m == nil || len(m.Records) < c.recs {
			t.Errorf("%s: %v kept %+v", c.name, err, m)
		}
	}
	// A record whose data does not fit its type is skipped, not an error.
	bad := []byte{0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 2, 1, 2}
	if m, err := Parse(bad); err != nil || len(m.Records) != 0 {
		t.Errorf("short A: %+v %v", m, err)
	}
	if LooksLike([]byte("NOTIFY * HTTP/1.1\r\n")) {
		t.Error("SSDP taken for mDNS")
	}
}

func TestTextIsPrintable(t *testing.T) {
	if got := Text([]byte("a\x00b\xffc")); got != "a\uFFFDb\uFFFDc" {
		t.Errorf("%q", got)
	}
	if got := Text([]byte("Caméra")); got != "Caméra" {
		t.Errorf("%q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(cameraResponse(f))
	f.Add(probe(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && m == nil {
			t.Fatal("nil without error")
		}
		if m != nil {
			if len(m.Questions)+len(m.Records) > maxRecords {
				t.Fatalf("%d entries", len(m.Questions)+len(m.Records))
			}
			m.Announcement()
		}
		LooksLike(b)
	})
}

func BenchmarkParse(b *testing.B) {
	msg := cameraResponse(b)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		m, _ := Parse(msg)
		m.Announcement()
	}
}
