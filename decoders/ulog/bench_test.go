package ulog

import (
	"bytes"
	"context"
	"droneaudit/decoders/decodertest"
	"os"
	"testing"

	"droneaudit/internal/corpus"
)

func benchDecode(b *testing.B, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var sink decodertest.Counter
	for i := 0; i < b.N; i++ {
		sink = decodertest.Counter{}
		if err := New().Decode(context.Background(), input(data), &sink); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sink.Fixes), "fixes/op")
}

// BenchmarkULogPositions decodes a generated log of about 8 MB in which a third of the data
// messages are GPS or global positions (both schemas), through framing, subscription lookup,
// field reads and Fix emission.
func BenchmarkULogPositions(b *testing.B) { benchDecode(b, genULog(20000)) }

// BenchmarkULogCorpusSample decodes the real 4 MB pyulog sample (no position topics).
func BenchmarkULogCorpusSample(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "ulog/pyulog_sample.ulg"))
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// BenchmarkULogCorpusSmall decodes the real 0.9 MB CubeOrange log (old GPS schema).
func BenchmarkULogCorpusSmall(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "ulog/pyulog_sample_log_small.ulg"))
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// BenchmarkULogFraming frames the generated log and resolves its D messages, without fixes.
func BenchmarkULogFraming(b *testing.B) {
	data := genULog(20000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd, err := NewReader(bytes.NewReader(data), "bench.ulg")
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
		}
	}
}
