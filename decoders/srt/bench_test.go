package srt

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

func (discard) Fix(f geo.Fix)              {}
func (discard) Note(decoders.Note)         {}
func (discard) Exposure(decoders.Exposure) {}
func (discard) Count(name string, n int64) {}

func benchDecode(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		in := decoders.Input{Path: "bench.srt", Size: int64(len(data)), R: bytes.NewReader(data)}
		if err := New().Decode(context.Background(), in, discard{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMavic3 decodes a generated 50 fps Mavic 3 style file of about 4 MB.
func BenchmarkDecodeMavic3(b *testing.B) { benchDecode(b, writeSRT(track(14000), styleMavic3)) }

// BenchmarkDecodeMavicPro decodes a generated one-block-per-second Mavic Pro style file.
func BenchmarkDecodeMavicPro(b *testing.B) { benchDecode(b, writeSRT(track(20000), styleMavicPro)) }

// BenchmarkCorpusMAVIC3 decodes the real 3.6 MB Mavic 3 sample read into memory.
func BenchmarkCorpusMAVIC3(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "srt/MAVIC3.srt"))
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// BenchmarkBaselineLines is the floor the decoder is measured against: splitting the same
// generated Mavic 3 file into lines with bufio.Scanner and doing nothing else.
func BenchmarkBaselineLines(b *testing.B) {
	data := writeSRT(track(14000), styleMavic3)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(data))
		n := 0
		for sc.Scan() {
			n += len(sc.Bytes())
		}
		if n == 0 {
			b.Fatal("no lines")
		}
	}
}
