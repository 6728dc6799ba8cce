package tlslayer_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"sync"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/tlskeys"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
)

// perInput keeps the notes and counts of each input apart, as the audit's report does.
type perInput struct {
	mu     sync.Mutex
	notes  map[string][]decoders.Note
	counts map[string]map[string]int64
	inner  bytes.Buffer
}

type inputSink struct {
	p    *perInput
	name string
}

func (p *perInput) Sink(in *engine.Input, _ int) decoders.Sink { return inputSink{p, in.Name} }
func (p *perInput) Done(*engine.Input)                         {}
func (s inputSink) Fix(geo.Fix)                                {}
func (s inputSink) Exposure(decoders.Exposure)                 {}
func (s inputSink) Note(n decoders.Note) {
	s.p.mu.Lock()
	s.p.notes[s.name] = append(s.p.notes[s.name], n)
	s.p.mu.Unlock()
}
func (s inputSink) Count(k string, n int64) {
	s.p.mu.Lock()
	if s.p.counts[s.name] == nil {
		s.p.counts[s.name] = map[string]int64{}
	}
	s.p.counts[s.name][k] += n
	s.p.mu.Unlock()
}

func runFiles(t *testing.T, keys *tlskeys.Log, files ...[]byte) *perInput {
	t.Helper()
	p := &perInput{notes: map[string][]decoders.Note{}, counts: map[string]map[string]int64{}}
	pl := &plain{}
	cfg := engine.Config{Observers: []engine.Observer{pl}, Output: p, Unwrappers: []decoders.Unwrapper{tlslayer.New(keys)},
		Protocols: []decoders.Protocol{{Name: "tls", Sniff: func(b []byte) bool { return len(b) > 0 && b[0] == 22 }}}, Shards: 2}
	var srcs []engine.Source
	for i, f := range files {
		srcs = append(srcs, engine.BytesSource(string(rune('a'+i))+".pcap", f))
	}
	if err := engine.Run(context.Background(), srcs, cfg); err != nil {
		t.Fatal(err)
	}
	p.inner.Write(pl.inner.Bytes())
	return p
}

func codes(ns []decoders.Note) []decoders.Code {
	var out []decoders.Code
	for _, n := range ns {
		out = append(out, n.Code)
	}
	return out
}

// A TLS session split over rotated files reports on each file what that file showed of it: its
// plaintext continues (no "no handshake" in the second file); a session without keys is noted
// as such on both files; a record cut at the end of the last file is reported there, as from a
// single file, and not on the file whose end the next one continued.
func TestSessionReportsPerRotatedFile(t *testing.T) {
	var kl bytes.Buffer
	page := bytes.Repeat([]byte("the secret page "), 400)
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{KeyLog: &kl},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) }),
		func(c *http.Client, base string) error {
			resp, err := c.Get(base + "/big")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	keylog := kl.Bytes()
	_, otherKeys := session(t) // another session's keys: the log is not empty
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	netfixture.WriteHTTPS(w, conns, netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:443"), nil, nil)
	w.Close()
	// The first file ends inside a record of the response, the second ends inside a later one.
	cut := cutInRecord(t, conns[0].Chunks, false)
	first := cutInRecord(t, conns[0].Chunks, false, cut-1)
	if first < 6 {
		t.Fatalf("no two frames end inside records of the response (%d, %d)", first, cut)
	}
	files, err := netfixture.Rotate(buf.Bytes(), first)
	if err != nil {
		t.Fatal(err)
	}

	keys := tlskeys.NewLog()
	keys.AddText(keylog)
	whole := runFiles(t, keys, buf.Bytes())
	split := runFiles(t, keys, files...)
	if split.inner.String() != whole.inner.String() || !bytes.Contains(split.inner.Bytes(), page) {
		t.Errorf("plaintext from the rotated files %q, from the whole capture %q", split.inner.String(), whole.inner.String())
	}
	for name, ns := range split.notes {
		t.Errorf("%s: notes %v", name, codes(ns))
	}
	if split.counts["a.pcap"]["tls_sessions_decrypted"] != 1 || split.counts["b.pcap"]["tls_sessions_decrypted"] != 1 {
		t.Errorf("counts %v", split.counts)
	}

	wrong := tlskeys.NewLog()
	wrong.AddText(otherKeys)
	split = runFiles(t, wrong, files...)
	for _, name := range []string{"a.pcap", "b.pcap"} {
		if c := codes(split.notes[name]); len(c) != 1 || c[0] != decoders.CodeTLSNoKeys {
			t.Errorf("%s without the session's keys: %v", name, c)
		}
	}

	// The last file ends inside a record of the server (its later frames were never captured).
	all, err := netfixture.Rotate(buf.Bytes(), first, cut)
	if err != nil {
		t.Fatal(err)
	}
	split = runFiles(t, keys, all[0], all[1])
	if c := codes(split.notes["a.pcap"]); len(c) != 0 {
		t.Errorf("a.pcap: %v", c)
	}
	if c := codes(split.notes["b.pcap"]); len(c) != 1 || c[0] != decoders.CodeTLSPartial {
		t.Errorf("b.pcap, cut in a record at its end: %v", c)
	}
}

// cutInRecord returns the number of frames WriteHTTPS writes (three for the TCP handshake, then
// each chunk in 1448-byte segments) up to the last segment of one side (within the first before
// frames, when given) whose end falls strictly inside a TLS record of that side (RFC 8446 §5.1
// headers walked from the side's first byte).
func cutInRecord(t *testing.T, chunks []netfixture.Chunk, fromClient bool, before ...int) int {
	t.Helper()
	var stream []byte
	for _, c := range chunks {
		if c.FromClient == fromClient {
			stream = append(stream, c.Data...)
		}
	}
	inside := func(off int) bool {
		for p := 0; p+5 <= len(stream); {
			n := int(stream[p+3])<<8 | int(stream[p+4])
			if off > p && off < p+5+n {
				return true
			}
			p += 5 + n
		}
		return false
	}
	frames, off, last := 3, 0, 0
	for _, c := range chunks {
		for k := 0; k < len(c.Data); k += 1448 {
			frames++
			if c.FromClient == fromClient {
				off += min(1448, len(c.Data)-k)
				if inside(off) && (len(before) == 0 || frames <= before[0]) {
					last = frames
				}
			}
		}
	}
	return last
}
