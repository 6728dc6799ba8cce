package duml

import (
	"droneaudit/decoders/decodertest"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
	"encoding/binary"
	"encoding/hex"
	"math"
	"net/netip"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// wrapOSD builds an OSD general data payload (dji-network.md §3.5: lon, lat as float64 radians).
func wrapOSD(lat, lon float64) []byte {
	p := make([]byte, 50)
	binary.LittleEndian.PutUint64(p[0:], math.Float64bits(lon*math.Pi/180))
	binary.LittleEndian.PutUint64(p[8:], math.Float64bits(lat*math.Pi/180))
	binary.LittleEndian.PutUint16(p[16:], 123)
	return p
}

// telemetryBody builds a type-1 body: windows 0x08–0x1B, a resend list of n entries, then the
// u16 length and the DUML bytes.
func telemetryBody(n int, duml []byte) []byte {
	b := make([]byte, wrapResendAt-wrapHeader)
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	for i := range n {
		b = binary.LittleEndian.AppendUint16(b, uint16(100+i))
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(duml)))
	return append(b, duml...)
}

func TestWrapperPublishedHeaders(t *testing.T) {
	// dji-network.md §3.7: handshake 30 80 3a dd 00 00 00 57 (length 0x30) and response 08 80 …
	hs, _ := hex.DecodeString("30803add00000057")
	hs = append(hs, make([]byte, 0x30-8)...)
	w, err := ParseWrapper(hs)
	if err != nil || w.Length != 0x30 || w.Session != 0xdd3a || w.Type != WrapHandshake || w.DUML != nil {
		t.Errorf("handshake %+v %v", w, err)
	}
	resp, _ := hex.DecodeString("08803add0000006f")
	if w, err := ParseWrapper(resp); err != nil || w.Length != 8 {
		t.Errorf("response %+v %v", w, err)
	}
	if !(UDPWrapper{}).Sniff(resp) || (UDPWrapper{}).Sniff(hs[:20]) {
		t.Error("sniff")
	}
}

func TestWrapperFlow(t *testing.T) {
	osd := Encode(0x03, 0x02, 7, 0, SetFlightControl, IDOSDGeneral, wrapOSD(47.3763734, 8.5282979))
	bad := Encode(0x03, 0x02, 8, 0, SetFlightControl, IDOSDGeneral, wrapOSD(1, 2))
	bad[len(bad)-1] ^= 0xff
	cmd := Encode(0x02, 0x03, 9, 0x40, 0x00, 0x01, nil)
	two := append(append(append([]byte{0x55, 0x55}, osd...), bad...), cmd...) // junk, 3 frames
	datagrams := [][]byte{
		AppendWrapper(nil, 0xdd3a, 1, WrapTelemetry, telemetryBody(2, two)),
		AppendWrapper(nil, 0xdd3a, 2, WrapCommand, append(make([]byte, wrapDUMLAt-wrapHeader), osd...)),
		// The resend count (200) runs past the datagram: the body is left to the frame scan.
		AppendWrapper(nil, 0xdd3a, 3, WrapTelemetry, append(append(make([]byte, wrapResendAt-wrapHeader), 200, 0), osd...)),
		AppendWrapper(nil, 0xdd3a, 4, WrapVideo, make([]byte, 100)),
		{0x10, 0x80, 0, 0, 0, 0, 1, 0x91}, // length 16 in an 8-byte datagram
	}
	broken := AppendWrapper(nil, 1, 1, WrapCommand, make([]byte, 20))
	broken[7] ^= 1
	datagrams = append(datagrams, broken)
	sink := &decodertest.Sink{}
	fl := UDPWrapper{}.NewFlow(decoders.Input{Path: "lab.pcap"}, sink)
	for i, d := range datagrams {
		fl.Segment(decoders.Segment{Frame: i + 1, Offset: int64(100 * i), Time: time.Unix(1700000000, 0),
			Network: geo.Network{Proto: netflow.UDP, Src: netip.MustParseAddrPort("192.168.2.1:9003"), Dst: netip.MustParseAddrPort("192.168.2.20:12346")}, Payload: d})
	}
	fl.Close()
	if sink.Counts["udpwrap_datagrams"] != 6 || sink.Counts["udpwrap_bad"] != 2 {
		t.Errorf("counts %v", sink.Counts)
	}
	if sink.Counts["crc16_errors"] != 1 || sink.Counts["frames"] != 4 {
		t.Errorf("DUML counts %v", sink.Counts)
	}
	if len(sink.Fixes) != 3 {
		t.Fatalf("%d fixes, want 3", len(sink.Fixes))
	}
	for _, f := range sink.Fixes {
		if math.Abs(f.Lat-47.3763734) > 1e-9 || math.Abs(f.Lon-8.5282979) > 1e-9 || f.Role != geo.RoleAircraft {
			t.Errorf("fix %v", f)
		}
		if f.Evidence.Channel != geo.ChannelNetwork || f.Evidence.Network == nil || f.Evidence.Network.Src.Port() != 9003 ||
			f.Evidence.Decoder != Name || f.Evidence.Locator == "" {
			t.Errorf("evidence %+v", f.Evidence)
		}
	}
	if sink.Fixes[0].Evidence.Locator != "frame 1" || sink.Fixes[1].Evidence.Locator != "frame 2" || sink.Fixes[2].Evidence.Locator != "frame 3" {
		t.Errorf("locators %s %s", sink.Fixes[0].Evidence.Locator, sink.Fixes[1].Evidence.Locator)
	}
	junk := 0
	for _, n := range sink.Notes {
		if n.Code == "junk" {
			junk++
		}
	}
	if junk != 2 {
		t.Errorf("notes %v", sink.Notes)
	}
}

func FuzzUDPWrapper(f *testing.F) {
	osd := Encode(0x03, 0x02, 7, 0, SetFlightControl, IDOSDGeneral, wrapOSD(47, 8))
	f.Add(AppendWrapper(nil, 1, 1, WrapTelemetry, telemetryBody(1, osd)))
	f.Add(AppendWrapper(nil, 1, 2, WrapCommand, append(make([]byte, 12), osd...)))
	f.Add(AppendWrapper(nil, 1, 3, WrapAckA, osd))
	f.Add([]byte{0x08, 0x80, 0x3a, 0xdd, 0, 0, 0, 0x6f})
	// Real traffic from the corpus captures: whatever they carry is a protocol's hostile input too.
	for _, s := range netfixture.CorpusPayloadSeeds(40, nil) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := ParseWrapper(b)
		if err == nil && len(w.DUML) > len(b) {
			t.Fatalf("DUML of %d bytes from %d", len(w.DUML), len(b))
		}
		sink := &decodertest.Sink{}
		fl := UDPWrapper{}.NewFlow(decoders.Input{Path: "fuzz"}, sink)
		fl.Segment(decoders.Segment{Frame: 1, Payload: b})
		fl.Close()
	})
}

func BenchmarkUDPWrapper(b *testing.B) {
	osd := Encode(0x03, 0x02, 7, 0, SetFlightControl, IDOSDGeneral, wrapOSD(47, 8))
	d := AppendWrapper(nil, 1, 1, WrapTelemetry, telemetryBody(2, append(append([]byte(nil), osd...), osd...)))
	sink := &decodertest.Sink{}
	fl := UDPWrapper{}.NewFlow(decoders.Input{Path: "bench"}, sink)
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		fl.Segment(decoders.Segment{Frame: 1, Payload: d})
		sink.Fixes = sink.Fixes[:0]
	}
}
