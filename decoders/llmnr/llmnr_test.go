package llmnr

import (
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// message serialises an LLMNR message with gopacket's DNS encoder (the header bits are DNS's
// AA/TC/RD positions, which LLMNR reuses as C/TC/T).
func message(t testing.TB, resp bool, name string, addrs ...netip.Addr) []byte {
	t.Helper()
	d := &layers.DNS{ID: 0x4242, QR: resp, AA: resp, // AA's bit is LLMNR's C bit
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	for _, a := range addrs {
		typ := layers.DNSTypeA
		if a.Is6() {
			typ = layers.DNSTypeAAAA
		}
		d.Answers = append(d.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: typ, Class: layers.DNSClassIN, TTL: 30, IP: net.IP(a.AsSlice())})
	}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParse(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("192.168.50.40"), netip.MustParseAddr("fe80::1c2d:3e4f:5a6b:7c8d")}
	for _, c := range []struct {
		name string
		b    []byte
		want Message
	}{
		{"query", message(t, false, "NVR-Lab"), Message{ID: 0x4242, Name: "NVR-Lab", Type: 1}},
		{"response", message(t, true, "LAB-PC-07", addrs...), Message{ID: 0x4242, Response: true, Conflict: true, Name: "LAB-PC-07", Type: 1, Addrs: addrs}},
	} {
		m, err := Parse(c.b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if m.ID != c.want.ID || m.Response != c.want.Response || m.Conflict != c.want.Conflict || m.Name != c.want.Name || m.Type != c.want.Type ||
			!slices.Equal(m.Addrs, c.want.Addrs) {
			t.Errorf("%s: %+v, want %+v", c.name, m, c.want)
		}
	}
}

func TestNotLLMNR(t *testing.T) {
	q := message(t, false, "x")
	two := append([]byte{}, q...)
	two[5] = 2 // two questions
	withAnswer := message(t, false, "x", netip.MustParseAddr("10.0.0.1"))
	for name, b := range map[string][]byte{"short": q[:11], "two questions": two, "query with an answer": withAnswer, "ssdp": []byte("M-SEARCH * HTTP/1.1\r\n\r\n")} {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	r := message(t, true, "LAB-PC-07", netip.MustParseAddr("192.168.50.40"))
	m, err := Parse(r[:len(r)-3])
	if err == nil || m == nil || m.Name != "LAB-PC-07" {
		t.Errorf("cut response: %+v %v", m, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(message(f, false, "NVR-Lab"))
	f.Add(message(f, true, "LAB-PC-07", netip.MustParseAddr("192.168.50.40")))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && m == nil {
			t.Fatal("nil without error")
		}
	})
}
