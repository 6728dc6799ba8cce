package httpbody

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
	"strconv"
	"strings"

	"droneaudit/decoders"
)

// Bounds of a multipart body, used when PartLimits leaves them zero.
const (
	DefaultMaxParts       = 1024
	DefaultMaxPartHeaders = 16 << 10
)

// PartLimits bounds the splitting of one multipart body.
type PartLimits struct {
	MaxParts       int // parts split out (DefaultMaxParts when 0)
	MaxPartHeaders int // bytes of one part's header block (DefaultMaxPartHeaders when 0)
}

// Part is one body part of a multipart body.
type Part struct {
	Index  int
	Header textproto.MIMEHeader
	// Name and Filename come from Content-Disposition (RFC 7578 §4.2; filename* decoded).
	Name, Filename string
	ContentType    string // as sent; empty means text/plain (RFC 2046 §5.1)
	// HeaderOffset and Offset are the offsets in the body of the part's header block and of its
	// data.
	HeaderOffset, Offset int64
	// Data is the part's content: a sub-slice of the body, or, when TransferEncoding is set, the
	// content with that Content-Transfer-Encoding undone (never longer than the part as sent).
	Data             []byte
	TransferEncoding string
	// Cut is set when the body ends inside this part (no closing delimiter).
	Cut bool
}

// Multipart is a multipart body split into its parts.
type Multipart struct {
	MediaType string // e.g. "multipart/form-data"
	Boundary  string
	Parts     []Part
	// Closed is set when the close delimiter ("--boundary--") was found.
	Closed bool
	Notes  []decoders.Note
}

// IsMultipart reports whether a Content-Type names a multipart body.
func IsMultipart(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.HasPrefix(mt, "multipart/")
}

// SplitMultipart splits a multipart body (multipart/form-data, multipart/mixed and the other
// multipart types) by the boundary its Content-Type names (RFC 2046 §5.1.1). Bare LF line ends
// are accepted beside CRLF. A part whose header block is malformed or too long is reported and
// kept with the header it had; the error is set only when the body cannot be split at all (no
// boundary, or no delimiter in the body).
func SplitMultipart(contentType string, body []byte, lim PartLimits) (Multipart, error) {
	maxParts, maxHdr := lim.MaxParts, lim.MaxPartHeaders
	if maxParts <= 0 {
		maxParts = DefaultMaxParts
	}
	if maxHdr <= 0 {
		maxHdr = DefaultMaxPartHeaders
	}
	var m Multipart
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return m, &Error{Kind: "multipart", Offset: -1, Code: decoders.CodeMalformed, Err: errors.New("content type " + strconv.Quote(contentType) + " is not multipart")}
	}
	m.MediaType = mt
	m.Boundary = params["boundary"]
	if n := len(m.Boundary); n == 0 || n > 70 { // RFC 2046 §5.1.1: 1 to 70 characters
		return m, &Error{Kind: "multipart", Offset: -1, Code: decoders.CodeMalformed, Err: errors.New("boundary of " + strconv.Itoa(n) + " characters")}
	}
	delim := []byte("--" + m.Boundary)
	p, lineEnd := findDelimiter(body, 0, delim, true)
	if p < 0 {
		return m, &Error{Kind: "multipart", Offset: 0, Code: decoders.CodeMalformed, Err: errors.New("no boundary delimiter in the body")}
	}
	if p > 0 {
		m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Info, Code: decoders.CodeJunk, Offset: 0,
			Message: strconv.Itoa(p) + " bytes of preamble before the first boundary"})
	}
	for {
		after := p + len(delim)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			m.Closed = true
			return m, nil
		}
		start := lineEnd
		if len(m.Parts) == maxParts {
			m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTooManyEntries, Offset: int64(start),
				Message: "more than " + strconv.Itoa(maxParts) + " parts; the rest of the body is not split"})
			return m, nil
		}
		next, nextEnd := findDelimiter(body, start, delim, false)
		end := next
		if next < 0 {
			end = len(body)
		} else {
			// The CRLF (or LF) before the delimiter belongs to the delimiter (RFC 2046 §5.1.1).
			end = next - 1
			if end > start && body[end-1] == '\r' {
				end--
			}
			end = max(end, start)
		}
		part := m.part(body, start, end, maxHdr)
		if next < 0 {
			part.Cut = true
			m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTruncated, Offset: int64(start),
				Message: "the body ends inside part " + strconv.Itoa(part.Index) + " (no closing boundary)"})
		}
		m.Parts = append(m.Parts, part)
		if next < 0 {
			return m, nil
		}
		p, lineEnd = next, nextEnd
	}
}

// findDelimiter finds the next delimiter line at or after from: "--boundary" at the start of a
// line, followed by optional transport padding (blanks) and a line end, or by "--". It returns the
// delimiter's offset and the offset after its line end (or after "--"), or -1.
func findDelimiter(b []byte, from int, delim []byte, first bool) (int, int) {
	for i := from; i <= len(b)-len(delim); {
		k := bytes.Index(b[i:], delim)
		if k < 0 {
			return -1, -1
		}
		at := i + k
		i = at + 1
		if !(at == 0 && first) && !(at > 0 && b[at-1] == '\n') {
			continue
		}
		j := at + len(delim)
		if bytes.HasPrefix(b[j:], []byte("--")) {
			return at, j + 2
		}
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case bytes.HasPrefix(b[j:], []byte("\r\n")):
			return at, j + 2
		case j < len(b) && b[j] == '\n':
			return at, j + 1
		case j == len(b):
			return at, j
		}
	}
	return -1, -1
}

// part reads one part's header block and content from body[start:end].
func (m *Multipart) part(body []byte, start, end, maxHdr int) Part {
	p := Part{Index: len(m.Parts), HeaderOffset: int64(start), Header: textproto.MIMEHeader{}}
	b := body[start:end]
	hdrEnd, dataStart := -1, -1
	switch {
	case bytes.HasPrefix(b, []byte("\r\n")):
		hdrEnd, dataStart = 0, 2
	case bytes.HasPrefix(b, []byte("\n")):
		hdrEnd, dataStart = 0, 1
	default:
		w := b[:min(len(b), maxHdr+4)]
		if k := bytes.Index(w, []byte("\r\n\r\n")); k >= 0 {
			hdrEnd, dataStart = k+2, k+4
		}
		if k := bytes.Index(w, []byte("\n\n")); k >= 0 && (hdrEnd < 0 || k+1 < hdrEnd) {
			hdrEnd, dataStart = k+1, k+2
		}
	}
	if hdrEnd < 0 || hdrEnd > maxHdr {
		msg := "part " + strconv.Itoa(p.Index) + " has no end of its header block"
		if len(b) > maxHdr {
			msg = "part " + strconv.Itoa(p.Index) + " header block is longer than " + strconv.Itoa(maxHdr) + " bytes or unterminated"
		}
		m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: int64(start), Message: msg})
		p.Offset, p.Data = int64(end), body[end:end]
		return p
	}
	if hdrEnd > 0 {
		r := textproto.NewReader(bufio.NewReader(io.MultiReader(bytes.NewReader(b[:hdrEnd]), strings.NewReader("\r\n"))))
		h, err := r.ReadMIMEHeader()
		if err != nil {
			m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: int64(start),
				Message: "part " + strconv.Itoa(p.Index) + " header: " + err.Error()})
		}
		if h != nil {
			p.Header = h
		}
	}
	p.Offset = int64(start + dataStart)
	p.Data = b[dataStart:]
	p.ContentType = p.Header.Get("Content-Type")
	if cd := p.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			p.Name, p.Filename = params["name"], params["filename"]
		} else {
			m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Info, Code: decoders.CodeMalformed, Offset: int64(start),
				Message: "part " + strconv.Itoa(p.Index) + " Content-Disposition: " + err.Error()})
		}
	}
	switch cte := strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))); cte {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, p.Data)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: p.Offset,
				Message: "part " + strconv.Itoa(p.Index) + " base64: " + err.Error()})
		}
		p.Data, p.TransferEncoding = out[:n], cte
	case "quoted-printable":
		out, err := io.ReadAll(io.LimitReader(quotedprintable.NewReader(bytes.NewReader(p.Data)), int64(len(p.Data))))
		if err != nil {
			m.Notes = append(m.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: p.Offset,
				Message: "part " + strconv.Itoa(p.Index) + " quoted-printable: " + err.Error()})
		}
		p.Data, p.TransferEncoding = out, cte
	}
	return p
}
