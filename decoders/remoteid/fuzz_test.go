package remoteid

import (
	"droneaudit/decoders/decodertest"
	"io"
	"os"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/internal/corpus"
	"droneaudit/internal/netfixture"
)

func FuzzRemoteIDMessage(f *testing.F) {
	for _, m := range testMessages() {
		f.Add(AppendMessage(nil, &m))
	}
	f.Add([]byte{0x12})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		err := DecodeMessage(b, &m)
		if (err != nil) != (len(b) < MessageSize) {
			t.Fatalf("error %v for %d bytes", err, len(b))
		}
		if err == nil && m.Type != TypePack && m.Type <= TypeOperatorID {
			// Every decoded message re-encodes to its defined bits.
			re := AppendMessage(nil, &m)
			var m2 Message
			if DecodeMessage(re, &m2) != nil {
				t.Fatal("re-encoded message does not decode")
			}
		}
		if m.Type == TypeLocation {
			_, _ = m.Location.Time(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		}
	})
}

func FuzzRemoteIDPack(f *testing.F) {
	msgs := testMessages()
	f.Add(AppendPack(nil, 2, -1, msgs))
	f.Add(AppendPack(nil, 0, 4, msgs[:3])[:80])
	f.Add([]byte{0xf0, 0x19, 0xff})
	f.Add([]byte{0xf0, 0x00, 0x05, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Pack
		if err := DecodePack(b, &p); err != nil {
			return
		}
		if p.N > MaxPackMessages || p.N*MessageSize > len(b)-3+MessageSize-1 {
			t.Fatalf("%d messages from %d bytes", p.N, len(b))
		}
		if p.N > 0 && p.Msgs[p.N-1].Truncated != p.Truncated {
			t.Fatal("truncation not on the last message")
		}
	})
}

func FuzzNAN(f *testing.F) {
	msgs := testMessages()
	f.Add(AppendNANAction(nil, 1, AppendPack(nil, 0, -1, msgs[1:2])))
	f.Add(AppendNANAction(nil, 2, AppendPack(nil, 2, 9, msgs)))
	b := AppendNANAction(nil, 3, AppendPack(nil, 0, -1, msgs[:1]))
	b[15] = 0x5c // service control with binding bitmap, matching and response filters
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var n NAN
		_ = DecodeNAN(b, &n)
		if n.NAttrs > maxNANAttrs || n.Pack.N > MaxPackMessages {
			t.Fatalf("attrs %d msgs %d", n.NAttrs, n.Pack.N)
		}
	})
}

func FuzzFrench(f *testing.F) {
	fr := French{Version: 1, HasVersion: true, Serial: "X", RawLat: 1, RawLon: 2, HasPos: true}
	f.Add(AppendFrenchElement(nil, &fr)[6:])
	f.Add([]byte{4, 3, 1, 2, 3, 5, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr French
		_ = DecodeFrench(b, &fr)
	})
}

// FuzzScan feeds whole radiotap frames through the scanner and the link stream.
func FuzzScan(f *testing.F) {
	for _, s := range testFrames() {
		f.Add(linkVariants[0].wrap(s.dot11))
		f.Add(linkVariants[2].wrap(s.dot11))
	}
	// Real 802.11 frames of the corpus captures, DroneID, Remote ID and spoofed ones among them.
	for _, s := range netfixture.CorpusFrameSeeds(200, capture.LinkType.IsDot11) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sink := &decodertest.Sink{}
		st := LinkDecoder{}.NewLink(decoders.Input{Path: "fuzz"}, sink)
		st.Packet(&capture.Packet{Frame: 1, LinkType: capture.LinkRadiotap, Data: b})
		st.Packet(&capture.Packet{Frame: 2, LinkType: capture.LinkIEEE80211, Data: b})
		st.Close()
		for _, fx := range sink.Fixes {
			if !fx.Valid() {
				t.Fatalf("invalid fix %v", fx)
			}
		}
	})
}

// benchFrame is a DJI-RID-style beacon: SSID, rates, DS, and a 3-message ODID pack, with FCS.
func benchFrame() []byte {
	msgs := testMessages()
	pk := AppendPack(nil, 2, -1, []Message{msgs[0], msgs[1], msgs[5]})
	return linkVariants[0].wrap(beacon(capture.Dot11Beacon, 7, "RID-1581F5FHC23456789ABC", AppendBeaconElement(nil, false, 1, pk)))
}

// BenchmarkScanBeacon measures radiotap + 802.11 + element walk + ODID pack decode per beacon.
func BenchmarkScanBeacon(b *testing.B) {
	data := benchFrame()
	p := &capture.Packet{Frame: 1, LinkType: capture.LinkRadiotap, Data: data}
	var sc Scanner
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s, err := sc.Scan(p)
		if err != nil || s == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanBeaconDJI is the same for a DJI DroneID v2 beacon.
func BenchmarkScanBeaconDJI(b *testing.B) {
	data := linkVariants[0].wrap(testFrames()[1].dot11)
	p := &capture.Packet{Frame: 1, LinkType: capture.LinkRadiotap, Data: data}
	var sc Scanner
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if s, err := sc.Scan(p); err != nil || s == nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamBeacon measures the whole LinkStream per beacon: scan, dedup, fixes with evidence.
func BenchmarkStreamBeacon(b *testing.B) {
	msgs := testMessages()
	pk := AppendPack(nil, 2, -1, []Message{msgs[0], msgs[1], msgs[5]})
	data := linkVariants[1].wrap(beacon(capture.Dot11Beacon, 7, "RID-1581F5FHC23456789ABC", AppendBeaconElement(nil, false, 1, pk)))
	sink := &decodertest.Sink{}
	st := LinkDecoder{}.NewLink(decoders.Input{Path: "bench"}, sink).(*Stream)
	p := &capture.Packet{LinkType: capture.LinkRadiotap, Data: data}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		i++
		// A new transmission each time (the sequence number changes), as on air.
		data[23+22], data[23+23] = byte(i<<4), byte(i>>4)
		p.Frame, p.Time = i, start.Add(time.Duration(i)*time.Millisecond)
		st.Packet(p)
		if len(sink.Fixes) > 4096 {
			sink.Fixes = sink.Fixes[:0]
		}
	}
}

// BenchmarkCorpusParrot scans the largest shared capture (1,606 frames, mostly negatives).
func BenchmarkCorpusParrot(b *testing.B) {
	path := corpus.Path(b, "ota/parrot_anafi4_spoofed.pcapng")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		f, _ := os.Open(path)
		rd, err := capture.NewReader(f, path)
		if err != nil {
			b.Fatal(err)
		}
		var sc Scanner
		for {
			p, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			_, _ = sc.Scan(p)
		}
		f.Close()
	}
}
