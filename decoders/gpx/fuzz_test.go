package gpx

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
)

// fuzzAllocLimit is the most one decode may allocate on any input (issue 3 acceptance).
const fuzzAllocLimit = 64 << 20

func FuzzDecode(f *testing.F) {
	g := writeGPX("1.1", track(3))
	f.Add(g)
	f.Add(g[:len(g)/2])
	f.Add(writeGPX("1.0", track(2)))
	k := writeKML(track(3))
	f.Add(k)
	f.Add(writeKMZ(f, map[string][]byte{"doc.kml": k}, []string{"doc.kml"}))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><gpx><wpt lat=\"1.5\" lon=\"2.5\"><name>Caf\xe9 home</name></wpt></gpx>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := &decodertest.Sink{}
		in := decoders.Input{Path: "fuzz.gpx", Size: int64(len(data)), R: bytes.NewReader(data)}
		if err := New().Decode(context.Background(), in, s); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > fuzzAllocLimit {
			t.Fatalf("allocated %d bytes for %d input bytes", d, len(data))
		}
		New().Sniff(data)
		for _, fx := range s.Fixes {
			if !fx.Valid() {
				t.Fatalf("invalid fix %v", fx)
			}
			if fx.Evidence.Offset >= int64(len(data)) {
				t.Fatalf("fix offset %d outside the %d-byte input", fx.Evidence.Offset, len(data))
			}
		}
	})
}
