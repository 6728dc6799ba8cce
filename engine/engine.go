// Package engine is the one pass over each input. It opens every input once, hashes it while it
// is read, recognises its format by content and runs it: a log file through the file decoder that
// claims it; a capture through link decoding, flow tracking, TCP reassembly and 802.11 parsing,
// with the frames and the reassembled flow bytes dispatched as typed events to the registered
// decoders and observers. Nothing downstream reads an input again: the position decoders, the
// destination inventory and the broadcast collector are all fed from this pass, the way net/http
// handlers never read the socket.
//
// Captures are read by one goroutine, in the order given, and their flows are handed to a few
// flow shards chosen by a hash of the flow's endpoints, so one flow is always followed by the same
// shard and the shards run on all cores (capture-and-performance.md §3.5). One flow table per
// shard spans all the captures of a run, so a connection that continues from one rotated file
// into the next stays one flow. Log files are decoded in parallel beside the captures.
package engine

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"droneaudit/decoders"
)

// Config says what a run decodes and who watches it.
type Config struct {
	Files []decoders.FileDecoder    // whole-file formats, in sniffing order (first match wins)
	Flows []decoders.PayloadDecoder // flow protocols with a decoder, recognised by content
	// Protocols are the further protocols a flow is recognised as (content first, ports as a
	// hint), for the observers; one of the same name as a payload decoder gives its port rules.
	Protocols []decoders.Protocol
	Links     []decoders.LinkDecoder // link-layer formats (serial taps, 802.11)
	// Unwrappers open layers (TLS with key logs) whose inner bytes re-enter the engine as the
	// bytes of an inner flow.
	Unwrappers []decoders.Unwrapper
	// Observers watch every capture of the run (destination inventory, devices).
	Observers []Observer
	// Output receives the decoders' findings per input.
	Output Output
	// Shards is the number of flow shards. 0 means one per CPU (at most 4). 1 runs a capture on
	// one goroutine, so that everything it yields comes in capture order.
	Shards int
	// Workers decode log files in parallel; 0 means one per CPU, 1 decodes inputs in order.
	Workers int
	// HashFirst hashes each input on a goroutine of its own from the moment it is opened (a second
	// read of the file), so that a consumer of streamed records can have the input's SHA-256
	// (Input.WaitSHA256) long before the one pass ends. Without it the SHA-256 comes from the pass
	// itself and is known at Output.Done.
	// the moment a decoder emits it (streamed output needs that). It costs a second read; without
	// it the SHA-256 is known when Output.Done is called.
	HashFirst bool
	// IdleTimeout ends a TCP flow after this long without packets (default 5 minutes); UDP flows
	// end after at most 2 minutes, as flow tables of capture tools do.
	IdleTimeout time.Duration
	// Progress, when set, is told how many bytes were read.
	Progress func(n int64)
	// ExpandBudget bounds the bytes decompressed from all the compressed inputs of the run
	// together (0: 64 GiB); each input is also held to 100 times its stored size.
	ExpandBudget int64
	// BeforeCaptures, when set, holds back every capture until all the other inputs (log files)
	// have been decoded and handed to Output.Done, then is called once, on the goroutine that
	// called Run, before the first capture is read: the audit's search learns the flown track
	// from the logs before it searches the traffic. A capture is only opened early (its head
	// sniffed); it is still read once. At most maxHeldCaptures are held open; captures beyond
	// them are read at once, before the call.
	BeforeCaptures func()

	budget *expandBudget
}

// Output receives what the decoders find in each input.
type Output interface {
	// Sink returns where decoder output for one lane of an input goes: the file decoder, the
	// capture's link lane, or one flow shard. A sink is used by one goroutine only.
	Sink(in *Input, lane int) decoders.Sink
	// Done is called once per input when every lane has finished and the input's hash, size,
	// format and error are known.
	Done(in *Input)
}

// Input is one input as the engine reads it.
type Input struct {
	Index  int    // position in the sources of the run
	Name   string // path as given (or as found in a walked folder)
	Walked bool   // found in a folder rather than named
	Size   int64
	SHA256 string // hex; set before Output.Done
	Format string // the file decoder that read it, or "pcap"/"pcapng"
	// Err says why the input could not be read (whole or in part); Skipped why an input found in
	// a folder was listed but not read (hidden, not a regular file, a symlink leaving the folder)
	// or not decoded (no format droneaudit reads).
	Err     error
	Skipped string

	dec    decoders.Input
	gz     *gzInput       // set for a compressed input
	onDone func(*Input)   // Source.OnDone
	wg     sync.WaitGroup // shards still working on the input
	mu     sync.Mutex     // guards Err while shards may set it
	// With HashFirst the hash is computed beside the decoding: shaReady closes when shaAhead and
	// shaErr are set.
	shaReady chan struct{}
	shaAhead string
	shaErr   error
}

// WaitSHA256 returns the input's SHA-256 as soon as it is known. With HashFirst that is when the
// hashing that runs beside the decoding ends, so a consumer of streamed records can wait for it
// while the decoding goes on; otherwise it is what Done reports.
func (in *Input) WaitSHA256() string {
	if in.shaReady != nil {
		<-in.shaReady
		return in.shaAhead
	}
	return in.SHA256
}

// fail records the first error that stopped part of the input.
func (in *Input) fail(err error) {
	in.mu.Lock()
	if in.Err == nil {
		in.Err = err
	}
	in.mu.Unlock()
}

// Decoders returns the input as the decoders see it (path, hash if known, size).
func (in *Input) Decoders() decoders.Input { return in.dec }

// Lane numbers for Output.Sink.
const (
	LaneFile = 0 // the file decoder of a log file
	LaneLink = 0 // a capture's reader goroutine: link decoders and capture-level notes
	// LaneShard0 is the first flow shard; shard i is LaneShard0+i.
	LaneShard0 = 1
)

// ErrUnknownFormat is returned for a named input no decoder recognises.
var ErrUnknownFormat = errors.New("not a format droneaudit decodes")

// ErrNotCapture is returned for a named input that is no capture, in a run that reads captures
// only (destinations, broadcasts).
var ErrNotCapture = errors.New("not a capture (pcap or pcapng)")

func (c *Config) shards() int {
	if c.Shards > 0 {
		return c.Shards
	}
	return max(1, min(runtime.GOMAXPROCS(0), 4))
}

func (c *Config) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (c *Config) idle() (tcp, udp time.Duration) {
	tcp = c.IdleTimeout
	if tcp <= 0 {
		tcp = 5 * time.Minute
	}
	return tcp, min(tcp, 2*time.Minute)
}

// Run reads every source once. Captures go through one capture pipeline in the order given; log
// files are decoded by a pool of workers beside it. Every input ends with Output.Done, whatever
// happened to it; Run returns the context's error if it was cancelled.
func Run(ctx context.Context, sources []Source, cfg Config) error {
	inputs := make([]*Input, len(sources))
	for i, s := range sources {
		inputs[i] = &Input{Index: i, Name: s.Name, Walked: s.Walked, onDone: s.OnDone}
	}
	cfg.Output = finishing{Output: cfg.Output, contentHashed: !cfg.HashFirst}
	cfg.budget = newExpandBudget(cfg.ExpandBudget)
	pl := newPipeline(ctx, &cfg)
	// In ordered mode (one worker) every input is decoded on this goroutine, in the order given.
	ordered := cfg.workers() == 1
	files := make(chan *opened)
	var wg sync.WaitGroup
	if !ordered {
		for range min(cfg.workers(), max(len(sources), 1)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for op := range files {
					runFile(ctx, &cfg, op)
				}
			}()
		}
	}
	var heldCaps []*opened // captures held back for BeforeCaptures
	for i, src := range sources {
		in := inputs[i]
		if src.Skip != "" {
			in.Skipped = src.Skip
			cfg.Output.Done(in)
			continue
		}
		if err := ctx.Err(); err != nil {
			in.Err = err
			cfg.Output.Done(in)
			continue
		}
		op, err := open(ctx, &cfg, src, in)
		switch {
		case err != nil:
			in.Err = err
			cfg.Output.Done(in)
		case op.isCapture() && cfg.BeforeCaptures != nil && len(heldCaps) < maxHeldCaptures:
			heldCaps = append(heldCaps, op)
		case op.isCapture():
			pl.read(op, capturesMayFollow(sources[i+1:]) || len(heldCaps) > 0)
		case ordered:
			runFile(ctx, &cfg, op)
		default:
			files <- op
		}
	}
	close(files)
	wg.Wait()
	if cfg.BeforeCaptures != nil {
		cfg.BeforeCaptures()
		for i, op := range heldCaps {
			pl.read(op, i < len(heldCaps)-1) // a run cancelled meanwhile fails its reads, and the input says so
		}
	}
	pl.close()
	return ctx.Err()
}

// capturesMayFollow reports whether any of the sources still to be read may be a capture (which
// one is, only opening it tells): a connection open at the end of a capture may continue there,
// as in files rotated by the capture tool, so its decrypting layer is kept (engine/layer.go).
// After the last capture the layers are closed with the input, and a record cut at its end is
// reported as such.
func capturesMayFollow(rest []Source) bool {
	for _, s := range rest {
		if s.Skip == "" {
			return true
		}
	}
	return false
}

// maxHeldCaptures bounds the captures held open for Config.BeforeCaptures: one file handle each.
const maxHeldCaptures = 256

// finishing is the run's Output around the caller's: before an input is handed over, a
// compressed input becomes the file as stored again (see gzip.go); after it, the source's
// OnDone hears of it.
type finishing struct {
	Output
	contentHashed bool // without HashFirst, a capture's SHA-256 is first that of what was read
}

func (f finishing) Done(in *Input) {
	if in.gz != nil {
		in.gz.report(in, f.Output, f.contentHashed)
	}
	f.Output.Done(in)
	if in.onDone != nil {
		in.onDone(in)
	}
}
