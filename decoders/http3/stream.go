// Package http3 reads HTTP/3 (RFC 9114) requests and responses from the in-order bytes of QUIC
// streams: the frames of each client-initiated bidirectional stream (HEADERS, DATA), with header
// blocks decoded by QPACK (RFC 9204) through github.com/quic-go/qpack, which knows the static
// table and literals. A header block that refers to the dynamic table is reported as unsupported
// rather than guessed. The bytes come from decoders/quic (a decrypted connection) or from the
// engine's inner flows of an opened QUIC layer.
package http3

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"github.com/quic-go/qpack"

	"droneaudit/decoders/quic"
	"droneaudit/netflow"
)

// Frame types of RFC 9114 §7.2.
const (
	FrameData        = 0x00
	FrameHeaders     = 0x01
	FrameCancelPush  = 0x03
	FrameSettings    = 0x04
	FramePushPromise = 0x05
	FrameGoAway      = 0x07
	FrameMaxPushID   = 0x0d
)

// Bounds: a header block larger than MaxHeaderBlock is not decoded; a body is kept up to the
// maxBody given to NewStream and counted beyond.
const (
	MaxHeaderBlock = 64 << 10
	maxFields      = 256
	maxProblems    = 4
	// DefaultMaxBody is the body kept per message when NewStream is given 0.
	DefaultMaxBody = 1 << 20
)

// Field is one header field.
type Field struct {
	Name, Value string
}

// Message is one direction of a request stream: the request (client to server) or the response.
type Message struct {
	// Fields are the header fields in order, pseudo-header fields included.
	Fields []Field
	// Request pseudo-header fields (RFC 9114 §4.3.1).
	Method, Scheme, Authority, Path string
	// Status is the final :status of a response (interim 1xx responses are in Interim).
	Status  int
	Interim []int
	// Trailers are the fields of a HEADERS frame after the DATA frames.
	Trailers []Field
	// Body is the DATA payload, up to the stream's body limit; BodyLen counts all of it.
	Body          []byte
	BodyLen       int64
	BodyTruncated bool
	// SHA256 is the hash of the whole body (all of BodyLen), set when the direction ended
	// cleanly (Complete); zero otherwise.
	SHA256 [32]byte
	// Complete: the direction ended with its FIN; Gap: bytes of it were lost.
	Complete bool
	Gap      bool
	// Problems lists what could not be read (malformed frames, QPACK dynamic table references),
	// with the stream offset of each.
	Problems []string
}

// Header returns the value of the first field with the given (lower-case) name.
func (m *Message) Header(name string) string {
	for _, f := range m.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Exchange is a request and its response, from one request stream.
type Exchange struct {
	StreamID uint64
	Request  Message
	Response Message
}

// Stream reads one request stream (a client-initiated bidirectional QUIC stream, RFC 9114 §6.1).
type Stream struct {
	ex      Exchange
	maxBody int
	dir     [2]frameReader
}

// frameReader follows the frames of one direction.
type frameReader struct {
	off      int64  // stream offset of the next byte
	hdr      []byte // a frame header being read, or a HEADERS frame being collected
	typ      uint64
	left     uint64 // payload bytes of the current frame still to come
	inFrame  bool
	collect  bool // the current frame's payload is collected (HEADERS) rather than streamed
	dead     bool // a malformed frame or a gap: the rest of the direction is not read
	frameAt  int64
	headers  int       // HEADERS frames seen
	headDone bool      // the head (final, for a response) was read; later HEADERS are trailers
	sum      hash.Hash // of the DATA payload so far; made at the first DATA byte
}

// NewStream returns the reader of stream id, keeping up to maxBody bytes of each body
// (DefaultMaxBody when 0, none when negative: the bodies are then only counted and hashed).
func NewStream(id uint64, maxBody int) *Stream {
	if maxBody == 0 {
		maxBody = DefaultMaxBody
	}
	return &Stream{ex: Exchange{StreamID: id}, maxBody: maxBody}
}

func (s *Stream) msg(dir netflow.Direction) *Message {
	if dir == netflow.ClientToServer {
		return &s.ex.Request
	}
	return &s.ex.Response
}

// Exchange returns what has been read so far.
func (s *Stream) Exchange() *Exchange { return &s.ex }

// Gap says that bytes of one direction were lost: HTTP/3 frames cannot be found again after a
// hole, so the rest of that direction is not read.
func (s *Stream) Gap(dir netflow.Direction) {
	s.msg(dir).Gap = true
	s.dir[dir&1].dead = true
}

// Fin says that one direction ended.
func (s *Stream) Fin(dir netflow.Direction) {
	m := s.msg(dir)
	r := &s.dir[dir&1]
	if r.inFrame || len(r.hdr) > 0 {
		s.problem(m, r.off, "stream ends inside a frame")
	}
	m.Complete = !m.Gap
	if m.Complete {
		if r.sum != nil {
			r.sum.Sum(m.SHA256[:0])
		} else {
			m.SHA256 = sha256.Sum256(nil)
		}
	}
}

func (s *Stream) problem(m *Message, off int64, what string) {
	if len(m.Problems) < maxProblems {
		m.Problems = append(m.Problems, fmt.Sprintf("offset %d: %s", off, what))
	}
}

// Feed takes the next in-order bytes of one direction.
func (s *Stream) Feed(dir netflow.Direction, b []byte) {
	r := &s.dir[dir&1]
	m := s.msg(dir)
	for len(b) > 0 && !r.dead {
		if !r.inFrame {
			// Frame header: type and length varints (RFC 9114 §7.1).
			r.hdr = append(r.hdr, b[0])
			b = b[1:]
			r.off++
			typ, n1, ok1 := quic.Varint(r.hdr, 0)
			if !ok1 {
				continue
			}
			length, _, ok2 := quic.Varint(r.hdr, n1)
			if !ok2 {
				continue
			}
			r.typ, r.left, r.inFrame, r.frameAt = typ, length, true, r.off-int64(len(r.hdr))
			r.hdr = r.hdr[:0]
			r.collect = typ == FrameHeaders
			if r.collect && length > MaxHeaderBlock {
				s.problem(m, r.frameAt, fmt.Sprintf("HEADERS frame of %d bytes over the limit", length))
				r.dead = true
				return
			}
			if !s.allowed(m, r, typ) {
				return
			}
			if length == 0 {
				s.frameDone(m, r, nil)
			}
			continue
		}
		n := min(uint64(len(b)), r.left)
		part := b[:n]
		b = b[n:]
		r.off += int64(n)
		r.left -= n
		switch {
		case r.collect:
			r.hdr = append(r.hdr, part...)
		case r.typ == FrameData:
			m.BodyLen += int64(len(part))
			if r.sum == nil {
				r.sum = sha256.New()
			}
			r.sum.Write(part)
			keep := min(max(s.maxBody-len(m.Body), 0), len(part))
			m.Body = append(m.Body, part[:keep]...)
			m.BodyTruncated = m.BodyTruncated || keep < len(part)
		}
		if r.left == 0 {
			s.frameDone(m, r, r.hdr)
		}
	}
}

// allowed checks the frame types a request stream may carry (RFC 9114 §4.1, §7.2): a frame of
// the control stream on a request stream is an error; unknown types are skipped (§9).
func (s *Stream) allowed(m *Message, r *frameReader, typ uint64) bool {
	switch typ {
	case FrameSettings, FrameGoAway, FrameMaxPushID, FrameCancelPush:
		s.problem(m, r.frameAt, fmt.Sprintf("frame type 0x%x not allowed on a request stream", typ))
		r.dead = true
		return false
	case FrameData:
		if r.headers == 0 {
			s.problem(m, r.frameAt, "DATA before HEADERS")
		}
	}
	return true
}

func (s *Stream) frameDone(m *Message, r *frameReader, block []byte) {
	r.inFrame = false
	if r.typ == FrameHeaders {
		r.headers++
		s.headers(m, r, block)
	}
	r.hdr = r.hdr[:0]
}

// headers decodes one header block into the message: its head (after any interim 1xx responses),
// then its trailers.
func (s *Stream) headers(m *Message, r *frameReader, block []byte) {
	fields, err := DecodeHeaderBlock(block)
	if err != nil {
		s.problem(m, r.frameAt, err.Error())
	}
	if len(fields) == 0 {
		return
	}
	if r.headDone {
		m.Trailers = append(m.Trailers, fields...)
		return
	}
	for _, f := range fields {
		switch f.Name {
		case ":method":
			m.Method = f.Value
		case ":scheme":
			m.Scheme = f.Value
		case ":authority":
			m.Authority = f.Value
		case ":path":
			m.Path = f.Value
		case ":status":
			st, _ := strconv.Atoi(f.Value)
			if st >= 100 && st < 200 {
				m.Interim = append(m.Interim, st)
				return // an interim response: the final head follows
			}
			m.Status = st
		case "host":
			if m.Authority == "" {
				m.Authority = f.Value
			}
		}
	}
	m.Fields = fields
	r.headDone = true
}

// ErrDynamicTable is returned for a header block that refers to the QPACK dynamic table, which
// this package does not follow (RFC 9204 §3.2): its fields are not guessed.
var ErrDynamicTable = errors.New("QPACK: header block refers to the dynamic table (unsupported)")

// DecodeHeaderBlock decodes a QPACK header block with the static table and literals. It returns
// the fields read before any error.
func DecodeHeaderBlock(block []byte) ([]Field, error) {
	if ric, _, ok := qpackInt(block, 8); !ok {
		return nil, errors.New("QPACK: truncated header block prefix")
	} else if ric != 0 {
		return nil, ErrDynamicTable
	}
	next := qpack.NewDecoder().Decode(block)
	var out []Field
	for len(out) < maxFields {
		hf, err := next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			if strings.Contains(err.Error(), "dynamic table") || strings.Contains(err.Error(), "Base") {
				return out, ErrDynamicTable
			}
			return out, fmt.Errorf("QPACK: %w", err)
		}
		out = append(out, Field{Name: hf.Name, Value: hf.Value})
	}
	return out, fmt.Errorf("QPACK: more than %d fields", maxFields)
}

// qpackInt reads an N-bit prefix integer (RFC 7541 §5.1, used by RFC 9204 §4.1.1), bounded to 62
// bits.
func qpackInt(b []byte, n uint) (uint64, int, bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	max := uint64(1)<<n - 1
	v := uint64(b[0]) & max
	if v < max {
		return v, 1, true
	}
	var shift uint
	for i := 1; i < len(b); i++ {
		if shift > 56 {
			return 0, 0, false
		}
		v += uint64(b[i]&0x7f) << shift
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
		shift += 7
	}
	return 0, 0, false
}

// LooksLikeRequest reports whether the first bytes of a stream are those of an HTTP/3 request
// stream: a HEADERS frame (RFC 9114 §7.2.2) of a plausible length. It is meant for the inner
// flows of QUIC streams only (decoders.Protocol.Streams); a push stream or a unidirectional
// stream, which start with a stream type, may pass it and then yield no request.
func LooksLikeRequest(p []byte) bool {
	typ, n, ok := quic.Varint(p, 0)
	if !ok || typ != FrameHeaders {
		return false
	}
	length, _, ok := quic.Varint(p, n)
	return ok && length >= 2 && length <= MaxHeaderBlock
}
