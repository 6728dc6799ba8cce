// Package dahuap2p recognises the P2P and NAT-traversal traffic of Dahua cameras, recorders and
// apps (gDMSS, iDMSS, SmartPSS, Imou): HTTP-like requests over UDP ("DHGET /probe/p2psrv
// HTTP/1.1", "DHPOST /device/<serial>/p2p-channel HTTP/1.1") to the P2P servers
// (www.easy4ipcloud.com, UDP 8800, and the servers it hands out on other ports), and the PTCP
// frames ("PTCP" magic, a 24-byte header) that then carry the video between device, relay and
// app. Its port varies, so it is recognised by content. The format is as
// khoanguyen-3fc/dh-p2p (helpers.py, main.py, its Wireshark dissector) implements it.
//
// A request path names the device's serial number (/online/p2psrv/<serial>,
// /probe/device/<serial>, /device/<serial>/…): a camera that registers with the P2P service
// sends its serial number off the lab segment.
package dahuap2p

import (
	"bytes"
	"fmt"
	"strings"
)

// Port is the main P2P server's UDP port.
const Port = 8800

// ptcpHeader is the length of a PTCP frame's header: magic and five 32-bit fields.
const ptcpHeader = 24

var methods = [][]byte{[]byte("DHGET "), []byte("DHPOST "), []byte("DHPUT "), []byte("DHDELETE ")}

// LooksLike reports whether a UDP payload is Dahua P2P: a DH request line, or a PTCP frame.
func LooksLike(b []byte) bool {
	if len(b) >= ptcpHeader && string(b[:4]) == "PTCP" {
		return true
	}
	for _, m := range methods {
		if bytes.HasPrefix(b, m) {
			end := bytes.IndexByte(b, '\n')
			if end < 0 {
				end = len(b)
			}
			return bytes.Contains(b[:end], []byte(" HTTP/1."))
		}
	}
	return false
}

// Request is one DH request line.
type Request struct {
	Method string // DHGET, DHPOST, …
	Path   string
	// Serial is the device serial number the path names, "" when it names none.
	Serial string
}

// Error says why a payload is not a DH request.
type Error struct{ Reason string }

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("dahuap2p: %s", e.Reason) }

// ParseRequest reads the request line of a DH request.
func ParseRequest(b []byte) (*Request, error) {
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	line = bytes.TrimSuffix(line, []byte("\r"))
	f := strings.Fields(string(line))
	if len(f) != 3 || !strings.HasPrefix(f[0], "DH") || !strings.HasPrefix(f[2], "HTTP/1.") {
		return nil, &Error{"no DH request line"}
	}
	if len(f[1]) > 1024 || !strings.HasPrefix(f[1], "/") {
		return nil, &Error{"bad request path"}
	}
	r := &Request{Method: f[0], Path: f[1]}
	parts := strings.Split(strings.Trim(f[1], "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "online" && parts[1] == "p2psrv":
		r.Serial = parts[2]
	case len(parts) >= 3 && parts[0] == "probe" && parts[1] == "device":
		r.Serial = parts[2]
	case len(parts) >= 3 && parts[0] == "device":
		r.Serial = parts[1]
	}
	return r, nil
}
