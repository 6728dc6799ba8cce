// Package mdns decodes multicast DNS messages (RFC 6762) and the DNS-Based Service Discovery
// records they carry (RFC 6763): the host names a device claims (A and AAAA records), the
// services it offers (PTR from a service type to an instance, SRV to a host and port) and the
// key=value pairs of its TXT records (model, firmware and serial numbers are often among them).
//
// Names are read by decoders/dns's bounded name reader, keeping the case they were sent in.
// Every count is distrusted: at most maxRecords questions and records are read, a record's data
// is bounded by its length, and a damaged record ends the walk with an error that keeps what came
// before it.
package mdns

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"unicode"

	"droneaudit/decoders/dns"
)

// Port is the mDNS UDP port.
const Port = 5353

// Record types read (RFC 1035, RFC 2782, RFC 3596).
const (
	TypeA    = 1
	TypePTR  = 12
	TypeTXT  = 16
	TypeAAAA = 28
	TypeSRV  = 33
)

// maxRecords caps the questions plus records read from one message.
const maxRecords = 256

// maxTXT caps the strings kept from one TXT record.
const maxTXT = 64

// Section says where in the message a record was.
type Section uint8

// Sections of a message.
const (
	Answer Section = iota
	Authority
	Additional
)

// Question is one entry of the question section.
type Question struct {
	Name string
	Type uint16
	// Unicast is the QU bit: the asker wants a unicast answer (RFC 6762 §5.4).
	Unicast bool
}

// Record is one resource record of any section.
type Record struct {
	Section Section
	Name    string
	Type    uint16
	Class   uint16 // without the cache-flush bit
	Flush   bool   // cache-flush bit (RFC 6762 §10.2): the sender owns the whole record set
	TTL     uint32
	Addr    netip.Addr // A, AAAA
	Target  string     // PTR target, SRV target host
	Port    uint16     // SRV
	TXT     []string   // TXT character strings, as text
}

// Message is one decoded mDNS message.
type Message struct {
	ID        uint16
	Response  bool
	Questions []Question
	Records   []Record
}

// Error says where in a message decoding stopped.
type Error struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("mdns: offset %d: %s", e.Offset, e.Reason) }

// LooksLike is a cheap test of a UDP payload as an mDNS message: a query or response with
// opcode 0 and response code 0 (RFC 6762 §18.3, §18.11) and plausible counts.
func LooksLike(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	op := (b[2] >> 3) & 0x0f
	n := 0
	for i := 4; i < 12; i += 2 {
		n += int(binary.BigEndian.Uint16(b[i:]))
	}
	return op == 0 && b[3]&0x0f == 0 && n > 0 && n <= maxRecords
}

// Parse decodes one mDNS message. On an error the questions and records read before it are
// still returned.
func Parse(b []byte) (*Message, error) {
	if len(b) < 12 {
		return nil, &Error{0, "header shorter than 12 bytes"}
	}
	m := &Message{ID: binary.BigEndian.Uint16(b), Response: b[2]&0x80 != 0}
	var counts [4]int
	for i := range counts {
		counts[i] = int(binary.BigEndian.Uint16(b[4+2*i:]))
	}
	off, read := 12, 0
	if n := counts[1] + counts[2] + counts[3]; n > 0 {
		m.Records = make([]Record, 0, min(n, 32))
	}
	for range counts[0] {
		if read++; read > maxRecords {
			return m, &Error{off, "too many questions and records"}
		}
		name, next, err := readName(b, off)
		if err != nil {
			return m, err
		}
		if next+4 > len(b) {
			return m, &Error{next, "question truncated"}
		}
		cls := binary.BigEndian.Uint16(b[next+2:])
		m.Questions = append(m.Questions, Question{Name: name, Type: binary.BigEndian.Uint16(b[next:]), Unicast: cls&0x8000 != 0})
		off = next + 4
	}
	for s := Answer; s <= Additional; s++ {
		for range counts[1+s] {
			if read++; read > maxRecords {
				return m, &Error{off, "too many questions and records"}
			}
			r, next, err := readRecord(b, off)
			if err != nil {
				return m, err
			}
			off = next
			if r != nil {
				r.Section = s
				m.Records = append(m.Records, *r)
			}
		}
	}
	return m, nil
}

// readRecord reads the record at off. It returns nil without an error for a record whose data
// does not match its type, which is skipped.
func readRecord(b []byte, off int) (*Record, int, error) {
	name, next, err := readName(b, off)
	if err != nil {
		return nil, 0, err
	}
	if next+10 > len(b) {
		return nil, 0, &Error{next, "record header truncated"}
	}
	cls := binary.BigEndian.Uint16(b[next+2:])
	r := &Record{Name: name, Type: binary.BigEndian.Uint16(b[next:]), Class: cls & 0x7fff, Flush: cls&0x8000 != 0,
		TTL: binary.BigEndian.Uint32(b[next+4:])}
	rdlen := int(binary.BigEndian.Uint16(b[next+8:]))
	rd := next + 10
	end := rd + rdlen
	if end > len(b) {
		return nil, 0, &Error{rd, fmt.Sprintf("rdata length %d past the end", rdlen)}
	}
	// Names inside the data may point back into the message but must end inside the record.
	msg := b[:end]
	switch r.Type {
	case TypeA:
		if rdlen != 4 {
			return nil, end, nil
		}
		r.Addr = netip.AddrFrom4([4]byte(b[rd:end]))
	case TypeAAAA:
		if rdlen != 16 {
			return nil, end, nil
		}
		r.Addr = netip.AddrFrom16([16]byte(b[rd:end]))
	case TypePTR:
		t, _, err := readName(msg, rd)
		if err != nil {
			return nil, end, nil
		}
		r.Target = t
	case TypeSRV:
		if rdlen < 7 {
			return nil, end, nil
		}
		r.Port = binary.BigEndian.Uint16(b[rd+4:])
		t, _, err := readName(msg, rd+6)
		if err != nil {
			return nil, end, nil
		}
		r.Target = t
	case TypeTXT:
		for p := rd; p < end && len(r.TXT) < maxTXT; {
			l := int(b[p])
			if p+1+l > end {
				break
			}
			if l > 0 {
				r.TXT = append(r.TXT, Text(b[p+1:p+1+l]))
			}
			p += 1 + l
		}
	}
	return r, end, nil
}

func readName(b []byte, off int) (string, int, error) {
	name, next, err := dns.ReadName(b, off, false)
	if err != nil {
		if e, ok := err.(*dns.Error); ok {
			return "", 0, &Error{e.Offset, e.Reason}
		}
		return "", 0, &Error{off, err.Error()}
	}
	return Text([]byte(name)), next, nil
}

// Text makes bytes from the wire printable: invalid UTF-8 and control characters become U+FFFD.
func Text(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
