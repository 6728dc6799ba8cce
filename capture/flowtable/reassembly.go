package flowtable

import (
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// Full TCP reassembly for the flows that need it. The flow table delivers TCP payload on an
// in-order fast path; when a segment arrives ahead of the expected sequence number (a hole: a
// reordered or lost segment), that direction of the flow is handed to gopacket's reassembly
// package, which buffers out-of-order and overlapping segments and releases bytes in sequence
// order once the hole is filled (capture-and-performance.md §3.3: reassembly only where needed).

// Bounds of the buffered out-of-order data. A page of gopacket's reassembly holds up to 1,900
// bytes, so this is about 240 KB per flow and 15 MB in all; past it the oldest hole is skipped
// and the skip is reported as a Gap.
const (
	reasmPagesPerConn = 128
	reasmPagesTotal   = 8192
)

type reassembler struct {
	pool *reassembly.StreamPool
	asm  *reassembly.Assembler
	tcp  layers.TCP
	seg  []byte // header + payload handed to the assembler
	// Bytes released during the current Assemble call, per flow direction.
	out [2][]byte
	gap [2]bool
	// flushed receives bytes released by a timeout flush, outside any Add call.
	flushed  func(Delivery)
	flushing bool
}

type reasmFactory struct{ r *reassembler }

func (fa reasmFactory) New(_, _ gopacket.Flow, _ *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	c, ok := ac.(*reasmContext)
	if !ok {
		return &reasmStream{r: fa.r, f: &Flow{}}
	}
	return &reasmStream{r: fa.r, f: c.flow, firstDir: c.dir}
}

// reasmContext carries the packet's time and its flow into the stream callbacks.
type reasmContext struct {
	ci   gopacket.CaptureInfo
	flow *Flow
	dir  netflow.Direction
}

func (c *reasmContext) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

type reasmStream struct {
	r        *reassembler
	f        *Flow
	firstDir netflow.Direction // flow direction of the packet that created the gopacket connection
}

func (s *reasmStream) Accept(tcp *layers.TCP, _ gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, _ reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	// The flow table hands a direction over at a known next sequence number (the hole's start):
	// the stream starts there, SYN or not, and segments ahead of it wait for it.
	d := s.firstDir
	if dir == reassembly.TCPDirServerToClient {
		d = s.firstDir.Reverse()
	}
	*start = tcp.Seq == s.f.nextSeq[d]
	return true
}

func (s *reasmStream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	dir, _, _, skip := sg.Info()
	d := s.firstDir
	if dir == reassembly.TCPDirServerToClient {
		d = s.firstDir.Reverse()
	}
	n, _ := sg.Lengths()
	data := sg.Fetch(n)
	if skip < 0 && len(data) > 0 {
		// gopacket never saw the byte the direction was handed over at (the hole's start), so it
		// cannot say how much was skipped: the first held segment tells.
		if lost := int32(s.f.heldMin[d] - s.f.nextSeq[d]); s.f.heldSet[d] && lost > 0 {
			skip = int(lost)
		}
	}
	s.f.heldSet[d] = false
	if skip > 0 {
		s.f.SkippedBytes[d] += int64(skip)
	}
	s.f.Bytes[d] += int64(len(data))
	if s.r.flushing {
		if s.r.flushed != nil && len(data) > 0 {
			s.r.flushed(Delivery{Flow: s.f, Dir: d, Payload: data, Gap: skip != 0})
		}
		return
	}
	s.r.out[d] = append(s.r.out[d], data...)
	s.r.gap[d] = s.r.gap[d] || skip != 0
}

func (s *reasmStream) ReassemblyComplete(reassembly.AssemblerContext) bool { return true }

func newReassembler() *reassembler {
	r := &reassembler{}
	r.pool = reassembly.NewStreamPool(reasmFactory{r})
	r.asm = reassembly.NewAssembler(r.pool)
	r.asm.MaxBufferedPagesPerConnection = reasmPagesPerConn
	r.asm.MaxBufferedPagesTotal = reasmPagesTotal
	return r
}

// EnableReassembly turns on full reassembly for flow directions that meet a hole. flushed, if
// not nil, receives bytes released when Expire gives up waiting for a hole to fill.
func (ft *Table) EnableReassembly(flushed func(Delivery)) {
	ft.reasmOn, ft.flushed = true, flushed
}

// reassembler returns the table's reassembler, made at the first hole: gopacket's stream pool
// costs megabytes, and most captures (and every small one) never need it.
func (ft *Table) reassembler() *reassembler {
	if ft.reasm == nil {
		ft.reasm = newReassembler()
		ft.reasm.flushed = ft.flushed
	}
	return ft.reasm
}

func endpoints(f *Flow, dir netflow.Direction) (gopacket.Flow, layers.TCPPort, layers.TCPPort) {
	src, dst := f.Client, f.Server
	if dir == netflow.ServerToClient {
		src, dst = dst, src
	}
	et := layers.EndpointIPv4
	if !src.Addr().Is4() {
		et = layers.EndpointIPv6
	}
	return gopacket.NewFlow(et, src.Addr().AsSlice(), dst.Addr().AsSlice()), layers.TCPPort(src.Port()), layers.TCPPort(dst.Port())
}

// assemble feeds one segment of a reassembling direction and returns the bytes it released.
func (r *reassembler) assemble(f *Flow, dir netflow.Direction, seq uint32, flags uint8, payload []byte, ts time.Time) ([]byte, bool) {
	r.out[0], r.out[1] = r.out[0][:0], r.out[1][:0]
	r.gap = [2]bool{}
	if len(payload) > 0 && (!f.heldSet[dir] || int32(seq-f.heldMin[dir]) < 0) {
		f.heldMin[dir], f.heldSet[dir] = seq, true
	}
	nf, sp, dp := endpoints(f, dir)
	// gopacket keys connections by the TCP layer's decoded port bytes, which only
	// DecodeFromBytes sets: build a minimal header (RFC 9293 §3.1) and decode it.
	b := r.seg[:0]
	b = binary.BigEndian.AppendUint16(b, uint16(sp))
	b = binary.BigEndian.AppendUint16(b, uint16(dp))
	b = binary.BigEndian.AppendUint32(b, seq)
	b = append(b, 0, 0, 0, 0, 5<<4, flags&(capture.FlagFIN|capture.FlagRST)|capture.FlagACK, 0xff, 0xff, 0, 0, 0, 0)
	b = append(b, payload...)
	r.seg = b
	if err := r.tcp.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		return nil, false
	}
	r.asm.AssembleWithContext(nf, &r.tcp, &reasmContext{ci: gopacket.CaptureInfo{Timestamp: ts}, flow: f, dir: dir})
	return r.out[dir], r.gap[dir]
}

// Flush releases, with gaps, every byte that full reassembly still holds waiting for a hole to
// fill: at the end of an input nothing may stay behind for decoders that are about to close.
func (ft *Table) Flush() {
	if ft.reasm != nil {
		ft.reasm.flushing = true
		ft.reasm.asm.FlushWithOptions(reassembly.FlushOptions{T: time.Unix(1<<40, 0)})
		ft.reasm.flushing = false
	}
}

// flushOlder releases, with gaps, what flows idle since before t still hold.
func (r *reassembler) flushOlder(t time.Time) {
	r.flushing = true
	r.asm.FlushWithOptions(reassembly.FlushOptions{T: t, TC: t})
	r.flushing = false
}
