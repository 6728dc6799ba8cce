package duml

import (
	"bytes"
	"strings"
	"testing"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
)

func FuzzScan(f *testing.F) {
	f.Add(Encode(0x03, 0x02, 1, 0, SetFlightControl, IDOSDGeneral, osdPayload(51.1, 5.4)))
	f.Add(Encode(0x03, 0x02, 1, 0, SetFlightControl, IDOSDHome, homePayload(51.1, 5.4)))
	f.Add(append(Encode(0, 0, 0, 0, 0, 0, nil), 0x55, 0x3f, 0x04, 0x8f))
	f.Add([]byte{0x55, 0xff, 0xff, 0x00})
	// Real DUML: the serial-tap captures of the corpus hold the frames of a P3X link; their
	// payloads, joined, are the raw stream a UART dump of that link would be.
	for _, pcap := range decodertest.CorpusSeeds(func(name string, _ []byte) bool { return strings.HasSuffix(name, ".pcap") }, "duml") {
		f.Add(joinTapFrames(pcap, 256<<10))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		decodertest.SkipLarge(t, b)
		n := 0
		used, skipped := Scan(b, true, func(fr *Frame, off int, bad bool) {
			n++
			if off < 0 || off+len(fr.Raw) > len(b) {
				t.Fatalf("frame at %d+%d outside %d bytes", off, len(fr.Raw), len(b))
			}
			if !bad {
				Fixes(fr, geo.Evidence{})
			}
		})
		if used != len(b) || skipped > len(b) {
			t.Fatalf("used %d skipped %d of %d", used, skipped, len(b))
		}
		sink := &decodertest.Sink{}
		if err := (Stream{}).Decode(t.Context(), decoders.Input{Path: "f", Size: int64(len(b)), R: bytes.NewReader(b)}, sink); err != nil {
			t.Fatal(err)
		}
		for _, fx := range sink.Fixes {
			if !fx.Valid() {
				t.Fatalf("invalid fix emitted: %v", fx)
			}
		}
	})
}

// joinTapFrames joins the DLT_USER frame payloads of a capture, up to max bytes; a cut capture
// yields the frames before the cut.
func joinTapFrames(pcap []byte, max int) []byte {
	rd, err := capture.NewReader(bytes.NewReader(pcap), "seed.pcap")
	if err != nil {
		return nil
	}
	var out []byte
	for len(out) < max {
		p, err := rd.Next()
		if err != nil {
			break
		}
		if p.LinkType.IsUser() {
			out = append(out, p.Data...)
		}
	}
	return out
}

// BenchmarkScan measures framing, both CRCs and position extraction over an OSD-heavy stream.
func BenchmarkScan(b *testing.B) {
	var s []byte
	for i := 0; len(s) < 8<<20; i++ {
		if i%3 == 0 {
			s = append(s, Encode(0x03, 0x02, uint16(i), 0, SetFlightControl, IDOSDGeneral, osdPayload(51.1, 5.4))...)
		} else {
			s = append(s, Encode(0x09, 0x03, uint16(i), 0, 0x09, 0x01, make([]byte, 20))...)
		}
	}
	b.SetBytes(int64(len(s)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink := &decodertest.Counter{}
		if err := (Stream{}).Decode(b.Context(), decoders.Input{Path: "b", Size: int64(len(s)), R: bytes.NewReader(s)}, sink); err != nil {
			b.Fatal(err)
		}
		if sink.Fixes == 0 {
			b.Fatal("no fixes")
		}
	}
}
