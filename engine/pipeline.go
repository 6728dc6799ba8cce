package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"droneaudit/capture"
	"droneaudit/decoders"
)

// pipeline is the capture side of a run: the reader goroutine (the caller of read) and the flow
// shards. It lives across all the captures of the run.
type pipeline struct {
	ctx    context.Context
	cfg    *Config
	nd     *capture.NetDecoder
	shards []*shard
	inline bool // one shard, run on the reader goroutine: everything in capture order
	wg     sync.WaitGroup
	done   sync.WaitGroup // inputs whose shards have not all finished
}

// maxMalformedNotes bounds the per-frame "malformed" notes of one capture; the rest are counted.
const maxMalformedNotes = 20

func newPipeline(ctx context.Context, cfg *Config) *pipeline {
	n := cfg.shards()
	pl := &pipeline{ctx: ctx, cfg: cfg, nd: capture.NewNetDecoder(), inline: n == 1}
	for i := range n {
		s := newShard(i, cfg)
		pl.shards = append(pl.shards, s)
		if !pl.inline {
			pl.wg.Add(1)
			go func() { defer pl.wg.Done(); s.loop() }()
		}
	}
	return pl
}

// close ends every flow still open, waits for the shards and for the inputs still finishing.
func (pl *pipeline) close() {
	for _, s := range pl.shards {
		if pl.inline {
			s.finish()
		} else {
			close(s.in)
		}
	}
	pl.wg.Wait()
	pl.done.Wait()
}

// capRun is the reader goroutine's state for one capture input.
type capRun struct {
	in        *Input
	sink      decoders.Sink // the link lane
	links     []decoders.LinkStream
	linkOf    map[decoders.LinkDecoder]decoders.LinkStream
	malformed int
	packets   int64       // frames read, reported once at the end rather than per frame
	started   bool        // the capture header was read: flow totals are reported
	more      bool        // another capture may follow in the run
	ev        PacketEvent // reused for every frame: observers must not keep it
}

// read runs one capture through the pipeline and arranges for Output.Done once its shards are
// through with it. more says that another capture may follow in the run (a flow cut at the end of
// this one may continue there).
func (pl *pipeline) read(op *opened, more bool) {
	in := op.in
	cfg := pl.cfg
	var hasher *teeHasher
	var tee capture.Tee // stays a nil interface with HashFirst
	src := op.stream()
	if cfg.HashFirst {
		op.hashAhead()
	} else {
		hasher = newTeeHasher(src)
		tee = hasher
	}
	run := &capRun{in: in, more: more, sink: cfg.Output.Sink(in, LaneLink), linkOf: map[decoders.LinkDecoder]decoders.LinkStream{}}
	// A 1 MiB read buffer, or the file's size when smaller: a folder of many small captures (or a
	// fuzz run) must not pay a megabyte per input.
	bufSize := 1 << 20
	if in.Size < int64(bufSize) {
		bufSize = max(int(in.Size), 16<<10)
	}
	rd, err := capture.NewReaderTee(src, in.Name, bufSize, tee)
	if err == nil {
		in.Format, run.started = rd.Format(), true
		rd.OnSecrets = func(sec capture.Secret) {
			run.sink.Count("decryption_secrets_blocks", 1)
			// Secrets apply from their place in the file on: the shards first handle every
			// packet read before the block, so a session that came earlier never sees them
			// (whatever the timing), and one that comes later always does.
			pl.settle()
			for _, u := range cfg.Unwrappers {
				if t, ok := u.(decoders.SecretsTaker); ok {
					t.AddSecrets(sec.Type, sec.Data)
				}
			}
		}
		err = pl.packets(rd, run)
	} else {
		in.fail(err)
	}
	if run.started {
		// Capture-level counters are named "packets…" so that they never mix with the frame
		// counts of the protocols inside.
		run.sink.Count("packets", run.packets)
	}
	for _, o := range cfg.Observers {
		o.CaptureEnd(in, err)
	}
	for _, ls := range run.links {
		guard(in, ls.Close)
	}
	if hasher != nil {
		sum, n, herr := hasher.finish()
		in.SHA256 = sum
		if herr == nil && n != in.Size {
			herr = fmt.Errorf("%s: size changed while reading (%d, then %d bytes)", in.Name, in.Size, n)
		}
		if herr != nil {
			in.fail(herr)
		}
	} else if err := op.hashedAhead(); err != nil {
		in.fail(err)
	}
	op.close()
	pl.endInput(run)
}

// packets is the reader loop over one capture. A cut or damaged capture ends with a note naming
// the offset: everything before the damage has been decoded.
func (pl *pipeline) packets(rd *capture.Reader, run *capRun) error {
	for n := 0; ; n++ {
		if n&0x1fff == 0 && pl.ctx.Err() != nil {
			run.in.fail(pl.ctx.Err())
			return nil
		}
		p, err := rd.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			var fe *capture.FormatError
			off := int64(-1)
			if errors.As(err, &fe) {
				off = fe.Offset
			}
			run.sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Offset: off, Message: err.Error()})
			return err
		}
		run.packets++
		if p.LinkType.IsIP() {
			pl.ipFrame(run, rd, p)
		} else {
			pl.linkFrame(run, p)
		}
	}
}

func (pl *pipeline) ipFrame(run *capRun, rd *capture.Reader, p *capture.Packet) {
	t, ok, derr := pl.nd.Decode(p)
	if derr != nil {
		run.sink.Count("packets_malformed", 1)
		if run.malformed++; run.malformed <= maxMalformedNotes {
			run.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Locator: fmt.Sprintf("frame %d", p.Frame), Offset: p.Offset, Message: derr.Error()})
		}
	}
	if !ok {
		t = nil
	}
	if len(pl.cfg.Observers) > 0 {
		// Only the fields that changed are written: for most frames none (the reader hands out the
		// same Packet every time), which saves the write barriers of a whole-struct copy.
		ev := &run.ev
		if ev.Input != run.in || ev.Packet != p {
			ev.Input, ev.Packet = run.in, p
		}
		if ev.Transport != t {
			ev.Transport = t
		}
		if derr != nil || ev.Err != nil { // (errors are not compared: not every error type is comparable)
			ev.Err = derr
		}
		for _, o := range pl.cfg.Observers {
			o.Packet(&run.ev)
		}
	}
	if t == nil {
		return
	}
	if pl.inline {
		pl.shards[0].safePacket(run.in, p.Frame, p.Offset, p.Time, t)
		return
	}
	var k pkt
	k.record(p, t)
	pl.shards[k.shard(len(pl.shards))].push(run.in, &k, t.Payload, rd.DataBuffer())
}

func (pl *pipeline) linkFrame(run *capRun, p *capture.Packet) {
	handled := false
	for _, ld := range pl.cfg.Links {
		if !ld.Handles(p.LinkType) {
			continue
		}
		ls, ok := run.linkOf[ld]
		if !ok {
			ls = ld.NewLink(run.in.dec, run.sink)
			run.linkOf[ld] = ls
			run.links = append(run.links, ls)
		}
		linkPacket(run.in, ls, p)
		handled = true
	}
	if !handled {
		run.sink.Count("packets_unsupported_linktype", 1)
	}
	if len(pl.cfg.Observers) > 0 {
		run.ev = PacketEvent{Input: run.in, Packet: p}
		for _, o := range pl.cfg.Observers {
			o.Packet(&run.ev)
		}
	}
}

// settle waits until every shard has handled the packets handed to it so far.
func (pl *pipeline) settle() {
	if pl.inline {
		return
	}
	var wg sync.WaitGroup
	wg.Add(len(pl.shards))
	for _, s := range pl.shards {
		s.pushSettle(&wg)
	}
	wg.Wait()
}

// endInput tells every shard that the input is over; once all have finished it, the input's
// flow totals go to its link sink and Output.Done is called.
func (pl *pipeline) endInput(run *capRun) {
	in := run.in
	tot := &inputTotals{}
	in.wg.Add(len(pl.shards))
	for _, s := range pl.shards {
		if pl.inline {
			s.endInput(in, tot, run.more)
		} else {
			s.pushEnd(in, tot, run.more)
		}
	}
	pl.done.Add(1)
	finish := func() {
		defer pl.done.Done()
		in.wg.Wait()
		if run.started {
			tot.report(run.sink)
		}
		pl.cfg.Output.Done(in)
	}
	if pl.inline {
		finish()
		return
	}
	go finish()
}

// inputTotals adds up what the shards counted for one input.
type inputTotals struct {
	mu                     sync.Mutex
	flows, skipped, gapped int64
}

func (t *inputTotals) add(flows, skipped, gapped int64) {
	t.mu.Lock()
	t.flows += flows
	t.skipped += skipped
	t.gapped += gapped
	t.mu.Unlock()
}

func (t *inputTotals) report(sink decoders.Sink) {
	sink.Count("flows", t.flows)
	if t.skipped > 0 {
		sink.Count("tcp_bytes_skipped", t.skipped)
		sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTCPGaps, Offset: -1,
			Message: fmt.Sprintf("%d TCP payload bytes in %d flow(s) were not captured (holes in the sequence space); decoding resumed after each hole", t.skipped, t.gapped)})
	}
}

// linkPacket hands one frame to a link decoder. A decoder bug must not take the run down: the
// input is reported as not fully decoded, with what was found before the failure.
func linkPacket(in *Input, ls decoders.LinkStream, p *capture.Packet) {
	defer recoverDecoder(in)
	ls.Packet(p)
}
