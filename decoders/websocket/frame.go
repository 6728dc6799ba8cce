// Package websocket reads the messages of a WebSocket connection (RFC 6455) from the two byte
// streams that follow an HTTP Upgrade: frame headers, masking, fragmentation with control frames
// between the fragments, and the close handshake; messages compressed with permessage-deflate
// (RFC 7692) are inflated into a bounded output. DJI's Cloud API carries MQTT over WebSocket and
// pushes device_osd to the pilot's browser over it (dji-network.md §4.1, §4.4).
//
// A frame's 64-bit length is checked against the bound before a byte of it is kept; a message
// larger than the bound is kept cut and marked. WebSocket has no marker to find frames again
// after damage, so a protocol error or a lost segment ends the direction; its messages before
// stand.
package websocket

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Opcode is a frame's opcode (RFC 6455 §5.2).
type Opcode byte

// Opcodes.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String names an opcode.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode " + strconv.Itoa(int(o))
}

// IsControl reports whether an opcode is a control frame's (RFC 6455 §5.5).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// maxControlPayload is the longest control frame payload (RFC 6455 §5.5).
const maxControlPayload = 125

// Header is a frame header.
type Header struct {
	Fin    bool
	RSV    byte // the three reserved bits, RSV1 as 0x4
	Opcode Opcode
	Masked bool
	Mask   [4]byte
	Length uint64 // payload length as declared
	Size   int    // header bytes (2 to 14)
}

// ProtocolError is a frame that breaks RFC 6455: the direction cannot be read on.
type ProtocolError struct {
	Offset int64 // stream offset of the frame
	Reason string
}

// Error implements error.
func (e *ProtocolError) Error() string {
	return fmt.Sprintf("websocket: stream offset %d: %s", e.Offset, e.Reason)
}

// ParseHeader reads a frame header from the start of b. ok is false when b holds too few bytes
// for the whole header; reason is set when the header is invalid (RFC 6455 §5.2: a 64-bit length
// with its top bit set, a control frame that is fragmented or longer than 125 bytes, an unknown
// opcode).
func ParseHeader(b []byte) (h Header, ok bool, reason string) {
	if len(b) < 2 {
		return h, false, ""
	}
	h.Fin = b[0]&0x80 != 0
	h.RSV = (b[0] >> 4) & 0x7
	h.Opcode = Opcode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, false, ""
		}
		h.Length = uint64(binary.BigEndian.Uint16(b[2:]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, false, ""
		}
		h.Length = binary.BigEndian.Uint64(b[2:])
		n = 10
	default:
		h.Length = uint64(l)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, false, ""
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	h.Size = n
	switch {
	case h.Length>>63 != 0:
		return h, true, "64-bit payload length with its most significant bit set"
	case h.Opcode > OpBinary && h.Opcode < OpClose || h.Opcode > OpPong:
		return h, true, "reserved opcode " + strconv.Itoa(int(h.Opcode))
	case h.Opcode.IsControl() && !h.Fin:
		return h, true, "fragmented " + h.Opcode.String() + " frame"
	case h.Opcode.IsControl() && h.Length > maxControlPayload:
		return h, true, h.Opcode.String() + " frame of " + strconv.FormatUint(h.Length, 10) + " bytes (at most 125)"
	}
	return h, true, ""
}

// unmask XORs p with the mask key, p being the payload bytes from payload offset pos on
// (RFC 6455 §5.3), eight bytes at a time where it can.
func unmask(p []byte, key [4]byte, pos uint64) {
	var k [8]byte
	for i := range 8 {
		k[i] = key[(pos+uint64(i))&3]
	}
	kw := binary.LittleEndian.Uint64(k[:])
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^kw)
	}
	for ; i < len(p); i++ {
		p[i] ^= k[i&7]
	}
}
