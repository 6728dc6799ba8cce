// Package csvlog decodes flight logs exported as CSV: Airdata UAV's "Downloadable Flight Data
// CSV" (46 columns, feet and mph; formats/dji-flight-record.md §14.1), the TxtlogToCsv /
// PhantomHelp and dji-log-parser exports whose columns are named after flight-record groups
// (§14.2, §14.3), and any CSV with recognisable latitude, longitude and time columns.
//
// Columns are matched by name, never by position: Airdata's own help page lists a column its
// exports lack. Units come from the header ("(feet)", "[ft]", "(rad)").
package csvlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"droneaudit/decoders"
)

// Decoder is the FileDecoder for CSV flight logs.
type Decoder struct{}

// New returns the CSV decoder.
func New() Decoder { return Decoder{} }

// Name implements decoders.FileDecoder.
func (Decoder) Name() string { return "csvlog" }

const (
	// maxRecord bounds one record (a line, or several when a quoted cell holds newlines).
	// The widest known export, the 182-column truth CSV, has lines of a few kilobytes.
	maxRecord = 1 << 20
	// maxColumns bounds the cells read from one record.
	maxColumns = 4096
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// Sniff implements decoders.FileDecoder: the first line (after a BOM and an optional Excel
// "sep=," line) is a header with a latitude and a longitude column. Data with NUL bytes is
// binary and never claimed.
func (Decoder) Sniff(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	head = bytes.TrimPrefix(head, bom)
	line, rest, _ := bytes.Cut(head, []byte("\n"))
	if d, ok := sepLine(line); ok {
		line, _, _ = bytes.Cut(rest, []byte("\n"))
		_, ok := layoutOf(bytes.TrimRight(line, "\r"), d)
		return ok
	}
	line = bytes.TrimRight(line, "\r")
	_, ok := layoutOf(line, guessDelim(line))
	return ok
}

// sepLine recognises Excel's "sep=;" first line (PhantomHelp exports may start with it).
func sepLine(line []byte) (byte, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 5 && bytes.HasPrefix(line, []byte("sep=")) {
		return line[4], true
	}
	return 0, false
}

// guessDelim picks the most frequent of ',', ';' and tab in the header line.
func guessDelim(line []byte) byte {
	best, n := byte(','), bytes.Count(line, []byte{','})
	for _, d := range []byte{';', '\t'} {
		if c := bytes.Count(line, []byte{d}); c > n {
			best, n = d, c
		}
	}
	return best
}

// lineReader hands out records with their first line number and byte offset, bounded by maxRecord.
type lineReader struct {
	br      *bufio.Reader
	off     int64
	line    int
	rec     []byte
	path    string
	sink    decoders.Sink
	once    decoders.NoteLimiter // overlong lines are noted once, counted always
	skipped int64
	// terminated says whether the last line returned ended with a newline.
	terminated bool
}

// next returns the next physical line without its line ending. Overlong lines are skipped
// with one note; the returned slice is valid until the next call.
func (lr *lineReader) next() (text []byte, lineNo int, off int64, err error) {
	for {
		lr.rec = lr.rec[:0]
		start := lr.off
		long := false
		for {
			chunk, e := lr.br.ReadSlice('\n')
			lr.off += int64(len(chunk))
			if !long {
				if len(lr.rec)+len(chunk) > maxRecord {
					long = true
					lr.rec = lr.rec[:0]
				} else {
					lr.rec = append(lr.rec, chunk...)
				}
			}
			if errors.Is(e, bufio.ErrBufferFull) {
				continue
			}
			if e != nil && e != io.EOF {
				return nil, 0, 0, fmt.Errorf("%s: read at byte %d: %w", lr.path, lr.off, e)
			}
			if lr.off == start {
				return nil, 0, 0, io.EOF
			}
			lr.line++
			lr.terminated = e == nil
			if long {
				lr.skipped++
				if lr.once.Allow(decoders.CodeJunk) {
					lr.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeJunk, Locator: fmt.Sprintf("line %d", lr.line), Offset: start,
						Message: fmt.Sprintf("%s: line %d at byte %d is longer than %d bytes; skipped", lr.path, lr.line, start, maxRecord)})
				}
				if e == io.EOF {
					return nil, 0, 0, io.EOF
				}
				break
			}
			return bytes.TrimRight(lr.rec, "\r\n"), lr.line, start, nil
		}
	}
}

// Decode implements decoders.FileDecoder. It streams the file record by record.
func (d Decoder) Decode(ctx context.Context, in decoders.Input, sink decoders.Sink) error {
	if in.Size == 0 {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeEmpty, Locator: "line 1", Offset: 0,
			Message: fmt.Sprintf("%s: empty CSV file (0 bytes)", in.Path)})
		return nil
	}
	lr := &lineReader{br: bufio.NewReaderSize(in.Reader(), 64<<10), path: in.Path, sink: sink,
		once: decoders.NoteLimiter{Sink: sink, Max: 1}}
	text, lineNo, off, err := lr.next()
	if err == io.EOF {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeEmpty, Locator: "line 1", Offset: 0,
			Message: fmt.Sprintf("%s: CSV file has no header line", in.Path)})
		return nil
	}
	if err != nil {
		return err
	}
	if lineNo == 1 {
		text = bytes.TrimPrefix(text, bom)
	}
	delim, hasSep := sepLine(text)
	if hasSep {
		if text, lineNo, off, err = lr.next(); err != nil {
			if err == io.EOF {
				sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeEmpty, Locator: "line 2", Offset: lr.off,
					Message: fmt.Sprintf("%s: CSV file ends after its sep= line", in.Path)})
				return nil
			}
			return err
		}
	} else {
		delim = guessDelim(text)
	}
	if !lr.terminated {
		// The file ends inside its header line: a cut file, not one without positions.
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeTruncated, Locator: fmt.Sprintf("line %d", lineNo), Offset: off,
			Message: fmt.Sprintf("%s: truncated CSV: the file ends at byte %d inside its header line (line %d, which starts at byte %d); no rows", in.Path, lr.off, lineNo, off)})
		return nil
	}
	lay, ok := layoutOf(text, delim)
	if !ok {
		sink.Note(decoders.Note{Severity: decoders.Error, Code: decoders.CodeNoPositionColumns, Locator: fmt.Sprintf("line %d", lineNo), Offset: off,
			Message: fmt.Sprintf("%s: header at line %d has no latitude/longitude column pair: %.200q", in.Path, lineNo, text)})
		return nil
	}
	r := newRun(in, sink, lay)
	var fields [][]byte
	for {
		if r.rows&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		text, lineNo, off, err = lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var open bool
		fields, open = splitRecord(text, delim, fields)
		if open {
			// A quoted cell runs on over the next lines: join them, within maxRecord.
			rec := append([]byte(nil), text...)
			for open && len(rec) < maxRecord {
				more, _, _, err := lr.next()
				if err != nil {
					break
				}
				rec = append(append(rec, '\n'), more...)
				fields, open = splitRecord(rec, delim, fields)
			}
		}
		if !lr.terminated && len(fields) < lay.ncols && len(fields) > 0 {
			// The file stops inside this row: its last cell may be cut mid-number.
			fields = fields[:len(fields)-1]
		}
		r.row(fields, lineNo, off)
	}
	r.finish(lr.off, lr.skipped)
	return nil
}

// describe names the dialect for evidence.
func (l *layout) describe() string {
	switch {
	case l.airdata:
		return "Airdata CSV"
	case l.grouped:
		return "flight-record CSV (GROUP.field columns)"
	}
	return "CSV with " + strings.Join(l.posNames, ", ")
}
