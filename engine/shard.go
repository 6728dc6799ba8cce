package engine

import (
	"encoding/binary"
	"math"
	"net"
	"net/netip"
	"sync"
	"time"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// A shard follows the flows whose endpoints hash to it: its own flow table with reassembly, the
// payload decoders of those flows, and each observer's part. The reader goroutine records each
// packet's transport view in the shard's current batch; batches travel over a channel. A payload
// stays in the capture reader's buffer, which the batch holds (capture.Buffer) until the shard is
// through with it, so the reader never writes it meanwhile; a payload outside the reader's
// buffers is copied into the batch.

// pkt is one packet's transport view, copied out of the reader's buffer into a compact record
// with no pointers: the batch's records are then a plain block of memory that the reader fills
// without write barriers and the garbage collector does not scan. loop turns it back into the
// capture.Transport the reader decoded (the addresses by their 16-byte form and kind, the time
// by its Unix seconds and nanoseconds: the reader's times are UTC without a monotonic reading).
type pkt struct {
	frame        int
	offset       int64
	sec          int64
	nsec         int32
	payload      [2]int32 // start, end in the batch buffer, or in its held read buffer (pktHeld)
	seq          uint32
	sport, dport uint16
	src, dst     [16]byte
	smac, dmac   [6]byte
	proto        netflow.Proto
	flags        uint8
	kind         uint8 // pktSrc4, pktDst4, pktSrcValid, pktDstValid, pktMAC, pktHeld
}

// Bits of pkt.kind.
const (
	pktSrc4     = 1 << iota // the address is IPv4 (else IPv6)
	pktDst4                 //
	pktSrcValid             // the address is not the zero netip.Addr
	pktDstValid             //
	pktMAC                  // the frame had 6-byte MAC addresses
	pktHeld                 // the payload is in the batch's held read buffer, not copied
)

// addrKind returns a's bits of pkt.kind (is4, valid) shifted by which (0 for src, 1 for dst).
func addrKind(a netip.Addr, which uint) uint8 {
	var k uint8
	if a.IsValid() {
		k |= pktSrcValid << which
	}
	if a.Is4() {
		k |= pktSrc4 << which
	}
	return k
}

// pktAddr rebuilds an address from its 16-byte form and its bits of pkt.kind.
func pktAddr(b *[16]byte, kind uint8, which uint) netip.Addr {
	switch {
	case kind&(pktSrcValid<<which) == 0:
		return netip.Addr{}
	case kind&(pktSrc4<<which) != 0:
		return netip.AddrFrom4([4]byte(b[12:16]))
	}
	return netip.AddrFrom16(*b)
}

// record fills k from the packet and its transport view, all but the payload.
func (k *pkt) record(p *capture.Packet, t *capture.Transport) {
	src, dst := t.Src.Addr(), t.Dst.Addr()
	*k = pkt{frame: p.Frame, offset: p.Offset, sec: p.Time.Unix(), nsec: int32(p.Time.Nanosecond()),
		seq: t.Seq, sport: t.Src.Port(), dport: t.Dst.Port(), src: src.As16(), dst: dst.As16(),
		proto: t.Proto, flags: t.TCPFlags, kind: addrKind(src, 0) | addrKind(dst, 1)}
	if len(t.SrcMAC) == 6 && len(t.DstMAC) == 6 {
		k.kind |= pktMAC
		k.smac, k.dmac = [6]byte(t.SrcMAC), [6]byte(t.DstMAC)
	}
}

// transport rebuilds the capture.Transport of k, with its payload in b. The MAC slices point
// into k.
func (k *pkt) transport(b *batch) capture.Transport {
	buf := b.buf
	if k.kind&pktHeld != 0 {
		buf = b.held.Bytes()
	}
	t := capture.Transport{
		Proto:    k.proto,
		Src:      netip.AddrPortFrom(pktAddr(&k.src, k.kind, 0), k.sport),
		Dst:      netip.AddrPortFrom(pktAddr(&k.dst, k.kind, 1), k.dport),
		TCPFlags: k.flags,
		Seq:      k.seq,
		Payload:  buf[k.payload[0]:k.payload[1]],
	}
	if k.kind&pktMAC != 0 {
		t.SrcMAC, t.DstMAC = net.HardwareAddr(k.smac[:]), net.HardwareAddr(k.dmac[:])
	}
	return t
}

type batch struct {
	in   *Input
	pkts []pkt
	buf  []byte
	// held is the capture reader's buffer the payloads of pktHeld packets lie in (one per batch),
	// held until the shard is through with the batch: the payload is not copied.
	held *capture.Buffer
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

// A batch's buffer starts small: most payloads stay in the reader's buffers (batch.held) and only
// the others are copied into it.
var batchPool = sync.Pool{New: func() any {
	return &batch{pkts: make([]pkt, 0, batchPackets), buf: make([]byte, 0, 64<<10)}
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

// mix16 hashes one endpoint, an address in its 16-byte form (netip.Addr.As16) and a port. A
// flow's shard is the sum of its two endpoints' mixes (order-independent) and its protocol, so
// both directions meet in one shard; it runs once per packet on the reader goroutine.
func mix16(b *[16]byte, port uint16) uint64 {
	x := binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:])*0xc2b2ae3d27d4eb4f
	x ^= uint64(port) * 0x165667b19e3779f9
	x ^= x >> 29
	return x * 0xbf58476d1ce4e5b9
}

// shard returns the shard of the packet k records, one of n.
func (k *pkt) shard(n int) int {
	h := mix16(&k.src, k.sport) + mix16(&k.dst, k.dport) + uint64(k.proto)
	return int((h >> 33) % uint64(n))
}

// push appends the packet k records to the shard's current batch (reader goroutine). Its
// payload is left in place when it lies in rbuf, the capture reader's buffer the packet was read
// into (nil if none), which the batch then holds; otherwise it is copied into the batch.
func (s *shard) push(in *Input, k *pkt, payload []byte, rbuf *capture.Buffer) {
	b := s.batchOf(in)
	if off, ok := heldOffset(rbuf, payload); ok {
		if b.held != rbuf {
			if b.held != nil { // one read buffer per batch
				s.flush()
				b = s.batchOf(in)
			}
			rbuf.Hold()
			b.held = rbuf
		}
		k.payload = [2]int32{int32(off), int32(off + len(payload))}
		k.kind |= pktHeld
	} else {
		k.payload[0] = int32(len(b.buf))
		b.buf = append(b.buf, payload...)
		k.payload[1] = int32(len(b.buf))
	}
	b.pkts = append(b.pkts, *k)
	if len(b.pkts) >= batchPackets || len(b.buf) >= batchBytes-65536 {
		s.flush()
	}
}

// heldOffset returns where payload lies in the read buffer rbuf, ok false when it does not lie
// there (or rbuf is nil).
func heldOffset(rbuf *capture.Buffer, payload []byte) (int, bool) {
	if rbuf == nil {
		return 0, false
	}
	off, ok := capture.SliceOffset(rbuf.Bytes(), payload)
	return off, ok && off+len(payload) <= math.MaxInt32
}

// batchOf returns the shard's current batch, a new one when there is none or it is of another
// input.
func (s *shard) batchOf(in *Input) *batch {
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
	return b
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
			t := k.transport(b)
			s.safePacket(b.in, k.frame, k.offset, time.Unix(k.sec, int64(k.nsec)).UTC(), &t)
		}
		if b.end != nil {
			s.endInput(b.end.in, b.end.tot, b.end.more)
		}
		if b.settled != nil {
			b.settled.Done()
		}
		if b.held != nil {
			b.held.Release()
		}
		b.pkts, b.buf, b.end, b.in, b.settled, b.held = b.pkts[:0], b.buf[:0], nil, nil, nil, nil
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
