package quic

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"droneaudit/decoders/tls"
)

// oldTracker is Tracker as it was before it reused its buffers and decrypted in place; the
// differential tests compare the two. It follows the client side of one UDP flow and reassembles the CRYPTO stream of its
// Initial packets until a whole ClientHello is there. Pieces are kept with their offsets and the
// covered ranges are tracked, so CRYPTO frames may arrive in any order, repeated or overlapping,
// in any number of packets and datagrams.
type oldTracker struct {
	dcids   [][]byte // Initial-key candidates: original DCIDs seen in this flow
	keys    map[string]*Keys
	largest int64
	pieces  []CryptoFrame
	stored  int
	done    bool
	hello   *tls.ClientHello
	err     error
	// Version is the QUIC version of the last client Initial decrypted.
	Version uint32
	// Initials counts the client Initial packets decrypted.
	Initials int
}

// NewTracker returns the state for one flow.
func newOldTracker() *oldTracker { return &oldTracker{keys: map[string]*Keys{}, largest: -1} }

// Done reports whether the tracker has finished (with a ClientHello or an error).
func (t *oldTracker) Done() bool { return t.done }

// Result returns the ClientHello found, if any, and the error that ended the search.
func (t *oldTracker) Result() (*tls.ClientHello, error) { return t.hello, t.err }

// ClientDatagram takes one UDP payload sent by the client. It returns the first error of the
// datagram (the rest of the datagram is still tried where the packet boundaries are known) and
// whether the tracker is done.
func (t *oldTracker) ClientDatagram(b []byte) (done bool, err error) {
	if t.done {
		return true, nil
	}
	off := 0
	for off < len(b) && !t.done {
		if b[off]&0x80 == 0 {
			break // a short header packet: the handshake moved on
		}
		h, herr := ParseLongHeader(b[off:])
		if herr != nil {
			shift(herr, off)
			return t.done, herr
		}
		if h.Type == 0 && Supported(h.Version) {
			if ierr := t.initial(b[off:off+h.PacketLen], h); ierr != nil && err == nil {
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

func (t *oldTracker) initial(pkt []byte, h *LongHeader) error {
	// Decrypt a copy: header protection is removed in place.
	work := bytes.Clone(pkt)
	var in *Initial
	var lastErr error
	for _, dcid := range t.candidates(h.DCID) {
		k, err := t.keyFor(h.Version, dcid)
		if err != nil {
			return err
		}
		copy(work, pkt)
		in, lastErr = DecryptInitial(work, h, k, t.largest)
		if lastErr == nil {
			t.remember(dcid)
			break
		}
	}
	if in == nil {
		return lastErr
	}
	t.Version = in.Version
	t.Initials++
	if int64(in.PN) > t.largest {
		t.largest = int64(in.PN)
	}
	frames, ferr := CryptoFrames(in.Payload)
	for _, f := range frames {
		t.add(f)
	}
	t.tryHello()
	return ferr
}

// candidates are the DCIDs whose Initial keys may protect a packet: its own DCID first (a first
// Initial, or one after a Retry), then the original DCIDs of the flow (later Initials carry the
// server's chosen ID but keep the original keys).
func (t *oldTracker) candidates(dcid []byte) [][]byte {
	out := [][]byte{dcid}
	for _, d := range t.dcids {
		if !bytes.Equal(d, dcid) {
			out = append(out, d)
		}
	}
	return out
}

func (t *oldTracker) remember(dcid []byte) {
	for _, d := range t.dcids {
		if bytes.Equal(d, dcid) {
			return
		}
	}
	if len(t.dcids) < maxDCIDs {
		t.dcids = append(t.dcids, bytes.Clone(dcid))
	}
}

func (t *oldTracker) keyFor(v uint32, dcid []byte) (*Keys, error) {
	// The version and the DCID as the key, without fmt: this runs for every Initial datagram.
	var kb [4 + 20]byte
	binary.BigEndian.PutUint32(kb[:4], v)
	id := string(append(kb[:4], dcid...))
	if k, ok := t.keys[id]; ok {
		return k, nil
	}
	k, err := InitialKeys(v, dcid, true)
	if err != nil {
		return nil, err
	}
	if len(t.keys) < 2*maxDCIDs {
		t.keys[id] = k
	}
	return k, nil
}

func (t *oldTracker) add(f CryptoFrame) {
	if len(f.Data) == 0 || f.Offset >= maxCryptoBytes || len(t.pieces) >= maxPieces {
		return
	}
	end := min(f.Offset+uint64(len(f.Data)), maxCryptoBytes)
	data := f.Data[:end-f.Offset]
	if t.stored+len(data) > 2*maxCryptoBytes {
		return
	}
	t.pieces = append(t.pieces, CryptoFrame{Offset: f.Offset, Data: bytes.Clone(data)})
	t.stored += len(data)
}

// contiguous returns the CRYPTO bytes covered without a hole from offset 0.
func (t *oldTracker) contiguous() []byte {
	sort.Slice(t.pieces, func(i, j int) bool { return t.pieces[i].Offset < t.pieces[j].Offset })
	var out []byte
	for _, p := range t.pieces {
		end := p.Offset + uint64(len(p.Data))
		have := uint64(len(out))
		if p.Offset > have {
			break
		}
		if end > have {
			out = append(out, p.Data[have-p.Offset:]...)
		}
	}
	return out
}

func (t *oldTracker) tryHello() {
	s := t.contiguous()
	if len(s) < 4 {
		return
	}
	if s[0] != 1 {
		t.finish(nil, tls.ErrNotClientHello)
		return
	}
	need := 4 + (int(s[1])<<16 | int(s[2])<<8 | int(s[3]))
	if need > maxCryptoBytes {
		t.finish(nil, fmt.Errorf("quic: ClientHello length %d over the limit", need))
		return
	}
	if len(s) >= need {
		ch, err := tls.ParseClientHello(s[:need])
		t.finish(ch, err)
	}
}

func (t *oldTracker) finish(ch *tls.ClientHello, err error) {
	t.done, t.hello, t.err = true, ch, err
	t.pieces, t.keys = nil, nil
}

// oldCryptoFrames is CryptoFrames before it skipped PADDING eight bytes at a time. It lists the CRYPTO frames of a decrypted Initial payload (RFC 9000 §19), skipping
// PADDING, PING and ACK frames. Other frame types end the walk: only those three and CRYPTO and
// CONNECTION_CLOSE are allowed in Initial packets (RFC 9000 §12.4).
func oldCryptoFrames(p []byte) ([]CryptoFrame, error) {
	var out []CryptoFrame
	off := 0
	for off < len(p) {
		typ, next, ok := varint(p, off)
		if !ok {
			return out, &Error{off, "truncated frame type"}
		}
		switch {
		case typ == 0x00 || typ == 0x01:
			off = next
		case typ == 0x02 || typ == 0x03:
			var err error
			if off, err = skipACK(p, next, typ == 0x03); err != nil {
				return out, err
			}
		case typ == 0x06:
			o, n1, ok1 := varint(p, next)
			l, n2, ok2 := varint(p, n1)
			if !ok1 || !ok2 || l > uint64(len(p)-n2) {
				return out, &Error{off, "bad CRYPTO frame"}
			}
			out = append(out, CryptoFrame{Offset: o, Data: p[n2 : n2+int(l)]})
			off = n2 + int(l)
		case typ == 0x1c:
			return out, nil
		default:
			return out, &Error{off, fmt.Sprintf("frame type 0x%x not allowed in an Initial", typ)}
		}
	}
	return out, nil
}
