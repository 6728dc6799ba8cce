package quic

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Error says where in a datagram decoding stopped.
type Error struct {
	Offset int // byte offset inside the UDP payload
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("quic: offset %d: %s", e.Offset, e.Reason) }

// ErrNotInitial is returned for long-header packets that are not Initial packets.
var ErrNotInitial = errors.New("quic: not an Initial packet")

// Initial is one decrypted Initial packet.
type Initial struct {
	Version uint32
	DCID    []byte
	SCID    []byte
	PN      uint64
	Payload []byte // decrypted frames
}

// Varint reads the QUIC variable-length integer (RFC 9000 §16) at b[off:] and returns it with
// the offset after it; ok is false when b ends inside it. HTTP/3 frames use the same integers.
func Varint(b []byte, off int) (v uint64, next int, ok bool) { return varint(b, off) }

func varint(b []byte, off int) (uint64, int, bool) {
	if off >= len(b) {
		return 0, off, false
	}
	n := 1 << (b[off] >> 6)
	if off+n > len(b) {
		return 0, off, false
	}
	v := uint64(b[off] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[off+i])
	}
	return v, off + n, true
}

// LongHeader is the version-independent part of a long-header packet plus the Initial fields.
type LongHeader struct {
	Version   uint32
	Type      int // version-independent type: 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry
	DCID      []byte
	SCID      []byte
	PNOffset  int // offset of the packet number inside the packet
	PacketLen int // bytes of this packet inside the datagram (coalesced packets follow it)
}

// IsLongHeader reports whether a UDP payload starts with a QUIC long header of a version whose
// Initial packets can be read.
func IsLongHeader(b []byte) bool {
	return len(b) >= 7 && b[0]&0xc0 == 0xc0 && Supported(binary.BigEndian.Uint32(b[1:]))
}

// ParseLongHeader reads the header of the packet at the start of b (RFC 9000 §17.2).
func ParseLongHeader(b []byte) (*LongHeader, error) {
	h := &LongHeader{}
	if err := parseLongHeader(b, h); err != nil {
		return nil, err
	}
	return h, nil
}

// parseLongHeader is ParseLongHeader into a header the caller holds.
func parseLongHeader(b []byte, h *LongHeader) error {
	if len(b) < 7 || b[0]&0x80 == 0 {
		return &Error{0, "not a long header"}
	}
	*h = LongHeader{Version: binary.BigEndian.Uint32(b[1:])}
	raw := int(b[0]>>4) & 3
	if h.Version == Version2 {
		// RFC 9369 §3.2 renumbers the types: Initial 1, 0-RTT 2, Handshake 3, Retry 0.
		h.Type = (raw + 3) & 3
	} else {
		h.Type = raw
	}
	off := 5
	dl := int(b[off])
	off++
	if dl > 20 || off+dl > len(b) {
		return &Error{off - 1, "bad DCID length"}
	}
	h.DCID = b[off : off+dl]
	off += dl
	if off >= len(b) {
		return &Error{off, "truncated before SCID"}
	}
	sl := int(b[off])
	off++
	if sl > 20 || off+sl > len(b) {
		return &Error{off - 1, "bad SCID length"}
	}
	h.SCID = b[off : off+sl]
	off += sl
	if h.Type == 3 || !Supported(h.Version) {
		h.PacketLen = len(b) // a Retry or unknown version runs to the end of the datagram
		return nil
	}
	if h.Type == 0 {
		tl, next, ok := varint(b, off)
		if !ok || tl > uint64(len(b)) || next+int(tl) > len(b) {
			return &Error{off, "bad token length"}
		}
		off = next + int(tl)
	}
	length, next, ok := varint(b, off)
	if !ok {
		return &Error{off, "truncated length"}
	}
	if length > uint64(len(b)-next) {
		return &Error{off, fmt.Sprintf("length %d past the end of the datagram", length)}
	}
	h.PNOffset = next
	h.PacketLen = next + int(length)
	return nil
}

// DecryptInitial removes header protection from the Initial packet at the start of pkt and
// decrypts its payload with k. pkt is modified in place (the header is unprotected). largest is
// the largest packet number seen so far in this space, or -1.
func DecryptInitial(pkt []byte, h *LongHeader, k *Keys, largest int64) (*Initial, error) {
	if h.Type != 0 {
		return nil, ErrNotInitial
	}
	pnOff := h.PNOffset
	pr := k.protection()
	pnLen, trunc, ok := removeHP(pkt, pnOff, h.PacketLen, pr.hp, true)
	if !ok {
		return nil, &Error{pnOff, "packet too short for a header-protection sample"}
	}
	pn := decodePN(largest, trunc, pnLen*8)
	pt, err := pr.open(nil, pkt, pnOff+pnLen, h.PacketLen, pn)
	if err != nil {
		return nil, &Error{pnOff + pnLen, "payload does not authenticate under the Initial keys"}
	}
	return &Initial{Version: h.Version, DCID: h.DCID, SCID: h.SCID, PN: pn, Payload: pt}, nil
}

// openInitial is DecryptInitial of a Type 0 header in place: the payload is decrypted into pkt
// and returned with the packet number, without allocating. pkt's payload is overwritten even
// when it does not authenticate.
func openInitial(pkt []byte, h *LongHeader, k *Keys, largest int64) (pn uint64, payload []byte, err error) {
	pnOff := h.PNOffset
	if pnOff+4+16 > h.PacketLen {
		return 0, nil, &Error{pnOff, "packet too short for a header-protection sample"}
	}
	m := k.Mask(pkt[pnOff+4 : pnOff+20])
	pnLen, trunc := unmask(pkt, pnOff, [5]byte(m[:5]), true)
	pn = decodePN(largest, trunc, pnLen*8)
	hdr := pnOff + pnLen
	var nonce [12]byte
	copy(nonce[:], k.IV)
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(pn >> (56 - 8*i))
	}
	if payload, err = k.aead.Open(pkt[hdr:hdr], nonce[:], pkt[hdr:h.PacketLen], pkt[:hdr]); err != nil {
		return 0, nil, &Error{hdr, "payload does not authenticate under the Initial keys"}
	}
	return pn, payload, nil
}

// skipPadding returns the offset of the first byte at or after off that is not PADDING (zero),
// eight bytes at a time.
func skipPadding(p []byte, off int) int {
	for off+8 <= len(p) && binary.LittleEndian.Uint64(p[off:]) == 0 {
		off += 8
	}
	for off < len(p) && p[off] == 0 {
		off++
	}
	return off
}

// decodePN expands a truncated packet number (RFC 9000 Appendix A.3).
func decodePN(largest int64, truncated uint64, bits int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << bits
	half := win / 2
	mask := win - 1
	cand := (expected &^ mask) | truncated
	switch {
	case cand+half <= expected && cand < (1<<62)-win:
		return cand + win
	case cand > expected+half && cand >= win:
		return cand - win
	}
	return cand
}

// CryptoFrame is the data of one CRYPTO frame.
type CryptoFrame struct {
	Offset uint64
	Data   []byte
}

// CryptoFrames lists the CRYPTO frames of a decrypted Initial payload (RFC 9000 §19), skipping
// PADDING, PING and ACK frames. Other frame types end the walk: only those three and CRYPTO and
// CONNECTION_CLOSE are allowed in Initial packets (RFC 9000 §12.4).
func CryptoFrames(p []byte) ([]CryptoFrame, error) { return cryptoFrames(p, nil) }

// cryptoFrames is CryptoFrames appending to out, so that a caller can reuse one slice.
func cryptoFrames(p []byte, out []CryptoFrame) ([]CryptoFrame, error) {
	off := 0
	for off < len(p) {
		if p[off] == 0x00 {
			off = skipPadding(p, off) // often most of an Initial
			continue
		}
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

func skipACK(p []byte, off int, ecn bool) (int, error) {
	start := off
	var ok bool
	var ranges uint64
	fields := 4 // largest, delay, range count, first range
	for i := 0; i < fields; i++ {
		var v uint64
		if v, off, ok = varint(p, off); !ok {
			return 0, &Error{start, "truncated ACK frame"}
		}
		if i == 2 {
			ranges = v
		}
	}
	if ranges > uint64(len(p)) {
		return 0, &Error{start, "ACK range count past the end"}
	}
	n := int(ranges) * 2
	if ecn {
		n += 3
	}
	for i := 0; i < n; i++ {
		if _, off, ok = varint(p, off); !ok {
			return 0, &Error{start, "truncated ACK ranges"}
		}
	}
	return off, nil
}
