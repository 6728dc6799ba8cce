package dhcp

import (
	"droneaudit/internal/netfixture"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var phoneMAC = net.HardwareAddr{0x3c, 0x28, 0x6d, 0x11, 0x22, 0x33}

// request serialises a DHCPREQUEST with gopacket's DHCPv4 encoder, an implementation
// independent of the parser under test.
func request(t testing.TB, host string, fqdn []byte) []byte {
	t.Helper()
	d := &layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: 0xdeadbeef,
		ClientHWAddr: phoneMAC, ClientIP: net.IPv4zero, YourClientIP: net.IPv4zero, NextServerIP: net.IPv4zero, RelayAgentIP: net.IPv4zero}
	d.Options = append(d.Options,
		layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeRequest)}),
		layers.NewDHCPOption(layers.DHCPOptRequestIP, []byte{192, 168, 50, 23}),
		layers.NewDHCPOption(layers.DHCPOptHostname, []byte(host)),
		layers.NewDHCPOption(layers.DHCPOptClassID, []byte("android-dhcp-14")),
		layers.NewDHCPOption(layers.DHCPOptParamsRequest, []byte{1, 3, 6, 15, 26, 28, 51, 58, 59, 43}),
		layers.NewDHCPOption(layers.DHCPOptClientID, append([]byte{1}, phoneMAC...)),
		layers.NewDHCPOption(layers.DHCPOptServerID, []byte{192, 168, 50, 1}),
	)
	if fqdn != nil {
		d.Options = append(d.Options, layers.NewDHCPOption(81, fqdn))
	}
	d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptEnd, nil))
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseRequest(t *testing.T) {
	fqdn := []byte{0x05, 0, 0, 6, 'r', 'c', '-', 'p', 'r', 'o', 3, 'l', 'a', 'b', 0}
	b := request(t, "DJI-RC-Pro", fqdn)
	if !LooksLike(b) {
		t.Fatal("LooksLike false")
	}
	m, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != Request || m.XID != 0xdeadbeef || m.ClientMAC.String() != phoneMAC.String() || m.HostName != "DJI-RC-Pro" ||
		m.RequestedIP != netip.MustParseAddr("192.168.50.23") || m.VendorClass != "android-dhcp-14" || m.FQDN != "rc-pro.lab" || m.ClientIP.IsValid() {
		t.Fatalf("%+v", m)
	}
	if m.Fingerprint() != "1,3,6,15,26,28,51,58,59,43" || m.ClientID != "013c286d112233" || m.ServerID != netip.MustParseAddr("192.168.50.1") {
		t.Fatalf("fingerprint %q client id %q server %v", m.Fingerprint(), m.ClientID, m.ServerID)
	}
	if (&Message{}).Fingerprint() != "" {
		t.Error("fingerprint without option 55")
	}
}

func TestDamagedOptionKeepsEarlierOnes(t *testing.T) {
	b := request(t, "phone", nil)
	b = append(b[:fixedLen+4:fixedLen+4], 53, 1, 3, 12, 5, 'p', 'h', 'o', 'n', 'e')
	b = append(b, 12, 200, 'x') // a host name option longer than the message
	m, err := Parse(b)
	e, ok := err.(*Error)
	if !ok || e.Offset != len(b)-3 || m.HostName != "phone" {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := Parse(b[:100]); err == nil {
		t.Fatal("short message accepted")
	}
}

func TestARPFrame(t *testing.T) {
	eth := &layers.Ethernet{SrcMAC: phoneMAC, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPReply, SourceHwAddress: phoneMAC, SourceProtAddress: []byte{192, 168, 50, 23},
		DstHwAddress: []byte{2, 0, 0, 0, 0, 1}, DstProtAddress: []byte{192, 168, 50, 1}}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, arp); err != nil {
		t.Fatal(err)
	}
	a, ok := ParseARPFrame(buf.Bytes())
	if !ok || a.Op != 2 || a.SenderMAC.String() != phoneMAC.String() || a.SenderIP != netip.MustParseAddr("192.168.50.23") || a.TargetIP != netip.MustParseAddr("192.168.50.1") {
		t.Fatalf("%+v %v", a, ok)
	}
	if _, ok := ParseARPFrame(buf.Bytes()[:30]); ok {
		t.Fatal("truncated ARP accepted")
	}
}

func FuzzDHCP(f *testing.F) {
	f.Add(request(f, "DJI-RC-Pro", []byte{0x04, 0, 0, 3, 'a', 'b', 'c', 0}))
	f.Add(request(f, "", nil))
	// Real traffic from the corpus captures: whatever they carry is a protocol's hostile input too.
	for _, s := range netfixture.CorpusPayloadSeeds(40, nil) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && m == nil {
			t.Fatal("nil without error")
		}
		ParseARPFrame(b)
	})
}

func BenchmarkParse(b *testing.B) {
	msg := request(b, "DJI-RC-Pro", nil)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}
