package quic

import (
	"bytes"
	"sort"

	"droneaudit/netflow"
)

// Bounds of stream reassembly. Out-of-order STREAM data is held until the bytes before it arrive;
// past these bounds the hole is given up and the held bytes are handed on after a gap, so a lost
// packet costs only its own bytes and memory stays flat.
const (
	// MaxHeldPerStream is the out-of-order data held for one direction of one stream.
	MaxHeldPerStream = 256 << 10
	// MaxHeldPerConn is the out-of-order data held for one connection.
	MaxHeldPerConn = 4 << 20
	// MaxStreams is the number of streams followed at once per connection.
	MaxStreams      = 1024
	maxPiecesPerDir = 512
	// maxDoneRemembered bounds the finished stream IDs remembered above the contiguous ones.
	maxDoneRemembered = 1 << 14
)

// StreamData is a piece of one QUIC stream handed on in order. Data is valid only during the
// call.
type StreamData struct {
	ID     uint64
	Dir    netflow.Direction // the direction the bytes travelled
	Offset uint64            // of Data in the stream
	Data   []byte
	Gap    bool // bytes of this direction before Offset were lost
	Fin    bool // this direction of the stream ended with Data (or was reset)
	Reset  bool // the end was a RESET_STREAM, not a FIN: what came before may be cut
	// Done: the stream carries nothing more in either direction (both directions of a
	// bidirectional stream, or the one of a unidirectional stream, ended or were reset).
	Done bool
}

// StreamBidi reports whether a stream ID names a bidirectional stream, StreamClient whether the
// client opened it (RFC 9000 §2.1). HTTP/3 requests travel on client bidirectional streams.
func StreamBidi(id uint64) bool   { return id&2 == 0 }
func StreamClient(id uint64) bool { return id&1 == 0 }

type piece struct {
	off  uint64
	data []byte
}

type streamDir struct {
	next   uint64
	held   []piece
	heldN  int
	gap    bool // a gap is owed to the next piece handed on
	fin    bool
	finAt  uint64
	closed bool
}

type stream struct {
	id  uint64
	dir [2]streamDir
}

// streams reassembles the STREAM frames of one connection.
type streams struct {
	live  map[uint64]*stream
	done  doneSet
	held  int
	emit  func(StreamData)
	Stats StreamStats
}

// StreamStats counts what the reassembly did.
type StreamStats struct {
	Streams      int   // streams seen
	Bytes        int64 // stream bytes handed on
	GapBytes     int64 // bytes given up (holes skipped past the bounds or at the end)
	Dropped      int   // STREAM frames dropped (more than MaxStreams streams open at once)
	Retransmits  int64 // bytes received again after they were handed on
	ResetStreams int
}

func newStreams(emit func(StreamData)) *streams {
	return &streams{live: map[uint64]*stream{}, emit: emit}
}

// directions returns which directions a stream carries: both for a bidirectional stream, the
// initiator's alone for a unidirectional one.
func directions(id uint64) (c2s, s2c bool) {
	if StreamBidi(id) {
		return true, true
	}
	return StreamClient(id), !StreamClient(id)
}

func (s *streams) get(id uint64) *stream {
	if st := s.live[id]; st != nil {
		return st
	}
	if s.done.has(id) {
		return nil
	}
	if len(s.live) >= MaxStreams {
		s.Stats.Dropped++
		return nil
	}
	st := &stream{id: id}
	c2s, s2c := directions(id)
	st.dir[netflow.ClientToServer].closed = !c2s
	st.dir[netflow.ServerToClient].closed = !s2c
	s.live[id] = st
	s.Stats.Streams++
	return st
}

// frame takes the data of one STREAM frame sent in direction dir.
func (s *streams) frame(dir netflow.Direction, id, off uint64, data []byte, fin bool) {
	st := s.get(id)
	if st == nil {
		if s.done.has(id) {
			s.Stats.Retransmits += int64(len(data))
		}
		return
	}
	d := &st.dir[dir]
	if d.closed {
		return
	}
	if fin && !d.fin {
		d.fin, d.finAt = true, off+uint64(len(data))
	}
	end := off + uint64(len(data))
	if end <= d.next && !(fin && len(data) == 0 && d.next == off) {
		s.Stats.Retransmits += int64(len(data))
		s.flush(st, dir)
		return
	}
	if off <= d.next {
		s.Stats.Retransmits += int64(d.next - off)
		data = data[d.next-off:]
		s.deliver(st, dir, data)
	} else {
		s.hold(st, dir, off, data)
	}
	s.flush(st, dir)
}

// deliver hands on bytes that start at the direction's next offset.
func (s *streams) deliver(st *stream, dir netflow.Direction, data []byte) {
	d := &st.dir[dir]
	sd := StreamData{ID: st.id, Dir: dir, Offset: d.next, Data: data, Gap: d.gap}
	d.gap = false
	d.next += uint64(len(data))
	s.Stats.Bytes += int64(len(data))
	if d.fin && d.next >= d.finAt {
		sd.Fin = true
		d.closed = true
		s.dropHeld(d)
		sd.Done = st.dir[dir.Reverse()].closed
	}
	if len(data) > 0 || sd.Fin {
		s.emit(sd)
	}
	if sd.Done {
		s.finish(st)
	}
}

func (s *streams) hold(st *stream, dir netflow.Direction, off uint64, data []byte) {
	d := &st.dir[dir]
	if len(data) == 0 {
		return
	}
	if len(d.held) >= maxPiecesPerDir || d.heldN+len(data) > MaxHeldPerStream || s.held+len(data) > MaxHeldPerConn {
		// Past the bounds: give up the hole before the earliest held byte.
		s.skip(st, dir)
		if off <= d.next {
			if end := off + uint64(len(data)); end > d.next {
				s.deliver(st, dir, data[d.next-off:])
			}
			return
		}
		if len(data) > MaxHeldPerStream || s.held+len(data) > MaxHeldPerConn {
			// Even alone it does not fit: hand it on after a gap.
			s.Stats.GapBytes += int64(off - d.next)
			d.next, d.gap = off, true
			s.deliver(st, dir, data)
			return
		}
	}
	i := sort.Search(len(d.held), func(i int) bool { return d.held[i].off > off })
	d.held = append(d.held, piece{})
	copy(d.held[i+1:], d.held[i:])
	d.held[i] = piece{off: off, data: bytes.Clone(data)}
	d.heldN += len(data)
	s.held += len(data)
}

// flush hands on the held pieces that have become contiguous.
func (s *streams) flush(st *stream, dir netflow.Direction) {
	d := &st.dir[dir]
	for len(d.held) > 0 && !d.closed {
		p := d.held[0]
		if p.off > d.next {
			break
		}
		d.held = d.held[1:]
		d.heldN -= len(p.data)
		s.held -= len(p.data)
		end := p.off + uint64(len(p.data))
		if end <= d.next {
			s.Stats.Retransmits += int64(len(p.data))
			continue
		}
		s.deliver(st, dir, p.data[d.next-p.off:])
	}
	if !d.closed && d.fin && d.next >= d.finAt && len(d.held) == 0 {
		s.deliver(st, dir, nil)
	}
}

// skip gives up the hole before the first held piece.
func (s *streams) skip(st *stream, dir netflow.Direction) {
	d := &st.dir[dir]
	if len(d.held) == 0 {
		return
	}
	s.Stats.GapBytes += int64(d.held[0].off - d.next)
	d.next, d.gap = d.held[0].off, true
	s.flush(st, dir)
}

func (s *streams) dropHeld(d *streamDir) {
	s.held -= d.heldN
	d.held, d.heldN = nil, 0
}

// reset ends one direction of a stream (RESET_STREAM from its sender).
func (s *streams) reset(dir netflow.Direction, id uint64) {
	st := s.get(id)
	if st == nil {
		return
	}
	d := &st.dir[dir]
	if d.closed {
		return
	}
	s.Stats.ResetStreams++
	d.closed = true
	s.dropHeld(d)
	sd := StreamData{ID: id, Dir: dir, Offset: d.next, Fin: true, Reset: true, Done: st.dir[dir.Reverse()].closed}
	s.emit(sd)
	if sd.Done {
		s.finish(st)
	}
}

func (s *streams) finish(st *stream) {
	delete(s.live, st.id)
	s.done.add(st.id)
}

// close hands on what is held after its holes, then ends every open stream, in stream ID order.
func (s *streams) close() {
	ids := make([]uint64, 0, len(s.live))
	for id := range s.live {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		st := s.live[id]
		for dir := netflow.ClientToServer; dir <= netflow.ServerToClient; dir++ {
			for len(st.dir[dir].held) > 0 && !st.dir[dir].closed {
				s.skip(st, dir)
			}
		}
		if s.live[id] == nil {
			continue
		}
		// The stream ends without its FIN: one last empty piece says so.
		s.emit(StreamData{ID: id, Dir: netflow.ClientToServer, Offset: st.dir[0].next, Done: true})
		s.finish(st)
	}
}

// doneSet remembers finished stream IDs, so that a retransmission after the end is not taken for
// a new stream: per stream type, every ID below a watermark, and a bounded set above it.
type doneSet struct {
	low   [4]uint64 // stream numbers (ID >> 2) below which all are done, per type (ID & 3)
	above map[uint64]struct{}
}

func (d *doneSet) has(id uint64) bool {
	if id>>2 < d.low[id&3] {
		return true
	}
	_, ok := d.above[id]
	return ok
}

func (d *doneSet) add(id uint64) {
	t := id & 3
	if id>>2 != d.low[t] {
		if d.above == nil {
			d.above = map[uint64]struct{}{}
		}
		if len(d.above) < maxDoneRemembered {
			d.above[id] = struct{}{}
		}
		return
	}
	d.low[t]++
	for {
		next := d.low[t]<<2 | t
		if _, ok := d.above[next]; !ok {
			return
		}
		delete(d.above, next)
		d.low[t]++
	}
}
