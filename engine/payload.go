package engine

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
)

// sniffSegments is how many payload-carrying chunks of a flow are offered to the payload decoders
// before the flow is left alone.
const sniffSegments = 4

// flowState is the engine's own slot on a flow: the payload decoder that recognised it in the
// current input, and the hole bytes already counted.
type flowState struct {
	dec      decoders.FlowDecoder
	in       *Input // the input dec belongs to: a flow that runs on into the next file starts afresh
	tries    int
	skipSeen int64
	gapInput *Input
}

func engineState(f *flowtable.Flow) *flowState {
	st, _ := f.Data[0].(*flowState)
	if st == nil {
		st = &flowState{}
		f.Data[0] = st
	}
	return st
}

// payloads runs the registered payload decoders on one shard's flows. Decoder output goes to the
// shard's sink for the input the bytes came from.
type payloads struct {
	cfg  *Config
	lane int
	in   *Input
	sink decoders.Sink
	open map[*flowState]struct{} // decoders of the current input not closed yet
}

func newPayloads(cfg *Config, lane int) *payloads {
	return &payloads{cfg: cfg, lane: lane, open: map[*flowState]struct{}{}}
}

func (p *payloads) sinkFor(in *Input) decoders.Sink {
	if p.in != in {
		p.in, p.sink = in, p.cfg.Output.Sink(in, p.lane)
	}
	return p.sink
}

func (p *payloads) chunk(c *Chunk, _ *any) {
	st := engineState(c.Flow)
	if st.in != c.Input {
		st.dec, st.tries, st.in = nil, 0, c.Input
	}
	if st.dec == nil {
		if st.tries >= sniffSegments || len(c.Payload) == 0 {
			return
		}
		st.tries++
		p.recognise(c, st)
		if st.dec == nil {
			return
		}
	}
	segment(c.Input, st.dec, decoders.Segment{Frame: c.Frame, Offset: c.Offset, Time: c.Time, Gap: c.Gap, Payload: c.Payload, Network: network(c)})
}

// recognise offers the chunk to each payload decoder: content decides, the first match wins.
func (p *payloads) recognise(c *Chunk, st *flowState) {
	for _, pd := range p.cfg.Flows {
		if pd.Sniff(c.Payload) {
			sink := p.sinkFor(c.Input)
			st.dec = pd.NewFlow(c.Input.dec, sink)
			p.open[st] = struct{}{}
			sink.Count("flows_decoded_"+pd.Name(), 1)
			return
		}
	}
}

func (p *payloads) ended(f *flowtable.Flow, _ *any) {
	st, _ := f.Data[0].(*flowState)
	if st == nil || st.dec == nil || st.in != p.in {
		return
	}
	p.close(st)
}

func (p *payloads) close(st *flowState) {
	dec := st.dec
	guard(st.in, dec.Close)
	st.dec = nil
	delete(p.open, st)
}

// endInput closes the decoders of the input that ended.
func (p *payloads) endInput(in *Input) {
	for st := range p.open {
		if st.in == in {
			p.close(st)
		}
	}
	if p.in == in {
		p.in, p.sink = nil, nil
	}
}

// segment hands one segment to a flow decoder (no closure: this runs for every chunk).
func segment(in *Input, dec decoders.FlowDecoder, s decoders.Segment) {
	defer recoverDecoder(in)
	dec.Segment(s)
}

// guard runs a decoder call that is not on the per-packet path.
func guard(in *Input, call func()) {
	defer recoverDecoder(in)
	call()
}

// recoverDecoder, deferred around a decoder call, turns a decoder bug into an error on its input:
// the input is reported as not fully decoded, with what was found before the failure, and the
// run goes on.
func recoverDecoder(in *Input) {
	if v := recover(); v != nil {
		slog.Error("decoder failure", "input", in.Name, "panic", v, "stack", string(debug.Stack()))
		in.fail(fmt.Errorf("%s: internal decoder error (please report): %v", in.Name, v))
	}
}
