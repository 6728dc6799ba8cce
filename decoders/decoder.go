// Package decoders defines what every decoder implements and what it reports to: the contract
// between the format packages below this folder and the audit that runs them.
//
// There are three kinds of decoder, by where their bytes come from:
//   - a FileDecoder reads a whole input file (a flight log, a tlog);
//   - a PayloadDecoder reads the transport payloads of one network flow inside a capture;
//   - a LinkDecoder reads whole link-layer frames of a capture (serial taps, 802.11).
//
// Decoders never trust a length field, never panic on hostile input, and report what they could
// not decode as a Note that names the offset, then carry on.
package decoders

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"droneaudit/capture"
	"droneaudit/geo"
)

// Severity grades a Note.
type Severity string

// Note severities.
const (
	Info    Severity = "info"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Note is something a decoder wants the auditor to know: damaged bytes it skipped, a truncated
// file, a record it could not verify, or a fact about the input (a serial number, a time zone).
type Note struct {
	// Input names the input file where a list mixes several (the destination inventory); a note
	// kept under its input in a report leaves it empty.
	Input    string   `json:"input,omitempty"`
	Severity Severity `json:"severity"`
	// Code is a stable, machine-readable kind, e.g. CodeBadCRC, CodeJunk, CodeTruncated.
	Code    Code   `json:"code"`
	Locator string `json:"locator,omitempty"`
	Offset  int64  `json:"offset"` // byte offset in the input, -1 if unknown
	Message string `json:"message"`
	// Attrs carries structured values, e.g. {"aircraft_serial": "…"} for an identity note.
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Line prints the note on one line, as "input: locator (offset N): message", leaving out what it
// does not have.
func (n Note) Line() string {
	s := n.Input
	if n.Locator != "" {
		if s != "" {
			s += ": "
		}
		s += n.Locator
	}
	if n.Offset >= 0 {
		s += " (offset " + strconv.FormatInt(n.Offset, 10) + ")"
	}
	if s == "" {
		return n.Message
	}
	return strings.TrimSpace(s) + ": " + n.Message
}

// Sink receives what a decoder finds. Implementations are not required to be safe for concurrent
// use: one decoder run reports to one sink from one goroutine.
type Sink interface {
	Fix(geo.Fix)
	Note(Note)
	// Exposure reports what a reader of an on-device file learns without any key.
	Exposure(Exposure)
	// Count adds n to a named per-input counter, e.g. "frames" or "crc16_errors".
	Count(name string, n int64)
}

// NoteKeeper is implemented by a sink that keeps a bounded number of notes. KeepsNote reports
// whether a note of severity sev handed to Note now would be kept: one that would not is only
// counted, whatever it says, so a decoder on a per-packet path may hand such a sink a bare note
// of that severity and code instead of formatting one.
type NoteKeeper interface {
	KeepsNote(sev Severity) bool
}

// Input is one input file as the decoders see it: opened for random access, already hashed.
type Input struct {
	Path   string
	SHA256 string
	Size   int64
	R      io.ReaderAt
}

// Evidence returns the evidence skeleton for bytes of this input.
func (in Input) Evidence(decoder, locator string, offset int64, ch geo.Channel) geo.Evidence {
	return geo.Evidence{Input: in.Path, SHA256: in.SHA256, Locator: locator, Offset: offset, Decoder: decoder, Channel: ch}
}

// Reader returns a sequential reader over the whole input.
func (in Input) Reader() *io.SectionReader { return io.NewSectionReader(in.R, 0, in.Size) }

// FileDecoder decodes one kind of input file.
type FileDecoder interface {
	// Name is the decoder's short name as it appears in evidence, e.g. "mavlink".
	Name() string
	// Sniff reports whether the file's first bytes (up to SniffLen) look like this format.
	// Detection is by content; a file name never decides.
	Sniff(head []byte) bool
	// Decode reports every position and note of the input to sink. A returned error means the
	// input could not be read on; what was reported before it stands.
	Decode(ctx context.Context, in Input, sink Sink) error
}

// SniffLen is how many leading bytes of a file Sniff is given.
const SniffLen = 64 << 10

// Segment is one in-order piece of a flow's payload inside a capture: a UDP datagram, or the
// next bytes of one direction of a TCP stream.
type Segment struct {
	Frame   int       // 1-based frame number in the capture
	Offset  int64     // byte offset of the frame's record in the capture file
	Time    time.Time //
	Network geo.Network
	// Gap is set when bytes of this direction were lost before this segment; a stream decoder
	// should drop any partial message it holds.
	Gap     bool
	Payload []byte // valid only during the call
}

// Locator returns the evidence locator of a segment, e.g. "frame 812".
func (s Segment) Locator() string { return "frame " + strconv.Itoa(s.Frame) }

// PayloadDecoder recognises a protocol in network flows.
type PayloadDecoder interface {
	Name() string
	// Sniff reports whether the first payload of a flow direction looks like this protocol.
	Sniff(payload []byte) bool
	// NewFlow returns the decoder state for one flow; it is handed every later segment of the flow
	// (both directions).
	NewFlow(in Input, sink Sink) FlowDecoder
}

// FlowDecoder consumes the segments of one flow.
type FlowDecoder interface {
	Segment(s Segment)
	// Close is called once at the end of the capture or when the flow times out.
	Close()
}

// LinkDecoder handles whole link-layer frames of some link types (DUML serial taps, 802.11).
type LinkDecoder interface {
	Name() string
	Handles(lt capture.LinkType) bool
	// NewLink returns the decoder state for one capture file.
	NewLink(in Input, sink Sink) LinkStream
}

// LinkStream consumes the frames of one capture that its LinkDecoder handles.
type LinkStream interface {
	// Packet decodes one frame. The packet's data is valid only during the call.
	Packet(p *capture.Packet)
	// Close is called once at the end of the capture.
	Close()
}
