package audit

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/audit/destinations"
	"droneaudit/decoders/mavlink"
	"droneaudit/geo"
)

// udpPositions writes a pcap in which a lab device sends MAVLink GLOBAL_POSITION_INT over UDP to
// each destination, n datagrams each.
func udpPositions(t *testing.T, dsts []string, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	t0 := time.Unix(1_700_000_000, 0)
	k := 0
	for i := range n {
		for _, d := range dsts {
			dst := netip.MustParseAddr(d)
			src := net.IPv4(192, 168, 1, 20)
			if dst.IsLoopback() {
				src = net.IPv4(127, 0, 0, 1)
			}
			fr, err := mavlink.Encode(&ardupilotmega.MessageGlobalPositionInt{TimeBootMs: uint32(i * 1000), Lat: 511680000 + int32(i*100), Lon: 54700000}, true, uint8(i), 1, 1)
			if err != nil {
				t.Fatal(err)
			}
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: net.IP(dst.AsSlice())}
			udp := &layers.UDP{SrcPort: 14555, DstPort: 14550}
			udp.SetNetworkLayerForChecksum(ip)
			sb := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(fr)); err != nil {
				t.Fatal(err)
			}
			w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(k) * time.Millisecond), CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}, sb.Bytes())
			k++
		}
	}
	return buf.Bytes()
}

// Every network finding has a scope: loopback stays on the device (it was reported as having
// "left the device over the network"), a private address is the lab network (a finding that does
// not fail by default), a public one the internet, and 255.255.255.255 a broadcast. The policy's
// fail_scopes decides which fail.
func TestScopesOfNetworkFindings(t *testing.T) {
	data := udpPositions(t, []string{"127.0.0.1", "192.168.1.2", "203.0.113.9", "255.255.255.255"}, 5)
	zones := zonesAround(t, 51.168, 5.47, 500, geo.Secret)
	run := func(p Policy) map[string]*Finding {
		rep, err := Run(t.Context(), []Source{BytesSource("scopes.pcap", data)}, Options{Zones: zones, Policy: p, Destinations: &destinations.Options{}})
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]*Finding{}
		for _, f := range rep.Findings {
			if f.Destination == nil {
				t.Fatalf("finding without destination: %+v", f)
			}
			by[f.Destination.IP] = f
		}
		return by
	}
	by := run(DefaultPolicy())
	for ip, want := range map[string]struct {
		kind, scope, severity string
		fails                 bool
	}{
		"127.0.0.1":       {KindOnDeviceExposure, destinations.ScopeOnDevice, "medium", false},
		"192.168.1.2":     {KindLocationLeak, destinations.ScopeLabNetwork, "high", false},
		"203.0.113.9":     {KindLocationLeak, destinations.ScopeInternet, "critical", true},
		"255.255.255.255": {KindLocationLeak, destinations.ScopeBroadcast, "critical", true},
	} {
		f := by[ip]
		if f == nil || f.Kind != want.kind || f.Scope != want.scope || f.Destination.Scope != want.scope || string(f.Severity) != want.severity ||
			f.FailsPolicy != want.fails || f.Count != 5 {
			t.Errorf("%s: %+v, want %+v", ip, f, want)
		}
	}
	if s := by["192.168.1.2"].Summary; s != `5 aircraft positions inside secret zone "Test site" left the device to 192.168.1.2:14550/udp on the lab network (not beyond the site)` {
		t.Errorf("lab summary %q", s)
	}
	p := DefaultPolicy()
	p.FailScopes = []string{destinations.ScopeLabNetwork}
	by = run(p)
	if !by["192.168.1.2"].FailsPolicy || by["203.0.113.9"].FailsPolicy || by["127.0.0.1"].FailsPolicy {
		t.Errorf("fail_scopes [lab-network]: %+v", by)
	}
}
