// Package bodies reads what an HTTP message body carries as the audit reads a file on disk: it
// opens the body (decoders/httpbody: content codings, multipart parts, form fields), names and
// hashes each object in it (decoders/objects), and reports the positions they hold: JSON
// documents and form fields through decoders/jsonpos, JPEG EXIF GPS and DJI XMP through
// objects.ImagePositions, and any object a file decoder of the run recognises (a DJI flight record,
// a DataFlash log) through objects.DecodeFile, as network-channel fixes of the request.
package bodies

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/httpbody"
	"droneaudit/decoders/objects"
)

// Object is one object a body holds: the body with its codings undone, or one multipart part.
type Object struct {
	objects.Object
	// Where names the object in the body: "body", or "part N" with the part's form name and file
	// name.
	Where string
	// Offset is where its bytes start in the decoded body (0 for the body itself).
	Offset int64
	// Data is the object's bytes, valid as long as the body's.
	Data []byte
	// Recoded is set when Data differs from the bytes on the wire (a content coding or a part's
	// transfer encoding was undone): a search of the wire bytes did not see them.
	Recoded bool
}

// Opened is a body opened into its objects.
type Opened struct {
	httpbody.Decoded
	// Multipart is set for a multipart body that could be split.
	Multipart *httpbody.Multipart
	// Fields are the fields of a URL-encoded form body.
	Fields []httpbody.Field
	// Objects are the decoded body, or each multipart part, in body order.
	Objects []Object
	one     [1]Object // Objects of a body that is one object
}

// Open opens a body by its Content-Type and Content-Encoding. The decoded body is an object
// unless it is a multipart body that split (its parts are the objects then). wireSHA256, when
// the caller hashed the whole body as sent (hex), spares hashing it again when no coding was
// undone. Unlike httpbody.Open it does not look for base64, hex and percent-encoded values: the
// known-value search opens those in the wire bytes itself, and nothing else here reads them.
func Open(contentType, contentEncoding string, body []byte, opt httpbody.Options, wireSHA256 string) *Opened {
	d, _ := httpbody.DecodeContent(contentEncoding, body, opt.Limits)
	o := &Opened{Decoded: d}
	switch {
	case holdsFold(contentType, "multipart/") && httpbody.IsMultipart(contentType):
		m, err := httpbody.SplitMultipart(contentType, d.Body, opt.Parts)
		if err != nil {
			n := decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: -1, Message: err.Error()}
			if e, ok := errors.AsType[*httpbody.Error](err); ok {
				n = e.Note()
			}
			o.Notes = append(o.Notes, n)
			break
		}
		o.Notes = append(o.Notes, m.Notes...)
		o.Multipart = &m
	case holdsFold(contentType, "x-www-form-urlencoded") && httpbody.IsForm(contentType):
		var notes []decoders.Note
		o.Fields, notes = httpbody.ParseForm(d.Body, opt.MaxFields)
		o.Notes = append(o.Notes, notes...)
	}
	recoded := len(o.Applied) > 0
	if o.Multipart == nil || len(o.Multipart.Parts) == 0 {
		ob := Object{Where: "body", Data: o.Body, Recoded: recoded}
		if wireSHA256 != "" && !recoded {
			ob.Object = objects.Object{Kind: objects.Identify(o.Body), SHA256: wireSHA256, Size: int64(len(o.Body))}
		} else {
			ob.Object = objects.Describe(o.Body)
		}
		o.one[0] = ob
		o.Objects = o.one[:1:1]
		return o
	}
	for _, p := range o.Multipart.Parts {
		o.Objects = append(o.Objects, Object{Object: objects.Describe(p.Data), Where: partName(p), Offset: p.Offset, Data: p.Data,
			Recoded: recoded || p.TransferEncoding != ""})
	}
	return o
}

// holdsFold reports whether s holds word (lower-case ASCII) in any ASCII case. It spares most
// bodies mime.ParseMediaType's parse (and its map): a media type is ASCII token characters that
// it lower-cases, and no other character lower-cases to a letter of the words asked (only the
// Kelvin sign, to k), so a type without the word is neither multipart nor a form.
func holdsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		j := 0
		for ; j < len(word); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

func partName(p httpbody.Part) string {
	s := "part " + strconv.Itoa(p.Index+1)
	if p.Name != "" {
		s += " name=" + strconv.Quote(p.Name)
	}
	if p.Filename != "" {
		s += " filename=" + strconv.Quote(p.Filename)
	}
	return s
}

// Summary says in one line what the body was found to be: the codings undone, the parts, and
// each object's kind and size, e.g. "gzip → json 312 B" or "multipart 2 parts: dji-flight-record
// 81920 B, jpeg 40211 B". A body cut by a coding error ends in "(cut)".
func (o *Opened) Summary() string {
	var b strings.Builder
	if len(o.Applied) > 0 {
		b.WriteString(strings.Join(o.Applied, "+"))
		b.WriteString(" → ")
	}
	if o.Multipart != nil && len(o.Multipart.Parts) > 0 {
		fmt.Fprintf(&b, "multipart %d parts: ", len(o.Multipart.Parts))
	} else if len(o.Fields) > 0 {
		fmt.Fprintf(&b, "form %d fields: ", len(o.Fields))
	}
	for i, ob := range o.Objects {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d B", ob.Kind, ob.Size)
	}
	if !o.Complete {
		b.WriteString(" (cut)")
	}
	return b.String()
}
