package quic

import "fmt"

// Frame types of RFC 9000 §19 and RFC 9221 (DATAGRAM).
const (
	FramePadding            = 0x00
	FramePing               = 0x01
	FrameACK                = 0x02 // 0x03 with ECN counts
	FrameResetStream        = 0x04
	FrameStopSending        = 0x05
	FrameCrypto             = 0x06
	FrameNewToken           = 0x07
	FrameStream             = 0x08 // 0x08–0x0f: OFF 0x04, LEN 0x02, FIN 0x01
	FrameMaxData            = 0x10
	FrameMaxStreamData      = 0x11
	FrameMaxStreams         = 0x12 // 0x13 unidirectional
	FrameDataBlocked        = 0x14
	FrameStreamDataBlocked  = 0x15
	FrameStreamsBlocked     = 0x16 // 0x17 unidirectional
	FrameNewConnectionID    = 0x18
	FrameRetireConnectionID = 0x19
	FramePathChallenge      = 0x1a
	FramePathResponse       = 0x1b
	FrameConnectionClose    = 0x1c // 0x1d: closed by the application
	FrameHandshakeDone      = 0x1e
	FrameDatagram           = 0x30 // 0x31 with a length
)

// Frame is one frame of a decrypted packet payload, with the fields this package uses. Slices
// point into the payload.
type Frame struct {
	Type   uint64
	Offset int // of the frame inside the payload
	// StreamID is set for STREAM, RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA and
	// STREAM_DATA_BLOCKED.
	StreamID uint64
	// DataOffset is the offset of Data in its stream (STREAM, CRYPTO).
	DataOffset uint64
	// Data is the payload of STREAM, CRYPTO, NEW_TOKEN, DATAGRAM and PATH_CHALLENGE/RESPONSE.
	Data []byte
	Fin  bool
	// ErrorCode is set for CONNECTION_CLOSE, RESET_STREAM and STOP_SENDING; FinalSize for
	// RESET_STREAM.
	ErrorCode uint64
	FinalSize uint64
	Reason    []byte // CONNECTION_CLOSE reason phrase
	// Seq and CID are set for NEW_CONNECTION_ID (Seq also for RETIRE_CONNECTION_ID).
	Seq uint64
	CID []byte
}

// maxStreamOffset is the largest stream offset plus length a frame may reach (RFC 9000 §19.8).
const maxStreamOffset = 1<<62 - 1

// ParseFrames walks the frames of a decrypted packet payload (RFC 9000 §19) and calls fn for each
// frame other than PADDING. It stops at the first frame it cannot read (an unknown type, or
// fields running past the end) and returns that error with the frame's offset; the frames before
// it were handed on. fn's frame is reused for the next call.
func ParseFrames(p []byte, fn func(*Frame)) error {
	var f Frame
	off := 0
	for off < len(p) {
		if p[off] == FramePadding {
			off++
			continue
		}
		typ, next, ok := varint(p, off)
		if !ok {
			return &Error{off, "truncated frame type"}
		}
		f = Frame{Type: typ, Offset: off}
		end, err := parseFrame(p, next, &f)
		if err != nil {
			return &Error{off, fmt.Sprintf("frame type 0x%x: %s", typ, err)}
		}
		fn(&f)
		off = end
	}
	return nil
}

// fieldReader reads the varints and byte strings of one frame, remembering the first failure.
type fieldReader struct {
	p   []byte
	off int
	bad string
}

func (r *fieldReader) v(name string) uint64 {
	if r.bad != "" {
		return 0
	}
	v, next, ok := varint(r.p, r.off)
	if !ok {
		r.bad = "truncated " + name
		return 0
	}
	r.off = next
	return v
}

func (r *fieldReader) bytes(n uint64, name string) []byte {
	if r.bad != "" {
		return nil
	}
	if n > uint64(len(r.p)-r.off) {
		r.bad = name + " past the end of the packet"
		return nil
	}
	b := r.p[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

type frameError string

func (e frameError) Error() string { return string(e) }

func parseFrame(p []byte, off int, f *Frame) (int, error) {
	r := &fieldReader{p: p, off: off}
	t := f.Type
	switch {
	case t == FramePing, t == FrameHandshakeDone:
	case t == FrameACK || t == FrameACK+1:
		end, err := skipACK(p, off, t == FrameACK+1)
		if err != nil {
			return 0, frameError("truncated ACK")
		}
		return end, nil
	case t == FrameResetStream:
		f.StreamID, f.ErrorCode, f.FinalSize = r.v("stream ID"), r.v("error code"), r.v("final size")
	case t == FrameStopSending:
		f.StreamID, f.ErrorCode = r.v("stream ID"), r.v("error code")
	case t == FrameCrypto:
		f.DataOffset = r.v("offset")
		f.Data = r.bytes(r.v("length"), "data")
	case t == FrameNewToken:
		f.Data = r.bytes(r.v("token length"), "token")
	case t >= FrameStream && t <= FrameStream|7:
		f.StreamID = r.v("stream ID")
		if t&0x04 != 0 {
			f.DataOffset = r.v("offset")
		}
		n := uint64(len(p) - r.off)
		if t&0x02 != 0 {
			n = r.v("length")
		}
		f.Data = r.bytes(n, "stream data")
		f.Fin = t&0x01 != 0
		if r.bad == "" && f.DataOffset+uint64(len(f.Data)) > maxStreamOffset {
			return 0, frameError("stream offset past 2^62")
		}
	case t == FrameMaxData, t == FrameMaxStreams, t == FrameMaxStreams+1, t == FrameDataBlocked,
		t == FrameStreamsBlocked, t == FrameStreamsBlocked+1:
		r.v("value")
	case t == FrameMaxStreamData, t == FrameStreamDataBlocked:
		f.StreamID = r.v("stream ID")
		r.v("value")
	case t == FrameNewConnectionID:
		f.Seq = r.v("sequence number")
		r.v("retire prior to")
		n := r.bytes(1, "length")
		if n != nil && (n[0] < 1 || n[0] > 20) {
			return 0, frameError(fmt.Sprintf("connection ID length %d", n[0]))
		}
		if n != nil {
			f.CID = r.bytes(uint64(n[0]), "connection ID")
		}
		r.bytes(16, "stateless reset token")
	case t == FrameRetireConnectionID:
		f.Seq = r.v("sequence number")
	case t == FramePathChallenge, t == FramePathResponse:
		f.Data = r.bytes(8, "data")
	case t == FrameConnectionClose, t == FrameConnectionClose+1:
		f.ErrorCode = r.v("error code")
		if t == FrameConnectionClose {
			r.v("frame type")
		}
		f.Reason = r.bytes(r.v("reason length"), "reason")
	case t == FrameDatagram:
		f.Data = r.bytes(uint64(len(p)-r.off), "datagram")
	case t == FrameDatagram+1:
		f.Data = r.bytes(r.v("length"), "datagram")
	default:
		return 0, frameError("unknown frame type")
	}
	if r.bad != "" {
		return 0, frameError(r.bad)
	}
	return r.off, nil
}
