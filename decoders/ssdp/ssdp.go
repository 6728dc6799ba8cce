// Package ssdp decodes Simple Service Discovery Protocol messages (UPnP Device Architecture 2.0
// §1; HTTP over UDP on port 1900): the NOTIFY a device multicasts when it joins or leaves, the
// M-SEARCH a control point multicasts, and the unicast "HTTP/1.1 200 OK" answers to it. A NOTIFY
// or an answer describes its sender: SERVER names its operating system and UPnP stack (often
// the product and firmware), USN its unique device name, LOCATION the URL of its description,
// NT or ST the device or service type.
//
// Header lines are read up to the empty line, at most maxHeaders of them; a line without a colon
// is skipped, and nothing is allocated beyond the datagram's own size.
package ssdp

import (
	"bytes"
	"fmt"
	"strings"
)

// Port is the SSDP UDP port.
const Port = 1900

// maxHeaders caps the header lines read from one message.
const maxHeaders = 64

// maxValue caps the length of a header value kept.
const maxValue = 1024

// Kinds of message.
const (
	Notify   = "notify"   // NOTIFY * HTTP/1.1 (ssdp:alive, ssdp:byebye, ssdp:update)
	Search   = "search"   // M-SEARCH * HTTP/1.1
	Response = "response" // HTTP/1.1 200 OK, an answer to an M-SEARCH
)

// Header is one header line as sent.
type Header struct {
	Name, Value string
}

// Message is one decoded SSDP message.
type Message struct {
	Kind      string
	NT        string // notification type (NOTIFY)
	NTS       string // ssdp:alive, ssdp:byebye, ssdp:update
	ST        string // search target (M-SEARCH and its answers)
	USN       string // unique service name
	Location  string // URL of the device description
	Server    string // "OS/version UPnP/2.0 product/version"
	UserAgent string // USER-AGENT of an M-SEARCH
	// Headers are all the header lines, in order, names as sent.
	Headers []Header
}

// Error says why a payload is not SSDP.
type Error struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("ssdp: offset %d: %s", e.Offset, e.Reason) }

// kind returns the kind of message a start line begins.
func kind(b []byte) string {
	switch {
	case hasPrefixFold(b, "NOTIFY * HTTP/1."):
		return Notify
	case hasPrefixFold(b, "M-SEARCH * HTTP/1."):
		return Search
	case hasPrefixFold(b, "HTTP/1.1 200") || hasPrefixFold(b, "HTTP/1.0 200"):
		return Response
	}
	return ""
}

// LooksLike reports whether a UDP payload starts like an SSDP message. An HTTP 200 answer counts
// only when its head carries an ST or USN header, so that other HTTP over UDP is not taken for it.
func LooksLike(b []byte) bool {
	switch kind(b) {
	case Notify, Search:
		return true
	case Response:
		head := b[:min(len(b), 2048)]
		return containsFold(head, "\nST:") || containsFold(head, "\nUSN:")
	}
	return false
}

// Parse decodes one SSDP message.
func Parse(b []byte) (*Message, error) {
	k := kind(b)
	if k == "" {
		return nil, &Error{0, "no SSDP start line"}
	}
	m := &Message{Kind: k}
	off := bytes.IndexByte(b, '\n')
	if off < 0 {
		return m, &Error{len(b), "start line without an end"}
	}
	off++
	for off < len(b) {
		end := bytes.IndexByte(b[off:], '\n')
		line := b[off:]
		next := len(b)
		if end >= 0 {
			line, next = b[off:off+end], off+end+1
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break // end of the head
		}
		if len(m.Headers) == maxHeaders {
			return m, &Error{off, fmt.Sprintf("more than %d header lines", maxHeaders)}
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok {
			m.add(text(bytes.TrimSpace(name)), text(bytes.TrimSpace(value)))
		}
		off = next
	}
	if m.Kind == Response && m.ST == "" && m.USN == "" {
		return nil, &Error{0, "an HTTP answer without ST or USN"}
	}
	return m, nil
}

func (m *Message) add(name, value string) {
	if len(value) > maxValue {
		value = value[:maxValue]
	}
	m.Headers = append(m.Headers, Header{name, value})
	switch strings.ToUpper(name) {
	case "NT":
		m.NT = value
	case "NTS":
		m.NTS = value
	case "ST":
		m.ST = value
	case "USN":
		m.USN = value
	case "LOCATION", "AL":
		if m.Location == "" {
			m.Location = value
		}
	case "SERVER":
		m.Server = value
	case "USER-AGENT":
		m.UserAgent = value
	}
}

// Get returns the value of the first header of that name (case-insensitive).
func (m *Message) Get(name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// Type is the device or service type the message is about: NT of a NOTIFY, ST of a search or
// an answer.
func (m *Message) Type() string {
	if m.NT != "" {
		return m.NT
	}
	return m.ST
}

// UUID returns the device UUID of the USN ("uuid:2f402f80-da50-11e1-9b23-00406a24d0a8::upnp:rootdevice"
// → "2f402f80-da50-11e1-9b23-00406a24d0a8"), or "".
func (m *Message) UUID() string {
	u, ok := strings.CutPrefix(strings.ToLower(m.USN), "uuid:")
	if !ok {
		return ""
	}
	u, _, _ = strings.Cut(u, "::")
	return u
}

// text keeps printable ASCII and valid UTF-8 of a header; control characters are dropped.
func text(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}

func containsFold(b []byte, s string) bool {
	return bytes.Contains(bytes.ToUpper(b), []byte(strings.ToUpper(s)))
}
