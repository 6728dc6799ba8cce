package csvlog

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
	air := writeAirdata(rows(4))
	f.Add(air)
	f.Add(air[:len(air)-30])
	f.Add([]byte("sep=;\nCUSTOM.date [local];CUSTOM.updateTime [local];OSD.latitude;OSD.longitude;OSD.height [ft];HOME.latitude;HOME.longitude\n8/29/2017;3:04:05.12 PM;59,9;10,7;3,2;59,9;10,7\n"))
	f.Add([]byte("\ufefftime\tlat (rad)\tlng (rad)\n1700000000123\t1.04\t0.18\n"))
	f.Add([]byte("datetime,latitude,longitude,message\n2024-01-01T10:00:00Z,10.5,20.5,\"a\nb\"\"c\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := &decodertest.Sink{}
		in := decoders.Input{Path: "fuzz.csv", Size: int64(len(data)), R: bytes.NewReader(data)}
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
