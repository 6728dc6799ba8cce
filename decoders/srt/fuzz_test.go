package srt

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
	for _, st := range []style{styleOld, styleMavicPro, styleOneLine, styleRTK, styleMavic2, styleAir2, styleMavic3, styleFPV, styleM300, styleMavicAir} {
		data := writeSRT(track(3), st)
		f.Add(data)
		f.Add(data[:len(data)*2/3])
	}
	f.Add(writeSRT(track(4), styleMavicPro, styleMavic3))
	f.Add([]byte("\xef\xbb\xbf1\r\n00:00:00,000 --> 00:00:01,000\r\nGPS(N/A,N/A,3) [latitude : 0.7] [longtitude : 0.03]\r\n"))
	f.Add([]byte("1\n00:00:00,000 --> 00:00:01,000\nGPS(W:3.7,N:40.4,1m) HOME (1,2, 3m) 2020.1.1 1:02:03,123,456\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := &decodertest.Sink{}
		in := decoders.Input{Path: "fuzz.srt", Size: int64(len(data)), R: bytes.NewReader(data)}
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
			if fx.Evidence.Offset < 0 || fx.Evidence.Offset >= int64(len(data)) {
				t.Fatalf("fix offset %d outside the %d-byte input", fx.Evidence.Offset, len(data))
			}
		}
	})
}
