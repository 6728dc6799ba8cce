// Package djilog decodes DJI flight records (DJIFlightRecord_*.txt) of every format version, from
// the oldest 12-byte-prefix files to version 14: the summary (details) block with the take-off
// point, serial numbers and place names; the scrambled records with the aircraft track, home
// point, pilot phone and remote-controller positions; the embedded moment pictures and their EXIF
// GPS. Version 13+ records are AES-encrypted with keys only DJI hands out: everything readable
// offline is decoded and the file is reported once as needing keys. The decoder never contacts
// DJI.
//
// The format facts come from shared/formats/dji-flight-record.md, which cites DJI's
// FlightRecordParsingLib and lvauvillier/dji-log-parser for each of them.
package djilog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// Name is the decoder's name in evidence.
const Name = "djilog"

// Decoder is the decoders.FileDecoder for DJI flight records.
type Decoder struct {
	// Now is the clock that bounds a plausible details start time; nil means time.Now.
	Now func() time.Time
}

// Name returns "djilog".
func (Decoder) Name() string { return Name }

// Sniff recognises a flight record by content: a known version byte, a plausible details length
// and, where the head holds them, correctly framed (and, from v7, check-byte-valid) first records.
// The file name is never consulted.
func (Decoder) Sniff(head []byte) bool {
	p, ok := parsePrefix(head)
	if !ok {
		return false
	}
	if p.detailsLen != detailsLenV6 && p.detailsLen != detailsLenV12 {
		return false
	}
	if p.version >= firstAuxVersion {
		return sniffAux(head, p)
	}
	start := p.size
	if p.version == 12 {
		start = newPrefixLen + p.detailsLen
	}
	if p.version >= 6 && !zero(head[20:newPrefixLen]) {
		return false
	}
	// The details offset points past the records; 0 is left by an app that never finished the
	// file, whose records are still worth reading.
	if p.version <= 11 && p.word0 != 0 && (p.word0 < uint64(start) || p.word0 > 1<<40) {
		return false
	}
	// The first records must frame; v6 may be scrambled or not (formats §5.6).
	if sniffRecords(head, start, p, p.version >= firstScrambled) {
		return true
	}
	return p.version == 6 && sniffRecords(head, start, p, false)
}

// sniffRecords checks up to four records from start within head; at least one must be complete.
func sniffRecords(head []byte, start int, p prefix, scrambled bool) bool {
	if start >= len(head) {
		return false
	}
	k := &walker{hlen: 2, scrambled: scrambled, mv: p.magicVer}
	if p.lenWidth() == 2 {
		k.hlen = 3
	}
	b := head[start:]
	seen := 0
	for seen < 4 {
		total, st, _ := k.frameAt(b)
		if st == frameShort && seen > 0 {
			return true
		}
		if st != frameOK {
			return false
		}
		seen++
		b = b[total:]
	}
	return true
}

// sniffAux checks the first auxiliary block of a v13+ file: magic 0 and a check-byte-valid
// scrambled payload (formats §6.1).
func sniffAux(head []byte, p prefix) bool {
	if len(head) < newPrefixLen+3 || head[newPrefixLen] != 0 {
		return false
	}
	n := int(head[newPrefixLen+1]) | int(head[newPrefixLen+2])<<8
	end := newPrefixLen + 3 + n
	if n < 3 || end > len(head) {
		return false
	}
	_, ok := checkScrambled(head[newPrefixLen+3:end], 0, p.magicVer)
	return ok
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Decode reports every position, identity and exposure of one flight record to sink.
func (d Decoder) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	var head [newPrefixLen]byte
	n, err := in.R.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("%s: offset 0: %w", in.Path, err)
	}
	p, ok := parsePrefix(head[:n])
	if !ok && n < newPrefixLen && p.version >= 6 && p.version <= maxVersion {
		// A known version byte, and the file ends inside the 100-byte prefix: a cut file.
		sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTruncated, Locator: "prefix", Offset: 0,
			Message: fmt.Sprintf("%s: offset 0: the file (%d bytes) ends inside its %d-byte prefix, which starts at byte 0: nothing to decode", in.Path, n, newPrefixLen)})
		return nil
	}
	if !ok {
		return fmt.Errorf("%s: offset 10: not a DJI flight record (version byte %d, %d-byte prefix)", in.Path, p.version, n)
	}
	r := newRun(ctx, in, sink, p, now())
	return r.decode()
}

// run holds the state of one decode.
type run struct {
	ctx  context.Context
	in   decoders.Input
	sink decoders.Sink
	p    prefix
	now  time.Time

	det      *details // nil when absent or rejected
	detOff   int64    // file offset of the details block, -1 if none
	detRaw   *details // the block as read, even when rejected (for notes)
	detWhy   string   // why the details were rejected
	aux      auxInfo
	recStart int64
	recEnd   int64
	endKnown bool // recEnd came from the picture arithmetic or the marker
	// detBeyond: the prefix names a details offset past the end of the file, which is what
	// cutting a v≤11 file leaves (its details come last).
	detBeyond bool
	// noMarker: a v12+ file whose records should end at a 12345 marker has none there.
	noMarker bool
	imgStart int64 // -1 when the pictures cannot be located

	counts     [256]int64
	shortNoted [256]bool
	scratch    []byte // descrambled content, reused
	locBuf     []byte

	frame  frameState
	ident  identity
	home   lastPos
	pilot  lastPos
	rc     lastPos
	noFix  noFixTally
	keys   keyTally
	firstA *geo.Fix // first valid aircraft fix
	firstP *geo.Fix // first valid pilot fix
}

func newRun(ctx context.Context, in decoders.Input, sink decoders.Sink, p prefix, now time.Time) *run {
	return &run{ctx: ctx, in: in, sink: sink, p: p, now: now, detOff: -1, imgStart: -1,
		locBuf: make([]byte, 0, 48), keys: keyTally{notes: decoders.NoteLimiter{Sink: sink, Max: maxKeyBlobNotes}}}
}

func (r *run) note(sev decoders.Severity, code decoders.Code, off int64, locator, msg string, attrs map[string]string) {
	r.sink.Note(decoders.Note{Severity: sev, Code: code, Offset: off, Locator: locator,
		Message: r.in.Path + ": " + msg, Attrs: attrs})
}

// locator formats "record 40 @ 0x1f3a" without fmt, since it runs once per emitted fix.
func (r *run) locator(rec record) string {
	b := append(r.locBuf[:0], "record "...)
	b = strconv.AppendInt(b, int64(rec.Index), 10)
	b = append(b, " @ 0x"...)
	b = strconv.AppendInt(b, rec.Offset, 16)
	return string(b)
}

func (r *run) decode() error {
	if err := r.layout(); err != nil {
		if errors.Is(err, errStop) {
			return nil
		}
		return err
	}
	if err := r.walk(); err != nil {
		return err
	}
	r.images()
	r.trailer()
	r.finish()
	return nil
}
