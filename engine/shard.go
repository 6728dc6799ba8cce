package engine

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"time"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
	"droneaudit/geo"
)

// A shard follows the flows whose endpoints hash to it: its own flow table with reassembly, the
// payload decoders of those flows, and each observer's part. The reader goroutine copies each
// packet's transport view into the shard's current batch; batches travel over a channel, so the
// shard never touches the reader's buffers.

// pkt is one packet's transport view, copied out of the reader's buffer.
type pkt struct {
	t       capture.Transport
	frame   int
	offset  int64
	ts      time.Time
	src     [6]byte
	dst     [6]byte
	hasMAC  bool
	payload [2]int // start, end in the batch buffer
}

type batch struct {
	in   *Input
	pkts []pkt
	buf  []byte
	// end, when set, marks the end of input end.in after the packets of this batch.
	end *endMark
	// settled, when set, is told when the packets of this batch (and all before) are handled.
	settled *sync.WaitGroup
}

type endMark struct {
	in   *Input
	tot  *inputTotals
	more bool // another capture follows in the run
}

const (
	batchPackets = 512
	batchBytes   = 512 << 10
)

var batchPool = sync.Pool{New: func() any {
	return &batch{pkts: make([]pkt, 0, batchPackets), buf: make([]byte, 0, batchBytes)}
}}

type shard struct {
	idx  int
	cfg  *Config
	ft   *flowtable.Table
	obs  []FlowObserver
	pay  *payloads
	in   chan *batch
	cur  *batch
	next time.Time // capture time after which the next expiry pass runs (30 s after the last)
	// current input and what the shard counted of it
	input         *Input
	flows         int64
	skipped, gaps int64
	tcpIdle       time.Duration
	udpIdle       time.Duration
	chunk         Chunk                   // reused for every delivery: observers must not keep it
	layers        map[*flowState]struct{} // flows with an open layer
}

func newShard(i int, cfg *Config) *shard {
	s := &shard{idx: i, cfg: cfg, ft: flowtable.New(), in: make(chan *batch, 4), layers: map[*flowState]struct{}{}, next: time.Time{}.Add(expiryEvery)}
	s.tcpIdle, s.udpIdle = cfg.idle()
	s.pay = newPayloads(cfg, LaneShard0+i)
	for _, o := range cfg.Observers {
		s.obs = append(s.obs, o.Shard(i))
	}
	s.ft.Slots = 1 + len(s.obs) // slot 0: the payload decoders
	s.ft.EnableReassembly(func(d flowtable.Delivery) {
		s.chunk = Chunk{Delivery: d, Input: s.input, Offset: -1, Time: d.Flow.Last}
		s.deliver(&s.chunk)
	})
	return s
}

// shardOf hashes a flow's two endpoints in an order-independent way (a sum of per-endpoint
// mixes), cheaply: it runs once per packet on the reader goroutine.
func shardOf(t *capture.Transport, n int) int {
	if n == 1 {
		return 0
	}
	h := mixEndpoint(t.Src) + mixEndpoint(t.Dst) + uint64(t.Proto)
	return int((h >> 33) % uint64(n))
}

func mixEndpoint(ap netip.AddrPort) uint64 {
	b := ap.Addr().As16()
	x := binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:])*0xc2b2ae3d27d4eb4f
	x ^= uint64(ap.Port()) * 0x165667b19e3779f9
	x ^= x >> 29
	return x * 0xbf58476d1ce4e5b9
}

// push copies one packet into the shard's current batch (reader goroutine).
func (s *shard) push(in *Input, p *capture.Packet, t *capture.Transport) {
	b := s.cur
	if b != nil && b.in != in {
		s.flush()
		b = nil
	}
	if b == nil {
		b = batchPool.Get().(*batch)
		b.in = in
		s.cur = b
	}
	k := pkt{t: *t, frame: p.Frame, offset: p.Offset, ts: p.Time}
	if len(t.SrcMAC) == 6 && len(t.DstMAC) == 6 {
		k.hasMAC = true
		copy(k.src[:], t.SrcMAC)
		copy(k.dst[:], t.DstMAC)
	}
	k.t.SrcMAC, k.t.DstMAC, k.t.Payload = nil, nil, nil
	k.payload[0] = len(b.buf)
	b.buf = append(b.buf, t.Payload...)
	k.payload[1] = len(b.buf)
	b.pkts = append(b.pkts, k)
	if len(b.pkts) >= batchPackets || len(b.buf) >= batchBytes-65536 {
		s.flush()
	}
}

// pushEnd hands on the shard's last batch of an input with the end-of-input mark.
func (s *shard) pushEnd(in *Input, tot *inputTotals, more bool) {
	b := s.cur
	if b == nil || b.in != in {
		s.flush()
		b = batchPool.Get().(*batch)
		b.in = in
	}
	b.end = &endMark{in: in, tot: tot, more: more}
	s.cur = b
	s.flush()
}

// pushSettle hands on the shard's current batch with a mark that the shard reports done once it
// has handled every packet given to it so far.
func (s *shard) pushSettle(wg *sync.WaitGroup) {
	b := s.cur
	if b == nil {
		b = batchPool.Get().(*batch)
	}
	b.settled = wg
	s.cur = b
	s.flush()
}

func (s *shard) flush() {
	if s.cur != nil {
		s.in <- s.cur
		s.cur = nil
	}
}

// loop is the shard's goroutine.
func (s *shard) loop() {
	for b := range s.in {
		for i := range b.pkts {
			k := &b.pkts[i]
			t := k.t
			t.Payload = b.buf[k.payload[0]:k.payload[1]]
			if k.hasMAC {
				t.SrcMAC, t.DstMAC = net.HardwareAddr(k.src[:]), net.HardwareAddr(k.dst[:])
			}
			s.safePacket(b.in, k.frame, k.offset, k.ts, &t)
		}
		if b.end != nil {
			s.endInput(b.end.in, b.end.tot, b.end.more)
		}
		if b.settled != nil {
			b.settled.Done()
		}
		b.pkts, b.buf, b.end, b.in, b.settled = b.pkts[:0], b.buf[:0], nil, nil, nil
		batchPool.Put(b)
	}
	s.finish()
}

// safePacket is packet with a guard: a bug met on hostile input in the flow table or an observer
// fails that input, not the run.
func (s *shard) safePacket(in *Input, frame int, offset int64, ts time.Time, t *capture.Transport) {
	defer recoverDecoder(in)
	s.packet(in, frame, offset, ts, t)
}

// expiryEvery is how much capture time passes between two expiry passes.
const expiryEvery = 30 * time.Second

// packet accounts one packet to its flow and delivers its in-order bytes.
func (s *shard) packet(in *Input, frame int, offset int64, ts time.Time, t *capture.Transport) {
	s.input = in
	if ts.After(s.next) {
		s.expire(ts, s.tcpIdle, s.udpIdle)
		s.next = ts.Add(expiryEvery)
	}
	if old := s.ft.Reused(t); old != nil {
		s.ended(old) // a new connection on the same ports: the old flow (and its layer) ends here
	}
	d := s.ft.Add(t, frame, ts)
	if d.NewFlow {
		s.flows++
	}
	if len(d.Payload) > 0 || d.Gap {
		s.chunk = Chunk{Delivery: d, Input: in, Frame: frame, Offset: offset, Time: ts}
		s.deliver(&s.chunk)
	}
}

func (s *shard) deliver(c *Chunk) {
	f := c.Flow
	s.pay.chunk(c, &f.Data[0])
	for i, o := range s.obs {
		o.Chunk(c, &f.Data[1+i])
	}
	if len(s.cfg.Unwrappers) > 0 {
		st := engineState(f)
		s.unwrap(c, st)
		if st.layer != nil {
			s.layers[st] = struct{}{}
		}
	}
}

// expire ends the flows idle since before now-idle.
func (s *shard) expire(now time.Time, tcpIdle, udpIdle time.Duration) {
	for _, f := range s.ft.Expire(now, tcpIdle, udpIdle) {
		s.ended(f)
	}
}

func (s *shard) ended(f *flowtable.Flow) {
	if st, _ := f.Data[0].(*flowState); st != nil && st.layer != nil {
		delete(s.layers, st)
		s.closeLayer(st)
	}
	s.countSkipped(f)
	s.pay.ended(f, &f.Data[0])
	for i, o := range s.obs {
		o.Ended(f, &f.Data[1+i])
	}
}

// countSkipped adds the bytes a flow lost to holes since they were last counted to the current
// input.
func (s *shard) countSkipped(f *flowtable.Flow) {
	n := f.SkippedBytes[0] + f.SkippedBytes[1]
	if n == 0 {
		return // nothing lost: no need for the engine's state (most flows that carried nothing have none)
	}
	st := engineState(f)
	if d := n - st.skipSeen; d > 0 {
		s.skipped += d
		if st.skipSeen == 0 || st.gapInput != s.input {
			s.gaps++
			st.gapInput = s.input
		}
		st.skipSeen = n
	}
}

// endInput closes what belongs to the input that ended: its payload decoders and its counts. more
// says that another capture follows in the run: the opened layers that can continue into it
// (decoders.Continuer) report on this input and stay open.
func (s *shard) endInput(in *Input, tot *inputTotals, more bool) {
	s.input = in
	s.ft.Flush()
	for _, f := range s.ft.Flows() {
		s.countSkipped(f)
	}
	for st := range s.layers {
		switch {
		case st.layer == nil:
			delete(s.layers, st)
		case st.layer.in != in:
		case more && s.parkLayer(st):
			// kept for the next capture: a connection split over rotated files
		default:
			delete(s.layers, st)
			s.closeLayer(st)
		}
	}
	s.pay.endInput(in, more)
	for _, o := range s.obs {
		o.InputEnd(in)
	}
	tot.add(s.flows, s.skipped, s.gaps)
	s.flows, s.skipped, s.gaps = 0, 0, 0
	in.wg.Done()
}

// finish ends every flow at the end of the run.
func (s *shard) finish() {
	s.expire(time.Unix(1<<40, 0), 0, 0)
}

// network describes a chunk's flow for evidence.
func network(c *Chunk) geo.Network {
	f := c.Flow
	src, dst := f.Client, f.Server
	if c.Dir != 0 {
		src, dst = dst, src
	}
	return geo.Network{FlowUID: f.UID(), Proto: f.Proto, Src: src, Dst: dst, Direction: c.Dir}
}
