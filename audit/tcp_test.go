package audit

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/decoders/mavlink"
	"droneaudit/geo"
)

// A MAVLink-over-TCP flow with one segment missing from the capture: the frames after the hole
// still decode, the frame cut by the hole is lost, and the skipped bytes are counted and reported.
func TestTCPHoleIsCountedAndSkipped(t *testing.T) {
	var stream []byte
	for i := 0; i < 30; i++ {
		fr, err := mavlink.Encode(&ardupilotmega.MessageGlobalPositionInt{Lat: 511680000 + int32(i), Lon: 54700000}, true, uint8(i), 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, fr...)
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	const seg = 100
	seq := uint32(1000)
	t0 := time.Unix(1_700_000_000, 0)
	write := func(i int, payload []byte, flags func(*layers.TCP)) {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(203, 0, 113, 2)}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 5760, Seq: seq, ACK: true, Window: 1000}
		if flags != nil {
			flags(tcp)
		}
		tcp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}, sb.Bytes())
	}
	write(0, nil, func(tc *layers.TCP) { tc.SYN, tc.ACK = true, false; tc.Seq = seq - 1 })
	hole := 0
	for i := 0; i*seg < len(stream); i++ {
		end := min((i+1)*seg, len(stream))
		if i == 3 {
			hole = end - i*seg // this segment is not in the capture
		} else {
			write(i+1, stream[i*seg:end], nil)
		}
		seq += uint32(end - i*seg)
	}
	zs, _ := geo.ParseZones("z", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Base","sensitivity":"secret","radius_m":1000},"geometry":{"type":"Point","coordinates":[5.47,51.168]}}]}`))
	rep, err := Run(t.Context(), []Source{BytesSource("hole.pcap", buf.Bytes())}, Options{Zones: zs, Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	in := rep.Inputs[0]
	if in.Counts["tcp_bytes_skipped"] != int64(hole) || in.Notes[len(in.Notes)-1].Code != "tcp-gaps" {
		t.Fatalf("counts %v notes %v, want %d skipped bytes", in.Counts, in.Notes, hole)
	}
	// Frames are 12+14=26 bytes: the 100-byte hole destroys at most 5 of the 30.
	if in.Fixes < 25 || in.Fixes >= 30 {
		t.Fatalf("%d fixes decoded around a %d-byte hole", in.Fixes, hole)
	}
	if rep.Verdict.Result != Fail {
		t.Fatalf("verdict %+v", rep.Verdict)
	}
}
