package httpbody

import (
	"bytes"
	"mime"
	"net/url"
	"strconv"

	"droneaudit/decoders"
)

// DefaultMaxFields bounds the fields ParseForm splits out when it is handed no bound.
const DefaultMaxFields = 4096

// Field is one name=value pair of a URL-encoded form, decoded.
type Field struct {
	Name, Value string
	Offset      int64 // offset of the pair in the body
	// Raw is set when the pair's percent-encoding is broken: Name and Value are then as sent.
	Raw bool
}

// IsForm reports whether a Content-Type names an application/x-www-form-urlencoded body.
func IsForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// ParseForm splits an application/x-www-form-urlencoded body into its fields in body order
// (WHATWG URL Standard §5.1: pairs split at '&', name and value at the first '=', '+' is a space).
// A pair whose percent-encoding is broken is kept as sent and reported; at most maxFields pairs
// are returned (DefaultMaxFields when maxFields <= 0), and a note says when more were left.
func ParseForm(body []byte, maxFields int) ([]Field, []decoders.Note) {
	if maxFields <= 0 {
		maxFields = DefaultMaxFields
	}
	var out []Field
	var notes []decoders.Note
	for off := 0; off < len(body); {
		end := bytes.IndexByte(body[off:], '&')
		if end < 0 {
			end = len(body)
		} else {
			end += off
		}
		pair := body[off:end]
		if len(pair) > 0 {
			if len(out) == maxFields {
				notes = append(notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTooManyEntries, Offset: int64(off),
					Message: "more than " + strconv.Itoa(maxFields) + " form fields; the rest are not split"})
				return out, notes
			}
			name, value, _ := bytes.Cut(pair, []byte("="))
			f := Field{Offset: int64(off)}
			var err1, err2 error
			f.Name, err1 = url.QueryUnescape(string(name))
			f.Value, err2 = url.QueryUnescape(string(value))
			if err1 != nil || err2 != nil {
				f.Name, f.Value, f.Raw = string(name), string(value), true
				notes = append(notes, decoders.Note{Severity: decoders.Info, Code: decoders.CodeMalformed, Offset: int64(off),
					Message: "form field with broken percent-encoding kept as sent"})
			}
			out = append(out, f)
		}
		off = end + 1
	}
	return out, notes
}
