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
	"net"
	"net/netip"
	"strconv"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// FlowKey identifies a flow regardless of direction: both endpoints as plain words, in a
// canonical order, so that the table's map hashes and compares flat memory (an AddrPort holds a
// pointer for its zone, which costs the map a slower, field-by-field hash). Addresses decoded
// from packets never carry a zone, so the 16-byte form and the bit length (0 for the zero
// Addr, 32, 128) tell them apart.
type FlowKey struct {
	aHi, aLo, bHi, bLo uint64
	// meta: A's port, B's port, the protocol, A's and B's bit lengths.
	meta uint64
}

// endpointKey is one endpoint as words: the 16-byte address, its port and its bit length.
func endpointKey(ap netip.AddrPort) (hi, lo uint64, rest uint32) {
	a := ap.Addr()
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), uint32(ap.Port())<<8 | uint32(a.BitLen())
}

// keyOf is the flow key of a packet between src and dst: the same both ways.
func keyOf(proto netflow.Proto, src, dst netip.AddrPort) FlowKey {
	sHi, sLo, s := endpointKey(src)
	dHi, dLo, d := endpointKey(dst)
	if sHi > dHi || sHi == dHi && (sLo > dLo || sLo == dLo && s > d) {
		sHi, sLo, s, dHi, dLo, d = dHi, dLo, d, sHi, sLo, s
	}
	// Each rest is 24 bits: port and bit length.
	return FlowKey{sHi, sLo, dHi, dLo, uint64(s)<<32 | uint64(d)<<8 | uint64(proto)}
}

// Flow is one bidirectional conversation. The client is the side that sent the first packet seen
// (for TCP, the sender of a lone SYN when the handshake was captured).
type Flow struct {
	Proto netflow.Proto
	// The table's state of the flow, with the fields below up to Data: what Add reads and
	// writes for every packet, in as few cache lines as the fields allow.
	fin      [2]bool
	seqKnown [2]bool
	reasm    [2]bool // this direction is handed to full reassembly
	heldSet  [2]bool
	rst      bool
	reuse    uint32 // how many flows on the same addresses and ports came before (Table.Reused)

	Client       netip.AddrPort
	Server       netip.AddrPort
	Last         time.Time
	Packets      [2]int64
	Bytes        [2]int64 // payload bytes each way
	ClientMAC    string
	ServerMAC    string
	nextSeq      [2]uint32
	heldMin      [2]uint32 // lowest sequence number reassembly holds since it last released bytes
	pos          int       // index in the table's order and idle
	SkippedBytes [2]int64  // TCP bytes lost to gaps, each way
	// Data is free for the owner of the table to attach per-flow state: one slot per observer,
	// sized by the owner (see Table.Slots).
	Data  []any
	slots [5]any // backing of Data for up to five owners (the engine and an audit's observers), saving an allocation per flow

	FirstFrame int
	First      time.Time
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

	uid string
}

// carries reports whether a packet of t belongs to the flow: the same protocol and endpoints,
// either way.
func (f *Flow) carries(t *capture.Transport) bool {
	return t.Proto == f.Proto && (t.Src == f.Client && t.Dst == f.Server || t.Src == f.Server && t.Dst == f.Client)
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

// HasUID reports whether the flow's uid was computed (by UID): a flow that was never named by
// its uid has nothing filed under it.
func (f *Flow) HasUID() bool { return f.uid != "" }

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
	// flows holds the flows by the 64-bit hash of their key (keyHash): a map of 16-byte slots
	// with a one-word key is denser in memory and cheaper to hash than one keyed by the 40-byte
	// FlowKey, and a lookup checks the flow it finds against the key. A key whose hash another
	// flow's key already holds there (by chance, or made so by a hostile capture) goes to over.
	flows map[uint64]*Flow
	over  map[FlowKey]*Flow
	// order holds the flows in order of first appearance, nil where one left the table; idle
	// holds, at the same index, what Expire reads of it (Flow.pos is the index), so that an
	// expiry pass reads one dense array instead of every flow's memory. gone counts the nils.
	order []*Flow
	idle  []idleMark
	// keys holds, at the same index again, each flow's map key: Expire removes the flows it
	// ends by them without reading each flow's addresses (their memory is long out of the CPU's
	// caches by then).
	keys    []FlowKey
	gone    int
	reasm   *reassembler // made at the first hole when reassembly is on
	reasmOn bool         // EnableReassembly was called
	flushed func(Delivery)
	// reuse holds, for the addresses whose flow Reused just ended, the count the next flow on
	// them carries.
	reuse map[FlowKey]uint32
	// macs holds the text of the MAC addresses met so far: a capture has few stations and many
	// flows, and each flow names two. recent holds the last met at each slot (by the
	// address's low bytes), which most flows name again.
	macs   map[[6]byte]string
	recent [16]macText
	// last is the flow of the last packet looked up, which most packets share with the one
	// before; nil after it left the table. absent is a key Reused found no flow for, which Add
	// then need not look up again (absentSet tells it is set).
	last      *Flow
	absent    FlowKey
	absentSet bool
	removed   int // flows removed from the map since it was last made anew (compact)
	// keyBits has a bit set for every key the map holds (and some it held): a key whose bit is
	// clear, such as a new flow's, is not looked up in the map, whose slots are far apart in
	// memory while keyBits stays in the CPU's caches. compact clears the bits of keys gone.
	keyBits *[keyBitWords]uint64
	// Slots is the length of the Data slice each new flow gets.
	Slots int
}

// keyBitWords sizes Table.keyBits: 2^18 bits (32 KiB), a few per flow of a busy capture.
const keyBitWords = 1 << 12

// keyHash mixes the words of a key into one: every word multiplied by its own odd constant,
// so that no two words can trade values without changing it.
func keyHash(key FlowKey) uint64 {
	h := key.aHi*0xd6e8feb86659fd93 ^ key.aLo*0x9e3779b97f4a7c15 ^ key.bHi*0xc2b2ae3d27d4eb4f ^ key.bLo*0x94d049bb133111eb ^ key.meta*0x165667b19e3779f9
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// keyBit is the bit of a key of hash h (keyHash) in Table.keyBits.
func keyBit(h uint64) (word int, bit uint64) {
	h >>= 64 - 18
	return int(h >> 6), 1 << (h & 63)
}

// get returns the flow of key, of hash h, if the table holds one.
func (ft *Table) get(key FlowKey, h uint64) *Flow {
	if f := ft.flows[h]; f != nil && flowKey(f) == key {
		return f
	}
	if len(ft.over) > 0 {
		return ft.over[key]
	}
	return nil
}

// put files a new flow under key, of hash h. The map is only asked whether h is taken when
// the bit of h in keyBits is set: for most new flows it is clear.
func (ft *Table) put(key FlowKey, h uint64, f *Flow) {
	if w, b := keyBit(h); ft.keyBits != nil && ft.keyBits[w]&b != 0 {
		if _, taken := ft.flows[h]; taken {
			if ft.over == nil {
				ft.over = map[FlowKey]*Flow{}
			}
			ft.over[key] = f
			return // h's bit is set already
		}
	}
	ft.flows[h] = f
	ft.markKey(h)
}

// count is how many flows the maps hold.
func (ft *Table) count() int { return len(ft.flows) + len(ft.over) }

func flowKey(f *Flow) FlowKey { return keyOf(f.Proto, f.Client, f.Server) }

// markKey sets the bit of a key the map holds.
func (ft *Table) markKey(h uint64) {
	if ft.keyBits == nil {
		ft.keyBits = new([keyBitWords]uint64)
	}
	w, b := keyBit(h)
	ft.keyBits[w] |= b
}

// lookup returns the flow of a packet of t, if the table holds one, and its key; keyed is false
// (and the key not computed) when the flow was the last one looked up.
func (ft *Table) lookup(t *capture.Transport) (f *Flow, key FlowKey, keyed bool) {
	if f := ft.last; f != nil && f.carries(t) {
		return f, key, false
	}
	key = keyOf(t.Proto, t.Src, t.Dst)
	if ft.absentSet && key == ft.absent {
		return nil, key, true
	}
	h := keyHash(key)
	if w, b := keyBit(h); ft.keyBits == nil || ft.keyBits[w]&b == 0 {
		return nil, key, true
	}
	if f = ft.get(key, h); f != nil {
		ft.last = f
	}
	return f, key, true
}

// remove takes f, of key, out of the flow map.
func (ft *Table) remove(f *Flow, key FlowKey) {
	h := keyHash(key)
	if len(ft.over) == 0 || ft.flows[h] == f {
		delete(ft.flows, h)
	} else {
		delete(ft.over, key)
	}
	ft.removed++
	if ft.last == f {
		ft.last = nil
	}
}

// compact copies the flow map into a new one once more flows left it than it holds: a Go map
// keeps the slots of deleted keys (tombstones), which lengthen every lookup of a key it does
// not hold (each new flow's), and it never shrinks after a burst of flows.
func (ft *Table) compact() {
	if ft.removed <= 2*ft.count()+1024 {
		return
	}
	ft.flows, ft.over, ft.removed = make(map[uint64]*Flow, ft.count()), nil, 0
	if ft.keyBits != nil {
		clear(ft.keyBits[:])
	}
	// The flows the maps held are those in order, with their keys beside them: filed again
	// from these dense arrays, without reading each flow's memory.
	for i, f := range ft.order {
		if f != nil {
			ft.put(ft.keys[i], keyHash(ft.keys[i]), f)
		}
	}
}

// maxMACs bounds the MAC addresses whose text the table keeps; past it, new ones are formatted
// for each flow.
const maxMACs = 4096

type macText struct {
	hw   [6]byte
	text string // "" while the entry is unused
}

// macString is hw.String(), formatted once per address.
func (ft *Table) macString(hw net.HardwareAddr) string {
	if len(hw) != 6 {
		return hw.String()
	}
	k := [6]byte(hw)
	e := &ft.recent[(k[4]^k[5])%byte(len(ft.recent))]
	if e.hw == k && e.text != "" {
		return e.text
	}
	s, ok := ft.macs[k]
	if !ok {
		s = hw.String()
		if len(ft.macs) < maxMACs {
			if ft.macs == nil {
				ft.macs = map[[6]byte]string{}
			}
			ft.macs[k] = s
		}
	}
	*e = macText{k, s}
	return s
}

// New returns an empty table.
func New() *Table { return &Table{flows: map[uint64]*Flow{}} }

// idleMark is what Expire reads of a flow: its last packet's time and which idle time applies.
type idleMark struct {
	last time.Time
	kind idleKind
}

type idleKind uint8

const (
	idleTCP    idleKind = iota // an open TCP flow (or any protocol but UDP): idle
	idleClosed                 // a closed TCP flow: min(idle, ClosedLinger)
	idleUDP                    // udpIdle
	idleGone                   // no flow: it left the table
)

func (f *Flow) idleKind() idleKind {
	switch {
	case f.Proto == netflow.UDP:
		return idleUDP
	case f.Closed():
		return idleClosed
	}
	return idleTCP
}

// Flows returns the flows in order of first appearance.
func (ft *Table) Flows() []*Flow {
	ft.pack()
	return ft.order
}

// drop takes the flow at index i of order out of it, leaving a hole that pack closes.
func (ft *Table) drop(i int) {
	ft.order[i], ft.idle[i] = nil, idleMark{kind: idleGone}
	ft.gone++
}

// pack closes the holes in order and idle, keeping the order of the flows.
func (ft *Table) pack() {
	if ft.gone == 0 {
		return
	}
	n := 0
	for i, f := range ft.order {
		if f == nil {
			continue
		}
		if n != i {
			ft.order[n], ft.idle[n], ft.keys[n] = f, ft.idle[i], ft.keys[i]
			f.pos = n
		}
		n++
	}
	clear(ft.order[n:])
	ft.order, ft.idle, ft.keys, ft.gone = ft.order[:n], ft.idle[:n], ft.keys[:n], 0
}

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
	f, key, keyed := ft.lookup(t)
	if f == nil {
		ft.absent, ft.absentSet = key, true
		return nil
	}
	if f.reasm[0] || f.reasm[1] || !(f.Closed() || f.Bytes[0]+f.Bytes[1] > 0) {
		return nil
	}
	if !keyed {
		key = ft.keys[f.pos]
	}
	ft.remove(f, key)
	ft.absent, ft.absentSet = key, true
	if ft.reuse == nil {
		ft.reuse = map[FlowKey]uint32{}
	}
	ft.reuse[key] = f.reuse + 1
	ft.drop(f.pos)
	return f
}

// Add accounts one packet and returns its in-order payload.
func (ft *Table) Add(t *capture.Transport, frame int, ts time.Time) Delivery {
	f, key, _ := ft.lookup(t)
	ft.absentSet = false
	d := Delivery{}
	if f == nil {
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
		ft.put(key, keyHash(key), f)
		ft.last = f
		f.pos = len(ft.order)
		ft.order = append(ft.order, f)
		ft.idle = append(ft.idle, idleMark{kind: f.idleKind()})
		ft.keys = append(ft.keys, key)
		d.NewFlow = true
	}
	dir := netflow.ClientToServer
	if t.Src != f.Client {
		dir = netflow.ServerToClient
	}
	if dir == netflow.ClientToServer && f.ClientMAC == "" && t.SrcMAC != nil {
		f.ClientMAC, f.ServerMAC = ft.macString(t.SrcMAC), ft.macString(t.DstMAC)
	}
	f.Packets[dir]++
	f.Last = ts
	ft.idle[f.pos].last = ts
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
	if t.TCPFlags&(capture.FlagFIN|capture.FlagRST) != 0 {
		ft.idle[f.pos].kind = f.idleKind()
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

// uidChars is how many base32 characters of the hash a uid keeps (85 bits); uidHashBytes the
// hash bytes they are drawn from, whole 5-byte groups of base32 (RFC 4648 §6).
const (
	uidChars     = 17
	uidHashBytes = 15
)

// flowUID is stable for the same capture: it hashes the flow's addresses and first frame, so
// re-running an audit gives the same uids (Zeek-style "C…" identifiers). The hashed bytes are the
// protocol, each endpoint in netip.AddrPort's binary form, the first frame as 8 bytes big-endian
// and, for a flow that reused ports, its reuse count as 4 bytes: built on the stack, so that the
// only allocation is the uid itself.
func flowUID(f *Flow) string {
	var buf [1 + 2*(16+2) + 8 + 4 + 16]byte // room for two IPv6 endpoints; a zone overflows to the heap
	b := append(buf[:0], byte(f.Proto))
	b, _ = f.Client.AppendBinary(b)
	b, _ = f.Server.AppendBinary(b)
	b = binary.BigEndian.AppendUint64(b, uint64(f.FirstFrame))
	if f.reuse > 0 {
		// A connection reusing the ports of an earlier one (possibly from another capture,
		// starting at the same frame number) is told apart from it.
		b = binary.BigEndian.AppendUint32(b, f.reuse)
	}
	sum := sha256.Sum256(b)
	var enc [24]byte // base32 of uidHashBytes bytes
	uidEncoding.Encode(enc[:], sum[:uidHashBytes])
	var uid [1 + uidChars]byte
	uid[0] = 'C'
	copy(uid[1:], enc[:uidChars])
	return string(uid[:])
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
	// A flow is idle when its last packet came before the cut-off of its kind (now.Sub(f.Last) >
	// limit, without a subtraction per flow).
	var cut [idleGone]time.Time
	cut[idleTCP], cut[idleUDP], cut[idleClosed] = now.Add(-idle), now.Add(-udpIdle), now.Add(-min(idle, ClosedLinger))
	for i := range ft.idle {
		m := &ft.idle[i]
		if m.kind == idleGone || !m.last.Before(cut[m.kind]) {
			continue
		}
		f := ft.order[i]
		gone = append(gone, f)
		ft.remove(f, ft.keys[i])
		ft.drop(i)
	}
	if ft.gone > len(ft.order)/2 {
		ft.pack()
	}
	ft.compact()
	if ft.reasm != nil && len(gone) > 0 {
		ft.reasm.flushOlder(now.Add(-min(idle, udpIdle)))
	}
	return gone
}
