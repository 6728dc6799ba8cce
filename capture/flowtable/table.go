// Package flowtable follows the TCP and UDP flows of a capture in capture order: it tells each
// packet's flow and direction, trims TCP retransmissions, hands directions that meet a hole to full
// reassembly (gopacket's reassembly package), and expires idle flows. It lives apart from package
// capture so that file-format decoders, which import capture for its packet types, do not pull the
// reassembly machinery into their build.
package flowtable

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// FlowKey identifies a flow regardless of direction.
type FlowKey struct {
	Proto netflow.Proto
	A, B  netip.AddrPort // A < B in canonical order
}

func canonical(t *capture.Transport) (FlowKey, bool) {
	if t.Src.Compare(t.Dst) <= 0 {
		return FlowKey{t.Proto, t.Src, t.Dst}, false
	}
	return FlowKey{t.Proto, t.Dst, t.Src}, true
}

// Flow is one bidirectional conversation. The client is the side that sent the first packet seen
// (for TCP, the sender of a lone SYN when the handshake was captured).
type Flow struct {
	Proto        netflow.Proto
	Client       netip.AddrPort
	Server       netip.AddrPort
	ClientMAC    string
	ServerMAC    string
	FirstFrame   int
	First, Last  time.Time
	Packets      [2]int64
	Bytes        [2]int64 // payload bytes each way
	SkippedBytes [2]int64 // TCP bytes lost to gaps, each way
	// Outer is set on an inner flow: the bytes an opened layer (TLS) of the outer flow carried.
	// Layer names that layer.
	Outer *Flow
	Layer string
	// InStream is set on an inner flow that carries one stream of a multi-stream layer (QUIC);
	// StreamID names the stream.
	InStream bool
	StreamID uint64
	// StreamFin says, per direction, that the stream of an InStream flow ended cleanly (its FIN)
	// rather than being reset or cut by the end of its connection or of the capture: set before
	// the chunk that carries the last bytes, or before the flow's end when no bytes came with it.
	StreamFin [2]bool
	// Data is free for the owner of the table to attach per-flow state: one slot per observer,
	// sized by the owner (see Table.Slots).
	Data []any

	uid      string
	slots    [3]any // backing of Data for up to three owners, saving an allocation per flow
	nextSeq  [2]uint32
	seqKnown [2]bool
	reasm    [2]bool   // this direction is handed to full reassembly
	heldMin  [2]uint32 // lowest sequence number reassembly holds since it last released bytes
	heldSet  [2]bool
	fin      [2]bool
	rst      bool
	reuse    uint32 // how many flows on the same addresses and ports came before (Table.Reused)
}

// Closed reports whether the flow ended: a TCP reset, or a FIN each way.
func (f *Flow) Closed() bool { return f.rst || (f.fin[0] && f.fin[1]) }

// UID is the flow's stable identifier, computed on first use: most flows are never named in a
// report, so most never pay for the hash.
func (f *Flow) UID() string {
	if f.uid == "" {
		switch {
		case f.Outer != nil && f.InStream:
			f.uid = f.Outer.UID() + "-" + f.Layer + "-" + strconv.FormatUint(f.StreamID, 10)
		case f.Outer != nil:
			f.uid = f.Outer.UID() + "-" + f.Layer
		default:
			f.uid = flowUID(f)
		}
	}
	return f.uid
}

// Inner returns a flow for the bytes an opened layer of f carries: same endpoints and times,
// its own per-owner slots, not in any table. Its uid is f's with the layer's name appended.
func Inner(f *Flow, layer string, slots int) *Flow {
	in := &Flow{Proto: f.Proto, Client: f.Client, Server: f.Server, ClientMAC: f.ClientMAC, ServerMAC: f.ServerMAC,
		FirstFrame: f.FirstFrame, First: f.First, Last: f.Last, Outer: f, Layer: layer}
	if slots <= len(in.slots) {
		in.Data = in.slots[:slots]
	} else {
		in.Data = make([]any, slots)
	}
	return in
}

// Delivery is what the flow table hands on for one packet: the in-order payload bytes of one
// direction.
type Delivery struct {
	Flow      *Flow
	Dir       netflow.Direction
	Payload   []byte
	Gap       bool // bytes of this direction were lost before Payload
	NewFlow   bool
	Duplicate bool // a retransmission wholly already delivered; Payload is empty
}

// Table follows flows in capture order, delivering TCP payload in sequence order on the fast
// path: a retransmission is trimmed to its new bytes and a hole is skipped and counted (full
// reassembly of out-of-order segments is done by the reassembly stage, not here).
type Table struct {
	flows   map[FlowKey]*Flow
	order   []*Flow
	reasm   *reassembler // made at the first hole when reassembly is on
	reasmOn bool         // EnableReassembly was called
	flushed func(Delivery)
	// reuse holds, for the addresses whose flow Reused just ended, the count the next flow on
	// them carries.
	reuse map[FlowKey]uint32
	// Slots is the length of the Data slice each new flow gets.
	Slots int
}

// New returns an empty table.
func New() *Table { return &Table{flows: map[FlowKey]*Flow{}} }

// Flows returns the flows in order of first appearance.
func (ft *Table) Flows() []*Flow { return ft.order }

// Reused removes and returns the flow a TCP SYN (without ACK) opens anew: the addresses and ports
// of a connection that closed (a FIN each way, or a reset) or that already carried bytes, used
// again by a new connection (a client reusing its port, or two captures of different sessions
// read in one run). The SYN then starts a flow of its own in Add, as tshark's "TCP port numbers
// reused" starts a new stream, rather than running the new connection's bytes on as the old
// one's. A retransmitted SYN (the connection has carried nothing yet) and a flow whose bytes wait
// in reassembly are left alone. It returns nil when the packet opens no new connection.
func (ft *Table) Reused(t *capture.Transport) *Flow {
	if t.Proto != netflow.TCP || t.TCPFlags&(capture.FlagSYN|capture.FlagACK) != capture.FlagSYN {
		return nil
	}
	key, _ := canonical(t)
	f := ft.flows[key]
	if f == nil || f.reasm[0] || f.reasm[1] || !(f.Closed() || f.Bytes[0]+f.Bytes[1] > 0) {
		return nil
	}
	delete(ft.flows, key)
	if ft.reuse == nil {
		ft.reuse = map[FlowKey]uint32{}
	}
	ft.reuse[key] = f.reuse + 1
	if i := slices.Index(ft.order, f); i >= 0 {
		ft.order = slices.Delete(ft.order, i, i+1)
	}
	return f
}

// Add accounts one packet and returns its in-order payload.
func (ft *Table) Add(t *capture.Transport, frame int, ts time.Time) Delivery {
	key, _ := canonical(t)
	f, ok := ft.flows[key]
	d := Delivery{}
	if !ok {
		f = &Flow{Proto: t.Proto, Client: t.Src, Server: t.Dst, FirstFrame: frame, First: ts}
		if n, ok := ft.reuse[key]; ok {
			f.reuse = n
			delete(ft.reuse, key)
		}
		// A SYN+ACK seen first means the server spoke first in the capture.
		if t.Proto == netflow.TCP && t.TCPFlags&(capture.FlagSYN|capture.FlagACK) == capture.FlagSYN|capture.FlagACK {
			f.Client, f.Server = t.Dst, t.Src
		}
		if ft.Slots <= len(f.slots) {
			f.Data = f.slots[:ft.Slots]
		} else {
			f.Data = make([]any, ft.Slots)
		}
		ft.flows[key] = f
		ft.order = append(ft.order, f)
		d.NewFlow = true
	}
	dir := netflow.ClientToServer
	if t.Src != f.Client {
		dir = netflow.ServerToClient
	}
	if dir == netflow.ClientToServer && f.ClientMAC == "" && t.SrcMAC != nil {
		f.ClientMAC, f.ServerMAC = t.SrcMAC.String(), t.DstMAC.String()
	}
	f.Packets[dir]++
	f.Last = ts
	d.Flow, d.Dir = f, dir
	if t.Proto != netflow.TCP {
		f.Bytes[dir] += int64(len(t.Payload))
		d.Payload = t.Payload
		return d
	}
	return ft.tcp(f, dir, t, d)
}

func (ft *Table) tcp(f *Flow, dir netflow.Direction, t *capture.Transport, d Delivery) Delivery {
	seq := t.Seq
	if t.TCPFlags&capture.FlagSYN != 0 {
		seq++ // the SYN occupies one sequence number
		f.nextSeq[dir], f.seqKnown[dir] = seq, true
	}
	if t.TCPFlags&capture.FlagFIN != 0 {
		f.fin[dir] = true
	}
	if t.TCPFlags&capture.FlagRST != 0 {
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
		// Retransmission or overlap: keep only the new bytes. Negate in 64 bits: -diff overflows
		// int32 for a segment exactly 2^31 bytes behind (a fuzz finding).
		old := -int64(diff)
		if old >= int64(len(p)) {
			d.Duplicate = true
			return d
		}
		p = p[old:]
	case diff > 0:
		if ft.reasmOn {
			// A hole: hand this direction to full reassembly from the expected byte on.
			f.reasm[dir] = true
			d.Payload, d.Gap = ft.reassembler().assemble(f, dir, seq, t.TCPFlags, p, f.Last)
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
	h.Write([]byte{byte(f.Proto)})
	b, _ := f.Client.MarshalBinary()
	h.Write(b)
	b, _ = f.Server.MarshalBinary()
	h.Write(b)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(f.FirstFrame))
	h.Write(n[:])
	if f.reuse > 0 {
		// A connection reusing the ports of an earlier one (possibly from another capture,
		// starting at the same frame number) is told apart from it.
		binary.BigEndian.PutUint32(n[:4], f.reuse)
		h.Write(n[:4])
	}
	return "C" + uidEncoding.EncodeToString(h.Sum(nil))[:17]
}

// ClosedLinger is how long a closed TCP flow (FIN both ways, or RST) stays in the table to
// collect late retransmissions and ACKs before Expire ends it.
const ClosedLinger = 5 * time.Second

// Expire ends the flows idle since before now-idle (UDP flows after udpIdle, closed TCP flows
// after ClosedLinger), removes them from the table and returns them, so a later packet with the
// same addresses starts a new flow. Bytes that full reassembly still held for them are released
// with a gap first.
func (ft *Table) Expire(now time.Time, idle, udpIdle time.Duration) []*Flow {
	var gone []*Flow
	kept := ft.order[:0]
	for _, f := range ft.order {
		limit := idle
		if f.Proto == netflow.UDP {
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
	k, _ := canonical(&capture.Transport{Proto: f.Proto, Src: f.Client, Dst: f.Server})
	return k
}
