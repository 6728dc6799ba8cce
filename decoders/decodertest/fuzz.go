package decodertest

import (
	"bytes"
	"runtime"
	"testing"

	"droneaudit/decoders"
)

// AllocLimit is what one decode of any input may allocate in the fuzz targets: decoders bound
// every allocation, whatever lengths the input declares.
const AllocLimit = 64 << 20

// FuzzFile is the body every file decoder's fuzz target shares: it sniffs and decodes data, and
// fails on a decode error (an in-memory input cannot fail to read), on more than AllocLimit
// bytes allocated, on an invalid fix, or on a fix whose offset lies outside the input. Inputs over
// MaxFuzzInput are skipped.
func FuzzFile(t *testing.T, d decoders.FileDecoder, name string, data []byte) *Sink {
	t.Helper()
	SkipLarge(t, data)
	d.Sniff(data)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := &Sink{}
	in := decoders.Input{Path: name, Size: int64(len(data)), R: bytes.NewReader(data)}
	if err := d.Decode(t.Context(), in, s); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > AllocLimit {
		t.Fatalf("one decode of %d bytes allocated %d bytes", len(data), n)
	}
	for _, fx := range s.Fixes {
		if !fx.Valid() {
			t.Fatalf("invalid fix %v", fx)
		}
		if fx.Evidence.Offset >= int64(len(data)) {
			t.Fatalf("fix offset %d outside the %d-byte input", fx.Evidence.Offset, len(data))
		}
	}
	return s
}
