// Package boundxml reads a small XML document (a discovery message, a device description) token
// by token within fixed bounds, for the decoders of such documents: at most Limits.Tokens
// tokens, Limits.Depth nested elements and Limits.Text bytes of text per element. encoding/xml
// expands no entities beyond XML's five, so a document cannot grow as it is read.
package boundxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits bound what one document may make the reader do.
type Limits struct {
	Tokens int
	Depth  int
	Text   int // bytes of character data per element
}

// Problem says where and why a document could not be read whole.
type Problem struct {
	Offset int64
	Reason string
}

// Visitor is told of the document's elements: Start with the element (its path holds the
// names of the elements it is in, outermost first) and End with the element's path, itself
// last, and its text, trimmed. Start may stop the walk with a reason.
type Visitor struct {
	Start func(path []string, e xml.StartElement) (stop string)
	End   func(path []string, text string)
}

// Walk reads b as one XML document. It returns nil when the document was read whole, else where
// and why it stopped; the visitor has been told of everything before.
func Walk(b []byte, lim Limits, v Visitor) *Problem {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	// UTF-8 under another name, or ASCII; anything else is read as bytes and sanitised where
	// it is shown.
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }
	var path []string
	var text strings.Builder
	root := false
	for n := 0; ; n++ {
		if n >= lim.Tokens {
			return &Problem{d.InputOffset(), fmt.Sprintf("more than %d XML tokens", lim.Tokens)}
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			switch {
			case !root:
				return &Problem{d.InputOffset(), "no root element"}
			case len(path) > 0:
				return &Problem{d.InputOffset(), "document cut short"}
			}
			return nil
		}
		if err != nil {
			return &Problem{d.InputOffset(), err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) >= lim.Depth {
				return &Problem{d.InputOffset(), fmt.Sprintf("elements nested deeper than %d", lim.Depth)}
			}
			if len(path) == 0 && root {
				return &Problem{d.InputOffset(), "a second root element"}
			}
			if v.Start != nil {
				if stop := v.Start(path, t); stop != "" {
					return &Problem{d.InputOffset(), stop}
				}
			}
			root = true
			path = append(path, t.Name.Local)
			text.Reset()
		case xml.CharData:
			if text.Len()+len(t) > lim.Text {
				return &Problem{d.InputOffset(), fmt.Sprintf("element text longer than %d bytes", lim.Text)}
			}
			text.Write(t)
		case xml.EndElement:
			if v.End != nil {
				v.End(path, strings.TrimSpace(text.String()))
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
}

// Head returns the first n bytes of b without leading white space or a byte order mark: where
// a recogniser looks for a document's root element.
func Head(b []byte, n int) []byte {
	return bytes.TrimLeft(b[:min(len(b), n)], " \t\r\n\xef\xbb\xbf")
}
