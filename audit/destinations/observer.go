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
)

// Collector builds the inventory as an observer of the engine's one pass over the captures: the
// reader goroutine tells it every frame (ARP, damaged frames), and each flow shard has a part of
// its own that names flows and accounts them when they end. The parts are merged at the end, and
// the merged result does not depend on the number of shards.
type Collector struct {
	opt      Options
	st       *state // the reader goroutine's part: ARP, frame counts, capture problems
	mu       sync.Mutex
	parts    []*part
	captures int
	notes    int // problems noted for the current capture
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
	if ev.Err != nil {
		c.note(ev.Input, "frame %d @ 0x%x: %v", p.Frame, p.Offset, ev.Err)
	}
	if ev.Transport == nil && p.LinkType == capture.LinkEthernet {
		if a, ok := dhcp.ParseARPFrame(p.Data); ok && !a.SenderIP.IsUnspecified() {
			c.st.arp[a.SenderIP] = a.SenderMAC.String()
		}
	}
}

// CaptureEnd implements engine.Observer.
func (c *Collector) CaptureEnd(in *engine.Input, err error) {
	c.captures++
	var fe *capture.FormatError
	if errors.As(err, &fe) {
		c.note(in, "stopped at offset %d: %s", fe.Offset, fe.Reason)
	}
	if c.notes > maxNotes {
		c.st.notes = append(c.st.notes, fmt.Sprintf("%s: %d more problems not listed", in.Name, c.notes-maxNotes))
	}
	c.notes = 0
}

func (c *Collector) note(in *engine.Input, format string, args ...any) {
	if c.notes++; c.notes <= maxNotes {
		c.st.notes = append(c.st.notes, in.Name+": "+fmt.Sprintf(format, args...))
	}
}

// Chunk implements engine.FlowObserver.
func (p *part) Chunk(c *engine.Chunk, state *any) {
	p.run.name = c.Input.Name
	p.run.deliver(c.Delivery, state)
}

// Ended implements engine.FlowObserver.
func (p *part) Ended(f *flowtable.Flow, state *any) { p.st.account(f, state) }

// InputEnd implements engine.FlowObserver.
func (p *part) InputEnd(*engine.Input) {}

// Inventory merges the parts and returns the inventory of everything observed.
func (c *Collector) Inventory() (*Inventory, error) {
	geo := c.opt.GeoIP
	if geo == nil {
		var err error
		if geo, err = NewGeoIP(GeoConfig{}); err != nil {
			return nil, err
		}
	}
	st := c.st
	for _, p := range c.parts {
		if p.run.dropped > 0 {
			p.st.notes = append(p.st.notes, fmt.Sprintf("%d more problems not listed", p.run.dropped))
		}
		st.merge(p.st)
	}
	inv := &Inventory{GeoIP: geo.Info, Notes: st.notes, Packets: st.packets}
	owners := NewOwners(c.opt.Owners)
	for _, acc := range st.rows {
		inv.Rows = append(inv.Rows, st.row(acc, geo, owners))
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
	srcs := make([]engine.Source, len(paths))
	for i, p := range paths {
		srcs[i] = engine.FileSource(p)
	}
	return BuildSources(ctx, srcs, opt)
}

// BuildSources is Build over captures that need not be files (the audit's embedded demo). The
// captures are read in the order given through one set of flow tables: rotated files of one
// capture continue each other's connections. When an input is no capture or cannot be read, the
// inventory of the others is still returned, with an error naming every such input; a file found
// in a folder that is no capture is skipped, not an error. A cancelled run returns no inventory.
func BuildSources(ctx context.Context, srcs []engine.Source, opt Options) (*Inventory, error) {
	c := NewCollector(opt)
	out := &errorsOnly{}
	cfg := engine.Config{Observers: []engine.Observer{c}, Output: out, Workers: 1, IdleTimeout: opt.IdleTimeout}
	if err := engine.Run(ctx, srcs, cfg); err != nil {
		return nil, err
	}
	inv, err := c.Inventory()
	if err != nil {
		return nil, err
	}
	return inv, out.all()
}

// errorsOnly is the engine output of an inventory-only run: decoder output is dropped, and the
// inputs that could not be read are remembered in the order given.
type errorsOnly struct {
	mu   sync.Mutex
	errs []*engine.Input
}

func (o *errorsOnly) Sink(*engine.Input, int) decoders.Sink { return decoders.Discard }

func (o *errorsOnly) Done(in *engine.Input) {
	if in.Err != nil {
		o.mu.Lock()
		o.errs = append(o.errs, in)
		o.mu.Unlock()
	}
}

// all returns the errors of the inputs that could not be read, in the order given.
func (o *errorsOnly) all() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	slices.SortFunc(o.errs, func(a, b *engine.Input) int { return cmp.Compare(a.Index, b.Index) })
	errs := make([]error, len(o.errs))
	for i, in := range o.errs {
		errs[i] = in.Err
	}
	return errors.Join(errs...)
}
