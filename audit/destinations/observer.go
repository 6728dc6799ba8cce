package destinations

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/decoders/dhcp"
	"droneaudit/engine"
	"droneaudit/geo"
)

// Collector builds the inventory as an observer of the engine's one pass over the captures: the
// reader goroutine tells it every frame (ARP), and each flow shard has a part of its own that
// names flows and accounts them when they end. The parts are merged at the end, and the merged
// result does not depend on the number of shards. Damage to a capture file is the engine's to
// report (one note per input, with the offset); the inventory notes only flows it could not name.
type Collector struct {
	opt      Options
	st       *state // the reader goroutine's part: ARP and frame counts
	mu       sync.Mutex
	parts    []*part
	captures int
}

// NewCollector returns an empty inventory observer.
func NewCollector(opt Options) *Collector { return &Collector{opt: opt, st: newState()} }

// Captures returns how many captures the collector has seen end.
func (c *Collector) Captures() int { return c.captures }

// part is the collector's state in one flow shard.
type part struct {
	st  *state
	run *fileRun
}

// Shard implements engine.Observer.
func (c *Collector) Shard(int) engine.FlowObserver {
	p := &part{st: newState()}
	p.run = &fileRun{st: p.st}
	c.mu.Lock()
	c.parts = append(c.parts, p)
	c.mu.Unlock()
	return p
}

// Packet implements engine.Observer.
func (c *Collector) Packet(ev *engine.PacketEvent) {
	c.st.packets++
	p := ev.Packet
	if ev.Transport == nil && p.LinkType == capture.LinkEthernet {
		if a, ok := dhcp.ParseARPFrame(p.Data); ok && !a.SenderIP.IsUnspecified() {
			c.st.arp[a.SenderIP] = a.SenderMAC.String()
		}
	}
}

// CaptureEnd implements engine.Observer.
func (c *Collector) CaptureEnd(*engine.Input, error) { c.captures++ }

// Chunk implements engine.FlowObserver.
func (p *part) Chunk(c *engine.Chunk, state *any) {
	if c.Flow.Outer != nil {
		return // the bytes inside an opened layer: the outer flow is the destination
	}
	p.run.name = c.Input.Name
	p.run.deliver(c.Delivery, c.App, state)
}

// Ended implements engine.FlowObserver.
func (p *part) Ended(f *flowtable.Flow, state *any) {
	if f.Outer == nil {
		p.st.account(f, state)
	}
}

// InputEnd implements engine.FlowObserver.
func (p *part) InputEnd(*engine.Input) {}

// Inventory merges the parts and returns the inventory of everything observed.
func (c *Collector) Inventory() (*Inventory, error) {
	ipdb := c.opt.GeoIP
	if ipdb == nil {
		var err error
		if ipdb, err = NewGeoIP(GeoConfig{}); err != nil {
			return nil, err
		}
	}
	st := c.st
	for _, p := range c.parts {
		if p.run.dropped > 0 {
			p.st.notes = append(p.st.notes, decoders.Note{Severity: decoders.Info, Code: decoders.CodeMalformed, Offset: -1,
				Message: fmt.Sprintf("%d more flows whose names could not be read are not listed", p.run.dropped)})
		}
		st.merge(p.st)
	}
	// The shards' notes in one order whatever their number: by input, flow and message.
	slices.SortStableFunc(st.notes, func(a, b decoders.Note) int {
		return cmp.Or(cmp.Compare(a.Input, b.Input), cmp.Compare(a.Locator, b.Locator), cmp.Compare(a.Message, b.Message))
	})
	inv := &Inventory{GeoIP: ipdb.Info, Notes: st.notes, Packets: st.packets}
	owners := NewOwners(c.opt.Owners)
	for _, acc := range st.rows {
		inv.Rows = append(inv.Rows, st.row(acc, ipdb, owners))
	}
	slices.SortFunc(inv.Rows, compareRows)
	inv.DNSQueries = []string{}
	for q := range st.queries {
		inv.DNSQueries = append(inv.DNSQueries, q)
	}
	slices.Sort(inv.DNSQueries)
	return inv, nil
}

// Build reads the captures and returns their destination inventory.
func Build(ctx context.Context, paths []string, opt Options) (*Inventory, error) {
	return BuildSources(ctx, engine.FileSources(paths), opt)
}

// BuildSources is Build over captures that need not be files (the audit's embedded demo). The
// captures are read in the order given through one set of flow tables: rotated files of one
// capture continue each other's connections. When an input is no capture or cannot be read, the
// inventory of the others is still returned, with an error naming every such input; a file found
// in a folder that is no capture is skipped, not an error. A cancelled run returns no inventory.
// Damage inside a capture (a cut file, malformed frames) is listed in the notes with the input and
// offset, and what came before it counts.
func BuildSources(ctx context.Context, srcs []engine.Source, opt Options) (*Inventory, error) {
	c := NewCollector(opt)
	out := &captureNotes{}
	protocols := append(append([]decoders.Protocol(nil), Protocols...), opt.Protocols...)
	observers := append([]engine.Observer{c}, opt.Observers...)
	cfg := engine.Config{Protocols: protocols, Observers: observers, Output: out, Workers: 1, Shards: opt.Shards, IdleTimeout: opt.IdleTimeout,
		Unwrappers: opt.Unwrappers}
	if err := engine.Run(ctx, srcs, cfg); err != nil {
		return nil, err
	}
	inv, err := c.Inventory()
	if err != nil {
		return nil, err
	}
	inv.Notes = append(out.notes(), inv.Notes...)
	return inv, out.all()
}

// captureNotes is the engine output of an inventory-only run: the capture-level notes the engine
// reports (damage, malformed frames) are kept with their input; the inputs that could not be
// read are remembered in the order given.
type captureNotes struct {
	mu    sync.Mutex
	sinks []*noteSink
	errs  []*engine.Input
}

// noteSink keeps the warnings and errors of one lane of one input.
type noteSink struct {
	in    *engine.Input
	lane  int
	notes []decoders.Note
}

func (s *noteSink) Fix(geo.Fix)                {}
func (s *noteSink) Count(string, int64)        {}
func (s *noteSink) Exposure(decoders.Exposure) {}
func (s *noteSink) Note(n decoders.Note) {
	if n.Severity != decoders.Info && len(s.notes) < maxNotes {
		n.Input = s.in.Name
		s.notes = append(s.notes, n)
	}
}

func (o *captureNotes) Sink(in *engine.Input, lane int) decoders.Sink {
	s := &noteSink{in: in, lane: lane}
	o.mu.Lock()
	o.sinks = append(o.sinks, s)
	o.mu.Unlock()
	return s
}

func (o *captureNotes) Done(in *engine.Input) {
	if in.Err != nil {
		o.mu.Lock()
		o.errs = append(o.errs, in)
		o.mu.Unlock()
	}
}

// notes returns the kept notes in input order, then lane order (the shards create their sinks
// in whatever order they first meet the input), then file order.
func (o *captureNotes) notes() []decoders.Note {
	var out []decoders.Note
	slices.SortStableFunc(o.sinks, func(a, b *noteSink) int {
		return cmp.Or(cmp.Compare(a.in.Index, b.in.Index), cmp.Compare(a.lane, b.lane))
	})
	for _, s := range o.sinks {
		out = append(out, s.notes...)
	}
	return out
}

// all returns the errors of the inputs that could not be read, in the order given.
func (o *captureNotes) all() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	slices.SortFunc(o.errs, func(a, b *engine.Input) int { return cmp.Compare(a.Index, b.Index) })
	errs := make([]error, len(o.errs))
	for i, in := range o.errs {
		errs[i] = in.Err
	}
	return errors.Join(errs...)
}
