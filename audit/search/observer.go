// Package search runs the known-value coordinate search (geo/scan) over every off-device
// payload of a run, as an engine observer: the reassembled bytes of clear TCP flows with a
// bounded overlap across chunk boundaries, UDP datagrams (DNS names among them), the bytes of
// opened layers (decrypted TLS) as they come through the same chunks, and the bodies of 802.11
// frames. Each hit becomes a geo.Fix with its encoding, offset, precision and the flow or
// transmitter that carried it, unless a structural decoder already reported that position for
// the same flow.
package search

import (
	"fmt"
	"strconv"
	"sync"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/geo/scan"
	"droneaudit/netflow"
)

// Decoder is the name search fixes carry in their evidence.
const Decoder = "search"

// MessageTrack is the Evidence.Message of a search fix that lies near the flown track and in no
// zone: the audit makes a track-leak finding of it.
const MessageTrack = "flown-track"

// MessageRegion is the Evidence.Message of a search hit in the track region (scan.TargetRegion):
// near no zone and no known track point yet. It is handed to the sink's HoldTrack, never as a
// fix: the audit checks it against the telemetry of its input once the input is done.
const MessageRegion = "track-region"

// TrackHolder is implemented by a sink that holds track-region hits until its input is done.
type TrackHolder interface {
	HoldTrack(f geo.Fix)
}

// Known is implemented by a sink that remembers the off-device positions its structural
// decoders reported, per flow uid (network) or transmitter address (broadcast). The observer
// asks it before it reports a hit, so that a position a decoder understood is not reported
// twice.
type Known interface {
	// Known reports whether a structural fix of that flow or transmitter lies within tolM
	// metres of the position.
	Known(key string, lat, lon, tolM float64) bool
	// Forget drops what is remembered of a flow that ended.
	Forget(key string)
}

// Options configure the observer.
type Options struct {
	Pattern *scan.Pattern
	// Sink returns where the fixes of an input go: lane engine.LaneLink for 802.11 frames,
	// engine.LaneShard0+i for the flows of shard i. The audit hands back the sink the decoders
	// of that lane write to, which implements Known.
	Sink func(in *engine.Input, lane int) decoders.Sink
}

// Observer is the search as an engine.Observer.
type Observer struct {
	opt  Options
	mu   sync.Mutex
	link *part // the reader goroutine's part: 802.11 frames
	// parts are the shard parts, for Stats.
	parts []*part
}

// Stats counts what the search did in a run.
type Stats struct {
	Scan       scan.Stats
	Fixes      int64 // reported
	Duplicates int64 // left out: a structural decoder reported the position
	Skipped    int64 // bytes not searched: TLS and QUIC ciphertext
}

// New returns the observer.
func New(opt Options) *Observer {
	o := &Observer{opt: opt}
	o.link = o.newPart(engine.LaneLink)
	return o
}

// SetPattern replaces what the search looks for: the audit compiles the flown track of the log
// files into it once they are decoded (engine.Config.BeforeCaptures). Call it only while no
// capture is being read; the shards see the new pattern from their next chunk on.
func (o *Observer) SetPattern(p *scan.Pattern) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.opt.Pattern = p
	for _, pt := range append([]*part{o.link}, o.parts...) {
		add(&pt.retired, pt.sc.Stats)
		pt.sc, pt.last = scan.NewScanner(p), scan.Stats{}
	}
}

// Stats returns the counts of the run; call it after the run.
func (o *Observer) Stats() Stats {
	st := Stats{}
	for _, p := range append([]*part{o.link}, o.parts...) {
		add(&st.Scan, p.retired)
		add(&st.Scan, p.sc.Stats)
		st.Fixes += p.st.Fixes
		st.Duplicates += p.st.Duplicates
		st.Skipped += p.st.Skipped
	}
	return st
}

func add(a *scan.Stats, b scan.Stats) {
	a.Bytes += b.Bytes
	a.Candidates += b.Candidates
	a.Pairs += b.Pairs
	a.Hits += b.Hits
	a.HeldRandom += b.HeldRandom
	a.Decoded += b.Decoded
}

// Counts are what the search did in one input, as report.json lists them per input.
type Counts struct {
	Bytes      int64 `json:"bytes"`       // searched (ciphertext left out)
	Skipped    int64 `json:"skipped"`     // TLS and QUIC ciphertext bytes, searched in their opened layer instead
	Candidates int64 `json:"candidates"`  // single values that passed the range check
	Pairs      int64 `json:"pairs"`       // lat/lon pairs checked against the targets
	Hits       int64 `json:"hits"`        // pairs in a target
	HeldRandom int64 `json:"held_random"` // weak-form pairs held back in bytes that test as random
	Fixes      int64 `json:"fixes"`       // hits reported as fixes
	Duplicates int64 `json:"duplicates"`  // hits left out: a structural decoder reported the position
	// TrackHeld counts hits in the track region held until the input was done, TrackResolved
	// those of them that lay near the track then (counted in Fixes too).
	TrackHeld     int64 `json:"track_held"`
	TrackResolved int64 `json:"track_resolved"`
}

// Add adds c to a.
func (a *Counts) Add(c Counts) {
	a.Bytes += c.Bytes
	a.Skipped += c.Skipped
	a.Candidates += c.Candidates
	a.Pairs += c.Pairs
	a.Hits += c.Hits
	a.HeldRandom += c.HeldRandom
	a.Fixes += c.Fixes
	a.Duplicates += c.Duplicates
	a.TrackHeld += c.TrackHeld
	a.TrackResolved += c.TrackResolved
}

// Counter is implemented by a sink that keeps the search's counts of its input: the observer
// hands it what the search did in that input's bytes.
type Counter interface {
	SearchCounts(c Counts)
}

// count hands c to the sink when it keeps counts.
func count(sink decoders.Sink, c Counts) {
	if k, ok := sink.(Counter); ok {
		k.SearchCounts(c)
	}
}

// overlap is how many bytes of a TCP direction are kept to search again with the next chunk:
// more than the longest plain hit (scan.MaxSpan) and short wrapped runs.
const overlap = 2 * scan.MaxSpan

// maxHeld bounds the hits a flow holds until it ends, maxHeldLane those of all the flows of a
// lane; beyond them hits are reported at once (after the check against what the decoders of the
// lane reported so far).
const (
	maxHeld     = 256
	maxHeldLane = 4096
)

// part is the observer's state in one lane.
type part struct {
	o     *Observer
	lane  int
	sc    *scan.Scanner
	st    Stats
	in    *engine.Input
	sink  decoders.Sink
	buf   []byte
	held  map[*flowState]struct{}
	nHeld int // hits held in all flows
	dot   capture.Dot11
	// the chunk being searched, for emit
	c  *engine.Chunk
	fs *flowState
	// emitFn is p.emit, made once: a method value passed on allocates.
	emitFn func(scan.Hit)
	// lo, hi: when searching the seam between two chunks, a hit must start before lo (in the
	// kept bytes) and end at hi or later (in the new ones); 0, 0 otherwise.
	lo, hi int
	base   int64
	// last is the scanner's counts when they were last handed to a sink; skipped the
	// ciphertext bytes since then.
	last    scan.Stats
	skipped int64
	retired scan.Stats // the counts of the scanners SetPattern replaced
}

func (o *Observer) newPart(lane int) *part {
	p := &part{o: o, lane: lane, sc: scan.NewScanner(o.opt.Pattern), held: map[*flowState]struct{}{}}
	p.emitFn = p.emit
	return p
}

// flowState is the search's slot on a flow.
type flowState struct {
	// uid is the flow's uid, taken at its first hit: most flows have none, and a uid costs a
	// SHA-256.
	uid  string
	tail [2][]byte // the last bytes of each direction of a TCP flow, overlap bytes at most
	off  [2]int64  // stream bytes seen in each direction
	held []held
}

type held struct {
	f  geo.Fix
	in *engine.Input
}

// Shard implements engine.Observer.
func (o *Observer) Shard(i int) engine.FlowObserver {
	p := o.newPart(engine.LaneShard0 + i)
	o.mu.Lock()
	o.parts = append(o.parts, p)
	o.mu.Unlock()
	return p
}

// CaptureEnd implements engine.Observer.
func (o *Observer) CaptureEnd(in *engine.Input, _ error) {
	if o.link.in == in {
		o.link.flushCounts()
		o.link.in, o.link.sink = nil, nil
	}
}

// Packet implements engine.Observer: the bodies of 802.11 frames, on the reader goroutine. Frames
// the flows carry (IP) are searched in the shards; protected frames are ciphertext.
func (o *Observer) Packet(ev *engine.PacketEvent) {
	p := o.link
	pk := ev.Packet
	if ev.Transport != nil || !pk.LinkType.IsDot11() {
		return
	}
	if p.dot.Decode(pk.LinkType, pk.Data) != nil || p.dot.FlagsByte&0x40 != 0 || len(p.dot.Body) < 8 {
		return
	}
	p.sinkFor(ev.Input)
	tx := capture.MAC(p.dot.Addr2)
	body := p.dot.Body
	p.sc.Scan(body, func(h scan.Hit) {
		f := p.fix(h, ev.Input, geo.ChannelBroadcast, pk.Offset, fmt.Sprintf("frame %d, 802.11 body byte %d", pk.Frame, p.dot.BodyOffset+h.Offset))
		f.Evidence.Broadcast = &geo.Broadcast{Transmitter: tx, Kind: "802.11"}
		p.report(f, tx, nil)
	})
}

// Chunk implements engine.FlowObserver.
func (p *part) Chunk(c *engine.Chunk, state *any) {
	fs, _ := (*state).(*flowState)
	if fs == nil {
		fs = newFlowState(c)
		*state = fs
	}
	d := c.Dir & 1
	if c.Gap {
		fs.tail[d] = fs.tail[d][:0]
	}
	if len(c.Payload) == 0 {
		return
	}
	p.sinkFor(c.Input)
	if c.Flow.Outer == nil && (c.App == "tls" || c.App == "quic") {
		p.st.Skipped += int64(len(c.Payload))
		p.skipped += int64(len(c.Payload))
		fs.off[d] += int64(len(c.Payload))
		return // ciphertext: a hit there is chance; the opened layer is searched instead
	}
	pl := c.Payload
	tcp := c.Flow.Proto == netflow.TCP
	if tcp && len(fs.tail[d]) > 0 {
		// The seam: the kept bytes and the start of the new ones, for the hits that cross it.
		// The chunk itself is searched in place, not copied.
		t := len(fs.tail[d])
		p.buf = append(append(p.buf[:0], fs.tail[d]...), pl[:min(len(pl), overlap)]...)
		p.c, p.fs, p.lo, p.hi, p.base = c, fs, t, t+1, fs.off[d]-int64(t)
		if len(p.buf) > t {
			p.sc.Scan(p.buf, p.emitFn)
		}
	}
	p.c, p.fs, p.lo, p.hi, p.base = c, fs, 0, 0, fs.off[d]
	p.sc.Scan(pl, p.emitFn)
	p.c, p.fs = nil, nil
	fs.off[d] += int64(len(pl))
	if tcp {
		fs.keep(d, pl)
	}
}

// tcpFlowState is a flowState with the array of its tails: one allocation for a TCP flow whose
// bytes are searched, instead of two.
type tcpFlowState struct {
	flowState
	tails [2 * overlap]byte
}

// newFlowState returns the search's state for the flow of c, its first chunk. A TCP flow that
// is not ciphertext gets the array of its tails with it; the others get it from keep, should
// they need it later.
func newFlowState(c *engine.Chunk) *flowState {
	if c.Flow.Proto != netflow.TCP || c.Flow.Outer == nil && (c.App == "tls" || c.App == "quic") {
		return &flowState{}
	}
	t := &tcpFlowState{}
	t.tail[0], t.tail[1] = t.tails[:0:overlap], t.tails[overlap:overlap]
	return &t.flowState
}

// keep makes the last overlap bytes of direction d, after pl, its tail. The tails of both
// directions share one array, made at the flow's first TCP bytes, and never grow.
func (fs *flowState) keep(d netflow.Direction, pl []byte) {
	t := fs.tail[d]
	if t == nil {
		b := make([]byte, 2*overlap)
		fs.tail[0], fs.tail[1] = b[:0:overlap], b[overlap:overlap]
		t = fs.tail[d]
	}
	if len(pl) >= overlap {
		t = append(t[:0], pl[len(pl)-overlap:]...)
	} else {
		if drop := len(t) + len(pl) - overlap; drop > 0 {
			t = t[:copy(t, t[drop:])]
		}
		t = append(t, pl...)
	}
	fs.tail[d] = t
}

// emit turns a hit in the current chunk into a fix.
func (p *part) emit(h scan.Hit) {
	if p.hi > 0 && (h.Offset >= p.lo || h.Offset+h.Len < p.hi) {
		return // on the seam, only hits that cross it: the others are found in either chunk alone
	}
	c := p.c
	f := p.fix(h, c.Input, geo.ChannelNetwork, c.Offset, streamLocator(c.Frame, c.Dir, p.base+int64(h.Offset)))
	src, dst := c.Flow.Client, c.Flow.Server
	if c.Dir != netflow.ClientToServer {
		src, dst = dst, src
	}
	if p.fs.uid == "" {
		p.fs.uid = c.Flow.UID()
	}
	f.Evidence.Network = &geo.Network{FlowUID: p.fs.uid, Proto: c.Flow.Proto, Src: src, Dst: dst, Direction: c.Dir}
	p.report(f, p.fs.uid, p.fs)
}

// streamLocator is "frame %d, %s byte %d" of a hit in a flow's bytes, without fmt: it runs for
// every hit.
func streamLocator(frame int, dir netflow.Direction, off int64) string {
	var buf [64]byte
	b := strconv.AppendInt(append(buf[:0], "frame "...), int64(frame), 10)
	b = append(append(append(b, ", "...), dir.String()...), " byte "...)
	return string(strconv.AppendInt(b, off, 10))
}

// fix makes the fix of a hit. Its SHA-256 is left to the audit: the input may still be being
// hashed (engine.Input.SHA256 is set before Output.Done).
func (p *part) fix(h scan.Hit, in *engine.Input, ch geo.Channel, off int64, where string) geo.Fix {
	return hitFix(h, geo.Evidence{Input: in.Name, Locator: where, Offset: off, Channel: ch})
}

// hitFix makes the fix of a hit with the evidence ev of the bytes searched.
func hitFix(h scan.Hit, ev geo.Evidence) geo.Fix {
	enc := h.Encoding.String()
	if h.Wrap != scan.Plain {
		enc += " in " + h.Wrap.String()
	}
	var note string
	if h.Encoding == scan.Geohash {
		note = "known-value search: " + strconv.Itoa(h.Len) + "-character geohash, in " + h.Target
	} else {
		note = "known-value search: " + h.Order.String() + " order, " + strconv.Itoa(h.Len) + " bytes, in " + h.Target
	}
	msg := ""
	switch h.Target {
	case scan.TargetTrack:
		msg = MessageTrack
	case scan.TargetRegion:
		msg = MessageRegion
	}
	ev.Decoder, ev.Message, ev.Encoding, ev.Note = Decoder, msg, enc, note
	return geo.Fix{Lat: h.Lat, Lon: h.Lon, Role: geo.RoleOther, PrecisionM: h.PrecisionM, Evidence: ev}
}

// SearchDecoded searches bytes a decoder of lane decoded out of a flow's payload (an HTTP body
// with its content coding undone, decoders/bodies), which the search of the wire bytes could not
// read, and reports each hit to sink with the evidence ev of those bytes (its locator gains the
// hit's offset in them), unless a structural decoder reported that position for the flow. It is
// called on the lane's goroutine, as the lane's part is used.
func (o *Observer) SearchDecoded(lane int, sink decoders.Sink, ev geo.Evidence, b []byte) {
	o.mu.Lock()
	var p *part
	for _, q := range o.parts {
		if q.lane == lane {
			p = q
		}
	}
	o.mu.Unlock()
	if p == nil || len(b) == 0 {
		return
	}
	key := ""
	if ev.Network != nil {
		key = ev.Network.FlowUID
	}
	p.sc.Scan(b, func(h scan.Hit) {
		e := ev
		e.Locator = ev.Locator + ", decoded byte " + strconv.Itoa(h.Offset)
		f := hitFix(h, e)
		if k, ok := sink.(Known); ok && k.Known(key, f.Lat, f.Lon, f.PrecisionM+dupTolM) {
			p.st.Duplicates++
			count(sink, Counts{Duplicates: 1})
			return
		}
		p.deliver(sink, f)
	})
}

// dupTolM is added to the precision when a hit is compared with a structural fix: the two may
// have rounded the same value differently.
const dupTolM = 1

// report hands a fix on, unless a structural decoder reported it. A network hit that is not
// known yet is held until its flow ends: the decoder of a message may report it only when the
// message is whole, some chunks later.
func (p *part) report(f geo.Fix, key string, fs *flowState) {
	if k, ok := p.sink.(Known); ok {
		if k.Known(key, f.Lat, f.Lon, f.PrecisionM+dupTolM) {
			p.st.Duplicates++
			count(p.sink, Counts{Duplicates: 1})
			return
		}
		if fs != nil && len(fs.held) < maxHeld && p.nHeld < maxHeldLane {
			fs.held = append(fs.held, held{f: f, in: p.in})
			p.held[fs] = struct{}{}
			p.nHeld++
			return
		}
	}
	p.deliver(p.sink, f)
}

// deliver hands a fix to the sink, or a track-region hit to its HoldTrack.
func (p *part) deliver(sink decoders.Sink, f geo.Fix) {
	if f.Evidence.Message == MessageRegion {
		if th, ok := sink.(TrackHolder); ok {
			count(sink, Counts{TrackHeld: 1})
			th.HoldTrack(f)
		}
		return
	}
	p.st.Fixes++
	count(sink, Counts{Fixes: 1})
	sink.Fix(f)
}

// release reports the held hits of a flow (those of one input, or all when in is nil).
func (p *part) release(fs *flowState, in *engine.Input) {
	kept := fs.held[:0]
	for _, h := range fs.held {
		if in != nil && h.in != in {
			kept = append(kept, h)
			continue
		}
		sink := p.o.opt.Sink(h.in, p.lane)
		if k, ok := sink.(Known); ok && k.Known(fs.uid, h.f.Lat, h.f.Lon, h.f.PrecisionM+dupTolM) {
			p.st.Duplicates++
			count(sink, Counts{Duplicates: 1})
			continue
		}
		p.deliver(sink, h.f)
	}
	p.nHeld -= len(fs.held) - len(kept)
	fs.held = kept
	if len(kept) == 0 {
		delete(p.held, fs)
	}
}

// Ended implements engine.FlowObserver.
func (p *part) Ended(f *flowtable.Flow, state *any) {
	fs, _ := (*state).(*flowState)
	if fs == nil {
		return
	}
	if p.nHeld > 0 && len(fs.held) > 0 { // nHeld first: most flows end with none held in the lane, and fs is then not read
		p.release(fs, nil)
	}
	if k, ok := p.sink.(Known); ok && f.HasUID() {
		// The sink remembers what the decoders reported under the flow's uid: a flow whose uid
		// nobody asked for has nothing remembered.
		k.Forget(f.UID())
	}
	*state = nil
}

// InputEnd implements engine.FlowObserver: the hits held for an input are reported before its
// report is merged.
func (p *part) InputEnd(in *engine.Input) {
	for fs := range p.held {
		p.release(fs, in)
	}
	if p.in == in {
		p.flushCounts()
		p.in, p.sink = nil, nil
	}
}

func (p *part) sinkFor(in *engine.Input) {
	if p.in != in {
		p.flushCounts()
		p.in, p.sink = in, p.o.opt.Sink(in, p.lane)
	}
}

// flushCounts hands the sink of the current input what the scanner did since the last time:
// every byte it searched since then was of that input.
func (p *part) flushCounts() {
	if p.sink == nil {
		return
	}
	st, l := p.sc.Stats, p.last
	c := Counts{Bytes: st.Bytes - l.Bytes, Skipped: p.skipped, Candidates: st.Candidates - l.Candidates,
		Pairs: st.Pairs - l.Pairs, Hits: st.Hits - l.Hits, HeldRandom: st.HeldRandom - l.HeldRandom}
	p.last, p.skipped = st, 0
	count(p.sink, c)
}
