package duml

import (
	"context"
	"fmt"
	"io"
	"time"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/geo"
)

// Name is the decoder name in evidence.
const Name = "duml"

// Tap decodes DUML from serial-tap captures: link types DLT_USER0..15, one or more frames per
// record (dji-network.md §3.8). The tap sits on a link inside the aircraft, so what it sees is
// on-device evidence.
type Tap struct{}

// Name implements decoders.LinkDecoder.
func (Tap) Name() string { return Name }

// Handles implements decoders.LinkDecoder.
func (Tap) Handles(lt capture.LinkType) bool { return lt.IsUser() }

// NewLink implements decoders.LinkDecoder.
func (Tap) NewLink(in decoders.Input, sink decoders.Sink) decoders.LinkStream {
	return &tapStream{in: in, sink: sink}
}

type tapStream struct {
	in   decoders.Input
	sink decoders.Sink
}

func (s *tapStream) Packet(p *capture.Packet) {
	s.sink.Count("records", 1)
	locate := func() geo.Evidence {
		return s.in.Evidence(Name, fmt.Sprintf("frame %d", p.Frame), p.Offset, geo.ChannelOnDevice)
	}
	_, skipped := Scan(p.Data, true, func(f *Frame, _ int, bad bool) {
		Report(s.sink, f, bad, locate, p.Time)
	})
	if skipped > 0 {
		s.sink.Count("skipped_bytes", int64(skipped))
	}
}

func (s *tapStream) Close() {}

// Report counts one scanned frame and emits its fixes. locate returns the evidence of the bytes
// the frame was found in (input, locator, offset, channel and, for network carriers, the flow); it
// is called only for frames worth reporting, which keeps the common case free of formatting. ts is
// the capture time, zero when unknown. Carriers of DUML (serial taps, raw dumps, DJI's Wi-Fi UDP
// wrapper) all report through here so that counts and notes read the same.
func Report(sink decoders.Sink, f *Frame, bad bool, locate func() geo.Evidence, ts time.Time) {
	if bad {
		ev := locate()
		sink.Count("crc16_errors", 1)
		sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeBadCRC, Locator: ev.Locator, Offset: ev.Offset,
			Message: fmt.Sprintf("DUML frame (set 0x%02x id 0x%02x, %d bytes) has a bad CRC-16: not decoded", f.CmdSet, f.CmdID, len(f.Raw))})
		return
	}
	sink.Count("frames", 1)
	if f.CmdSet != SetFlightControl || (f.CmdID != IDOSDGeneral && f.CmdID != IDOSDHome) {
		return
	}
	fixes, noFix := Fixes(f, locate())
	if noFix {
		sink.Count("no_fix", 1)
	}
	for _, fx := range fixes {
		fx.Time = ts
		sink.Fix(fx)
	}
}

// Stream decodes a raw DUML byte stream file (a UART or USB dump without pcap framing).
type Stream struct{}

// Name implements decoders.FileDecoder.
func (Stream) Name() string { return Name }

// Sniff accepts a file that starts with a checked frame followed by another frame start or the
// end of the data: one valid CRC-16 alone is a 1-in-65536 accident, two in a row are not.
func (Stream) Sniff(head []byte) bool {
	f, err := Parse(head)
	if err != nil {
		return false
	}
	rest := head[len(f.Raw):]
	if len(rest) == 0 {
		return true
	}
	_, err = Parse(rest)
	return err == nil || err == ErrShort
}

// chunk is how much of a raw stream is scanned at a time.
const chunk = 1 << 20

// Decode implements decoders.FileDecoder.
func (Stream) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	r := in.Reader()
	buf := make([]byte, 0, chunk+MaxFrame)
	var base int64 // file offset of buf[0]
	eof := false
	synced := true
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			eof = true
		} else if err != nil {
			return fmt.Errorf("%s: offset %d: %w", in.Path, base+int64(len(buf)), err)
		}
		var used, skipped int
		used, skipped, synced = scan(buf, eof, synced, func(f *Frame, off int, bad bool) {
			at := base + int64(off)
			Report(sink, f, bad, func() geo.Evidence {
				return in.Evidence(Name, fmt.Sprintf("byte 0x%x", at), at, geo.ChannelOnDevice)
			}, time.Time{})
		}, func(off, n int) {
			at := base + int64(off)
			sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Locator: fmt.Sprintf("byte 0x%x", at), Offset: at,
				Message: fmt.Sprintf("%s: truncated DUML stream: the file ends at byte %d inside the frame that starts at byte %d (%d of its bytes present)", in.Path, in.Size, at, n)})
		})
		if skipped > 0 {
			sink.Count("skipped_bytes", int64(skipped))
		}
		base += int64(used)
		buf = buf[:copy(buf, buf[used:])]
	}
	return nil
}
