package dataflash

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

// BenchmarkDataflashPositions decodes a generated 8 MB log in which a third of the messages
// carry positions (real logs have fewer), through framing, scaling and Fix emission.
func BenchmarkDataflashPositions(b *testing.B) {
	benchDecode(b, genLog(28000, false).data)
}

// BenchmarkDataflashSigned is the same log inside a signed container (de-chunking and hashing).
func BenchmarkDataflashSigned(b *testing.B) {
	benchDecode(b, wrapSigned(genLog(28000, false).data, 1))
}

// BenchmarkDataflashCorpus33 decodes the real 3 MB ArduCopter 3.3 flight from the corpus (the
// log pymavlink reads at 4.9 MB/s, ../shared/formats/mavlink-dataflash-ulog.md §8).
func BenchmarkDataflashCorpus33(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "dataflash/arducopter33_real_flight.bin"))
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, data)
}

// BenchmarkDataflashFraming frames the generated log without decoding positions.
func BenchmarkDataflashFraming(b *testing.B) {
	data := genLog(28000, false).data
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd := NewReader(bytes.NewReader(data), "bench.bin")
		for {
			if _, err := rd.Next(); err != nil {
				break
			}
		}
	}
}
