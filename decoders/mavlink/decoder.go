package mavlink

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// Name is the decoder name in evidence.
const Name = "mavlink"

// File decodes MAVLink files: tlogs (both timestamp byte orders) and raw link dumps. What a file
// holds stayed on the ground station or the aircraft: on-device evidence.
type File struct{}

// Name implements decoders.FileDecoder.
func (File) Name() string { return Name }

// Sniff implements decoders.FileDecoder: a tlog record or two verified raw frames at the start,
// or, for tlogs that open with console-text records or junk, verified frames found by the
// record walk itself.
func (File) Sniff(head []byte) bool {
	if ok, _ := sniffTlog(head); ok {
		return true
	}
	return sniffRaw(head) || sniffTlogWalk(head)
}

// sniffTlogWalk walks the records of head and accepts it when they hold at least two verified
// frames and most of its bytes: a checksum with the dialect's CRC_EXTRA does not verify by chance.
func sniffTlogWalk(head []byte) bool {
	frames := 0
	st, err := walkTlog(newWindow(bytes.NewReader(head), int64(len(head)), ""), false, func(r *Record) {
		if r.Frame != nil && r.Frame.Verified {
			frames++
		}
	}, func(int64, int) {})
	return err == nil && frames >= 2 && st.SkippedBytes*2 < int64(len(head))
}

// rawSniffSpan is how much leading junk a raw dump may have before its first frame.
const rawSniffSpan = 1024

// sniffRaw accepts data holding two verified frames back to back near its start. A tlog never
// matches: a timestamp separates its frames.
func sniffRaw(b []byte) bool {
	for i := 0; i < len(b) && i < rawSniffSpan; i++ {
		if b[i] != STXv1 && b[i] != STXv2 {
			continue
		}
		f, st := candidate(b[i:])
		if st != stOK {
			continue
		}
		if _, st = candidate(b[i+len(f.Raw):]); st == stOK {
			return true
		}
	}
	return false
}

// Decode implements decoders.FileDecoder.
func (File) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	w := newWindow(in.R, in.Size, in.Path)
	head, err := w.at(0, 8+MaxFrame)
	if err != nil {
		return err
	}
	if sniffRaw(head) {
		return decodeRaw(ctx, w, in, sink)
	}
	_, le := sniffTlog(head)
	return decodeTlog(ctx, w, le, in, sink)
}

// emitter turns frames into counts and fixes for one input.
type emitter struct {
	in   decoders.Input
	sink decoders.Sink
	ch   geo.Channel
	net  *geo.Network
	// notes bounds the damage notes reported one by one.
	notes decoders.NoteLimiter
}

// newEmitter returns the emitter of one input or flow. Undecodable payloads and junk share one
// budget of notes: both are bytes that yield nothing, and one damaged file makes both. Bad tlog
// records have their own budget, and a closing note with their total.
func newEmitter(in decoders.Input, sink decoders.Sink, ch geo.Channel) *emitter {
	return &emitter{in: in, sink: sink, ch: ch, notes: decoders.NoteLimiter{Sink: sink, Max: maxNotes,
		Shared: []decoders.Code{decoders.CodeUndecodable, decoders.CodeJunk}, Summary: badRecordsSummary}}
}

// badRecordsSummary gives the total of tlog records that fail the checksum when not all of them
// were listed.
func badRecordsSummary(h decoders.Held) (decoders.Note, bool) {
	if h.Code != decoders.CodeBadCRC {
		return decoders.Note{}, false
	}
	return decoders.Note{Severity: decoders.Warning, Code: decoders.CodeBadCRC, Offset: -1,
		Message: fmt.Sprintf("%d records in all fail the checksum (first %d listed)", h.Total(), h.Listed)}, true
}

func (e *emitter) frame(f *Frame, locate func() geo.Evidence, ts time.Time) {
	e.sink.Count("frames", 1)
	if !f.Verified {
		e.sink.Count("unverified_frames", 1)
		return
	}
	if !IsPosition(f.MsgID) {
		return
	}
	ev := locate()
	ev.Network = e.net
	fixes, err := Positions(f, ev)
	if err != nil {
		e.sink.Count("undecodable_payloads", 1)
		if e.notes.Allow(decoders.CodeUndecodable) {
			e.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeUndecodable, Locator: ev.Locator, Offset: ev.Offset, Message: err.Error()})
		}
		return
	}
	for _, fx := range fixes {
		fx.Time = ts
		e.sink.Fix(fx)
	}
}

// maxText bounds the console text kept from text records.
const maxText = 4096

// maxNotes bounds the notes of one kind per input; the counters keep the full tally.
const maxNotes = 100

func (e *emitter) junk(off int64, n int, what string) {
	e.sink.Count("skipped_bytes", int64(n))
	e.sink.Count("skipped_runs", 1)
	if e.notes.Allow(decoders.CodeJunk) {
		e.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeJunk, Locator: fmt.Sprintf("byte 0x%x", off), Offset: off,
			Message: fmt.Sprintf("%d bytes %s skipped", n, what)})
	}
}

func decodeTlog(ctx context.Context, w *window, le bool, in decoders.Input, sink decoders.Sink) error {
	e := newEmitter(in, sink, geo.ChannelOnDevice)
	if le {
		sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeLegacyTlog, Offset: 0,
			Message: "legacy tlog with little-endian timestamps (2012-era QGroundControl)"})
	}
	n := 0
	// One-byte text records (console output that a ground station logged between frames) are
	// reported together, with their text, as evidence of what the log holds.
	var text []byte
	firstText := int64(-1)
	st, err := walkTlog(w, le, func(r *Record) {
		n++
		if n%4096 == 0 && ctx.Err() != nil {
			return
		}
		switch {
		case r.Frame != nil:
			rec := *r
			e.frame(r.Frame, func() geo.Evidence {
				return in.Evidence(Name, fmt.Sprintf("record %d @ 0x%x", rec.Index, rec.Offset), rec.Offset, geo.ChannelOnDevice)
			}, r.Time())
		case r.Bad:
			sink.Count("bad_records", 1)
			if e.notes.Allow(decoders.CodeBadCRC) {
				sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeBadCRC, Locator: fmt.Sprintf("record %d @ 0x%x", r.Index, r.Offset),
					Offset: r.Offset, Message: "frame fails the ardupilotmega checksum or is cut short: not decoded"})
			}
		default:
			sink.Count("text_records", 1)
			if firstText < 0 {
				firstText = r.Offset
			}
			if len(text) < maxText {
				text = append(text, r.Text)
			}
		}
	}, func(off int64, n int) { e.junk(off, n, "outside any record") })
	sink.Count("records", int64(st.Records))
	if st.CutAt >= 0 {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Locator: fmt.Sprintf("record %d @ 0x%x", st.Records+1, st.CutAt), Offset: st.CutAt,
			Message: fmt.Sprintf("truncated tlog: the file ends at byte %d inside record %d, which starts at byte %d (%d of its bytes present)", in.Size, st.Records+1, st.CutAt, st.CutLen)})
	}
	if st.TextRecords > 0 {
		sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeTextRecords, Locator: fmt.Sprintf("byte 0x%x", firstText), Offset: firstText,
			Message: fmt.Sprintf("%d one-byte text records (timestamp + one byte, not MAVLink) between the frames", st.TextRecords),
			Attrs:   map[string]string{"text": strconv.QuoteToASCII(string(text))}})
	}
	if err != nil {
		return err
	}
	e.notes.Flush()
	return ctx.Err()
}

func decodeRaw(ctx context.Context, w *window, in decoders.Input, sink decoders.Sink) error {
	e := newEmitter(in, sink, geo.ChannelOnDevice)
	var pos int64
	idx := 0
	for pos < w.size {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := w.at(pos, windowSize)
		if err != nil {
			return err
		}
		atEOF := pos+int64(len(b)) >= w.size
		base := pos
		used := scan(b, atEOF, func(f *Frame, off int) {
			idx++
			at, i := base+int64(off), idx
			e.frame(f, func() geo.Evidence {
				return in.Evidence(Name, fmt.Sprintf("frame %d @ 0x%x", i, at), at, geo.ChannelOnDevice)
			}, time.Time{})
		}, func(off, n int) { e.junk(base+int64(off), n, "of non-MAVLink data") }, func(off, n int) {
			at := base + int64(off)
			sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Locator: fmt.Sprintf("frame %d @ 0x%x", idx+1, at), Offset: at,
				Message: fmt.Sprintf("truncated MAVLink dump: the file ends at byte %d inside frame %d, which starts at byte %d (%d of its bytes present)", in.Size, idx+1, at, n)})
		})
		if used == 0 && !atEOF {
			// A whole window without a complete frame cannot happen (windows exceed MaxFrame);
			// guard against looping anyway.
			used = 1
		}
		pos += int64(used)
	}
	return nil
}
