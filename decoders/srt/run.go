package srt

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// run is the state of one Decode: the block being read and what the file has shown so far.
type run struct {
	in   decoders.Input
	sink decoders.Sink

	cur        *block
	spare      block // reused storage for cur: a block is flushed before the next one starts
	blocks     int
	prevLines  int  // text lines of the block before cur
	prevHadPos bool // the block before cur had an aircraft position (or N/A)
	pending    bool
	pendingNum int
	pendingAt  int
	pendingOff int64
	// pendingBlank says the pending counter stood after a blank line or at the start of the file.
	pendingBlank bool
	afterBlank   bool
	// headerCut: the file ends inside the line after the pending counter.
	headerCut bool

	lastLine       int
	lastOff        int64
	lastTerminated bool

	positions, homes, noFix, homeRepeats, junk, longLines, damaged int64
	lastHome                                                       [2]float64
	haveHome                                                       bool
	first, firstHome                                               *geo.Fix
	// once says each kind of damage once per file: the counters above keep the tallies, and a
	// firmware that breaks one block breaks them all alike.
	once decoders.NoteLimiter

	rad radians
}

func newRun(in decoders.Input, sink decoders.Sink) *run {
	return &run{in: in, sink: sink, rad: radians{in: in}, once: decoders.NoteLimiter{Sink: sink, Max: 1}, afterBlank: true}
}

// line handles one physical line (with its line ending) at byte offset off.
//
// A block is a counter line, a time line, text lines and a blank line (formats §13). The time line
// is a SubRip range in most files; older firmware writes a calendar date and time there, and
// subtitle tracks extracted from a video may have no time line at all. So a counter starts a
// block when a time line of either kind follows it, or when it stands after a blank line (or at
// the start of the file) and text follows it.
func (r *run) line(raw []byte, lineNo int, off int64, terminated bool) {
	r.lastLine, r.lastOff, r.lastTerminated = lineNo, off, terminated
	text := raw
	if lineNo == 1 {
		text = bytes.TrimPrefix(text, bom)
	}
	text = bytes.TrimSpace(text)
	afterBlank := r.afterBlank
	r.afterBlank = len(text) == 0
	if r.pending {
		r.pending = false
		switch {
		case isTimeRange(text) || r.pendingBlank && isDateTime(text):
			// A lone date after digits inside a block would be text; after a blank line it is
			// the time line of older firmware.
			r.startBlock(r.pendingNum, r.pendingAt, r.pendingOff)
			if t, _, n := dateAt(text); n > 0 {
				r.cur.lineDate, r.cur.hasLineDate = t, true
			}
			return
		case !terminated && len(text) > 0 && isDigit(text[0]):
			// The file ends inside the line after a counter, which starts as a time line does:
			// the block's header is cut.
			r.headerCut = true
			r.pending = true
			return
		case r.pendingBlank && len(text) > 0:
			// A block without a time line: the counter's text follows it directly.
			r.startBlock(r.pendingNum, r.pendingAt, r.pendingOff)
		case r.cur != nil:
			// The number was text of the current block after all.
			r.cur.textLines++
		}
	}
	if len(text) == 0 {
		return
	}
	if len(text) <= 9 && allDigits(text) {
		n, _ := strconv.Atoi(string(text))
		r.pending, r.pendingNum, r.pendingAt, r.pendingOff = true, n, lineNo, off
		r.pendingBlank = afterBlank || r.cur == nil
		return
	}
	if isTimeRange(text) {
		// A time range without its number line: still a block; number it by position.
		r.startBlock(r.blocks+1, lineNo, off)
		return
	}
	if r.cur == nil {
		r.junk++
		return
	}
	r.cur.textLines++
	parseLine(text, r.cur, lineNo, off, terminated)
}

func (r *run) longLine(lineNo int, off int64) {
	r.longLines++
	r.lastLine, r.lastOff, r.lastTerminated = lineNo, off, true
	if r.once.Allow(decoders.CodeJunk) {
		r.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeJunk, Locator: fmt.Sprintf("line %d", lineNo), Offset: off,
			Message: fmt.Sprintf("%s: line %d at byte %d is longer than %d bytes: not subtitle text, skipped", r.in.Path, lineNo, off, maxLine)})
	}
}

func (r *run) startBlock(num, lineNo int, off int64) {
	if r.cur != nil {
		r.flush(r.cur, false)
		r.prevLines, r.prevHadPos = r.cur.textLines, r.cur.aircraft.seen()
	}
	r.blocks++
	r.spare = block{number: num, line: lineNo, off: off, lastLine: lineNo, lastOff: off}
	r.cur = &r.spare
}

// flush emits the positions of a finished block. atEOF marks the last block, whose half
// position, when the last line is unterminated, is reported as truncation instead.
func (r *run) flush(b *block, atEOF bool) {
	if b.cut && !atEOF {
		// A bracket or parenthesis left open inside the file: the firmware cut the line short
		// (seen in the corpus: "[latit" and a newline). Whatever was complete is still used.
		r.damaged++
		if r.once.Allow(decoders.CodeDamaged) {
			r.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeDamaged, Locator: fmt.Sprintf("block %d @ line %d", b.number, b.lastLine), Offset: b.lastOff,
				Message: fmt.Sprintf("%s: block %d (line %d, byte %d) is cut short inside a bracket; its complete fields were read", r.in.Path, b.number, b.lastLine, b.lastOff)})
		}
	}
	if b.home.lat.ok && b.home.lon.ok {
		r.emitHome(b)
	}
	p := &b.aircraft
	switch {
	case p.lat.ok && p.lon.ok:
		r.emitAircraft(b)
	case p.na:
		r.noFix++
	case p.lat.ok != p.lon.ok && !(atEOF && !r.lastTerminated):
		// Half a position in a complete block: the firmware or an editor dropped a field.
		r.noFix++
		if r.once.Allow(decoders.CodePartialPosition) {
			r.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodePartialPosition, Locator: fmt.Sprintf("block %d @ line %d", b.number, p.line), Offset: p.off,
				Message: fmt.Sprintf("%s: block %d (line %d, byte %d) has a latitude or a longitude but not both; no position taken", r.in.Path, b.number, p.line, p.off)})
		}
	}
}

func (r *run) emitHome(b *block) {
	p := &b.home
	if r.haveHome && r.lastHome == [2]float64{p.lat.v, p.lon.v} {
		// Every block of styles A/B repeats the home point; one fix per change is enough.
		r.homeRepeats++
		return
	}
	f := geo.Fix{Lat: p.lat.v, Lon: p.lon.v, Role: geo.RoleHome, PrecisionM: geo.PrecisionFromDecimals(min(p.lat.dec, p.lon.dec))}
	if p.hasAlt {
		f.HasAlt, f.AltM, f.AltRef = true, p.alt, p.altRef
	}
	f.Time = b.time()
	f.Evidence = r.evidence(b, p.line, p.off)
	f.Evidence.Message = p.message
	f.Evidence.Encoding = "decimal degrees text, lon first"
	if !f.Valid() {
		r.invalid(b, p, "home point")
		return
	}
	r.haveHome, r.lastHome = true, [2]float64{p.lat.v, p.lon.v}
	r.homes++
	if r.firstHome == nil {
		fc := f
		r.firstHome = &fc
	}
	r.sink.Fix(f)
}

func (r *run) emitAircraft(b *block) {
	p := &b.aircraft
	lat, lon := p.lat.v, p.lon.v
	prec := geo.PrecisionFromDecimals(min(p.lat.dec, p.lon.dec))
	enc := "decimal degrees text"
	var note string
	if p.named && inRadianRange(lat, lon) && !(lat == 0 && lon == 0) && r.rad.isRadians() {
		// Mavic Air 2 firmware bug (formats §13): the file holds radians. Converted, and said so.
		lat, lon = lat*180/math.Pi, lon*180/math.Pi
		prec *= 180 / math.Pi
		enc = "decimal radians text (firmware bug), converted"
		note = "radians suspected: " + r.rad.reason + "; converted to degrees"
		if r.once.Allow(decoders.CodeRadiansSuspected) {
			r.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeRadiansSuspected, Locator: locator(b.number, p.line), Offset: p.off,
				Message: fmt.Sprintf("%s: %s; every such position was converted to degrees", r.in.Path, r.rad.reason)})
		}
	}
	f := geo.Fix{Lat: lat, Lon: lon, Role: geo.RoleAircraft, PrecisionM: prec}
	switch {
	case p.hasAlt:
		f.HasAlt, f.AltM, f.AltRef = true, p.alt, p.altRef
		if p.altKey == "altitude" && b.font28 && b.dateMs {
			// DJI FPV bug (formats §13): font size 28 + ms date + [altitude] means altitude ÷ 10.
			f.AltM *= 10
			note = join(note, "altitude multiplied by 10 (DJI FPV firmware writes it divided by ten)")
		}
	case b.hasHeight:
		f.HasAlt, f.AltM, f.AltRef = true, b.height, "take-off"
	}
	f.Time = b.time()
	f.Evidence = r.evidence(b, p.line, p.off)
	f.Evidence.Message = p.message
	f.Evidence.Encoding = enc
	f.Evidence.Note = note
	if !f.Valid() {
		r.invalid(b, p, "aircraft position")
		return
	}
	r.positions++
	if r.first == nil {
		fc := f
		r.first = &fc
	}
	r.sink.Fix(f)
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// invalid counts a (0,0) "no fix" or reports an out-of-range position once.
func (r *run) invalid(b *block, p *position, what string) {
	r.noFix++
	if p.lat.v == 0 && p.lon.v == 0 || !r.once.Allow(decoders.CodeOutOfRange) {
		return
	}
	r.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeOutOfRange, Locator: fmt.Sprintf("block %d @ line %d", b.number, p.line), Offset: p.off,
		Message: fmt.Sprintf("%s: block %d (line %d, byte %d): %s %v,%v is not a WGS84 position; skipped", r.in.Path, b.number, p.line, p.off, what, p.lat.v, p.lon.v)})
}

// finish flushes the last block and reports truncation, counts and what the file exposes.
func (r *run) finish(size int64) {
	if r.pending && !r.pendingBlank {
		// Digits inside a block, cut by the end of the file: text of that block (a date line
		// cut after its first digits), not a counter.
		r.pending = false
		r.cur.textLines++
	}
	if r.pending {
		// A block number with nothing after it, or with the start of its time line: the file was
		// cut inside the block's header.
		if r.cur != nil {
			r.flush(r.cur, false)
			r.prevLines = r.cur.textLines
		}
		r.blocks++
		what := "the file ends right after the number line of block %d"
		if r.headerCut {
			what = "the file ends inside the time line of block %d"
		}
		r.truncated(r.pendingNum, r.pendingAt, r.pendingOff, size, what, nil)
		r.cur = nil
	}
	if b := r.cur; b != nil {
		r.flush(b, true)
		r.checkCut(b, size)
	}
	if r.blocks == 0 && r.junk == 0 && r.longLines == 0 {
		r.sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeEmpty, Locator: "line 1", Offset: 0,
			Message: fmt.Sprintf("%s: SRT file holds no subtitle text (%d bytes of blanks)", r.in.Path, size)})
	}
	r.sink.Count("blocks", int64(r.blocks))
	r.sink.Count("positions", r.positions)
	r.sink.Count("home_points", r.homes)
	r.sink.Count("home_repeats", r.homeRepeats)
	r.sink.Count("no_fix_blocks", r.noFix)
	r.sink.Count("junk_lines", r.junk+r.longLines)
	r.sink.Count("damaged_blocks", r.damaged)
	r.exposure()
}

// checkCut decides whether the last block was cut short: an open bracket or a half position on
// an unterminated last line, no text at all, or fewer text lines than the block before it and
// no position where that block had one.
func (r *run) checkCut(b *block, size int64) {
	var attrs map[string]string
	p := &b.aircraft
	if p.lat.ok != p.lon.ok {
		attrs = map[string]string{}
		if p.lat.ok {
			attrs["latitude"] = strconv.FormatFloat(p.lat.v, 'f', -1, 64)
		} else {
			attrs["longitude"] = strconv.FormatFloat(p.lon.v, 'f', -1, 64)
		}
	}
	switch {
	case b.textLines == 0:
		r.truncated(b.number, b.line, b.off, size, "block %d has a time line but no text", nil)
	case !r.lastTerminated && (b.cut || attrs != nil):
		r.truncated(b.number, b.line, b.off, size, "block %d is cut mid-token (no final newline, open bracket or half a position)", attrs)
	case r.prevLines > 0 && b.textLines < r.prevLines && r.prevHadPos && !p.seen():
		// Fewer lines alone could be a change of style (files mix styles); fewer lines and
		// the position gone is a cut.
		r.truncated(b.number, b.line, b.off, size, fmt.Sprintf("block %%d has %d text lines where the block before it had %d", b.textLines, r.prevLines), attrs)
	}
}

// truncated reports the cut block: at its start (lineNo, off), the offset where the block the
// file ends in begins.
func (r *run) truncated(num, lineNo int, off, size int64, format string, attrs map[string]string) {
	what := fmt.Sprintf(format, num)
	r.sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Locator: fmt.Sprintf("block %d @ line %d", num, lineNo), Offset: off,
		Message: fmt.Sprintf("%s: truncated SRT: the file ends at byte %d inside block %d, which starts at byte %d (line %d): %s; %d positions before the cut were read",
			r.in.Path, size, num, off, lineNo, what, r.positions),
		Attrs: attrs})
}

// exposure says what anyone holding the file learns: where the camera flew, its home point,
// and the local date of the recording.
func (r *run) exposure() {
	if r.first == nil && r.firstHome == nil {
		return
	}
	attrs := map[string]string{"positions": strconv.FormatInt(r.positions, 10)}
	ref := r.first
	if r.first != nil {
		attrs["first_position"] = latLon(r.first)
		if !r.first.Time.IsZero() {
			attrs["recorded_local_time"] = r.first.Time.Format("2006-01-02 15:04:05")
		}
	}
	if r.firstHome != nil {
		attrs["home_point"] = latLon(r.firstHome)
		ref = r.firstHome
	}
	what := fmt.Sprintf("the flight track (%d positions)", r.positions)
	if r.firstHome != nil {
		what += ", the home point"
	}
	if attrs["recorded_local_time"] != "" {
		what += ", the camera's local date and time"
	}
	r.sink.Exposure(decoders.Exposure{Locator: ref.Evidence.Locator, Offset: ref.Evidence.Offset,
		Message: fmt.Sprintf("%s: a reader of this subtitle file learns %s", r.in.Path, what), Values: attrs})
}

func latLon(f *geo.Fix) string {
	return strconv.FormatFloat(f.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(f.Lon, 'f', -1, 64)
}
