package dataflash

import (
	"bytes"
	"context"
	"droneaudit/decoders/decodertest"
	"io"
	"runtime"
	"strings"
	"testing"
)

// FuzzDataflash feeds arbitrary bytes to the reader and the decoder: neither may panic, frame a
// message of the wrong length, or allocate more than 64 MB for one input.
func FuzzDataflash(f *testing.F) {
	plain := genLog(4, false).data
	f.Add(plain)
	f.Add(genLog(4, true).data)
	f.Add(plain[:len(plain)-5])
	f.Add(append(append([]byte{}, plain[:200]...), append([]byte{0xA3, 0x95, tGPS, 0, 0xA3}, plain[200:]...)...))
	f.Add(wrapSigned(genLog(30, true).data, 1))
	f.Add(wrapSigned(genLog(3, false).data, 2)[:300])
	decodertest.SeedCorpus(f, func(name string, _ []byte) bool { return strings.HasSuffix(strings.ToLower(name), ".bin") }, "dataflash")
	f.Fuzz(func(t *testing.T, data []byte) {
		decodertest.SkipLarge(t, data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rd := NewReader(bytes.NewReader(data), "fuzz.bin")
		for {
			m, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("read error on an in-memory input: %v", err)
			}
			if len(m.Body) != m.Format.Length-3 {
				t.Fatalf("%s framed with %d body bytes, format says %d", m.Format.Name, len(m.Body), m.Format.Length-3)
			}
			for i := range m.Format.Columns {
				m.Value(i)
				m.String(i)
			}
		}
		var sink decodertest.Counter
		if err := New().Decode(context.Background(), input(data), &sink); err != nil {
			t.Fatalf("Decode: %v", err)
		}
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
			t.Fatalf("allocated %d bytes for a %d-byte input", d, len(data))
		}
	})
}
