package broadcasts

import (
	"context"
	"fmt"
	"sync"

	"droneaudit/decoders"
	"droneaudit/engine"
	"droneaudit/geo"
)

// Read runs the captures through the engine with this collector's over-the-air decoder and
// returns, per capture that could not be read to its end, an error naming the file and offset;
// what was heard before the damage stands.
func (c *Collector) Read(ctx context.Context, srcs []engine.Source) ([]error, error) {
	out := &readOutput{c: c, counts: map[*engine.Input]*counter{}}
	cfg := engine.Config{Links: []decoders.LinkDecoder{c.LinkDecoder()}, Output: out, Workers: 1, Shards: 1}
	if err := engine.Run(ctx, srcs, cfg); err != nil {
		return nil, err
	}
	return out.errs, nil
}

// readOutput gathers the per-capture counters and read errors of a broadcasts run.
type readOutput struct {
	c      *Collector
	mu     sync.Mutex
	counts map[*engine.Input]*counter
	errs   []error
}

// counter is a sink that keeps only counts and the notes that say a capture was cut.
type counter struct {
	counts map[string]int64
	cut    []string
}

func (k *counter) Fix(geo.Fix)                {}
func (k *counter) Exposure(decoders.Exposure) {}
func (k *counter) Note(n decoders.Note) {
	if n.Code == decoders.CodeTruncated && n.Severity == decoders.Error {
		k.cut = append(k.cut, n.Message)
	}
}
func (k *counter) Count(name string, n int64) { k.counts[name] += n }

func (o *readOutput) Sink(in *engine.Input, _ int) decoders.Sink {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := o.counts[in]
	if k == nil {
		k = &counter{counts: map[string]int64{}}
		o.counts[in] = k
	}
	return k
}

func (o *readOutput) Done(in *engine.Input) {
	o.mu.Lock()
	k := o.counts[in]
	delete(o.counts, in)
	o.mu.Unlock()
	if k != nil {
		o.c.CountInput(k.counts)
		for _, m := range k.cut {
			o.errs = append(o.errs, fmt.Errorf("%s", m))
		}
	}
	if in.Err != nil {
		o.errs = append(o.errs, in.Err)
	}
	o.c.SetSHA256(in.Name, in.SHA256)
}
