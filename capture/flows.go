package capture

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"net/netip"
	"time"
)

// Direction of a segment within its flow.
const (
	ClientToServer = 0
	ServerToClient = 1
)

// FlowKey identifies a flow regardless of direction.
type FlowKey struct {
	Proto uint8
	A, B  netip.AddrPort // A < B in canonical order
}

func canonical(t *Transport) (FlowKey, bool) {
	if t.Src.Compare(t.Dst) <= 0 {
		return FlowKey{t.Proto, t.Src, t.Dst}, false
	}
	return FlowKey{t.Proto, t.Dst, t.Src}, true
}

// Flow is one bidirectional conversation. The client is the side that sent the first packet seen
// (for TCP, the sender of a lone SYN when the handshake was captured).
type Flow struct {
	UID          string
	Proto        uint8
	Client       netip.AddrPort
	Server       netip.AddrPort
	ClientMAC    string
	ServerMAC    string
	FirstFrame   int
	First, Last  time.Time
	Packets      [2]int64
	Bytes        [2]int64 // payload bytes each way
	SkippedBytes [2]int64 // TCP bytes lost to gaps, each way
	// Data is free for the owner of the table to attach per-flow state (e.g. decoders).
	Data any

	nextSeq  [2]uint32
	seqKnown [2]bool
	reasm    [2]bool // this direction is handed to full reassembly
	fin      [2]bool
	rst      bool
}

// Closed reports whether the flow ended: a TCP reset, or a FIN each way.
func (f *Flow) Closed() bool { return f.rst || (f.fin[0] && f.fin[1]) }

// ProtoName returns "tcp" or "udp".
func (f *Flow) ProtoName() string {
	if f.Proto == ProtoTCP {
		return "tcp"
	}
	return "udp"
}

// Delivery is what the flow table hands on for one packet: the in-order payload bytes of one
// direction.
type Delivery struct {
	Flow      *Flow
	Dir       int
	Payload   []byte
	Gap       bool // bytes of this direction were lost before Payload
	NewFlow   bool
	Duplicate bool // a retransmission wholly already delivered; Payload is empty
}

// FlowTable follows flows in capture order, delivering TCP payload in sequence order on the fast
// path: a retransmission is trimmed to its new bytes and a hole is skipped and counted (full
// reassembly of out-of-order segments is done by the reassembly stage, not here).
type FlowTable struct {
	flows map[FlowKey]*Flow
	order []*Flow
	reasm *reassembler // nil: fast path only
}

// NewFlowTable returns an empty table.
func NewFlowTable() *FlowTable { return &FlowTable{flows: map[FlowKey]*Flow{}} }

// Flows returns the flows in order of first appearance.
func (ft *FlowTable) Flows() []*Flow { return ft.order }

// Add accounts one packet and returns its in-order payload.
func (ft *FlowTable) Add(t *Transport, frame int, ts time.Time) Delivery {
	key, _ := canonical(t)
	f, ok := ft.flows[key]
	d := Delivery{}
	if !ok {
		f = &Flow{Proto: t.Proto, Client: t.Src, Server: t.Dst, FirstFrame: frame, First: ts}
		// A SYN+ACK seen first means the server spoke first in the capture.
		if t.Proto == ProtoTCP && t.TCPFlags&(FlagSYN|FlagACK) == FlagSYN|FlagACK {
			f.Client, f.Server = t.Dst, t.Src
		}
		f.UID = flowUID(f)
		ft.flows[key] = f
		ft.order = append(ft.order, f)
		d.NewFlow = true
	}
	dir := ClientToServer
	if t.Src != f.Client {
		dir = ServerToClient
	}
	if dir == ClientToServer && f.ClientMAC == "" && t.SrcMAC != nil {
		f.ClientMAC, f.ServerMAC = t.SrcMAC.String(), t.DstMAC.String()
	}
	f.Packets[dir]++
	f.Last = ts
	d.Flow, d.Dir = f, dir
	if t.Proto != ProtoTCP {
		f.Bytes[dir] += int64(len(t.Payload))
		d.Payload = t.Payload
		return d
	}
	return ft.tcp(f, dir, t, d)
}

func (ft *FlowTable) tcp(f *Flow, dir int, t *Transport, d Delivery) Delivery {
	seq := t.Seq
	if t.TCPFlags&FlagSYN != 0 {
		seq++ // the SYN occupies one sequence number
		f.nextSeq[dir], f.seqKnown[dir] = seq, true
	}
	if t.TCPFlags&FlagFIN != 0 {
		f.fin[dir] = true
	}
	if t.TCPFlags&FlagRST != 0 {
		f.rst = true
	}
	p := t.Payload
	if f.reasm[dir] {
		out, gap := ft.reasm.assemble(f, dir, seq, t.TCPFlags, p, f.Last)
		d.Payload, d.Gap = out, gap
		return d
	}
	if len(p) == 0 {
		return d
	}
	if !f.seqKnown[dir] {
		// Joined mid-stream: take this segment as the start.
		f.nextSeq[dir], f.seqKnown[dir] = seq, true
	}
	diff := int32(seq - f.nextSeq[dir])
	switch {
	case diff < 0:
		// Retransmission or overlap: keep only the new bytes.
		old := int64(-diff)
		if old >= int64(len(p)) {
			d.Duplicate = true
			return d
		}
		p = p[old:]
	case diff > 0:
		if ft.reasm != nil {
			// A hole: hand this direction to full reassembly from the expected byte on.
			f.reasm[dir] = true
			d.Payload, d.Gap = ft.reasm.assemble(f, dir, seq, t.TCPFlags, p, f.Last)
			return d
		}
		f.SkippedBytes[dir] += int64(diff)
		d.Gap = true
	}
	// In every kept case the segment ends past what was delivered before.
	f.nextSeq[dir] = seq + uint32(len(t.Payload))
	f.Bytes[dir] += int64(len(p))
	d.Payload = p
	return d
}

var uidEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// flowUID is stable for the same capture: it hashes the flow's addresses and first frame, so
// re-running an audit gives the same uids (Zeek-style "C…" identifiers).
func flowUID(f *Flow) string {
	h := sha256.New()
	h.Write([]byte{f.Proto})
	b, _ := f.Client.MarshalBinary()
	h.Write(b)
	b, _ = f.Server.MarshalBinary()
	h.Write(b)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(f.FirstFrame))
	h.Write(n[:])
	return "C" + uidEncoding.EncodeToString(h.Sum(nil))[:17]
}

// ClosedLinger is how long a closed TCP flow (FIN both ways, or RST) stays in the table to
// collect late retransmissions and ACKs before Expire ends it.
const ClosedLinger = 5 * time.Second

// Expire ends the flows idle since before now-idle (UDP flows after udpIdle, closed TCP flows
// after ClosedLinger), removes them from the table and returns them, so a later packet with the
// same addresses starts a new flow. Bytes that full reassembly still held for them are released
// with a gap first.
func (ft *FlowTable) Expire(now time.Time, idle, udpIdle time.Duration) []*Flow {
	var gone []*Flow
	kept := ft.order[:0]
	for _, f := range ft.order {
		limit := idle
		if f.Proto == ProtoUDP {
			limit = udpIdle
		} else if f.Closed() {
			limit = min(idle, ClosedLinger)
		}
		if now.Sub(f.Last) > limit {
			gone = append(gone, f)
			delete(ft.flows, flowKey(f))
			continue
		}
		kept = append(kept, f)
	}
	clear(ft.order[len(kept):])
	ft.order = kept
	if ft.reasm != nil && len(gone) > 0 {
		ft.reasm.flushOlder(now.Add(-min(idle, udpIdle)))
	}
	return gone
}

func flowKey(f *Flow) FlowKey {
	k, _ := canonical(&Transport{Proto: f.Proto, Src: f.Client, Dst: f.Server})
	return k
}
