package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"droneaudit/decoders"
	"droneaudit/internal/netfixture"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// logDecoder is a file decoder for files that start with "LOG!": it reads the whole input at
// random and keeps, per input, the SHA-256 of what it read and the one the engine handed it.
type logDecoder struct {
	mu   sync.Mutex
	read map[string]string
	sha  map[string]string
}

func newLogDecoder() *logDecoder {
	return &logDecoder{read: map[string]string{}, sha: map[string]string{}}
}

func (d *logDecoder) Name() string           { return "log" }
func (d *logDecoder) Sniff(head []byte) bool { return bytes.HasPrefix(head, []byte("LOG!")) }
func (d *logDecoder) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	b := make([]byte, in.Size)
	if _, err := in.R.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	d.mu.Lock()
	d.read[in.Path], d.sha[in.Path] = sum(b), in.SHA256
	d.mu.Unlock()
	return nil
}

func gzipNote(r *recorder, in string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sinks[in] {
		for _, n := range s.notes {
			if n.Code == "gzip" {
				return n.Message
			}
		}
	}
	return ""
}

// bigCapture is one TCP connection carrying n bytes of "ECHO" payload: more than the head, so
// that a compressed copy is decompressed as a stream.
func bigCapture(t testing.TB, n int) ([]byte, []byte) {
	t.Helper()
	payload := bytes.Repeat([]byte("ECHO 0123456789abcdef "), n/22+1)[:n]
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcapng, nil)
	c, err := w.TCP(netip.MustParseAddrPort("192.168.50.24:40001"), server)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(payload); off += 1400 {
		if err := c.Send(true, payload[off:min(off+1400, len(payload))]); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	w.Close()
	return buf.Bytes(), payload
}

// A gzip-compressed capture is recognised by its content, whatever its name, and read as the
// capture it holds: the same flows (here one connection across two compressed files), the same
// payload bytes. Its SHA-256 and size are those of the file as stored; a note gives the content's.
func TestGzipCapture(t *testing.T) {
	a, b := twoFiles(t)
	big, payload := bigCapture(t, 300<<10)
	za, zb, zbig := gz(t, a), gz(t, b), gz(t, big)
	for _, cfg := range []Config{{Shards: 2}, {HashFirst: true, Workers: 1, Shards: 1}} {
		rec, dec, obs := newRecorder(), newEcho(), &flowCounter{}
		cfg.Flows, cfg.Observers, cfg.Output = []decoders.PayloadDecoder{dec}, []Observer{obs}, rec
		srcs := []Source{BytesSource("a.bin", za), BytesSource("b.pcapng.gz", zb), BytesSource("big", zbig)}
		if err := Run(t.Context(), srcs, cfg); err != nil {
			t.Fatal(err)
		}
		if obs.ended != 2 || dec.got["a.bin client-to-server"].String() != "ECHO hello " {
			t.Errorf("hash first %v: %d flows ended, bytes %q", cfg.HashFirst, obs.ended, dec.got["a.bin client-to-server"])
		}
		if got := dec.got["big client-to-server"]; got == nil || !bytes.Equal(got.Bytes(), payload) {
			t.Errorf("hash first %v: the large capture's payload differs", cfg.HashFirst)
		}
		for name, c := range map[string][2][]byte{"a.bin": {za, a}, "b.pcapng.gz": {zb, b}, "big": {zbig, big}} {
			in := rec.ins[name]
			if in.Err != nil || in.SHA256 != sum(c[0]) || in.Size != int64(len(c[0])) || in.Format == "" {
				t.Errorf("hash first %v: %s: %+v", cfg.HashFirst, name, in)
			}
			note := gzipNote(rec, name)
			if !strings.Contains(note, fmt.Sprintf("%d bytes", len(c[1]))) || (!cfg.HashFirst || len(c[1]) < decoders.SniffLen) != strings.Contains(note, sum(c[1])) {
				t.Errorf("hash first %v: %s: note %q", cfg.HashFirst, name, note)
			}
		}
	}
}

// A compressed log file is decoded at random from its content, small (in the head) or large
// (decompressed to a private copy); with HashFirst the stored file's SHA-256 is there to wait for
// while it is decoded, and the report gives the stored file's.
func TestGzipLogFile(t *testing.T) {
	small := []byte("LOG! a short flight log\n")
	large := append([]byte("LOG!"), bytes.Repeat([]byte("lat 51.16 lon 5.47\n"), 30000)...)
	zs, zl := gz(t, small), gz(t, large)
	for _, hashFirst := range []bool{false, true} {
		rec, dec := newRecorder(), newLogDecoder()
		cfg := Config{Files: []decoders.FileDecoder{dec}, Output: rec, HashFirst: hashFirst}
		if err := Run(t.Context(), []Source{BytesSource("small.gz", zs), BytesSource("large.gz", zl)}, cfg); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string][2][]byte{"small.gz": {zs, small}, "large.gz": {zl, large}} {
			in := rec.ins[name]
			if in.Err != nil || in.SHA256 != sum(c[0]) || in.Size != int64(len(c[0])) || in.Format != "log" {
				t.Errorf("%s: %+v", name, in)
			}
			if dec.read[name] != sum(c[1]) {
				t.Errorf("%s: the decoder did not read the content", name)
			}
			if hashFirst && in.WaitSHA256() != sum(c[0]) {
				t.Errorf("%s: WaitSHA256 gave %q", name, in.WaitSHA256())
			}
			if note := gzipNote(rec, name); !strings.Contains(note, sum(c[1])) {
				t.Errorf("%s: note %q", name, note)
			}
		}
	}
}

// Decompression is held to about 100 times the stored size of each input and to one budget for
// the whole run: past either, the input stops with an error naming it, and what was decoded
// before stands. The other inputs are read.
func TestGzipExpansionLimits(t *testing.T) {
	bomb := gz(t, append([]byte("LOG!"), make([]byte, 64<<20)...))
	capBomb := gz(t, append([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}, make([]byte, 64<<20)...))
	a, _ := twoFiles(t)
	rec, dec := newRecorder(), newLogDecoder()
	cfg := Config{Files: []decoders.FileDecoder{dec}, Output: rec}
	srcs := []Source{BytesSource("bomb.gz", bomb), BytesSource("bomb.pcap.gz", capBomb), BytesSource("a.pcap", a)}
	if err := Run(t.Context(), srcs, cfg); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bomb.gz", "bomb.pcap.gz"} {
		in := rec.ins[name]
		if in.Err == nil || !strings.Contains(in.Err.Error(), name+": gzip content expands past") || in.SHA256 == "" {
			t.Errorf("%s: %+v", name, in)
		}
	}
	if rec.count("bomb.pcap.gz", "packets") == 0 || rec.ins["a.pcap"].Err != nil || dec.read["bomb.gz"] != "" {
		t.Errorf("packets before the stop %d; other input %v", rec.count("bomb.pcap.gz", "packets"), rec.ins["a.pcap"].Err)
	}

	// Random bytes do not compress: each input is within its own limit, not within the budget.
	one := make([]byte, 600<<10)
	rand.Read(one)
	one = append([]byte("LOG!"), one...)
	rec, dec = newRecorder(), newLogDecoder()
	cfg = Config{Files: []decoders.FileDecoder{dec}, Output: rec, ExpandBudget: 1 << 20, Workers: 1}
	if err := Run(t.Context(), []Source{BytesSource("1.gz", gz(t, one)), BytesSource("2.gz", gz(t, one))}, cfg); err != nil {
		t.Fatal(err)
	}
	if rec.ins["1.gz"].Err != nil || rec.ins["2.gz"].Err == nil || !strings.Contains(rec.ins["2.gz"].Err.Error(), "for all compressed inputs of the run") {
		t.Errorf("budget: first %v, second %v", rec.ins["1.gz"].Err, rec.ins["2.gz"].Err)
	}
}

// Damaged and unusual gzip data: a cut file yields the packets before the cut and an error
// naming it; members one after the other are one content; bytes after the data are hashed and
// noted; a header that is no gzip and gzip inside gzip fail with the reason.
func TestGzipDamagedAndUnusual(t *testing.T) {
	big, _ := bigCapture(t, 300<<10)
	zbig := gz(t, big)
	cut := zbig[:len(zbig)/2]
	a, _ := twoFiles(t)
	half := len(a) / 2
	members := append(gz(t, a[:half]), gz(t, a[half:])...)
	junk := append(gz(t, a), make([]byte, 512)...)
	nested := gz(t, gz(t, []byte("LOG! inside twice")))
	bad := []byte{0x1f, 0x8b, 8, 0xff, 0xff}
	rec, dec := newRecorder(), newLogDecoder()
	srcs := []Source{BytesSource("cut", cut), BytesSource("members", members), BytesSource("junk", junk),
		BytesSource("nested", nested), BytesSource("bad", bad)}
	if err := Run(t.Context(), srcs, Config{Files: []decoders.FileDecoder{dec}, Output: rec}); err != nil {
		t.Fatal(err)
	}
	if in := rec.ins["cut"]; in.Err == nil || !strings.Contains(in.Err.Error(), "cut: gzip") || in.SHA256 != sum(cut) || rec.count("cut", "packets") == 0 {
		t.Errorf("cut: %+v, %d packets", in, rec.count("cut", "packets"))
	}
	if in := rec.ins["members"]; in.Err != nil || in.SHA256 != sum(members) || !strings.Contains(gzipNote(rec, "members"), "2 member(s)") {
		t.Errorf("members: %+v %q", in, gzipNote(rec, "members"))
	}
	if in := rec.ins["junk"]; in.Err != nil || in.SHA256 != sum(junk) || !strings.Contains(gzipNote(rec, "junk"), "bytes after the compressed data") {
		t.Errorf("junk: %+v %q", in, gzipNote(rec, "junk"))
	}
	if in := rec.ins["nested"]; !errors.Is(in.Err, ErrUnknownFormat) || !strings.Contains(in.Err.Error(), "gzip inside gzip") || in.SHA256 != sum(nested) {
		t.Errorf("nested: %+v", in)
	}
	if in := rec.ins["bad"]; in.Err == nil || !strings.Contains(in.Err.Error(), "bad: gzip") {
		t.Errorf("bad: %+v", in)
	}
}

// FuzzGzipInput feeds arbitrary bytes as one input through the whole engine with a file decoder,
// a payload decoder and an observer, the way a compressed input is read: no panic, one Done, and
// a reported SHA-256 that is that of the bytes as stored whenever the input was read whole.
func FuzzGzipInput(f *testing.F) {
	a, _ := twoFiles(&testing.T{})
	f.Add(gz(f, a))
	f.Add(gz(f, []byte("LOG! a flight")))
	f.Add(gz(f, a)[:60])
	f.Add(append(gz(f, a[:30]), gz(f, a[30:])...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		rec, dec := newRecorder(), newEcho()
		cfg := Config{Files: []decoders.FileDecoder{newLogDecoder()}, Flows: []decoders.PayloadDecoder{dec},
			Observers: []Observer{&flowCounter{}}, Output: rec, Shards: 2, ExpandBudget: 4 << 20}
		if err := Run(context.Background(), []Source{BytesSource("f", data)}, cfg); err != nil {
			t.Fatal(err)
		}
		if rec.done["f"] != 1 {
			t.Fatalf("Done called %d times", rec.done["f"])
		}
		if in := rec.ins["f"]; in.SHA256 != "" && in.SHA256 != sum(data) {
			t.Fatalf("sha256 %s is not that of the input as stored", in.SHA256)
		}
	})
}
