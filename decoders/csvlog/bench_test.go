package csvlog

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"testing"

	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
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
		in := decoders.Input{Path: "bench.csv", Size: int64(len(data)), R: bytes.NewReader(data)}
		if err := New().Decode(context.Background(), in, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAirdata decodes a generated 20000-row Airdata export.
func BenchmarkDecodeAirdata(b *testing.B) { benchDecode(b, writeAirdata(rows(20000))) }

// BenchmarkCorpusAirdata decodes the real 3.8 MB Airdata export read into memory.
func BenchmarkCorpusAirdata(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "csv/airdata_Mini2_2021-09-05.csv"))
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// BenchmarkBaselineLines splits the generated Airdata export into lines and does nothing else.
func BenchmarkBaselineLines(b *testing.B) {
	data := writeAirdata(rows(20000))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
		}
	}
}
