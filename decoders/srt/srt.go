// Package srt decodes the telemetry DJI cameras write into video subtitle (.SRT) files: per-second
// or per-frame aircraft positions, the home point and the camera's local date and time.
//
// The file is plain SubRip: an index line, a "HH:MM:SS,mmm --> HH:MM:SS,mmm" line, one to three
// text lines and a blank line. Older firmware writes a calendar date and time where the range
// stands, and subtitle tracks taken out of a video may have no time line at all, so the file is
// recognised by that block structure and its telemetry fields rather than by one style of time
// line. DJI firmware put positions into the text in at least eight styles
// (formats/dji-flight-record.md §13, rules from JuanIrache/DJI_SRT_Parser@b6ed7901:index.js); the
// style is detected per block because real files mix two styles.
package srt

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// Decoder is the FileDecoder for DJI SRT subtitle telemetry.
type Decoder struct{}

// New returns the SRT decoder.
func New() Decoder { return Decoder{} }

// Name implements decoders.FileDecoder.
func (Decoder) Name() string { return "srt" }

// maxLine bounds one text line. SRT lines are short (the longest DJI style is about 250 bytes);
// anything longer is not subtitle text and is skipped with a note rather than buffered.
const maxLine = 64 << 10

var bom = []byte{0xEF, 0xBB, 0xBF}

// Sniff implements decoders.FileDecoder. It recognises the block structure of a SubRip file
// (formats §13) rather than one style of time line: the first non-blank line is a block counter,
// and the next one either a SubRip time range or, as older DJI firmware writes it, a calendar
// date and time (alone or as a range); or the block has no time line at all and its text
// follows the counter. Without a SubRip range, the block's text must hold DJI telemetry fields,
// so that a counter followed by prose is not taken for a subtitle file. Binary data (a NUL byte
// in the head) is never claimed.
func (Decoder) Sniff(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	head = bytes.TrimPrefix(head, bom)
	counter := false
	telemetry := false
	for n := 0; len(head) > 0 && n < sniffLines; n++ {
		var line []byte
		line, head = cutLine(head)
		line = bytes.TrimSpace(line)
		switch {
		case !counter && len(line) == 0:
			continue
		case !counter:
			if !allDigits(line) || len(line) > 9 {
				return false
			}
			counter = true
		case len(line) == 0:
			// The blank line that ends the first block.
			return telemetry
		case n == 1 && isTimeRange(line):
			return true
		default:
			telemetry = telemetry || hasTelemetry(line)
		}
	}
	return telemetry
}

// sniffLines bounds the lines of the first block that Sniff reads: DJI blocks hold at most five.
const sniffLines = 12

// telemetryKeys are the fields that only DJI's (and Autel's) subtitle telemetry writes, in every
// style of formats §13.
var telemetryKeys = [][]byte{
	[]byte("GPS("), []byte("GPS ("), []byte("RTK ("), []byte("HOME("), []byte("HOME ("),
	[]byte("latitude"), []byte("longitude"), []byte("longtitude"), []byte("FrameCnt"), []byte("SrtCnt"),
	[]byte("DiffTime"), []byte("BAROMETER:"), []byte("[iso"), []byte("ISO:"), []byte(", SS "),
}

func hasTelemetry(line []byte) bool {
	for _, k := range telemetryKeys {
		if bytes.Contains(line, k) {
			return true
		}
	}
	return false
}

func cutLine(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isTimeRange recognises "00:00:01,000 --> 00:00:02,000" (SubRip; some writers use '.'), and
// the same arrow between two calendar dates and times, as older DJI firmware writes the range.
func isTimeRange(line []byte) bool {
	i := bytes.Index(line, []byte("-->"))
	if i < 0 {
		return false
	}
	a, b := bytes.TrimSpace(line[:i]), bytes.TrimSpace(line[i+3:])
	return isTimecode(a) && isTimecode(b) || isDateTime(a) && isDateTime(b)
}

// isDateTime reports whether b is one calendar date and time and nothing else, as older
// firmware writes it on the time line ("2017.08.05 14:11:51", "2017-08-05 14:11:51,000").
func isDateTime(b []byte) bool {
	_, _, n := dateAt(b)
	return n > 0 && n == len(b)
}

func isTimecode(b []byte) bool {
	// H+:MM:SS[,.]mmm — hours may have more than two digits in long recordings.
	c := bytes.IndexByte(b, ':')
	if c < 1 || len(b) < c+10 || !allDigits(b[:c]) {
		return false
	}
	t := b[c:]
	return t[0] == ':' && isDigit(t[1]) && isDigit(t[2]) && t[3] == ':' && isDigit(t[4]) && isDigit(t[5]) &&
		(t[6] == ',' || t[6] == '.') && allDigits(t[7:])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Decode implements decoders.FileDecoder. It streams the file line by line; memory does not grow
// with the file.
func (d Decoder) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	if in.Size == 0 {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeEmpty, Locator: "line 1", Offset: 0,
			Message: fmt.Sprintf("%s: empty SRT file (0 bytes): no telemetry", in.Path)})
		return nil
	}
	r := newRun(in, sink)
	br := bufio.NewReaderSize(in.Reader(), maxLine)
	var off int64
	lineNo := 0
	for {
		if lineNo&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Skip the rest of an overlong line without buffering it.
			lineNo++
			n := int64(len(raw))
			for errors.Is(err, bufio.ErrBufferFull) {
				raw, err = br.ReadSlice('\n')
				n += int64(len(raw))
			}
			r.longLine(lineNo, off)
			off += n
			if err != nil && err != io.EOF {
				return fmt.Errorf("%s: read at byte %d: %w", in.Path, off, err)
			}
			if err == io.EOF {
				break
			}
			continue
		}
		if len(raw) > 0 {
			lineNo++
			terminated := raw[len(raw)-1] == '\n'
			r.line(raw, lineNo, off, terminated)
			off += int64(len(raw))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: read at byte %d: %w", in.Path, off, err)
		}
	}
	r.finish(off)
	return nil
}

// evidence returns the evidence skeleton of one line.
func (r *run) evidence(b *block, lineNo int, off int64) geo.Evidence {
	return r.in.Evidence("srt", locator(b.number, lineNo), off, geo.ChannelOnDevice)
}

// locator formats "block N @ line L" with one allocation: it runs once per position.
func locator(block, line int) string {
	var buf [48]byte
	out := append(buf[:0], "block "...)
	out = strconv.AppendInt(out, int64(block), 10)
	out = append(out, " @ line "...)
	out = strconv.AppendInt(out, int64(line), 10)
	return string(out)
}
