package httpbody

import (
	"strconv"

	"droneaudit/decoders"
)

// Opened is a body with everything this package reads in it.
type Opened struct {
	Decoded
	// Multipart is set for a multipart body that could be split.
	Multipart *Multipart
	// Fields are the fields of a URL-encoded form body.
	Fields []Field
	// Values are the encoded values found in the decoded body, and in each multipart part and
	// form value that is text.
	Values []Value
}

// Options bounds Open.
type Options struct {
	Limits
	Parts     PartLimits
	MaxFields int
	Find      FindLimits
}

// Open undoes a body's content codings, splits it by its Content-Type (multipart or
// URL-encoded form), and finds the encoded values in it. Every note of the steps is in
// Opened.Notes; offsets are in the decoded body for the form and value steps.
func Open(contentType, contentEncoding string, body []byte, opt Options) Opened {
	d, _ := DecodeContent(contentEncoding, body, opt.Limits)
	o := Opened{Decoded: d}
	switch {
	case IsMultipart(contentType):
		m, err := SplitMultipart(contentType, d.Body, opt.Parts)
		if err != nil {
			o.Notes = append(o.Notes, note(err))
			break
		}
		o.Notes = append(o.Notes, m.Notes...)
		o.Multipart = &m
	case IsForm(contentType):
		var notes []decoders.Note
		o.Fields, notes = ParseForm(d.Body, opt.MaxFields)
		o.Notes = append(o.Notes, notes...)
	}
	vals, notes := FindEncoded(d.Body, opt.Find)
	o.Values = vals
	o.Notes = append(o.Notes, notes...)
	// A form's values are percent-encoded, which cuts a base64 value at every '+', '/' and '='
	// in the body: the decoded values are searched too, within what the bounds leave.
	find := opt.Find
	if find.MaxValues <= 0 {
		find.MaxValues = DefaultMaxValues
	}
	if find.MaxDecoded <= 0 {
		find.MaxDecoded = DefaultMaxDecoded
	}
	for i, f := range o.Fields {
		if f.Raw || f.Value == "" {
			continue
		}
		find.MaxValues -= len(vals)
		for _, v := range vals {
			find.MaxDecoded -= len(v.Decoded)
		}
		if find.MaxValues <= 0 || find.MaxDecoded <= 0 {
			break
		}
		vals, _ = FindEncoded([]byte(f.Value), find)
		for _, v := range vals {
			if v.Kind == KindPercent {
				continue // already undone by the form's own decoding
			}
			v.In = "field " + strconv.Itoa(i)
			o.Values = append(o.Values, v)
		}
	}
	return o
}
