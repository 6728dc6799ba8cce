package httpbody_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"droneaudit/decoders"
	"droneaudit/decoders/httpbody"
)

// encode applies one content coding with the real encoder of that format.
func encode(t testing.TB, coding string, in []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "raw-deflate":
		w, _ = flate.NewWriter(&buf, flate.BestCompression)
	case "br":
		w = brotli.NewWriter(&buf)
	case "zstd":
		z, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = z
	default:
		t.Fatalf("no encoder %q", coding)
	}
	if _, err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var jsonBody = []byte(strings.Repeat(`{"method":"osd","data":{"latitude":22.907809968,"longitude":113.703482143}}`, 200))

func TestDecodeEachCoding(t *testing.T) {
	for _, c := range []struct{ header, encoder string }{
		{"gzip", "gzip"}, {"x-gzip", "gzip"}, {"deflate", "zlib"}, {"deflate", "raw-deflate"}, {"br", "br"}, {"zstd", "zstd"}, {"GZip ", "gzip"},
	} {
		enc := encode(t, c.encoder, jsonBody)
		d, err := httpbody.DecodeContent(c.header, enc, httpbody.Limits{})
		if err != nil || !d.Complete || !bytes.Equal(d.Body, jsonBody) || len(d.Applied) != 1 || len(d.Notes) != 0 {
			t.Errorf("%s via %s: err %v complete %v applied %q body %d bytes", c.header, c.encoder, err, d.Complete, d.Applied, len(d.Body))
		}
	}
	// identity and an empty header leave the body as it is.
	for _, h := range []string{"", "identity", " , identity"} {
		if d, err := httpbody.DecodeContent(h, jsonBody, httpbody.Limits{}); err != nil || !bytes.Equal(d.Body, jsonBody) || len(d.Applied) != 0 {
			t.Errorf("%q: %v %q", h, err, d.Applied)
		}
	}
}

// TestChain: "gzip, br" was gzipped first, then brotli'd (RFC 9110 §8.4): br is undone first.
func TestChain(t *testing.T) {
	enc := encode(t, "br", encode(t, "gzip", encode(t, "zstd", jsonBody)))
	d, err := httpbody.DecodeContent("zstd, gzip, br", enc, httpbody.Limits{})
	if err != nil || !bytes.Equal(d.Body, jsonBody) || strings.Join(d.Applied, ",") != "br,gzip,zstd" {
		t.Fatalf("err %v applied %q", err, d.Applied)
	}
	if _, err := httpbody.DecodeContent("gzip,gzip,gzip,gzip,gzip", enc, httpbody.Limits{}); err == nil {
		t.Error("five codings accepted")
	}
}

// TestBomb: a body that inflates far past its bound is cut at the bound, reported, and costs no
// more memory than the bound (plus the decompressor's own state).
func TestBomb(t *testing.T) {
	zeros := make([]byte, 64<<20)
	for _, coding := range []string{"gzip", "br", "zstd"} {
		enc := encode(t, coding, zeros)
		const bound = 1 << 20
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		d, err := httpbody.DecodeContent(coding, enc, httpbody.Limits{MaxOutput: bound, Budget: decoders.NewExpansionBudget(1 << 30)})
		runtime.ReadMemStats(&after)
		var e *httpbody.Error
		if !errors.Is(err, httpbody.ErrTooLarge) || !errors.As(err, &e) || e.Code != decoders.CodeTooLarge || d.Complete || len(d.Body) != bound {
			t.Errorf("%s: %d-byte bomb: err %v complete %v body %d", coding, len(enc), err, d.Complete, len(d.Body))
		}
		if len(d.Notes) != 1 || d.Notes[0].Code != decoders.CodeTooLarge {
			t.Errorf("%s: notes %+v", coding, d.Notes)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 24<<20 {
			t.Errorf("%s: decoding a bomb cut at %d bytes allocated %d bytes", coding, bound, n)
		}
	}
	// The run's budget cuts too, across bodies.
	budget := decoders.NewExpansionBudget(100 << 10)
	enc := encode(t, "gzip", jsonBody) // 15 KB of JSON
	for i := range 10 {
		d, err := httpbody.DecodeContent("gzip", enc, httpbody.Limits{Budget: budget})
		if i < 6 && err != nil || i >= 7 && (!errors.Is(err, httpbody.ErrTooLarge) || d.Complete) {
			t.Errorf("body %d with %d of %d budget used: %v", i, budget.Used(), budget.Limit(), err)
		}
	}
}

func TestDamage(t *testing.T) {
	enc := encode(t, "gzip", jsonBody)
	// Cut: what came out before stands, the error is "truncated" at the end of the input.
	cut := enc[:len(enc)/2]
	d, err := httpbody.DecodeContent("gzip", cut, httpbody.Limits{})
	var e *httpbody.Error
	if !errors.As(err, &e) || e.Code != decoders.CodeTruncated || e.Offset != int64(len(cut)) || d.Complete ||
		len(d.Body) == 0 || !bytes.HasPrefix(jsonBody, d.Body) {
		t.Errorf("cut gzip: err %v body %d", err, len(d.Body))
	}
	// Corrupt deflate data: the offset points into the body, not past it.
	bad := append([]byte{}, encode(t, "raw-deflate", jsonBody)...)
	for i := 20; i < 40; i++ {
		bad[i] = 0xff
	}
	_, err = httpbody.DecodeContent("deflate", bad, httpbody.Limits{})
	if !errors.As(err, &e) || e.Code != decoders.CodeMalformed || e.Offset < 20 || e.Offset > int64(len(bad)) {
		t.Errorf("corrupt deflate: %v", err)
	}
	// A gzip header that is not one.
	if _, err := httpbody.DecodeContent("gzip", []byte("plain text"), httpbody.Limits{}); !errors.As(err, &e) || e.Kind != "content-encoding gzip" {
		t.Errorf("not gzip: %v", err)
	}
	// An unsupported coding leaves the body as sent.
	d, err = httpbody.DecodeContent("compress", enc, httpbody.Limits{})
	if !errors.Is(err, httpbody.ErrUnsupported) || !bytes.Equal(d.Body, enc) || d.Complete || d.Notes[0].Code != decoders.CodeUnsupported {
		t.Errorf("compress: %v", err)
	}
	// In a chain, a failing inner layer keeps the outer layer's output.
	d, err = httpbody.DecodeContent("compress, gzip", enc, httpbody.Limits{})
	if !errors.Is(err, httpbody.ErrUnsupported) || !bytes.Equal(d.Body, jsonBody) || strings.Join(d.Applied, ",") != "gzip" {
		t.Errorf("chain with unsupported inner layer: %v %q", err, d.Applied)
	}
}

// FuzzContentEncoding decodes arbitrary bytes under each coding: no panic, the output never
// passes its bound, and an error is always an *Error with an offset inside the input.
func FuzzContentEncoding(f *testing.F) {
	for _, c := range []string{"gzip", "zlib", "raw-deflate", "br", "zstd"} {
		enc := encode(f, c, []byte(`{"latitude":1.5,"longitude":2.5}`))
		f.Add(byte(len(c)), enc)
		f.Add(byte(len(c)), enc[:len(enc)/2])
	}
	f.Add(byte(0), encode(f, "gzip", make([]byte, 1<<20)))
	codings := []string{"gzip", "deflate", "br", "zstd", "gzip, br", "deflate, zstd"}
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		const bound = 256 << 10
		d, err := httpbody.DecodeContent(codings[int(sel)%len(codings)], data, httpbody.Limits{MaxOutput: bound, Budget: decoders.NewExpansionBudget(1 << 30)})
		if len(d.Body) > max(bound, len(data)) {
			t.Fatalf("%d bytes out", len(d.Body))
		}
		if err != nil {
			var e *httpbody.Error
			if !errors.As(err, &e) || e.Offset > int64(max(len(data), bound)) || d.Complete {
				t.Fatalf("error %v", err)
			}
		}
	})
}
