package ulog

import (
	"bytes"
	"context"
	"droneaudit/decoders/decodertest"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// FuzzULog feeds arbitrary bytes to the summary reader and the decoder: neither may panic, hand
// out a D message whose data does not fit its layout, or allocate more than 64 MB per input.
func FuzzULog(f *testing.F) {
	clean := genULog(3)
	f.Add(clean)
	f.Add(clean[:len(clean)-9])
	at := bytes.Index(clean, []byte("[commander]")) - 12
	f.Add(append(append(append([]byte{}, clean[:at]...), 0, 0, 0, 8, 0, 'S'), append(append([]byte{}, syncMagic...), clean[at:]...)...))
	w := newULWriter(1, 0)
	w.flags([8]byte{}, [8]byte{1}, [3]uint64{40, 0, 0})
	w.format(defTriplet)
	w.format(defSP)
	w.subscribe(0, 1, "position_setpoint_triplet")
	f.Add(w.bytes())
	decodertest.SeedCorpus(f, func(name string, _ []byte) bool { return strings.HasSuffix(name, ".ulg") }, "ulog")
	f.Fuzz(func(t *testing.T, data []byte) {
		decodertest.SkipLarge(t, data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rd, err := NewReader(bytes.NewReader(data), "fuzz.ulg")
		if err == nil {
			for {
				m, err := rd.Next()
				if err == io.EOF || errors.Is(err, ErrIncompat) {
					break
				}
				if err != nil {
					t.Fatalf("in-memory read error: %v", err)
				}
				if m.Sub != nil {
					l := m.Sub.Layout
					if l == nil || len(m.Data) < l.MinSize || len(m.Data) > l.Size {
						t.Fatalf("D for %s with %d bytes handed out", m.Sub.Name, len(m.Data))
					}
					for i := range l.Fields {
						l.Fields[i].Float(m.Data, 0)
						l.Fields[i].String(m.Data)
					}
				}
			}
		}
		Summarize(bytes.NewReader(data), "fuzz.ulg")
		var sink decodertest.Counter
		New().Decode(context.Background(), input(data), &sink)
		runtime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
			t.Fatalf("allocated %d bytes for a %d-byte input", d, len(data))
		}
	})
}
