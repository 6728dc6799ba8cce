// Package sadp recognises and decodes SADP (Search Active Devices Protocol), the discovery
// protocol of Hikvision cameras, recorders and their OEM variants: XML over UDP port 37020,
// multicast to 239.255.255.250. A client (the SADP tool, iVMS-4200, Hik-Connect, an NVR) sends a
// <Probe> with a Uuid and <Types>inquiry</Types>; every device answers with a <ProbeMatch> that
// tells, without any authentication, its model (DeviceDescription), serial number (DeviceSN),
// MAC and IP configuration, firmware (SoftwareVersion, DSPVersion), ports and activation state.
//
// Sources: Hikvision's camera user manuals, "Appendix 1 SADP Software Introduction" (SADP
// searches the active devices of the subnet every 15 seconds); the message layout as the public
// write-up "海康设备搜索器搜索协议解析" (https://www.mhzhuji.com/zhuji_info_958/) captures it: the
// multicast group and port, the Probe, and a ProbeMatch with the fields read here.
//
// The root element tells the message apart from WS-Discovery (a SOAP Envelope, often on the same
// group): SADP's is a bare <Probe> or <ProbeMatch> with no namespace. XML is read token by token
// (decoders/internal/boundxml) and bounded: at most MaxSize bytes, maxTokens tokens, maxDepth
// nested elements and maxText bytes of text per field.
package sadp

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"droneaudit/decoders/internal/boundxml"
)

// Port is SADP's UDP port.
const Port = 37020

// Bounds on what one message may make the parser do or keep.
const (
	MaxSize   = 64 << 10 // bytes of XML read (a UDP datagram is at most this)
	maxTokens = 1024
	maxDepth  = 8
	maxText   = 512
)

var limits = boundxml.Limits{Tokens: maxTokens, Depth: maxDepth, Text: maxText}

// Kinds of message (the root element).
const (
	KindProbe      = "Probe"
	KindProbeMatch = "ProbeMatch"
)

// Message is one SADP message. Fields the message does not carry are "".
type Message struct {
	Kind        string // Probe or ProbeMatch
	Uuid        string // the probe's identifier, echoed in each answer
	Types       string // "inquiry" for a search; other verbs change settings
	DeviceType  string // a numeric device type code
	Description string // DeviceDescription: the model, e.g. "DS-2CD2143G0-I"
	Serial      string // DeviceSN
	MAC         string // as sent, e.g. "44-47-cc-aa-bb-cc"
	IPv4        string
	IPv6        string
	Gateway     string // IPv4Gateway
	HTTPPort    string
	CommandPort string
	Software    string // SoftwareVersion, e.g. "V5.5.82build 190909"
	DSP         string // DSPVersion
	BootTime    string
	OEMInfo     string
	Activated   string // "true" or "false": an unactivated device has no admin password yet
}

// Error says why a message could not be read whole.
type Error struct {
	Offset int64
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("sadp: offset %d: %s", e.Offset, e.Reason) }

// LooksLike reports whether a UDP payload is a SADP message: XML (after an optional
// declaration) whose root element is a bare <Probe> or <ProbeMatch>, with a <Types> or
// <DeviceSN> element in its first 2 KiB.
func LooksLike(b []byte) bool {
	head := boundxml.Head(b, 2048)
	if bytes.HasPrefix(head, []byte("<?xml")) {
		end := bytes.Index(head, []byte("?>"))
		if end < 0 {
			return false
		}
		head = bytes.TrimLeft(head[end+2:], " \t\r\n")
	}
	var rest []byte
	switch {
	case bytes.HasPrefix(head, []byte("<ProbeMatch>")):
		rest = head[len("<ProbeMatch>"):]
	case bytes.HasPrefix(head, []byte("<Probe>")):
		rest = head[len("<Probe>"):]
	default:
		return false
	}
	return bytes.Contains(rest, []byte("<Types>")) || bytes.Contains(rest, []byte("<DeviceSN>"))
}

// Parse reads one SADP message. A message cut short returns what was read with an error.
func Parse(b []byte) (*Message, error) {
	if len(b) > MaxSize {
		return nil, &Error{MaxSize, fmt.Sprintf("message of %d bytes, more than %d", len(b), MaxSize)}
	}
	if !LooksLike(b) {
		return nil, &Error{0, "no SADP Probe or ProbeMatch"}
	}
	m := &Message{}
	fields := map[string]*string{
		"Uuid": &m.Uuid, "Types": &m.Types, "DeviceType": &m.DeviceType, "DeviceDescription": &m.Description,
		"DeviceSN": &m.Serial, "MAC": &m.MAC, "IPv4Address": &m.IPv4, "IPv6Address": &m.IPv6, "IPv4Gateway": &m.Gateway,
		"HttpPort": &m.HTTPPort, "CommandPort": &m.CommandPort, "SoftwareVersion": &m.Software, "DSPVersion": &m.DSP,
		"BootTime": &m.BootTime, "OEMInfo": &m.OEMInfo, "Activated": &m.Activated,
	}
	p := boundxml.Walk(b, limits, boundxml.Visitor{
		Start: func(path []string, e xml.StartElement) string {
			if len(path) == 0 {
				m.Kind = e.Name.Local
			}
			return ""
		},
		End: func(path []string, text string) {
			// Fields are the root's children; deeper elements (capability lists) are skipped.
			if len(path) == 2 {
				if f := fields[path[1]]; f != nil && *f == "" {
					*f = text
				}
			}
		},
	})
	switch {
	case p != nil && m.Kind == "":
		return nil, &Error{p.Offset, p.Reason}
	case p != nil:
		return m, &Error{p.Offset, p.Reason}
	}
	return m, nil
}
