package devices

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/internal/netfixture"
)

// TestRawIPCapture reads a capture without link-layer addresses (raw IPv4, as PCAPdroid writes
// on a phone): the device is known by its lab-scope address alone, and its announcements and
// contacts are its own; internet hosts are no devices.
func TestRawIPCapture(t *testing.T) {
	p := filepath.Join(t.TempDir(), "raw.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65536, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	phone, server := []byte{10, 215, 173, 1}, []byte{47, 91, 88, 171}
	write := func(src, dst []byte, sport, dport int, payload string, at int) {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src, DstIP: dst}
		u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		u.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, u, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		ts := netfixture.Start.Add(time.Duration(at) * time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	write(phone, []byte{239, 255, 255, 250}, 1900, 1900, "NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: Android/14 UPnP/1.1 Phone/1\r\nUSN: uuid:1::upnp:rootdevice\r\n\r\n", 0)
	write(phone, server, 40000, 9000, "hello", 1)
	write(server, phone, 9000, 40000, "world!", 2)
	f.Close()
	inv, err := Build(t.Context(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Devices) != 1 {
		t.Fatalf("%d devices: %+v", len(inv.Devices), inv.Devices)
	}
	r := inv.Devices[0]
	if r.MAC != "" || !slices.Equal(r.IPv4, []string{"10.215.173.1"}) || r.FramesOut != 2 || r.FramesIn != 1 ||
		!slices.Equal(r.SSDP.Servers, []string{"Android/14 UPnP/1.1 Phone/1"}) || len(r.Destinations) != 2 || r.InternetContacts != 1 ||
		r.Destinations[1].BytesOut != 5 || r.Destinations[1].BytesIn != 6 {
		t.Errorf("%+v", r)
	}
}
