package engine

import (
	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/netflow"
)

// An opened layer: a flow recognised as a protocol an Unwrapper opens (TLS) gets a LayerStream per
// input, and what the stream emits is delivered, like any chunk, as the bytes of an inner flow:
// the payload decoders recognise and decode it, and the observers see it with Chunk.Flow.Outer
// set. Inner flows can carry layers of their own, to maxLayers deep.

// maxLayers bounds how deep layers nest (TLS inside TLS inside TLS is already hostile).
const maxLayers = 3

type layer struct {
	stream decoders.LayerStream
	inner  *flowtable.Flow
	in     *Input
	name   string
	gap    [2]bool // inner bytes of the direction were lost before its next chunk
}

// unwrap feeds a chunk of an outer flow to its layer, opening it at the flow's first chunk in each
// input, and delivers what comes out.
func (s *shard) unwrap(c *Chunk, st *flowState) {
	if st.app == nil || len(s.cfg.Unwrappers) == 0 || depth(c.Flow) >= maxLayers {
		return
	}
	l := st.layer
	if l == nil || l.in != c.Input {
		s.closeLayer(st)
		u := s.unwrapperFor(st.app.Name)
		if u == nil {
			return
		}
		l = &layer{in: c.Input, name: u.Name(), stream: u.NewStream(c.Input.dec, s.pay.sinkFor(c.Input))}
		l.inner = flowtable.Inner(c.Flow, l.name, s.ft.Slots)
		st.layer = l
		if fs, ok := l.stream.(decoders.FlowStream); ok {
			n := network(c)
			n.Src, n.Dst, n.Direction = c.Flow.Client, c.Flow.Server, netflow.ClientToServer
			fs.SetFlow(n)
		}
	}
	outer := *c
	guard(c.Input, func() {
		l.stream.Feed(c.Dir, c.Payload, c.Gap, func(dir netflow.Direction, inner []byte) {
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
			l.inner.Last = outer.Time
			ic := Chunk{Delivery: flowtable.Delivery{Flow: l.inner, Dir: dir, Payload: inner, Gap: gap}, Input: outer.Input,
				Frame: outer.Frame, Offset: outer.Offset, Time: outer.Time}
			s.deliver(&ic)
		})
	})
}

func (s *shard) unwrapperFor(app string) decoders.Unwrapper {
	for _, u := range s.cfg.Unwrappers {
		if u.Unwraps(app) {
			return u
		}
	}
	return nil
}

// closeLayer closes a flow's layer and ends its inner flow for the decoders and observers.
func (s *shard) closeLayer(st *flowState) {
	l := st.layer
	if l == nil {
		return
	}
	st.layer = nil
	guard(l.in, l.stream.Close)
	s.ended(l.inner)
}

func depth(f *flowtable.Flow) int {
	n := 0
	for ; f.Outer != nil; f = f.Outer {
		n++
	}
	return n
}
