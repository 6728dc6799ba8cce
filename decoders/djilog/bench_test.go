package djilog

import (
	"bytes"
	"context"
	"droneaudit/decoders/decodertest"
	"encoding/binary"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"

	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

func benchDecode(b *testing.B, name string, r io.ReaderAt, size int64) {
	b.Helper()
	in := decoders.Input{Path: name, Size: size, R: r}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := (Decoder{}).Decode(context.Background(), in, &decodertest.Counter{}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCorpus(b *testing.B, rel string) {
	data, err := os.ReadFile(corpus.Path(b, rel))
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, rel, bytes.NewReader(data), int64(len(data)))
}

// BenchmarkDecodeV11 decodes the v11 Mavic 2 corpus flight record from memory; the target is
// ≥ 150 MB/s on one core (go test -bench . -cpu 1).
func BenchmarkDecodeV11(b *testing.B) { benchCorpus(b, "djilog/v11_Mavic2_2019-02-22.txt") }

// BenchmarkDecodeV14 walks the record skeleton of the encrypted v14 Mini 2 corpus log.
func BenchmarkDecodeV14(b *testing.B) { benchCorpus(b, "djilog/v14_Mini2_2021-09-05.txt") }

// BenchmarkDecodeGenerated decodes generated v11 files of growing size (virtual files: the
// record body repeats), to show that throughput and retained memory do not depend on size.
func BenchmarkDecodeGenerated(b *testing.B) {
	for _, mb := range []int64{1, 16, 256} {
		b.Run(strconv.FormatInt(mb, 10)+"MB", func(b *testing.B) {
			v := newVirtualV11(mb << 20)
			benchDecode(b, "virtual.txt", v, v.size)
		})
	}
}

// virtualV11 is a v11 flight record of any size that exists only as a ReaderAt: prefix, the
// records of a generated flight repeated, the 12345 marker and a details block.
type virtualV11 struct {
	head, body, tail []byte
	reps             int64
	size             int64
}

func newVirtualV11(target int64) *virtualV11 {
	fx := flight(11, 200)
	body := fx.recordBytes()
	reps := max(target/int64(len(body)), 1)
	fx.lineCount = int32(reps * 200)
	det := fx.details()
	head := fx.prefix100()
	binary.LittleEndian.PutUint64(head, uint64(newPrefixLen+reps*int64(len(body))+4))
	binary.LittleEndian.PutUint16(head[8:], detailsLenV6)
	tail := append(binary.LittleEndian.AppendUint32(nil, detailsCheck), det...)
	v := &virtualV11{head: head, body: body, tail: tail, reps: reps}
	v.size = int64(len(head)) + reps*int64(len(body)) + int64(len(tail))
	return v
}

func (v *virtualV11) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	bodyEnd := int64(len(v.head)) + v.reps*int64(len(v.body))
	for n < len(p) {
		o := off + int64(n)
		var src []byte
		switch {
		case o >= v.size:
			return n, io.EOF
		case o < int64(len(v.head)):
			src = v.head[o:]
		case o < bodyEnd:
			src = v.body[(o-int64(len(v.head)))%int64(len(v.body)):]
		default:
			src = v.tail[o-bodyEnd:]
		}
		n += copy(p[n:], src)
	}
	return n, nil
}

// heapSink samples the live heap while the decoder runs.
type heapSink struct {
	Fixes int64
	peak  uint64
}

func (s *heapSink) Fix(geo.Fix) {
	s.Fixes++
	if s.Fixes%20000 == 0 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.peak = max(s.peak, m.HeapAlloc)
	}
}
func (s *heapSink) Note(decoders.Note)         {}
func (s *heapSink) Exposure(decoders.Exposure) {}
func (s *heapSink) Count(string, int64)        {}

// TestMemoryFlat decodes virtual v11 files of 8 MB and 128 MB: the live heap during the decode
// must not grow with the file.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 136 MB of generated records")
	}
	var peaks []uint64
	for _, mb := range []int64{8, 128} {
		v := newVirtualV11(mb << 20)
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		s := &heapSink{}
		if err := (Decoder{}).Decode(context.Background(), decoders.Input{Path: "virtual.txt", Size: v.size, R: v}, s); err != nil {
			t.Fatal(err)
		}
		// Every OSD and two photos per repeat, plus the take-off point and one home, pilot and RC
		// fix (their repeats are unchanged and not reported again).
		if want := v.reps*(200+2) + 4; s.Fixes != want {
			t.Fatalf("%d MB: %d fixes, want %d", mb, s.Fixes, want)
		}
		growth := int64(s.peak) - int64(base.HeapAlloc)
		t.Logf("%d MB file: live heap grew by at most %d KiB while decoding", mb, growth>>10)
		peaks = append(peaks, uint64(max(growth, 0)))
	}
	if peaks[1] > peaks[0]+(1<<20) || peaks[1] > 4<<20 {
		t.Errorf("live heap grows with the file: %v bytes", peaks)
	}
}
