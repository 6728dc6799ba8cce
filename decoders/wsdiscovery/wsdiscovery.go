// Package wsdiscovery decodes WS-Discovery messages (WS-Discovery 2005/04 as ONVIF uses it, and
// OASIS WS-Discovery 1.1): SOAP envelopes sent over UDP port 3702. A Hello announces a device as
// it joins the network, a ProbeMatches answers a Probe; both describe the sender: its endpoint
// address (a stable urn:uuid), its Types (dn:NetworkVideoTransmitter for an ONVIF camera), its
// Scopes (ONVIF puts the model, name and location there, see ONVIF) and the XAddrs where its
// services listen.
//
// XML is read token by token with encoding/xml and bounded: at most MaxSize bytes, maxTokens
// tokens, maxDepth nested elements, maxText bytes of text per element, and a fixed number of
// matches, types, scopes and addresses kept. encoding/xml expands no entities beyond XML's five,
// so a document cannot grow as it is read.
package wsdiscovery

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Port is the WS-Discovery UDP port.
const Port = 3702

// Bounds on what one message may make the parser do or keep.
const (
	MaxSize    = 64 << 10 // bytes of XML read (a UDP datagram is at most this)
	maxTokens  = 8192
	maxDepth   = 32
	maxText    = 8 << 10
	maxMatches = 16
	maxList    = 64 // types, scopes or XAddrs per match
)

// Actions (the local name of the Body's first element).
const (
	Hello          = "Hello"
	Bye            = "Bye"
	Probe          = "Probe"
	ProbeMatches   = "ProbeMatches"
	Resolve        = "Resolve"
	ResolveMatches = "ResolveMatches"
)

// Match describes one target service: a ProbeMatch, a ResolveMatch, or the body of a Hello or
// Bye. In a Probe it holds the Types and Scopes searched for.
type Match struct {
	Address         string   // EndpointReference/Address, e.g. "urn:uuid:4d454930-…"
	Types           []string // QNames as sent: "dn:NetworkVideoTransmitter", "tds:Device"
	Scopes          []string // URIs
	XAddrs          []string // transport addresses (URLs)
	MetadataVersion string
}

// Message is one decoded WS-Discovery message.
type Message struct {
	Action    string // Hello, Bye, Probe, ProbeMatches, Resolve, ResolveMatches, or the element's local name
	MessageID string
	RelatesTo string
	Matches   []Match
}

// Error says why a message could not be read whole.
type Error struct {
	Offset int64
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("wsdiscovery: offset %d: %s", e.Offset, e.Reason) }

// LooksLike reports whether a UDP payload looks like a SOAP envelope of WS-Discovery: XML whose
// first 2 KiB name an Envelope and a discovery namespace.
func LooksLike(b []byte) bool {
	head := bytes.TrimLeft(b[:min(len(b), 2048)], " \t\r\n\xef\xbb\xbf")
	if len(head) == 0 || head[0] != '<' {
		return false
	}
	return bytes.Contains(head, []byte("Envelope")) &&
		(bytes.Contains(head, []byte("/ws/2005/04/discovery")) || bytes.Contains(head, []byte("/ws-dd/ns/discovery/")))
}

// parser is the state of one Parse.
type parser struct {
	m     *Message
	path  []string // local names of the open elements
	text  []byte   // text of the innermost element so far
	cur   *Match   // the match being read
	body  bool
	inAct bool
}

// Parse decodes one WS-Discovery message. A damaged or over-long document returns what was read
// before the damage with an error.
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxSize {
		b = b[:MaxSize]
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	// Devices declare "UTF-8" in any spelling, and a few a legacy charset; the elements read here
	// are ASCII in all of them, so every declared charset is read as is.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	p := &parser{m: &Message{}}
	for n := 0; ; n++ {
		if n == maxTokens {
			return p.result(&Error{d.InputOffset(), fmt.Sprintf("more than %d XML tokens", maxTokens)})
		}
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(p.path) > 0 {
				return p.result(&Error{d.InputOffset(), "the document ends inside " + p.path[len(p.path)-1]})
			}
			break
		}
		if err != nil {
			return p.result(&Error{d.InputOffset(), err.Error()})
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(p.path) == maxDepth {
				return p.result(&Error{d.InputOffset(), fmt.Sprintf("elements nested deeper than %d", maxDepth)})
			}
			p.start(t.Name.Local)
		case xml.EndElement:
			if len(p.path) == 0 || p.path[len(p.path)-1] != t.Name.Local {
				return p.result(&Error{d.InputOffset(), "end element " + t.Name.Local + " does not match"})
			}
			p.end(t.Name.Local)
		case xml.CharData:
			if len(p.text)+len(t) <= maxText {
				p.text = append(p.text, t...)
			}
		}
	}
	if p.m.Action == "" {
		return nil, &Error{0, "no SOAP Body"}
	}
	return p.m, nil
}

func (p *parser) result(err error) (*Message, error) {
	if p.m.Action == "" {
		return nil, err
	}
	return p.m, err
}

func (p *parser) start(local string) {
	p.path = append(p.path, local)
	p.text = p.text[:0]
	depth := len(p.path)
	switch {
	case depth == 2 && local == "Body":
		p.body = true
	case p.body && depth == 3:
		p.m.Action = local
		if local == Hello || local == Bye || local == Probe || local == Resolve {
			p.open()
		}
	case p.body && depth == 4 && (local == "ProbeMatch" || local == "ResolveMatch"):
		p.open()
	}
}

// open starts a match, unless enough have been kept.
func (p *parser) open() {
	if len(p.m.Matches) < maxMatches {
		p.m.Matches = append(p.m.Matches, Match{})
		p.cur = &p.m.Matches[len(p.m.Matches)-1]
	} else {
		p.cur = nil
	}
}

func (p *parser) end(local string) {
	text := strings.TrimSpace(strings.ToValidUTF8(string(p.text), "\uFFFD"))
	depth := len(p.path)
	p.path = p.path[:depth-1]
	p.text = p.text[:0]
	if !p.body {
		if depth == 3 && len(p.path) >= 2 && p.path[1] == "Header" {
			switch local {
			case "MessageID":
				p.m.MessageID = text
			case "RelatesTo":
				p.m.RelatesTo = text
			}
		}
		return
	}
	if local == "Body" && depth == 2 {
		p.body = false
		return
	}
	if p.cur == nil {
		return
	}
	switch local {
	case "Address":
		if len(p.path) > 0 && p.path[len(p.path)-1] == "EndpointReference" {
			p.cur.Address = text
		}
	case "Types":
		p.cur.Types = appendFields(p.cur.Types, text)
	case "Scopes":
		p.cur.Scopes = appendFields(p.cur.Scopes, text)
	case "XAddrs":
		p.cur.XAddrs = appendFields(p.cur.XAddrs, text)
	case "MetadataVersion":
		p.cur.MetadataVersion = text
	case "ProbeMatch", "ResolveMatch", Hello, Bye, Probe, Resolve:
		p.cur = nil
	}
}

// appendFields adds the white-space separated items of a list (xs:list), up to maxList.
func appendFields(list []string, text string) []string {
	for _, f := range strings.Fields(text) {
		if len(list) == maxList {
			break
		}
		list = append(list, f)
	}
	return list
}
