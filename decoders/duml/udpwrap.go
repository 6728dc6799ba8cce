package duml

import (
	"encoding/binary"
	"errors"
	"fmt"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// DJI's UDP wrapper carries DUML between the app and a Wi-Fi-linked aircraft (aircraft
// 192.168.2.1:9003). Layout per dji-network.md §3.7 (samuelsadok/dji_protocol udp_protocol.md,
// type numbering confirmed by Toemsel/dji-wifi-tools DjiConstants.cs): an 8-byte little-endian
// header — u16 length with bit 15 set, u16 session, u16 sequence, u8 type, u8 XOR of bytes 0–6 —
// then a type-specific body.

// Wrapper packet types (§3.7).
const (
	WrapHandshake = 0 // both ways; no DUML
	WrapTelemetry = 1 // aircraft → app, windows and resend list, then u16 length + DUML frames
	WrapVideo     = 2 // aircraft → app, H.264; no DUML
	WrapFile      = 3 // aircraft → app, DUML from 0x14
	WrapAckA      = 4 // app → aircraft, flow control then u16 length + DUML
	WrapCommand   = 5 // app → aircraft, DUML from 0x14
	WrapAckB      = 6 // app → aircraft, like 4
)

// wrapHeader is the common header length; wrapDUMLAt is where types 3 and 5 put their DUML.
const (
	wrapHeader   = 8
	wrapDUMLAt   = 0x14
	wrapResendAt = 0x1c // type 1: u16 count N, then N u16 resend requests
)

// Wrapper is one decoded wrapper datagram. DUML aliases the datagram.
type Wrapper struct {
	Length  int
	Session uint16
	Seq     uint16
	Type    uint8
	DUML    []byte
	// Scanned is set when the body's own length fields did not fit and the DUML bytes are the
	// whole body after the header, left to the CRC-checked frame scan.
	Scanned bool
}

// Errors of ParseWrapper.
var (
	ErrWrapShort  = errors.New("duml udp wrapper: shorter than its 8-byte header")
	ErrWrapFlag   = errors.New("duml udp wrapper: length word without bit 15")
	ErrWrapLength = errors.New("duml udp wrapper: length field differs from the datagram length")
	ErrWrapXOR    = errors.New("duml udp wrapper: header XOR byte mismatch")
	ErrWrapType   = errors.New("duml udp wrapper: unknown packet type")
)

// ParseWrapper checks a UDP payload as a wrapper datagram and locates its DUML bytes. Every
// offset is bounded by the datagram; a body whose length fields do not fit falls back to the
// whole body (Scanned), which the CRC-checked frame scan can still read.
func ParseWrapper(b []byte) (Wrapper, error) {
	var w Wrapper
	if len(b) < wrapHeader {
		return w, ErrWrapShort
	}
	le := binary.LittleEndian
	lw := le.Uint16(b)
	if lw&0x8000 == 0 {
		return w, ErrWrapFlag
	}
	w.Length = int(lw & 0x7fff)
	if w.Length != len(b) {
		return w, ErrWrapLength
	}
	var x byte
	for _, c := range b[:7] {
		x ^= c
	}
	if x != b[7] {
		return w, ErrWrapXOR
	}
	w.Session, w.Seq, w.Type = le.Uint16(b[2:]), le.Uint16(b[4:]), b[6]
	body := func() {
		w.DUML, w.Scanned = b[wrapHeader:], true
	}
	switch w.Type {
	case WrapHandshake, WrapVideo:
	case WrapFile, WrapCommand:
		if len(b) >= wrapDUMLAt {
			w.DUML = b[wrapDUMLAt:]
		} else {
			body()
		}
	case WrapTelemetry:
		if len(b) < wrapResendAt+2 {
			body()
			break
		}
		off := wrapResendAt + 2 + 2*int(le.Uint16(b[wrapResendAt:]))
		if off+2 > len(b) {
			body()
			break
		}
		n := int(le.Uint16(b[off:]))
		if off+2+n > len(b) {
			body()
			break
		}
		w.DUML = b[off+2 : off+2+n]
	case WrapAckA, WrapAckB:
		// The flow-control lists before the DUML are not laid out in the public notes: leave
		// the body to the CRC-checked scan.
		body()
	default:
		return w, ErrWrapType
	}
	return w, nil
}

// UDPWrapper is the PayloadDecoder for DJI's UDP wrapper: it unwraps each datagram and hands the
// DUML frames inside to the DUML decoder (Scan and Report).
type UDPWrapper struct{}

// Name implements decoders.PayloadDecoder.
func (UDPWrapper) Name() string { return "duml-udp" }

// Sniff implements decoders.PayloadDecoder: the first datagram must be a well-formed wrapper
// (flag bit, exact length, XOR byte, known type).
func (UDPWrapper) Sniff(payload []byte) bool {
	_, err := ParseWrapper(payload)
	return err == nil
}

// NewFlow implements decoders.PayloadDecoder.
func (UDPWrapper) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &wrapFlow{in: in, sink: sink, notes: decoders.NoteLimiter{Sink: sink, Max: maxWrapNotes}}
}

// maxWrapNotes bounds the per-flow notes about damaged datagrams.
const maxWrapNotes = 20

type wrapFlow struct {
	in    decoders.Input
	sink  decoders.Sink
	notes decoders.NoteLimiter // damaged datagrams: the counter keeps the tally
}

// Segment unwraps one datagram and decodes the DUML frames inside it.
func (w *wrapFlow) Segment(s decoders.Segment) {
	w.sink.Count("udpwrap_datagrams", 1)
	wr, err := ParseWrapper(s.Payload)
	if err != nil {
		w.sink.Count("udpwrap_bad", 1)
		if w.notes.Allow(decoders.CodeJunk) {
			w.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeJunk, Locator: s.Locator(), Offset: s.Offset,
				Message: fmt.Sprintf("%s: %s: %v (%d bytes)", w.in.Path, s.Locator(), err, len(s.Payload))})
		}
		return
	}
	if len(wr.DUML) == 0 {
		return
	}
	locate := func() geo.Evidence {
		ev := w.in.Evidence(Name, s.Locator(), s.Offset, geo.ChannelNetwork)
		n := s.Network
		ev.Network = &n
		ev.Note = fmt.Sprintf("DJI UDP wrapper type %d, session 0x%04x", wr.Type, wr.Session)
		return ev
	}
	_, skipped := Scan(wr.DUML, true, func(f *Frame, _ int, bad bool) {
		Report(w.sink, f, bad, locate, s.Time)
	})
	if skipped > 0 {
		w.sink.Count("skipped_bytes", int64(skipped))
	}
}

// Close implements decoders.FlowDecoder; a datagram holds whole frames, so nothing is pending.
func (w *wrapFlow) Close() {}

// AppendWrapper builds a wrapper datagram around body (the bytes after the header); tests and
// fixture generators use it.
func AppendWrapper(b []byte, session, seq uint16, typ uint8, body []byte) []byte {
	n := wrapHeader + len(body)
	start := len(b)
	b = binary.LittleEndian.AppendUint16(b, uint16(n)|0x8000)
	b = binary.LittleEndian.AppendUint16(b, session)
	b = binary.LittleEndian.AppendUint16(b, seq)
	b = append(b, typ)
	var x byte
	for _, c := range b[start:] {
		x ^= c
	}
	b = append(b, x)
	return append(b, body...)
}
