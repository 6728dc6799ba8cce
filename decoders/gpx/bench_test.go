package gpx

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"testing"

	"droneaudit/decoders"
	"droneaudit/geo"
)

type discard struct{}

func (discard) Fix(geo.Fix)                {}
func (discard) Note(decoders.Note)         {}
func (discard) Exposure(decoders.Exposure) {}
func (discard) Count(string, int64)        {}

func benchDecode(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		in := decoders.Input{Path: "bench", Size: int64(len(data)), R: bytes.NewReader(data)}
		if err := New().Decode(context.Background(), in, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeGPX decodes a generated 20000-point GPX track.
func BenchmarkDecodeGPX(b *testing.B) { benchDecode(b, writeGPX("1.1", track(20000))) }

// BenchmarkDecodeKML decodes a generated KML with a 20000-point LineString and gx:Track.
func BenchmarkDecodeKML(b *testing.B) { benchDecode(b, writeKML(track(20000))) }

// BenchmarkBaselineTokens is the floor: encoding/xml tokenising the same GPX, nothing else.
func BenchmarkBaselineTokens(b *testing.B) {
	data := writeGPX("1.1", track(20000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
