package live

import (
	"net"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"droneaudit/capture"
)

// frameSpec describes a test frame built with gopacket.
type frameSpec struct {
	v6       bool
	proto    string // tcp, udp, icmp, arp
	src, dst string
	sport    uint16
	dport    uint16
	fragment bool
}

func buildFrame(t testing.TB, s frameSpec) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ls []gopacket.SerializableLayer
	var netl gopacket.NetworkLayer
	if s.proto == "arp" {
		eth.EthernetType = layers.EthernetTypeARP
		ls = append(ls, eth, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: eth.SrcMAC, SourceProtAddress: net.ParseIP(s.src).To4(), DstHwAddress: make([]byte, 6), DstProtAddress: net.ParseIP(s.dst).To4()})
	} else if s.v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.ParseIP(s.src), DstIP: net.ParseIP(s.dst)}
		netl = ip
		ls = append(ls, eth, ip)
	} else {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.ParseIP(s.src).To4(), DstIP: net.ParseIP(s.dst).To4()}
		if s.fragment {
			ip.FragOffset = 100
		}
		netl = ip
		ls = append(ls, eth, ip)
	}
	switch s.proto {
	case "tcp":
		tcp := &layers.TCP{SrcPort: layers.TCPPort(s.sport), DstPort: layers.TCPPort(s.dport), SYN: true, Window: 1000}
		tcp.SetNetworkLayerForChecksum(netl)
		ls = append(ls, tcp)
		setProto(ls[1], layers.IPProtocolTCP)
	case "udp":
		udp := &layers.UDP{SrcPort: layers.UDPPort(s.sport), DstPort: layers.UDPPort(s.dport)}
		udp.SetNetworkLayerForChecksum(netl)
		ls = append(ls, udp)
		setProto(ls[1], layers.IPProtocolUDP)
	case "icmp":
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)})
		setProto(ls[1], layers.IPProtocolICMPv4)
	}
	ls = append(ls, gopacket.Payload("payload"))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func setProto(l gopacket.SerializableLayer, p layers.IPProtocol) {
	switch ip := l.(type) {
	case *layers.IPv4:
		ip.Protocol = p
	case *layers.IPv6:
		ip.NextHeader = p
	}
}

func runFilter(t testing.TB, raw []bpf.RawInstruction, frame []byte) bool {
	t.Helper()
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("program does not disassemble")
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm.Run(frame)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestCompileFilter(t *testing.T) {
	frames := map[string]frameSpec{
		"udp4-dns":   {proto: "udp", src: "10.0.0.2", dst: "10.0.0.1", sport: 5353, dport: 53},
		"tcp4-https": {proto: "tcp", src: "10.0.0.2", dst: "93.184.216.34", sport: 40000, dport: 443},
		"tcp4-ssh":   {proto: "tcp", src: "10.0.0.9", dst: "10.0.0.2", sport: 22, dport: 50000},
		"udp6-quic":  {v6: true, proto: "udp", src: "fd00::2", dst: "fd00::1", sport: 50000, dport: 443},
		"tcp6-mqtt":  {v6: true, proto: "tcp", src: "fd00::2", dst: "fd00::1", sport: 50001, dport: 1883},
		"icmp4":      {proto: "icmp", src: "10.0.0.2", dst: "10.0.0.1"},
		"arp":        {proto: "arp", src: "10.0.0.2", dst: "10.0.0.1"},
		"frag-udp":   {proto: "udp", src: "10.0.0.2", dst: "10.0.0.1", sport: 53, dport: 53, fragment: true},
	}
	cases := []struct {
		expr string
		want []string // frames that pass
	}{
		{"udp", []string{"udp4-dns", "udp6-quic", "frag-udp"}},
		{"tcp", []string{"tcp4-https", "tcp4-ssh", "tcp6-mqtt"}},
		{"ip6", []string{"udp6-quic", "tcp6-mqtt"}},
		{"arp", []string{"arp"}},
		{"icmp", []string{"icmp4"}},
		{"ip", []string{"udp4-dns", "tcp4-https", "tcp4-ssh", "icmp4", "frag-udp"}},
		{"port 443", []string{"tcp4-https", "udp6-quic"}},
		{"udp port 443", []string{"udp6-quic"}},
		{"tcp dst port 443", []string{"tcp4-https"}},
		{"src port 22", []string{"tcp4-ssh"}},
		{"not port 22", []string{"udp4-dns", "tcp4-https", "udp6-quic", "tcp6-mqtt", "icmp4", "arp", "frag-udp"}},
		{"host 10.0.0.1", []string{"udp4-dns", "icmp4", "frag-udp"}},
		{"src host 10.0.0.2 and tcp", []string{"tcp4-https"}},
		{"dst host 10.0.0.2", []string{"tcp4-ssh"}},
		{"ip and not icmp and not port 53", []string{"tcp4-https", "tcp4-ssh", "frag-udp"}},
		{"port 53", []string{"udp4-dns"}}, // the later fragment carries no ports
	}
	for _, c := range cases {
		raw, err := CompileFilter(c.expr, capture.LinkEthernet)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		want := map[string]bool{}
		for _, n := range c.want {
			want[n] = true
		}
		for name, spec := range frames {
			if got := runFilter(t, raw, buildFrame(t, spec)); got != want[name] {
				t.Errorf("%q on %s: pass=%v, want %v", c.expr, name, got, want[name])
			}
		}
	}
}

func TestCompileFilterErrors(t *testing.T) {
	for _, bad := range []string{"port", "port 70000", "host fd00::1", "udp or tcp", "(udp)", "src", "tcp and", "icmp port 5", "foo"} {
		if _, err := CompileFilter(bad, capture.LinkEthernet); err == nil {
			t.Errorf("%q compiled", bad)
		} else if !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: error does not quote the expression: %v", bad, err)
		}
	}
	if _, err := CompileFilter("udp", capture.LinkRadiotap); err == nil {
		t.Errorf("filter accepted on a radiotap interface")
	}
	if p, err := CompileFilter("  ", capture.LinkRadiotap); err != nil || p != nil {
		t.Errorf("empty filter: %v %v", p, err)
	}
}

func FuzzCompileFilter(f *testing.F) {
	for _, s := range []string{"udp port 53", "not port 22 and host 10.0.0.1", "tcp src port 1", "ip6 and udp", "! arp && icmp"} {
		f.Add(s)
	}
	frame := buildFrame(f, frameSpec{proto: "udp", src: "10.0.0.2", dst: "10.0.0.1", sport: 5353, dport: 53})
	short := frame[:20]
	f.Fuzz(func(t *testing.T, expr string) {
		raw, err := CompileFilter(expr, capture.LinkEthernet)
		if err != nil || raw == nil {
			return
		}
		// Whatever compiles must be a program the kernel's rules accept and that runs on a
		// whole frame and on a cut one.
		runFilter(t, raw, frame)
		runFilter(t, raw, short)
	})
}
