package engine

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
	"droneaudit/internal/netfixture"
)

// recorder is an Output that keeps, per input, the payload bytes its flow decoders were handed,
// the notes and counts, and how often Done was called.
type recorder struct {
	mu    sync.Mutex
	sinks map[string][]*recSink
	done  map[string]int
	ins   map[string]*Input
}

type recSink struct {
	lane   int
	notes  []decoders.Note
	counts map[string]int64
}

func (s *recSink) Fix(geo.Fix)                {}
func (s *recSink) Exposure(decoders.Exposure) {}
func (s *recSink) Note(n decoders.Note)       { s.notes = append(s.notes, n) }
func (s *recSink) Count(name string, n int64) { s.counts[name] += n }
func (r *recorder) count(in, name string) int64 {
	return r.sum(in, func(s *recSink) int64 { return s.counts[name] })
}

func (r *recorder) sum(in string, f func(*recSink) int64) (n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sinks[in] {
		n += f(s)
	}
	return n
}

func (r *recorder) Sink(in *Input, lane int) decoders.Sink {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &recSink{lane: lane, counts: map[string]int64{}}
	r.sinks[in.Name] = append(r.sinks[in.Name], s)
	return s
}

func (r *recorder) Done(in *Input) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done[in.Name]++
	r.ins[in.Name] = in
}

func newRecorder() *recorder {
	return &recorder{sinks: map[string][]*recSink{}, done: map[string]int{}, ins: map[string]*Input{}}
}

// echo is a payload decoder that claims every flow whose first payload starts with "ECHO" and
// keeps the bytes of each direction; boom panics on its second segment.
type echo struct {
	mu        sync.Mutex
	got       map[string]*bytes.Buffer // by input and direction
	closed    map[string]int           // closes by input
	midStream map[string]bool          // inputs whose first segment said it joins mid-stream
}

func newEcho() *echo {
	return &echo{got: map[string]*bytes.Buffer{}, closed: map[string]int{}, midStream: map[string]bool{}}
}

func (e *echo) Name() string { return "echo" }
func (e *echo) Sniff(p []byte) bool {
	return bytes.HasPrefix(p, []byte("ECHO")) || bytes.HasPrefix(p, []byte("BOOM"))
}
func (e *echo) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &echoFlow{e: e, in: in.Path}
}

type echoFlow struct {
	e    *echo
	in   string
	segs int
}

func (f *echoFlow) Segment(s decoders.Segment) {
	f.segs++
	if bytes.HasPrefix(s.Payload, []byte("BOOM")) && f.segs > 1 {
		panic("boom")
	}
	f.e.mu.Lock()
	defer f.e.mu.Unlock()
	if f.segs == 1 && s.Gap {
		f.e.midStream[f.in] = true
	}
	k := f.in + " " + s.Network.Direction.String()
	if f.e.got[k] == nil {
		f.e.got[k] = &bytes.Buffer{}
	}
	f.e.got[k].Write(s.Payload)
}

func (f *echoFlow) Close() {
	f.e.mu.Lock()
	f.e.closed[f.in]++
	f.e.mu.Unlock()
}

// flowCounter is an observer that counts the flows it saw end and the frames it was shown.
type flowCounter struct {
	mu     sync.Mutex
	frames int
	ended  int
	inputs []string
}

func (c *flowCounter) Shard(int) FlowObserver        { return c }
func (c *flowCounter) Packet(*PacketEvent)           { c.frames++ }
func (c *flowCounter) CaptureEnd(in *Input, _ error) { c.inputs = append(c.inputs, in.Name) }
func (c *flowCounter) Chunk(*Chunk, *any)            {}
func (c *flowCounter) InputEnd(*Input)               {}
func (c *flowCounter) Ended(*flowtable.Flow, *any) {
	c.mu.Lock()
	c.ended++
	c.mu.Unlock()
}

var (
	phone  = netip.MustParseAddrPort("192.168.50.23:40000")
	server = netip.MustParseAddrPort("47.91.161.230:9000")
)

// twoFiles writes one TCP connection cut across two capture files, as a rotating capture does:
// the first file holds the handshake and "ECHO hello ", the second " world" and the close.
func twoFiles(t *testing.T) (a, b []byte) {
	t.Helper()
	var bufA, bufB bytes.Buffer
	wa, _ := netfixture.NewWriter(&bufA, netfixture.Pcap, nil)
	c, err := wa.TCP(phone, server)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(true, []byte("ECHO hello ")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(false, []byte("ECHO back")); err != nil {
		t.Fatal(err)
	}
	wa.Close()
	wb, _ := netfixture.NewWriter(&bufB, netfixture.Pcapng, nil)
	c.Continue(wb)
	if err := c.Send(true, []byte("world")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	wb.Close()
	return bufA.Bytes(), bufB.Bytes()
}

// A connection that runs from one capture file into the next is one flow for the observers and
// keeps the protocol it was recognised as, while each file's payload decoder starts afresh (told
// that it joins mid-stream) and closes with its file.
func TestFlowAcrossInputs(t *testing.T) {
	a, b := twoFiles(t)
	for _, shards := range []int{1, 2} {
		rec, dec, obs := newRecorder(), newEcho(), &flowCounter{}
		cfg := Config{Flows: []decoders.PayloadDecoder{dec}, Observers: []Observer{obs}, Output: rec, Shards: shards}
		if err := Run(context.Background(), []Source{BytesSource("a.pcap", a), BytesSource("b.pcapng", b)}, cfg); err != nil {
			t.Fatal(err)
		}
		if rec.done["a.pcap"] != 1 || rec.done["b.pcapng"] != 1 {
			t.Fatalf("Done calls %v", rec.done)
		}
		if obs.ended != 1 || !slices.Equal(obs.inputs, []string{"a.pcap", "b.pcapng"}) {
			t.Errorf("%d shards: observer saw %d flows end, captures %v", shards, obs.ended, obs.inputs)
		}
		if got := dec.got["a.pcap client-to-server"].String(); got != "ECHO hello " {
			t.Errorf("first file, client bytes %q", got)
		}
		if got := dec.got["a.pcap server-to-client"].String(); got != "ECHO back" {
			t.Errorf("first file, server bytes %q", got)
		}
		// In the second file the flow is still the ECHO flow, though its bytes ("world") alone
		// would not say so.
		if got := dec.got["b.pcapng client-to-server"]; got == nil || got.String() != "world" || dec.closed["a.pcap"] != 1 || dec.closed["b.pcapng"] != 1 || !dec.midStream["b.pcapng"] {
			t.Errorf("second file bytes %v, closes %v, mid-stream %v", dec.got, dec.closed, dec.midStream)
		}
		if rec.count("a.pcap", "flows") != 1 || rec.count("b.pcapng", "flows") != 0 || rec.count("b.pcapng", "packets") == 0 {
			t.Errorf("counts a %d flows, b %d flows %d packets", rec.count("a.pcap", "flows"), rec.count("b.pcapng", "flows"), rec.count("b.pcapng", "packets"))
		}
		for _, name := range []string{"a.pcap", "b.pcapng"} {
			if in := rec.ins[name]; in.SHA256 == "" || in.Err != nil {
				t.Errorf("%s: sha256 %q, error %v", name, in.SHA256, in.Err)
			}
		}
	}
}

// A panicking flow decoder fails its own input only; the other inputs are decoded whole.
func TestDecoderPanicFailsOnlyItsInput(t *testing.T) {
	mk := func(first, second string) []byte {
		var buf bytes.Buffer
		w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
		c, _ := w.TCP(phone, server)
		c.Send(true, []byte(first))
		c.Send(true, []byte(second))
		c.Close()
		w.Close()
		return buf.Bytes()
	}
	rec, dec := newRecorder(), newEcho()
	srcs := []Source{BytesSource("bad.pcap", mk("BOOM", "BOOM again")), BytesSource("good.pcap", mk("ECHO 1", "ECHO 2"))}
	if err := Run(context.Background(), srcs, Config{Flows: []decoders.PayloadDecoder{dec}, Output: rec}); err != nil {
		t.Fatal(err)
	}
	if err := rec.ins["bad.pcap"].Err; err == nil || !bytes.Contains([]byte(err.Error()), []byte("internal decoder error")) {
		t.Errorf("bad input error %v", err)
	}
	if rec.ins["good.pcap"].Err != nil || dec.got["good.pcap client-to-server"].String() != "ECHO 1ECHO 2" {
		t.Errorf("good input: %v, bytes %q", rec.ins["good.pcap"].Err, dec.got["good.pcap client-to-server"])
	}
}

// A cut capture yields everything before the cut and one note naming the offset; an input that
// cannot be opened and one in no known format each end in Done with an error; a walked file in
// no known format is skipped, not failed.
func TestDamagedAndUnknownInputs(t *testing.T) {
	a, _ := twoFiles(t)
	cut := a[:len(a)-7]
	missing := Source{Name: "missing", Open: func() (ReadAtCloser, int64, error) { return nil, 0, errors.New("no such file") }}
	walked := BytesSource("notes.txt", []byte("field notes"))
	walked.Walked = true
	rec := newRecorder()
	srcs := []Source{BytesSource("cut.pcap", cut), missing, BytesSource("named.txt", []byte("field notes")), walked}
	if err := Run(context.Background(), srcs, Config{Output: rec}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cut.pcap", "missing", "named.txt", "notes.txt"} {
		if rec.done[name] != 1 {
			t.Fatalf("%s: Done called %d times", name, rec.done[name])
		}
	}
	notes := 0
	for _, s := range rec.sinks["cut.pcap"] {
		for _, n := range s.notes {
			if n.Code == decoders.CodeTruncated && n.Offset > 0 {
				notes++
			}
		}
	}
	if notes != 1 || rec.count("cut.pcap", "packets") == 0 || rec.ins["cut.pcap"].SHA256 == "" {
		t.Errorf("cut capture: %d truncation notes, %d packets", notes, rec.count("cut.pcap", "packets"))
	}
	if rec.ins["missing"].Err == nil || !errors.Is(rec.ins["named.txt"].Err, ErrUnknownFormat) {
		t.Errorf("errors: missing %v, named %v", rec.ins["missing"].Err, rec.ins["named.txt"].Err)
	}
	if in := rec.ins["notes.txt"]; in.Err != nil || in.Skipped == "" || in.SHA256 == "" {
		t.Errorf("walked unknown file: %+v", in)
	}
}

// A cancelled run still ends every input with Done, marked with the context's error.
func TestCancelledRun(t *testing.T) {
	a, b := twoFiles(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := newRecorder()
	if err := Run(ctx, []Source{BytesSource("a.pcap", a), BytesSource("b.pcapng", b)}, Config{Output: rec}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	if rec.done["a.pcap"] != 1 || rec.done["b.pcapng"] != 1 || rec.ins["a.pcap"].Err == nil {
		t.Fatalf("done %v, a error %v", rec.done, rec.ins["a.pcap"].Err)
	}
}

// FuzzCapture feeds arbitrary bytes through the whole engine with a payload decoder and an
// observer: no panic, and every input ends in exactly one Done. It runs one inline shard (no
// goroutines to start per input, so it executes fast); the sharded path is the same code.
func FuzzCapture(f *testing.F) {
	a, b := twoFiles(&testing.T{})
	f.Add(a)
	f.Add(b)
	f.Add(a[:40])
	for _, s := range corpus.CaptureSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		rec, dec, obs := newRecorder(), newEcho(), &flowCounter{}
		cfg := Config{Flows: []decoders.PayloadDecoder{dec}, Observers: []Observer{obs}, Output: rec, Shards: 1, Workers: 1}
		if err := Run(context.Background(), []Source{BytesSource("f", data)}, cfg); err != nil {
			t.Fatal(err)
		}
		if rec.done["f"] != 1 {
			t.Fatalf("Done called %d times", rec.done["f"])
		}
	})
}

// orderRecorder records the order of Done calls and of the BeforeCaptures call.
type orderRecorder struct {
	*recorder
	order []string
}

func (r *orderRecorder) Done(in *Input) {
	r.recorder.Done(in)
	r.mu.Lock()
	r.order = append(r.order, in.Name)
	r.mu.Unlock()
}

// With BeforeCaptures, every log file is decoded and done before the hook runs, even the ones
// named after a capture, and every capture is read after it, once and whole.
func TestBeforeCapturesHoldsCaptures(t *testing.T) {
	a, b := twoFiles(t)
	for _, workers := range []int{1, 2} {
		rec := &orderRecorder{recorder: newRecorder()}
		dec, obs := newLogDecoder(), &flowCounter{}
		srcs := []Source{BytesSource("a.pcap", a), BytesSource("one.log", []byte("LOG! one")), BytesSource("b.pcapng", b), BytesSource("two.log", []byte("LOG! two"))}
		cfg := Config{Files: []decoders.FileDecoder{dec}, Observers: []Observer{obs}, Output: rec, Workers: workers}
		hook := -1
		cfg.BeforeCaptures = func() { hook = len(rec.order) }
		if err := Run(context.Background(), srcs, cfg); err != nil {
			t.Fatal(err)
		}
		// Both captures end after the hook; which of them ends first depends on the flow shards.
		if hook != 2 || len(rec.order) != 4 || !slices.Equal(slices.Sorted(slices.Values(rec.order[2:])), []string{"a.pcap", "b.pcapng"}) {
			t.Fatalf("%d workers: hook after %d inputs, Done order %v", workers, hook, rec.order)
		}
		if !slices.Equal(obs.inputs, []string{"a.pcap", "b.pcapng"}) || rec.count("a.pcap", "packets") == 0 || rec.count("b.pcapng", "packets") == 0 {
			t.Errorf("captures seen %v, packets %d, %d", obs.inputs, rec.count("a.pcap", "packets"), rec.count("b.pcapng", "packets"))
		}
		for _, name := range []string{"a.pcap", "b.pcapng", "one.log", "two.log"} {
			if in := rec.ins[name]; in.SHA256 == "" || in.Err != nil {
				t.Errorf("%s: sha256 %q, error %v", name, in.SHA256, in.Err)
			}
		}
	}
}
