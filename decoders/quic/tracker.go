package quic

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"

	"droneaudit/decoders/tls"
)

// Bounds of the per-connection state: a ClientHello is a few KB; more than this is hostile.
const (
	maxCryptoBytes = 64 << 10
	maxPieces      = 256
	maxDCIDs       = 4
)

// Tracker follows the client side of one UDP flow and reassembles the CRYPTO stream of its
// Initial packets until a whole ClientHello is there. Pieces are kept with their offsets and the
// covered ranges are tracked, so CRYPTO frames may arrive in any order, repeated or overlapping,
// in any number of packets and datagrams.
type Tracker struct {
	dcids   [][]byte     // Initial-key candidates: original DCIDs seen in this flow
	keys    []initialKey // keys derived so far, at most 2*maxDCIDs
	largest int64
	pieces  []CryptoFrame
	// stream holds the pieces' data, end to end in the order they came: while every piece so
	// far began where the one before ended (the common case) it is the contiguous stream,
	// without sorting or copying. Once a piece comes out of order, scattered is set and the
	// pieces are sorted and joined as they come.
	stream    []byte
	streamBox *[]byte // the pooled buffer stream started in, given back when the tracker finishes
	scattered bool
	first     [4]CryptoFrame // room for the first pieces, without an allocation
	frames    []CryptoFrame  // the CRYPTO frames of the packet at hand, reused
	stored    int
	done      bool
	hello     *tls.ClientHello
	err       error
	// Version is the QUIC version of the last client Initial decrypted.
	Version uint32
	// Initials counts the client Initial packets decrypted.
	Initials int
	// Parser, when set, parses the ClientHello (see tls.HelloParser): Result's hello is then
	// valid until the parser's next use.
	Parser *tls.HelloParser
}

// initialKey is the Initial keys of one version and DCID.
type initialKey struct {
	version uint32
	dcid    [20]byte
	n       int
	keys    *Keys
}

// NewTracker returns the state for one flow.
func NewTracker() *Tracker {
	t := &Tracker{largest: -1}
	t.pieces = t.first[:0]
	return t
}

// Done reports whether the tracker has finished (with a ClientHello or an error).
func (t *Tracker) Done() bool { return t.done }

// Result returns the ClientHello found, if any, and the error that ended the search.
func (t *Tracker) Result() (*tls.ClientHello, error) { return t.hello, t.err }

// ClientDatagram takes one UDP payload sent by the client. It returns the first error of the
// datagram (the rest of the datagram is still tried where the packet boundaries are known) and
// whether the tracker is done.
func (t *Tracker) ClientDatagram(b []byte) (done bool, err error) {
	if t.done {
		return true, nil
	}
	off := 0
	var h LongHeader
	for off < len(b) && !t.done {
		if b[off]&0x80 == 0 {
			break // a short header packet: the handshake moved on
		}
		if herr := parseLongHeader(b[off:], &h); herr != nil {
			shift(herr, off)
			return t.done, herr
		}
		if h.Type == 0 && Supported(h.Version) {
			if ierr := t.initial(b[off:off+h.PacketLen], &h); ierr != nil && err == nil {
				shift(ierr, off)
				err = ierr
			}
		}
		if h.PacketLen <= 0 {
			break
		}
		off += h.PacketLen
	}
	return t.done, err
}

func shift(err error, by int) {
	var qe *Error
	if errors.As(err, &qe) {
		qe.Offset += by
	}
}

// workPool holds the buffers Initial packets are decrypted in: a flow has one or two Initials to
// read, so a buffer per flow would be an allocation per packet.
var workPool = sync.Pool{New: func() any { return new([]byte) }}

// streamPool holds CRYPTO stream buffers: most flows reach their hello and finish, and each
// would otherwise take a new buffer of a hello's size.
var streamPool = sync.Pool{New: func() any { return new([]byte) }}

func (t *Tracker) initial(pkt []byte, h *LongHeader) error {
	// Decrypt a copy, in place: header protection is removed and the payload opened in it.
	bp := workPool.Get().(*[]byte)
	defer workPool.Put(bp)
	work := slices.Grow((*bp)[:0], len(pkt))[:len(pkt)] // each candidate copies pkt in
	*bp = work
	var payload []byte
	var pn uint64
	var lastErr error
	opened := false
	// The packet's own DCID first (a first Initial, or one after a Retry), then the original
	// DCIDs of the flow (later Initials carry the server's chosen ID but keep the original keys).
	for i := -1; i < len(t.dcids); i++ {
		dcid := h.DCID
		if i >= 0 {
			if dcid = t.dcids[i]; bytes.Equal(dcid, h.DCID) {
				continue
			}
		}
		k, err := t.keyFor(h.Version, dcid)
		if err != nil {
			return err
		}
		copy(work, pkt)
		if pn, payload, lastErr = openInitial(work, h, k, t.largest); lastErr == nil {
			t.remember(dcid)
			opened = true
			break
		}
	}
	if !opened {
		return lastErr
	}
	t.Version = h.Version
	t.Initials++
	if int64(pn) > t.largest {
		t.largest = int64(pn)
	}
	var ferr error
	t.frames, ferr = cryptoFrames(payload, t.frames[:0])
	for _, f := range t.frames {
		t.add(f) // copies the data out of the work buffer
	}
	clear(t.frames)
	t.tryHello()
	return ferr
}

func (t *Tracker) remember(dcid []byte) {
	for _, d := range t.dcids {
		if bytes.Equal(d, dcid) {
			return
		}
	}
	if len(t.dcids) < maxDCIDs {
		t.dcids = append(t.dcids, bytes.Clone(dcid))
	}
}

func (t *Tracker) keyFor(v uint32, dcid []byte) (*Keys, error) {
	for i := range t.keys {
		if k := &t.keys[i]; k.version == v && bytes.Equal(k.dcid[:k.n], dcid) {
			return k.keys, nil
		}
	}
	k, err := InitialKeys(v, dcid, true)
	if err != nil {
		return nil, err
	}
	if len(t.keys) < 2*maxDCIDs && len(dcid) <= 20 {
		e := initialKey{version: v, n: len(dcid), keys: k}
		copy(e.dcid[:], dcid)
		t.keys = append(t.keys, e)
	}
	return k, nil
}

func (t *Tracker) add(f CryptoFrame) {
	if len(f.Data) == 0 || f.Offset >= maxCryptoBytes || len(t.pieces) >= maxPieces {
		return
	}
	end := min(f.Offset+uint64(len(f.Data)), maxCryptoBytes)
	data := f.Data[:end-f.Offset]
	if t.stored+len(data) > 2*maxCryptoBytes {
		return
	}
	if t.scattered || f.Offset != uint64(len(t.stream)) {
		t.scattered = true
	}
	if t.stream == nil {
		size := max(len(data), 2048) // a ClientHello with a post-quantum key share is about 1.8 KB
		if f.Offset == 0 && len(data) >= 4 && data[0] == 1 {
			// The hello's own length: its later pieces are joined without growing.
			size = max(len(data), min(maxCryptoBytes, 4+(int(data[1])<<16|int(data[2])<<8|int(data[3]))))
		}
		t.streamBox = streamPool.Get().(*[]byte)
		if cap(*t.streamBox) < size {
			*t.streamBox = make([]byte, 0, max(size, 2048))
		}
		t.stream = (*t.streamBox)[:0]
	}
	// Appended, the data is copied out of the packet; a piece keeps pointing at its bytes
	// when the buffer grows into a new array.
	t.stream = append(t.stream, data...)
	data = t.stream[len(t.stream)-len(data):]
	t.pieces = append(t.pieces, CryptoFrame{Offset: f.Offset, Data: data})
	t.stored += len(data)
}

// covered returns how many CRYPTO bytes from offset 0 are there without a hole; scattered
// pieces must be sorted by offset first.
func (t *Tracker) covered() int {
	if !t.scattered {
		return len(t.stream)
	}
	var have uint64
	for _, p := range t.pieces {
		if p.Offset > have {
			break
		}
		have = max(have, p.Offset+uint64(len(p.Data)))
	}
	return int(have)
}

// join appends to dst the first n contiguous CRYPTO bytes (n ≤ covered()): where scattered
// pieces overlap, the first in offset order gives the bytes. In order, the stream itself is
// returned.
func (t *Tracker) join(dst []byte, n int) []byte {
	if !t.scattered {
		return t.stream[:n]
	}
	for _, p := range t.pieces {
		have := uint64(len(dst))
		if have >= uint64(n) || p.Offset > have {
			break
		}
		if end := p.Offset + uint64(len(p.Data)); end > have {
			dst = append(dst, p.Data[have-p.Offset:min(end, uint64(n))-p.Offset]...)
		}
	}
	return dst
}

func byOffset(a, b CryptoFrame) int { return cmp.Compare(a.Offset, b.Offset) }

func (t *Tracker) tryHello() {
	if t.scattered {
		// slices.SortFunc and sort.Slice share their algorithm (sort/gen_sort_variants.go):
		// equal offsets end in the order they did before, without sort.Slice's allocation.
		slices.SortFunc(t.pieces, byOffset)
	}
	have := t.covered()
	if have < 4 {
		return
	}
	var hb [4]byte
	s := t.join(hb[:0], 4)
	if s[0] != 1 {
		t.finish(nil, tls.ErrNotClientHello)
		return
	}
	need := 4 + (int(s[1])<<16 | int(s[2])<<8 | int(s[3]))
	if need > maxCryptoBytes {
		t.finish(nil, fmt.Errorf("quic: ClientHello length %d over the limit", need))
		return
	}
	if have >= need {
		// Joined only once whole, in a pooled buffer: the parsed hello points into no part of
		// it.
		bp := workPool.Get().(*[]byte)
		defer workPool.Put(bp)
		msg := t.join((*bp)[:0], need)
		if t.scattered && cap(msg) > cap(*bp) { // in order, msg is the stream, which has a pool of its own
			*bp = msg[:0]
		}
		var ch *tls.ClientHello
		var err error
		if t.Parser != nil {
			ch, err = t.Parser.Parse(msg)
		} else {
			ch, err = tls.ParseClientHello(msg)
		}
		t.finish(ch, err)
	}
}

func (t *Tracker) finish(ch *tls.ClientHello, err error) {
	t.done, t.hello, t.err = true, ch, err
	if t.streamBox != nil {
		// The hello points into no part of the stream, and the pieces that do go now.
		if cap(t.stream) <= maxCryptoBytes {
			*t.streamBox = t.stream[:0]
		}
		streamPool.Put(t.streamBox)
		t.streamBox = nil
	}
	t.pieces, t.keys, t.stream, t.frames = nil, nil, nil, nil
	t.first = [4]CryptoFrame{}
}
