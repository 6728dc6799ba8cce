package djilog

import (
	"bytes"
	"context"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/decoders/exif/exiftest"
)

// FuzzDecode feeds arbitrary bytes to Sniff and Decode: neither may panic, every fix must be a
// real position, and one decode may not allocate more than 64 MB.
func FuzzDecode(f *testing.F) {
	// Seeds stay small: the fuzzer minimises each new input in time quadratic in its length.
	for _, v := range []int{4, 6, 8, 11, 12, 14} {
		fx := flight(v, 1)
		fx.trailer = v == 8
		if v == 11 || v == 14 {
			fx.pictures = []fxPicture{{full: exiftest.Tiny(exiftest.GPSSegment(10, 20, 30, binary.BigEndian)), thumb: exiftest.Tiny(exiftest.GPSSegment(-1, -2, 0, binary.LittleEndian)), lat: 1, lon: 2}}
		}
		data := fx.bytes()
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	bad := flight(11, 6)
	bad.corruptLat, bad.noMarker = true, true
	f.Add(bad.bytes())
	f.Add([]byte{})
	f.Add(make([]byte, 120))
	decodertest.SeedCorpus(f, func(name string, _ []byte) bool { return strings.HasSuffix(name, ".txt") }, "djilog")
	f.Fuzz(func(t *testing.T, data []byte) {
		decodertest.SkipLarge(t, data)
		(Decoder{}).Sniff(data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := &recSink{}
		in := decoders.Input{Path: "fuzz.txt", Size: int64(len(data)), R: bytes.NewReader(data)}
		_ = (Decoder{}).Decode(context.Background(), in, s)
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
			t.Fatalf("one decode of %d bytes allocated %d bytes", len(data), d)
		}
		for _, fx := range s.Fixes {
			if !fx.Valid() || noFix(fx.Lat, fx.Lon) {
				t.Fatalf("invalid fix %v", fx)
			}
		}
	})
}
