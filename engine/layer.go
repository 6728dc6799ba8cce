package engine

import (
	"slices"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/netflow"
)

// An opened layer: a flow recognised as a protocol an Unwrapper opens (TLS, QUIC) gets a LayerStream
// (one per input, or one for the whole run when it is a decoders.Continuer: a connection split
// over rotated capture files stays one TLS session), and what the stream emits is delivered, like
// any chunk, as the bytes of an inner flow (one inner flow per stream for a
// decoders.StreamsLayer such as QUIC):
// the payload decoders recognise and decode it, and the observers see it with Chunk.Flow.Outer
// set. Inner flows can carry layers of their own, to maxLayers deep.

// maxLayers bounds how deep layers nest (TLS inside TLS inside TLS is already hostile).
const maxLayers = 3

type layer struct {
	stream decoders.LayerStream
	inner  *flowtable.Flow // nil for a streams layer, whose inner flows are in streams
	in     *Input          // the input the stream reports on now
	name   string
	// parked: the input the stream reported on has ended while the flow stays open
	// (decoders.Continuer.EndInput was called); the flow's next bytes rebind it.
	parked bool
	// streams are the inner flows of a decoders.StreamsLayer (QUIC), one per live stream.
	streams map[uint64]*flowtable.Flow
	gap     [2]bool // inner bytes of the direction were lost before its next chunk
	// The chunk being fed and the callback that delivers what the stream opens of it, kept in
	// the layer so that feeding a chunk allocates nothing: a closure passed to the stream (an
	// interface) escapes, and would cost an allocation per packet. A layer is fed by its own
	// flow's shard only, one chunk at a time; inner flows have layers of their own, so nesting
	// never reenters one.
	s       *shard
	outer   Chunk
	innerC  Chunk
	emitFn  func(netflow.Direction, []byte)
	streamC func(decoders.InnerStream)
}

// unwrap feeds a chunk of an outer flow to its layer, opening it at the flow's first chunk (in each
// input, for a layer that does not continue across inputs), and delivers what comes out. What
// comes out is attributed to the chunk that carried the bytes: its input, frame and offset.
func (s *shard) unwrap(c *Chunk, st *flowState) {
	if st.app == nil || len(s.cfg.Unwrappers) == 0 || depth(c.Flow) >= maxLayers {
		return
	}
	l := st.layer
	if l != nil && l.in != c.Input && l.parked {
		// The flow continues in a later input (a rotated capture): the layer's state carries on,
		// and what it reports from now on goes to this input.
		cs := l.stream.(decoders.Continuer)
		l.in, l.parked = c.Input, false
		guard(c.Input, func() { cs.Rebind(c.Input.dec, s.pay.sinkFor(c.Input)) })
	}
	if l == nil || l.in != c.Input {
		s.closeLayer(st)
		if st.noLayer == c.Input {
			return
		}
		u := s.unwrapperFor(st.app.Name)
		if u == nil {
			// Nothing opens the flow's protocol (st.app never changes): its next chunks in this
			// input need not ask again.
			st.noLayer = c.Input
			return
		}
		if h, ok := u.(decoders.SecretHolder); ok && c.Input.Format == "pcap" && !h.HasSecrets() {
			st.noLayer = c.Input // a pcap brings no secrets: nothing of this flow can be opened here
			h.NotOpened(s.pay.sinkFor(c.Input))
			return
		}
		l = &layer{in: c.Input, name: u.Name(), stream: u.NewStream(c.Input.dec, s.pay.sinkFor(c.Input)), s: s}
		l.emitFn, l.streamC = l.emit, l.stream1
		if _, ok := l.stream.(decoders.StreamsLayer); !ok {
			l.inner = flowtable.Inner(c.Flow, l.name, s.ft.Slots)
		}
		st.layer = l
		if fs, ok := l.stream.(decoders.FlowStream); ok {
			n := network(c)
			n.Src, n.Dst, n.Direction = c.Flow.Client, c.Flow.Server, netflow.ClientToServer
			fs.SetFlow(n)
		}
	}
	l.outer = *c
	if ml, ok := l.stream.(decoders.StreamsLayer); ok {
		guard(c.Input, func() { ml.FeedStreams(c.Dir, c.Payload, c.Gap, l.streamC) })
	} else {
		guard(c.Input, func() { l.stream.Feed(c.Dir, c.Payload, c.Gap, l.emitFn) })
	}
	l.outer.Payload = nil // the outer bytes are not kept past the call
}

// stream1 delivers a piece of a stream of a StreamsLayer (QUIC).
func (l *layer) stream1(p decoders.InnerStream) { l.s.innerStream(l, &l.outer, p) }

// emit delivers what the stream opened of the chunk being fed as a chunk of the inner flow; a
// nil inner marks bytes lost in the direction.
func (l *layer) emit(dir netflow.Direction, inner []byte) {
	if inner == nil {
		l.gap[dir&1] = true
		return
	}
	if len(inner) == 0 {
		return
	}
	gap := l.gap[dir&1]
	l.gap[dir&1] = false
	l.inner.Bytes[dir] += int64(len(inner))
	l.inner.Last = l.outer.Time
	l.innerC = Chunk{Delivery: flowtable.Delivery{Flow: l.inner, Dir: dir, Payload: inner, Gap: gap}, Input: l.outer.Input,
		Frame: l.outer.Frame, Offset: l.outer.Offset, Time: l.outer.Time}
	l.s.deliver(&l.innerC)
	l.innerC.Payload = nil
}

func (s *shard) unwrapperFor(app string) decoders.Unwrapper {
	for _, u := range s.cfg.Unwrappers {
		if u.Unwraps(app) {
			return u
		}
	}
	return nil
}

// parkLayer is closeLayer at the end of the input the layer reports on, when another capture
// follows in which the flow may continue: a decoders.Continuer reports on the ending input
// and keeps its state (and its inner flows stay open); any other layer is closed. It reports
// whether the layer stays.
func (s *shard) parkLayer(st *flowState) bool {
	l := st.layer
	cs, ok := l.stream.(decoders.Continuer)
	if !ok {
		s.closeLayer(st)
		return false
	}
	if !l.parked {
		l.parked = true
		guard(l.in, cs.EndInput)
	}
	return true
}

// closeLayer closes a flow's layer and ends its inner flow for the decoders and observers.
func (s *shard) closeLayer(st *flowState) {
	l := st.layer
	if l == nil {
		return
	}
	st.layer = nil
	guard(l.in, l.stream.Close)
	if l.inner != nil {
		s.ended(l.inner)
	}
	ids := make([]uint64, 0, len(l.streams))
	for id := range l.streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		s.ended(l.streams[id])
	}
	l.streams = nil
}

// maxInnerStreams bounds the inner flows one streams layer keeps open; the layer bounds its own
// streams too (QUIC follows quic.MaxStreams at once).
const maxInnerStreams = 4096

// innerStream delivers one piece of a stream of a StreamsLayer as a chunk of that stream's inner
// flow, and ends the inner flow with the stream.
func (s *shard) innerStream(l *layer, outer *Chunk, p decoders.InnerStream) {
	f := l.streams[p.ID]
	if f == nil {
		if len(l.streams) >= maxInnerStreams || (len(p.Bytes) == 0 && p.End) {
			return
		}
		if l.streams == nil {
			l.streams = map[uint64]*flowtable.Flow{}
		}
		f = flowtable.Inner(outer.Flow, l.name, s.ft.Slots)
		f.InStream, f.StreamID = true, p.ID
		l.streams[p.ID] = f
	}
	if p.Fin {
		f.StreamFin[p.Dir&1] = true
	}
	if len(p.Bytes) > 0 || p.Gap {
		f.Bytes[p.Dir] += int64(len(p.Bytes))
		f.Last = outer.Time
		l.innerC = Chunk{Delivery: flowtable.Delivery{Flow: f, Dir: p.Dir, Payload: p.Bytes, Gap: p.Gap}, Input: outer.Input,
			Frame: outer.Frame, Offset: outer.Offset, Time: outer.Time}
		s.deliver(&l.innerC)
		l.innerC.Payload = nil
	}
	if p.End {
		delete(l.streams, p.ID)
		s.ended(f)
	}
}

func depth(f *flowtable.Flow) int {
	n := 0
	for ; f.Outer != nil; f = f.Outer {
		n++
	}
	return n
}
