// Package srt decodes the telemetry DJI cameras write into video subtitle (.SRT) files: per-second
// or per-frame aircraft positions, the home point and the camera's local date and time.
//
// The file is plain SubRip: an index line, a "HH:MM:SS,mmm --> HH:MM:SS,mmm" line, one to three
// text lines and a blank line. DJI firmware put positions into the text in at least eight styles
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

// Sniff implements decoders.FileDecoder: the first non-blank line is a block number and the next
// line a SubRip time range. Binary data (a NUL byte in the head) is never claimed.
func (Decoder) Sniff(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	head = bytes.TrimPrefix(head, bom)
	var first []byte
	for len(head) > 0 {
		var line []byte
		line, head = cutLine(head)
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if first == nil {
			if !allDigits(line) || len(line) > 9 {
				return false
			}
			first = line
			continue
		}
		return isTimeRange(line)
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

// isTimeRange recognises "00:00:01,000 --> 00:00:02,000" (SubRip; some writers use '.').
func isTimeRange(line []byte) bool {
	i := bytes.Index(line, []byte("-->"))
	if i < 0 {
		return false
	}
	return isTimecode(bytes.TrimSpace(line[:i])) && isTimecode(bytes.TrimSpace(line[i+3:]))
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
