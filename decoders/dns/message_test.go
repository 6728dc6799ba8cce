package dns

import (
	"droneaudit/internal/netfixture"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// build makes a real DNS response with x/net's encoder, which compresses names.
func build(t testing.TB, id uint16, q string, addrs []netip.Addr, cname string) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RecursionDesired: true})
	b.EnableCompression()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.StartQuestions())
	qn := dnsmessage.MustNewName(q + ".")
	must(b.Question(dnsmessage.Question{Name: qn, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}))
	must(b.StartAnswers())
	owner := qn
	if cname != "" {
		cn := dnsmessage.MustNewName(cname + ".")
		must(b.CNAMEResource(dnsmessage.ResourceHeader{Name: qn, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.CNAMEResource{CNAME: cn}))
		owner = cn
	}
	for _, a := range addrs {
		h := dnsmessage.ResourceHeader{Name: owner, Class: dnsmessage.ClassINET, TTL: 300}
		if a.Is4() {
			must(b.AResource(h, dnsmessage.AResource{A: a.As4()}))
		} else {
			must(b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: a.As16()}))
		}
	}
	msg, err := b.Finish()
	must(err)
	return msg
}

func TestParseResponseWithCNAME(t *testing.T) {
	addrs := []netip.Addr{netip.MustParseAddr("47.91.161.230"), netip.MustParseAddr("2001:db8::7")}
	msg := build(t, 0x1234, "FlySafe-API.dji.com", addrs, "flysafe.dji.com.edgekey.net")
	m, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 0x1234 || !m.Response {
		t.Fatalf("header: %+v", m)
	}
	if len(m.Questions) != 1 || m.Questions[0].Name != "flysafe-api.dji.com" || m.Questions[0].Type != TypeA {
		t.Fatalf("questions: %+v", m.Questions)
	}
	if len(m.Answers) != 3 {
		t.Fatalf("answers: %+v", m.Answers)
	}
	if m.Answers[0].Type != TypeCNAME || m.Answers[0].Target != "flysafe.dji.com.edgekey.net" {
		t.Errorf("cname: %+v", m.Answers[0])
	}
	for i, a := range addrs {
		got := m.Answers[i+1]
		if got.Addr != a || got.Name != "flysafe.dji.com.edgekey.net" {
			t.Errorf("answer %d: %+v, want %v", i+1, got, a)
		}
	}
}

func TestParseHTTPSRecordECH(t *testing.T) {
	// HTTPS RR (RFC 9460 §2.2) built by hand: priority 1, target ".", alpn=h3,h2, ech=<4 bytes>.
	b := []byte{0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}
	b = append(b, 3, 'w', 'w', 'w', 3, 'd', 'j', 'i', 3, 'c', 'o', 'm', 0, 0, 65, 0, 1)
	rd := []byte{0, 1, 0, 0, 1, 0, 6, 2, 'h', '3', 2, 'h', '2', 0, 5, 0, 4, 1, 2, 3, 4}
	b = append(b, 0xc0, 12, 0, 65, 0, 1, 0, 0, 0, 60, 0, byte(len(rd)))
	b = append(b, rd...)
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Answers) != 1 {
		t.Fatalf("answers %+v", m.Answers)
	}
	a := m.Answers[0]
	if a.Name != "www.dji.com" || !a.ECH || !slices.Equal(a.ALPN, []string{"h3", "h2"}) {
		t.Fatalf("got %+v", a)
	}
}

func TestHostileNames(t *testing.T) {
	hdr := []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	cases := map[string][]byte{
		"self pointer":    append(slices.Clone(hdr), 0xc0, 12, 0, 1, 0, 1),
		"forward pointer": append(slices.Clone(hdr), 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0),
		"label past end":  append(slices.Clone(hdr), 60, 'a', 'b'),
		"reserved label":  append(slices.Clone(hdr), 0x80, 1),
	}
	for name, msg := range cases {
		m, err := Parse(msg)
		var de *Error
		if !errors.As(err, &de) || de.Offset < 12 {
			t.Errorf("%s: err %v, want an *Error at an offset ≥ 12", name, err)
		}
		if m == nil || len(m.Questions) != 0 {
			t.Errorf("%s: questions %+v", name, m)
		}
	}
}

func TestTruncationNeverPanics(t *testing.T) {
	msg := build(t, 7, "statistical-report.djiservice.org", []netip.Addr{netip.MustParseAddr("8.8.4.4")}, "a.b.example")
	for n := 0; n < len(msg); n++ {
		m, err := Parse(msg[:n])
		if err == nil && m != nil && len(m.Answers) == 2 {
			t.Fatalf("a message cut to %d of %d bytes parsed whole", n, len(msg))
		}
	}
}

func TestSplitTCP(t *testing.T) {
	one := build(t, 1, "a.example", nil, "")
	two := build(t, 2, "b.example", nil, "")
	var s []byte
	for _, m := range [][]byte{one, two} {
		s = append(s, byte(len(m)>>8), byte(len(m)))
		s = append(s, m...)
	}
	msgs, used := SplitTCP(s[:len(s)-1])
	if len(msgs) != 1 || used != 2+len(one) {
		t.Fatalf("partial: %d msgs, used %d", len(msgs), used)
	}
	msgs, used = SplitTCP(s)
	if len(msgs) != 2 || used != len(s) {
		t.Fatalf("whole: %d msgs, used %d", len(msgs), used)
	}
	m, err := Parse(msgs[1])
	if err != nil || m.Questions[0].Name != "b.example" {
		t.Fatalf("second: %+v %v", m, err)
	}
}

func FuzzDNS(f *testing.F) {
	f.Add(build(f, 1, "flysafe-api.dji.com", []netip.Addr{netip.MustParseAddr("1.2.3.4")}, "x.edgekey.net"))
	f.Add(build(f, 2, "a.b", []netip.Addr{netip.MustParseAddr("::1")}, ""))
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12})
	// Real traffic from the corpus captures: whatever they carry is a protocol's hostile input too.
	for _, s := range netfixture.CorpusPayloadSeeds(40, nil) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && m == nil {
			t.Fatal("nil message without error")
		}
		if m != nil && len(m.Questions)+len(m.Answers) > maxRecords {
			t.Fatalf("%d records kept", len(m.Questions)+len(m.Answers))
		}
		SplitTCP(b)
		// A parser used for another message before returns what Parse returns.
		var ps Parser
		ps.Parse(build(t, 7, "other.example", []netip.Addr{netip.MustParseAddr("9.9.9.9"), netip.MustParseAddr("::9")}, "x.other"))
		for range 2 {
			pm, perr := ps.Parse(b)
			if !reflect.DeepEqual(pm, m) || fmt.Sprint(perr) != fmt.Sprint(err) {
				t.Fatalf("parser: %+v %v, Parse: %+v %v", pm, perr, m, err)
			}
		}
		for off := 0; off < len(b) && off < 512; off++ {
			for _, fold := range []bool{true, false} {
				name, next, err := ReadName(b, off, fold)
				oname, onext, oerr := oldReadName(b, off, fold)
				if name != oname || next != onext || fmt.Sprint(err) != fmt.Sprint(oerr) {
					t.Fatalf("offset %d fold %v: %q %d %v, the old reader's %q %d %v", off, fold, name, next, err, oname, onext, oerr)
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	msg := build(b, 1, "flysafe-api.dji.com", []netip.Addr{netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("5.6.7.8")}, "x.edgekey.net")
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}
