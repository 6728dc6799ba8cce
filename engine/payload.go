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
	app   *decoders.Protocol // what the flow carries, once recognised
	layer *layer             // the opened layer (TLS) of this flow in the current input
	// noLayer is the input in which the flow's layer was not opened, for want of secrets or of
	// an Unwrapper of its protocol.
	noLayer *Input
	dec     decoders.FlowDecoder
	// in is the input dec reports on: a flow that runs on into the next file starts afresh there,
	// unless dec is a decoders.Continuer, which is parked at the end of in and carries on.
	in       *Input
	parked   bool
	tries    int
	skipSeen int64
	gapInput *Input
	// openAt is 1 + the index of the flow in its payloads' open list, 0 when not in it.
	openAt int
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
	// open are the flows whose decoders of the current input are not closed yet, in a list
	// rather than a map: a flow joins and leaves it by its index (flowState.openAt), with no hash.
	open      []*flowState
	protocols []decoders.Protocol
	// streamProtocols are those read on the inner flows of a streams layer (Protocol.Streams).
	streamProtocols []decoders.Protocol
	decoderOf       map[string]decoders.PayloadDecoder
	// decodedCount is the counter of the flows each payload decoder is given, by its name.
	decodedCount map[string]string
}

func newPayloads(cfg *Config, lane int) *payloads {
	p := &payloads{cfg: cfg, lane: lane, decoderOf: map[string]decoders.PayloadDecoder{},
		decodedCount: map[string]string{}}
	for _, pr := range protocols(cfg) {
		if pr.Streams {
			p.streamProtocols = append(p.streamProtocols, pr)
		} else {
			p.protocols = append(p.protocols, pr)
		}
	}
	for _, pd := range cfg.Flows {
		p.decoderOf[pd.Name()] = pd
		p.decodedCount[pd.Name()] = "flows_decoded_" + pd.Name()
	}
	return p
}

// protocols is the one list a flow is recognised against: each payload decoder in registration
// order (with the port rules of a Protocol of the same name, if one is registered, else by its
// own Sniff), then the protocols only the observers read (DNS, TLS, QUIC, DHCP).
func protocols(cfg *Config) []decoders.Protocol {
	var out []decoders.Protocol
	used := map[int]bool{}
	for _, pd := range cfg.Flows {
		own := false
		for j, pr := range cfg.Protocols {
			if pr.Name == pd.Name() {
				out = append(out, pr)
				used[j], own = true, true
			}
		}
		if !own {
			out = append(out, decoders.Protocol{Name: pd.Name(), Sniff: pd.Sniff})
		}
	}
	for j, pr := range cfg.Protocols {
		if !used[j] {
			out = append(out, pr)
		}
	}
	return out
}

func (p *payloads) sinkFor(in *Input) decoders.Sink {
	if p.in != in {
		p.in, p.sink = in, p.cfg.Output.Sink(in, p.lane)
	}
	return p.sink
}

// chunk recognises the flow's protocol (once per flow, on its first payloads) and hands the
// chunk to the payload decoder of that protocol for the chunk's input, if there is one. The
// recognised name travels on in the chunk for the observers.
func (p *payloads) chunk(c *Chunk, _ *any) {
	st := engineState(c.Flow)
	if st.app == nil && st.tries < sniffSegments && len(c.Payload) > 0 {
		st.tries++
		f := c.Flow
		list := p.protocols
		if f.InStream {
			list = p.streamProtocols
		}
		st.app = decoders.Recognise(list, f.Proto, f.Client.Port(), f.Server.Port(), c.Payload)
	}
	if st.app == nil {
		return
	}
	c.App = st.app.Name
	gap := c.Gap
	if st.in != c.Input && st.parked {
		// The flow runs on into this input (a rotated capture): its decoder carries on, and
		// reports here from now on.
		st.in, st.parked = c.Input, false
		p.markOpen(st)
		sink := p.sinkFor(c.Input)
		guard(c.Input, func() { st.dec.(decoders.Continuer).Rebind(c.Input.dec, sink) })
	}
	if st.in != c.Input {
		// A flow that carried bytes in an earlier input runs on in this one: its new decoder
		// joins mid-stream, as after a hole.
		gap = gap || st.in != nil
		st.dec, st.in = nil, c.Input
		if pd := p.decoderOf[st.app.Name]; pd != nil {
			sink := p.sinkFor(c.Input)
			st.dec = pd.NewFlow(c.Input.dec, sink)
			p.markOpen(st)
			sink.Count(p.decodedCount[st.app.Name], 1)
		}
	}
	if st.dec != nil {
		segment(c.Input, st.dec, decoders.Segment{Frame: c.Frame, Offset: c.Offset, Time: c.Time, Gap: gap, Payload: c.Payload, Network: network(c)})
	}
}

func (p *payloads) ended(f *flowtable.Flow, _ *any) {
	st, _ := f.Data[0].(*flowState)
	if st == nil || st.dec == nil {
		return
	}
	if st.parked {
		// Its input ended with EndInput: Close reports nothing more.
		p.close(st)
		return
	}
	if st.in != p.in {
		return
	}
	p.close(st)
}

func (p *payloads) close(st *flowState) {
	dec := st.dec
	guard(st.in, dec.Close)
	st.dec, st.parked = nil, false
	p.unmarkOpen(st)
}

// markOpen puts a flow in the open list, once.
func (p *payloads) markOpen(st *flowState) {
	if st.openAt == 0 {
		p.open = append(p.open, st)
		st.openAt = len(p.open)
	}
}

// unmarkOpen takes a flow out of the open list: the last one takes its place.
func (p *payloads) unmarkOpen(st *flowState) {
	i := st.openAt - 1
	if i < 0 {
		return
	}
	last := p.open[len(p.open)-1]
	p.open[i], last.openAt = last, i+1
	p.open[len(p.open)-1] = nil
	p.open = p.open[:len(p.open)-1]
	st.openAt = 0
}

// endInput closes the decoders of the input that ended; with more (another capture follows),
// those that can continue into it (decoders.Continuer) report on this input and are parked.
func (p *payloads) endInput(in *Input, more bool) {
	// A flow leaving the list is replaced at its index by the last one, which is looked at next.
	for i := 0; i < len(p.open); {
		st := p.open[i]
		if st.in != in {
			i++
			continue
		}
		if c, ok := st.dec.(decoders.Continuer); ok && more {
			guard(in, c.EndInput)
			st.parked = true
			p.unmarkOpen(st)
			continue
		}
		p.close(st)
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
