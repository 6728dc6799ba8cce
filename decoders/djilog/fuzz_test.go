package djilog

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"runtime"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
)

// FuzzDecode feeds arbitrary bytes to Sniff and Decode: neither may panic, every fix must be a
// real position, and one decode may not allocate more than 64 MB.
func FuzzDecode(f *testing.F) {
	// Seeds stay small: the fuzzer minimises each new input in time quadratic in its length.
	for _, v := range []int{4, 6, 8, 11, 12, 14} {
		fx := flight(v, 1)
		fx.trailer = v == 8
		if v == 11 || v == 14 {
			fx.pictures = []fxPicture{{full: tinyJPEG(10, 20, 30, binary.BigEndian), thumb: tinyJPEG(-1, -2, 0, binary.LittleEndian), lat: 1, lon: 2}}
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

// tinyJPEG is SOI, an EXIF APP1 segment with GPS, and EOI: enough for the EXIF reader.
func tinyJPEG(lat, lon, alt float64, bo byteOrder) []byte {
	j := append([]byte{0xFF, 0xD8}, exifSegment(lat, lon, alt, bo)...)
	return append(j, 0xFF, 0xD9)
}

// FuzzExifGPS feeds arbitrary bytes to the EXIF GPS reader: no panic, and any position found is
// a finite number.
func FuzzExifGPS(f *testing.F) {
	f.Add(tinyJPEG(47.5, -122.6, 12, binary.LittleEndian))
	f.Add(tinyJPEG(-33.9, 115, -3, binary.BigEndian))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, found, err := exifGPS(data)
		if found && (err != nil || math.IsNaN(g.Lat) || math.IsInf(g.Lat, 0) || math.IsNaN(g.Lon) || math.IsInf(g.Lon, 0)) {
			t.Fatalf("found %+v with err %v", g, err)
		}
	})
}
