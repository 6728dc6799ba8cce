package mavlink

import (
	"bufio"

	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/tlog"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

func seedTlog(t testing.TB) []byte {
	var b []byte
	for i := 0; i < 4; i++ {
		b = binary.BigEndian.AppendUint64(b, 1746714529674540+uint64(i)*1000)
		b = append(b, mustEncode(t, &ardupilotmega.MessageGlobalPositionInt{Lat: 511680000, Lon: 54700000}, i%2 == 0, uint8(i))...)
	}
	return b
}

// FuzzFile drives the tlog walker and the raw framer (whichever the input sniffs as) and the
// position decoding behind them.
func FuzzFile(f *testing.F) {
	f.Add(seedTlog(f))
	f.Add(append([]byte{0xfe, 0xff, 0x00}, seedTlog(f)[8:]...))
	f.Add(binary.LittleEndian.AppendUint64(nil, 1355000000000000))
	f.Add([]byte{STXv2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	// The real tlogs and the 2012 capture; not the pcapng files beside them.
	decodertest.SeedCorpus(f, func(name string, _ []byte) bool { return !strings.HasSuffix(name, ".pcapng") }, "mavlink")
	f.Fuzz(func(t *testing.T, b []byte) {
		decodertest.SkipLarge(t, b)
		(File{}).Sniff(b)
		sink := &decodertest.Sink{}
		in := decoders.Input{Path: "fuzz", Size: int64(len(b)), R: bytes.NewReader(b)}
		if err := (File{}).Decode(t.Context(), in, sink); err != nil {
			t.Fatal(err)
		}
		for _, fx := range sink.Fixes {
			if !fx.Valid() {
				t.Fatalf("invalid fix %v", fx)
			}
		}
		if sink.Counts["skipped_bytes"] > int64(len(b)) {
			t.Fatalf("skipped %d of %d bytes", sink.Counts["skipped_bytes"], len(b))
		}
	})
}

// FuzzNetFlow drives the flow decoder with a payload split into two TCP segments.
func FuzzNetFlow(f *testing.F) {
	f.Add(seedTlog(f)[8:], uint8(10))
	for _, s := range netfixture.CorpusPayloadSeeds(40, nil) {
		f.Add(s, uint8(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		sink := &decodertest.Sink{}
		fl := Net{}.NewFlow(decoders.Input{Path: "fuzz"}, sink)
		c := min(int(cut), len(b))
		fl.Segment(decoders.Segment{Payload: b[:c], Network: geo.Network{Proto: netflow.TCP}})
		fl.Segment(decoders.Segment{Payload: b[c:], Network: geo.Network{Proto: netflow.TCP}})
		fl.Segment(decoders.Segment{Payload: b, Network: geo.Network{Proto: netflow.UDP}})
		fl.Close()
	})
}

// BenchmarkTlogPositions measures position extraction from a tlog: the real QuadPlane SITL log
// when the corpus is present (DRONEAUDIT_BENCH_TLOG overrides), else a generated one.
func BenchmarkTlogPositions(b *testing.B) {
	data := benchTlog(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sink := &decodertest.Counter{}
		in := decoders.Input{Path: "bench.tlog", Size: int64(len(data)), R: bytes.NewReader(data)}
		if err := (File{}).Decode(b.Context(), in, sink); err != nil {
			b.Fatal(err)
		}
		if sink.Fixes == 0 {
			b.Fatal("no fixes")
		}
	}
}

func benchTlog(b *testing.B) []byte {
	path := os.Getenv("DRONEAUDIT_BENCH_TLOG")
	if path == "" {
		path = "../../../shared/corpus/mavlink/arduplane_vtol_sitl_mav1.tlog"
	}
	if data, err := os.ReadFile(path); err == nil {
		return data
	}
	var buf []byte
	for i := 0; len(buf) < 4<<20; i++ {
		buf = binary.BigEndian.AppendUint64(buf, 1746714529674540+uint64(i)*1000)
		buf = append(buf, mustEncode(b, &ardupilotmega.MessageAttitude{Roll: 0.1}, false, uint8(i))...)
		if i%8 == 0 {
			buf = binary.BigEndian.AppendUint64(buf, 1746714529674540+uint64(i)*1000)
			buf = append(buf, mustEncode(b, &ardupilotmega.MessageGlobalPositionInt{Lat: 511680000, Lon: 54700000}, false, uint8(i))...)
		}
	}
	return buf
}

// BenchmarkBaselineGomavlibTlog reads the same tlog with gomavlib's own tlog.Reader and full
// decoding, the live baseline measured in the same run as BenchmarkTlogPositions.
func BenchmarkBaselineGomavlibTlog(b *testing.B) {
	data := benchTlog(b)
	rw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := &tlog.Reader{ByteReader: bufio.NewReaderSize(bytes.NewReader(data), 4096), DialectRW: rw}
		if err := r.Initialize(); err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := r.Read(); err != nil {
				break
			}
			n++
		}
		if n == 0 {
			b.Fatal("no frames")
		}
	}
}
