package websocket

import (
	"strconv"
	"unicode/utf8"

	"droneaudit/decoders"
)

// DefaultMaxMessage bounds a message's payload (on the wire and inflated) when Config leaves
// MaxMessage zero.
const DefaultMaxMessage = 16 << 20

// maxHeader is the longest frame header: 2 bytes, a 64-bit length, a mask key.
const maxHeader = 14

// Config says how to read one direction of a connection.
type Config struct {
	// FromClient is set for the client-to-server direction, whose frames must be masked; the
	// server's must not be (RFC 6455 §5.1). A frame that breaks this is read and noted.
	FromClient bool
	// Deflate is the permessage-deflate agreement for this direction, nil when none was made.
	Deflate *Deflate
	// MaxMessage bounds the payload bytes kept of one message (DefaultMaxMessage when 0).
	MaxMessage int
	// Budget is the run's decompression budget (decoders.DefaultExpansionBudget when nil).
	Budget *decoders.ExpansionBudget
	// OnNote hears what is wrong but does not stop the reading (may be nil).
	OnNote func(decoders.Note)
}

// Message is one message of a direction: a whole data message (its fragments joined, unmasked
// and inflated) or a control frame.
type Message struct {
	Opcode Opcode // OpText, OpBinary, OpClose, OpPing or OpPong
	// Offset is the stream offset of the message's first frame, End the offset after its last.
	Offset, End int64
	Frames      int
	// Payload is valid only during the callback.
	Payload []byte
	// WireLength counts the payload bytes the frames declared.
	WireLength uint64
	Compressed bool // sent with permessage-deflate (RSV1) and inflated here
	// Truncated is set when the message was longer than the bound: Payload holds its start.
	Truncated bool
	// Incomplete is set for a message the stream ended inside (Close, Gap).
	Incomplete bool
	// Err is set when a compressed payload could not be inflated to its end.
	Err error
	// CloseCode and CloseReason are a close frame's status code (0 when none) and reason.
	CloseCode   int
	CloseReason string
}

// Stream reads the frames of one direction.
type Stream struct {
	cfg  Config
	emit func(*Message)
	max  int

	off     int64  // stream offset of the next byte
	hdr     []byte // a frame header split across feeds, in hdrArr
	hdrArr  [maxHeader]byte
	inFrame bool
	h       Header
	hOff    int64  // stream offset of the current frame
	got     uint64 // payload bytes of the current frame read

	inMsg bool
	msg   Message
	buf   []byte // the data message's payload so far, unmasked
	ctl   []byte // the control frame's payload

	inflater inflater
	closed   bool // a close frame was read
	dead     bool
}

// NewStream returns the reader of one direction; emit is called for each message.
func NewStream(cfg Config, emit func(*Message)) *Stream {
	s := &Stream{cfg: cfg, emit: emit, max: cfg.MaxMessage}
	if s.max <= 0 {
		s.max = DefaultMaxMessage
	}
	s.inflater.budget = cfg.Budget
	if s.inflater.budget == nil {
		s.inflater.budget = decoders.DefaultExpansionBudget
	}
	if cfg.Deflate != nil {
		s.inflater.takeover = !cfg.Deflate.NoContextTakeover
	}
	return s
}

// Offset returns the stream offset of the next byte to be fed.
func (s *Stream) Offset() int64 { return s.off }

// Closed reports whether a close frame was read.
func (s *Stream) Closed() bool { return s.closed }

// Dead reports whether the direction was abandoned (a protocol error or a gap).
func (s *Stream) Dead() bool { return s.dead }

func (s *Stream) note(sev decoders.Severity, code decoders.Code, off int64, msg string) {
	if s.cfg.OnNote != nil {
		s.cfg.OnNote(decoders.Note{Severity: sev, Code: code, Offset: off, Locator: "websocket stream offset " + strconv.FormatInt(off, 10), Message: msg})
	}
}

func (s *Stream) fail(off int64, reason string) error {
	s.dead = true
	s.buf, s.ctl, s.hdr = nil, nil, nil
	return &ProtocolError{Offset: off, Reason: reason}
}

// Feed takes the next in-order bytes of the direction and emits every message they complete. It
// returns a *ProtocolError once, when the direction breaks RFC 6455; later bytes are ignored.
func (s *Stream) Feed(b []byte) error {
	for len(b) > 0 && !s.dead {
		if !s.inFrame {
			// A header split across feeds is gathered in hdrArr; a whole one is read in place.
			src := b
			if len(s.hdr) > 0 {
				src = append(s.hdr, b[:min(len(b), maxHeader-len(s.hdr))]...)
			}
			h, ok, reason := ParseHeader(src)
			if !ok { // src is shorter than the header, so it fits in hdrArr
				s.off += int64(len(src) - len(s.hdr))
				s.hdr = append(s.hdrArr[:0], src...)
				return nil
			}
			used := h.Size - len(s.hdr)
			s.hOff = s.off - int64(len(s.hdr))
			s.hdr = s.hdr[:0]
			b = b[used:]
			s.off += int64(used)
			if reason != "" {
				return s.fail(s.hOff, reason)
			}
			if err := s.begin(h); err != nil {
				return err
			}
			if h.Length == 0 {
				s.endFrame()
			}
			continue
		}
		n := int(min(uint64(len(b)), s.h.Length-s.got))
		p := b[:n]
		if s.h.Opcode.IsControl() {
			start := len(s.ctl)
			s.ctl = append(s.ctl, p...)
			if s.h.Masked {
				unmask(s.ctl[start:], s.h.Mask, s.got)
			}
		} else {
			keep := min(n, s.max-len(s.buf))
			start := len(s.buf)
			s.buf = append(s.buf, p[:keep]...)
			if s.h.Masked {
				unmask(s.buf[start:], s.h.Mask, s.got)
			}
			if keep < n {
				s.msg.Truncated = true
			}
		}
		s.got += uint64(n)
		b = b[n:]
		s.off += int64(n)
		if s.got == s.h.Length {
			s.endFrame()
		}
	}
	return nil
}

// begin checks a frame header against the state of the direction.
func (s *Stream) begin(h Header) error {
	if h.Masked != s.cfg.FromClient {
		want := "unmasked"
		if s.cfg.FromClient {
			want = "masked"
		}
		s.note(decoders.Warning, decoders.CodeMalformed, s.hOff, "frame should be "+want+" in this direction (RFC 6455 §5.1); read anyway")
	}
	if h.RSV&0x3 != 0 {
		return s.fail(s.hOff, "reserved bits RSV2/RSV3 set without an extension that defines them")
	}
	if h.RSV&0x4 != 0 && (h.Opcode.IsControl() || h.Opcode == OpContinuation) {
		return s.fail(s.hOff, "RSV1 set on a "+h.Opcode.String()+" frame (RFC 7692 §6.1: only on a message's first frame)")
	}
	if s.closed && !h.Opcode.IsControl() {
		s.note(decoders.Warning, decoders.CodeTrailingBytes, s.hOff, "data frame after the close frame")
	}
	switch {
	case h.Opcode == OpContinuation && !s.inMsg:
		return s.fail(s.hOff, "continuation frame without a message to continue")
	case (h.Opcode == OpText || h.Opcode == OpBinary) && s.inMsg:
		return s.fail(s.hOff, "new "+h.Opcode.String()+" message inside an unfinished fragmented message")
	case h.Opcode == OpText || h.Opcode == OpBinary:
		s.inMsg = true
		s.msg = Message{Opcode: h.Opcode, Offset: s.hOff, Compressed: h.RSV&0x4 != 0}
		s.buf = s.buf[:0]
		if s.msg.Compressed && s.cfg.Deflate == nil {
			s.note(decoders.Info, decoders.CodeUnsupported, s.hOff, "compressed message without a permessage-deflate agreement seen; inflated without context")
		}
	}
	if !h.Opcode.IsControl() {
		s.msg.WireLength += h.Length
	}
	s.h, s.inFrame, s.got = h, true, 0
	s.ctl = s.ctl[:0]
	return nil
}

// endFrame completes the current frame and emits what it finishes.
func (s *Stream) endFrame() {
	s.inFrame = false
	if s.h.Opcode.IsControl() {
		m := &Message{Opcode: s.h.Opcode, Offset: s.hOff, End: s.off, Frames: 1, Payload: s.ctl, WireLength: s.h.Length}
		if s.h.Opcode == OpClose {
			s.closed = true
			switch {
			case len(s.ctl) == 1:
				s.note(decoders.Warning, decoders.CodeMalformed, s.hOff, "close frame with a one-byte body (RFC 6455 §5.5.1)")
			case len(s.ctl) >= 2:
				m.CloseCode = int(s.ctl[0])<<8 | int(s.ctl[1])
				m.CloseReason = string(s.ctl[2:])
				if !utf8.ValidString(m.CloseReason) {
					s.note(decoders.Warning, decoders.CodeMalformed, s.hOff, "close reason is not UTF-8")
				}
			}
		}
		s.emit(m)
		return
	}
	s.msg.Frames++
	if s.h.Fin {
		s.finish(false)
	}
}

// finish emits the data message being assembled.
func (s *Stream) finish(incomplete bool) {
	m := &s.msg
	m.End = s.off
	m.Incomplete = incomplete
	m.Payload = s.buf
	if m.Compressed {
		var cut bool
		m.Payload, cut, m.Err = s.inflater.inflate(s.buf, s.max, m.Truncated || incomplete)
		if cut {
			m.Truncated = true
		}
		if m.Err != nil {
			s.note(decoders.Warning, decoders.CodeMalformed, m.Offset, "permessage-deflate: "+m.Err.Error())
		}
	}
	if m.Opcode == OpText && !m.Truncated && !incomplete && m.Err == nil && !utf8.Valid(m.Payload) {
		s.note(decoders.Warning, decoders.CodeMalformed, m.Offset, "text message is not UTF-8 (RFC 6455 §5.6)")
	}
	s.inMsg = false
	s.emit(m)
}

// Gap says bytes of the direction were lost: frame boundaries are lost for good. A message in
// progress is emitted as incomplete.
func (s *Stream) Gap() {
	if s.dead {
		return
	}
	s.note(decoders.Warning, decoders.CodeGap, s.off, "bytes of the WebSocket stream were lost; the rest of this direction is not decoded")
	s.end()
	s.dead = true
}

// Close ends the direction: a message in progress is emitted as incomplete.
func (s *Stream) Close() {
	if !s.dead {
		s.end()
	}
	s.dead = true
}

func (s *Stream) end() {
	if s.inFrame || len(s.hdr) > 0 {
		s.note(decoders.Warning, decoders.CodeTruncated, s.hOff, "the stream ends inside a frame")
	}
	if s.inMsg {
		s.finish(true)
	}
}
