package destinations

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"droneaudit/internal/netfixture"
)

// httpsAnswer is a DNS response for name with an A record and, when ech is set, an HTTPS record
// (RFC 9460) carrying the ech parameter, encoded with x/net's DNS message builder.
func httpsAnswer(t *testing.T, name string, a netip.Addr, ech bool) []byte {
	t.Helper()
	n := dnsmessage.MustNewName(name + ".")
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 9, Response: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: n, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET})
	b.StartAnswers()
	h := dnsmessage.ResourceHeader{Name: n, Class: dnsmessage.ClassINET, TTL: 60}
	if err := b.AResource(h, dnsmessage.AResource{A: a.As4()}); err != nil {
		t.Fatal(err)
	}
	if ech {
		r := dnsmessage.HTTPSResource{SVCBResource: dnsmessage.SVCBResource{Priority: 1, Target: dnsmessage.MustNewName("."),
			Params: []dnsmessage.SVCParam{{Key: dnsmessage.SVCParamALPN, Value: []byte{2, 'h', '3'}}, {Key: dnsmessage.SVCParamECH, Value: []byte{0, 4, 1, 2, 3, 4}}}}}
		if err := b.HTTPSResource(h, r); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestECHAndEncryptedDNSFlags checks that ECH, DNS over HTTPS and DNS over TLS are recognised and
// reported as such (dji-network.md §7), and that an ECH outer name is never taken for the
// destination's name.
func TestECHAndEncryptedDNSFlags(t *testing.T) {
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	phone := netip.AddrPortFrom(netfixture.Phone, 50000)
	res := netip.AddrPortFrom(netfixture.Resolver, 53)
	echIP, greaseIP := netip.MustParseAddr("104.16.1.1"), netip.MustParseAddr("104.16.2.2")
	w.UDP(res, phone, httpsAnswer(t, "crypto.cloudflare.com", echIP, true))
	w.UDP(res, netip.AddrPortFrom(netfixture.Phone, 50001), httpsAnswer(t, "www.example-grease.org", greaseIP, false))
	flows := []struct {
		dst   netip.AddrPort
		hello []byte
	}{
		{netip.AddrPortFrom(echIP, 443), netfixture.HandClientHello("cloudflare-ech.com", true)},
		{netip.AddrPortFrom(greaseIP, 443), netfixture.HandClientHello("www.example-grease.org", true)},
		{netip.MustParseAddrPort("8.8.8.8:443"), netfixture.HandClientHello("dns.google", false)},
		{netip.MustParseAddrPort("9.9.9.9:853"), netfixture.HandClientHello("dns.quad9.net", false)},
	}
	for i, f := range flows {
		c, err := w.TCP(netip.AddrPortFrom(netfixture.Phone, uint16(51000+i)), f.dst)
		if err != nil {
			t.Fatal(err)
		}
		c.Send(true, f.hello)
		c.Close()
	}
	// A clear-text DoH request (RFC 8484 §4.1) to a resolver on port 80.
	c, _ := w.TCP(netip.AddrPortFrom(netfixture.Phone, 52000), netip.MustParseAddrPort("1.1.1.1:80"))
	c.Send(true, []byte("POST /dns-query HTTP/1.1\r\nHost: one.one.one.one\r\nContent-Type: application/dns-message\r\nContent-Length: 0\r\n\r\n"))
	c.Close()
	w.Close()
	p := filepath.Join(t.TempDir(), "flags.pcap")
	os.WriteFile(p, buf.Bytes(), 0o644)
	inv, err := Build(context.Background(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := rowMap(inv)
	get := func(s string) Row { return rows[netfixture.Key{Addr: netip.MustParseAddrPort(s), Proto: "tcp"}] }
	ech := get("104.16.1.1:443")
	if !slices.Equal(ech.Flags, []string{FlagECH}) || !hasName(ech, "cloudflare-ech.com", SourceECHOuter) || hasName(ech, "cloudflare-ech.com", SourceTLSSNI) ||
		!hasName(ech, "crypto.cloudflare.com", SourceDNS) {
		t.Errorf("ECH row %+v", ech)
	}
	if g := get("104.16.2.2:443"); !slices.Equal(g.Flags, []string{FlagECHGrease}) {
		t.Errorf("GREASE row %+v", g)
	}
	if d := get("8.8.8.8:443"); !slices.Equal(d.Flags, []string{FlagDoH}) {
		t.Errorf("DoH row %+v", d)
	}
	if d := get("9.9.9.9:853"); !slices.Contains(d.Flags, FlagDoT) {
		t.Errorf("DoT row %+v", d)
	}
	if d := get("1.1.1.1:80"); !slices.Equal(d.Flags, []string{FlagDoH}) || !hasName(d, "one.one.one.one", SourceHTTPHost) {
		t.Errorf("clear DoH row %+v", d)
	}
	// A policy on host names ignores the ECH outer name.
	if v := inv.Violations(Policy{DenyHosts: []string{"cloudflare-ech.com"}}); len(v) != 0 {
		t.Errorf("outer name matched a host rule: %+v", v)
	}
}
