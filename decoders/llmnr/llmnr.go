// Package llmnr decodes Link-Local Multicast Name Resolution messages (RFC 4795), which Windows
// and some embedded systems send on UDP port 5355: a query names the host wanted; a response is
// sent by the host that owns the name, so it names its sender, with the sender's addresses.
//
// LLMNR uses the DNS message format with its own header bits; records are read by
// decoders/mdns's bounded walker, which keeps the case names were sent in.
package llmnr

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"droneaudit/decoders/mdns"
)

// Port is the LLMNR port.
const Port = 5355

// Message is one decoded LLMNR query or response.
type Message struct {
	ID       uint16
	Response bool
	// Conflict is the C bit: in a query, the sender saw its name used by another host; in a
	// response, the responder is not sure the name is unique (RFC 4795 §2.1.1).
	Conflict bool
	// Tentative is the T bit of a response: the responder has not yet verified the name.
	Tentative bool
	Name      string // the name of the question
	Type      uint16 // its type (1 A, 28 AAAA, 255 ANY)
	// Addrs are the addresses a response gives for Name.
	Addrs []netip.Addr
}

// Error says why a message is not LLMNR or where it broke.
type Error struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("llmnr: offset %d: %s", e.Offset, e.Reason) }

// LooksLike is a cheap test of a UDP payload as LLMNR: opcode 0, exactly one question (RFC 4795
// §2.1.1), and a query carries no answers or authority records.
func LooksLike(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	qr, op := b[2]&0x80 != 0, (b[2]>>3)&0x0f
	qd, an, ns := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:]), binary.BigEndian.Uint16(b[8:])
	return op == 0 && qd == 1 && (qr || (an == 0 && ns == 0)) && an <= 64 && ns <= 64
}

// Parse decodes one LLMNR message. On a damaged record the name and the addresses read before it
// are still returned with the error.
func Parse(b []byte) (*Message, error) {
	if !LooksLike(b) {
		return nil, &Error{0, "not an LLMNR header (opcode 0, one question)"}
	}
	m := &Message{ID: binary.BigEndian.Uint16(b), Response: b[2]&0x80 != 0, Conflict: b[2]&0x04 != 0, Tentative: b[2]&0x01 != 0}
	dm, err := mdns.Parse(b)
	if dm == nil || len(dm.Questions) == 0 {
		if e, ok := err.(*mdns.Error); ok {
			return nil, &Error{e.Offset, e.Reason}
		}
		return nil, &Error{12, "no question"}
	}
	m.Name, m.Type = dm.Questions[0].Name, dm.Questions[0].Type
	for _, r := range dm.Records {
		if r.Section == mdns.Answer && r.Addr.IsValid() && strings.EqualFold(r.Name, m.Name) {
			m.Addrs = append(m.Addrs, r.Addr)
		}
	}
	if e, ok := err.(*mdns.Error); ok {
		return m, &Error{e.Offset, e.Reason}
	}
	return m, nil
}
