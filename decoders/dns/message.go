// Package dns decodes DNS messages (RFC 1035) as they cross a lab network: the names a device
// asked for and the addresses and aliases the resolver answered, so that later flows to those
// addresses can be named. It also reads the SVCB/HTTPS records (RFC 9460) whose "ech" and "alpn"
// parameters tell that a name uses Encrypted Client Hello or HTTP/3.
//
// The parser never trusts a count or a length: every read is bounded by the message, name
// compression pointers may only point backwards and are limited in number, and the number of
// records kept per message is capped.
package dns

import (
	"droneaudit/internal/intern"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Record types the decoder understands (RFC 1035 §3.2.2, RFC 3596, RFC 9460).
const (
	TypeA     = 1
	TypeCNAME = 5
	TypeAAAA  = 28
	TypeSVCB  = 64
	TypeHTTPS = 65
)

// maxRecords caps how many questions plus records one message may yield, so a forged count of
// 65535 cannot make the decoder loop or allocate for long.
const maxRecords = 512

// Question is one entry of the question section.
type Question struct {
	Name string
	Type uint16
}

// Answer is one resource record of the answer section that names an address or an alias.
type Answer struct {
	Name string
	Type uint16
	TTL  uint32
	Addr netip.Addr // A and AAAA
	// Target is the canonical name of a CNAME, or the target of an SVCB/HTTPS record.
	Target string
	// ECH is set when an SVCB/HTTPS record carries the "ech" parameter (SvcParamKey 5).
	ECH bool
	// ALPN lists the protocols of an SVCB/HTTPS record's "alpn" parameter (SvcParamKey 1).
	ALPN []string
}

// Message is a decoded DNS message.
type Message struct {
	ID        uint16
	Response  bool
	Opcode    uint8
	RCode     uint8
	Questions []Question
	Answers   []Answer
}

// ErrTruncated means the message ended inside a header, name or record.
var ErrTruncated = errors.New("dns: message truncated")

// Error says where inside a message decoding stopped.
type Error struct {
	Offset int // byte offset inside the DNS message
	Reason string
	Err    error
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("dns: offset %d: %s", e.Offset, e.Reason) }

// Unwrap returns the underlying error, e.g. ErrTruncated.
func (e *Error) Unwrap() error { return e.Err }

// Parse decodes one DNS message (the UDP payload, or a TCP message without its length prefix).
// On an error the questions and answers decoded before it are still returned.
func Parse(b []byte) (*Message, error) { return parse(b, nil) }

// Parser decodes DNS messages one after the other into one Message and lists it reuses, for an
// observer that reads each message before it decodes the next. Names (and ALPN protocols) are
// interned: the lab asks for the same few names again and again, and each repeat then costs no
// allocation (package intern bounds what is kept). The zero value is ready; not for concurrent
// use.
type Parser struct {
	m     Message
	qs    []Question
	as    []Answer
	names intern.Table
}

// Parse is the package's Parse into the parser's Message: the result (and its lists) is valid
// until the next call; its strings stay valid.
func (p *Parser) Parse(b []byte) (*Message, error) {
	m, err := parse(b, p)
	if m != nil {
		// Keep the lists' room for the next message.
		if cap(m.Questions) > cap(p.qs) {
			p.qs = m.Questions[:0]
		}
		if cap(m.Answers) > cap(p.as) {
			p.as = m.Answers[:0]
		}
	}
	return m, err
}

// str returns b as a string, interned when p is not nil.
func (p *Parser) str(b []byte) string {
	if p == nil {
		return string(b)
	}
	return p.names.String(b)
}

func parse(b []byte, p *Parser) (*Message, error) {
	if len(b) < 12 {
		return nil, &Error{Offset: 0, Reason: "header shorter than 12 bytes", Err: ErrTruncated}
	}
	hdr := Message{
		ID:       binary.BigEndian.Uint16(b),
		Response: b[2]&0x80 != 0,
		Opcode:   (b[2] >> 3) & 0x0f,
		RCode:    b[3] & 0x0f,
	}
	var m *Message
	if p != nil {
		m = &p.m
	} else {
		m = new(Message)
	}
	*m = hdr
	qd := int(binary.BigEndian.Uint16(b[4:]))
	an := int(binary.BigEndian.Uint16(b[6:]))
	off := 12
	for i := 0; i < qd; i++ {
		if i >= maxRecords {
			return m, &Error{Offset: off, Reason: "too many questions"}
		}
		name, next, err := readNameWith(b, off, true, p)
		if err != nil {
			return m, err
		}
		if next+4 > len(b) {
			return m, &Error{Offset: next, Reason: "question truncated", Err: ErrTruncated}
		}
		if m.Questions == nil && p != nil {
			m.Questions = p.qs[:0]
		}
		m.Questions = append(m.Questions, Question{Name: name, Type: binary.BigEndian.Uint16(b[next:])})
		off = next + 4
	}
	for i := 0; i < an; i++ {
		if i+qd >= maxRecords {
			return m, &Error{Offset: off, Reason: "too many records"}
		}
		name, next, err := readNameWith(b, off, true, p)
		if err != nil {
			return m, err
		}
		if next+10 > len(b) {
			return m, &Error{Offset: next, Reason: "record header truncated", Err: ErrTruncated}
		}
		typ := binary.BigEndian.Uint16(b[next:])
		ttl := binary.BigEndian.Uint32(b[next+4:])
		rdlen := int(binary.BigEndian.Uint16(b[next+8:]))
		rd := next + 10
		if rd+rdlen > len(b) {
			return m, &Error{Offset: rd, Reason: fmt.Sprintf("rdata length %d past the end", rdlen), Err: ErrTruncated}
		}
		off = rd + rdlen
		a := Answer{Name: name, Type: typ, TTL: ttl}
		switch typ {
		case TypeA:
			if rdlen != 4 {
				continue
			}
			a.Addr = netip.AddrFrom4([4]byte(b[rd:off]))
		case TypeAAAA:
			if rdlen != 16 {
				continue
			}
			a.Addr = netip.AddrFrom16([16]byte(b[rd:off]))
		case TypeCNAME:
			target, _, err := readNameWith(b[:off], rd, true, p)
			if err != nil {
				continue // a broken alias loses only this record
			}
			a.Target = target
		case TypeSVCB, TypeHTTPS:
			if !parseSVCB(b[:off], rd, &a, p) {
				continue
			}
		default:
			continue
		}
		if m.Answers == nil {
			if p != nil && cap(p.as) > 0 {
				m.Answers = p.as[:0]
			} else {
				m.Answers = make([]Answer, 0, min(an-i, 16)) // the answers at once, not grown one by one
			}
		}
		m.Answers = append(m.Answers, a)
	}
	return m, nil
}

// parseSVCB reads SvcPriority, TargetName and the SvcParams (RFC 9460 §2.2).
func parseSVCB(b []byte, off int, a *Answer, ps *Parser) bool {
	if off+2 > len(b) {
		return false
	}
	target, p, err := readNameWith(b, off+2, true, ps)
	if err != nil {
		return false
	}
	a.Target = target
	for p+4 <= len(b) {
		key := binary.BigEndian.Uint16(b[p:])
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		p += 4
		if p+n > len(b) {
			return true
		}
		v := b[p : p+n]
		switch key {
		case 1: // alpn: a list of length-prefixed protocol ids
			for len(v) > 0 && len(a.ALPN) < 16 {
				l := int(v[0])
				if 1+l > len(v) {
					break
				}
				a.ALPN = append(a.ALPN, ps.str(v[1:1+l]))
				v = v[1+l:]
			}
		case 5: // ech
			a.ECH = true
		}
		p += n
	}
	return true
}

// maxPointers bounds how many compression pointers one name may follow (RFC 1035 §4.1.4); with
// pointers allowed only backwards this also rules out loops.
const maxPointers = 64

// ReadName decodes a possibly compressed domain name starting at off in the message b, with the
// bounds Parse keeps (pointers only backwards and at most 64 of them, 255 bytes). fold lowers
// ASCII letters, as names are compared; without it the name keeps the case it was sent in (the
// instance names of mDNS services are shown to people). It returns the name without the
// trailing dot ("" for the root) and the offset after the name's bytes at off.
func ReadName(b []byte, off int, fold bool) (string, int, error) {
	return readNameWith(b, off, fold, nil)
}

// readNameWith is ReadName with the name interned by p (when not nil).
func readNameWith(b []byte, off int, fold bool, p *Parser) (string, int, error) {
	var buf [255]byte // the name so far: at most 255 bytes, built without growing a builder
	n := 0
	end := -1
	pos := off
	jumps := 0
	for {
		if pos >= len(b) {
			return "", 0, &Error{Offset: pos, Reason: "name runs past the end", Err: ErrTruncated}
		}
		l := int(b[pos])
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if end < 0 {
					end = pos + 1
				}
				return p.str(buf[:n]), end, nil
			}
			if pos+1+l > len(b) {
				return "", 0, &Error{Offset: pos, Reason: "label runs past the end", Err: ErrTruncated}
			}
			if n+l+1 > 255 {
				return "", 0, &Error{Offset: pos, Reason: "name longer than 255 bytes"}
			}
			if n > 0 {
				buf[n] = '.'
				n++
			}
			for _, c := range b[pos+1 : pos+1+l] {
				if fold && 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf[n] = c
				n++
			}
			pos += 1 + l
		case 0xc0:
			if pos+2 > len(b) {
				return "", 0, &Error{Offset: pos, Reason: "pointer truncated", Err: ErrTruncated}
			}
			ptr := int(binary.BigEndian.Uint16(b[pos:]) & 0x3fff)
			if ptr >= pos {
				return "", 0, &Error{Offset: pos, Reason: "compression pointer does not point backwards"}
			}
			if jumps++; jumps > maxPointers {
				return "", 0, &Error{Offset: pos, Reason: "too many compression pointers"}
			}
			if end < 0 {
				end = pos + 2
			}
			pos = ptr
		default:
			return "", 0, &Error{Offset: pos, Reason: fmt.Sprintf("reserved label type 0x%02x", l&0xc0)}
		}
	}
}

// SplitTCP splits a DNS-over-TCP byte stream (RFC 1035 §4.2.2: each message has a 2-byte length
// prefix) into whole messages. It returns the messages and how many bytes of b they used; the
// caller keeps the rest for the next segment.
func SplitTCP(b []byte) (msgs [][]byte, used int) {
	for used+2 <= len(b) {
		n := int(binary.BigEndian.Uint16(b[used:]))
		if used+2+n > len(b) {
			break
		}
		msgs = append(msgs, b[used+2:used+2+n])
		used += 2 + n
	}
	return msgs, used
}

// LooksLike is a cheap plausibility test of a UDP payload as a DNS message: standard query or
// response opcode, at most a few questions, and a header-sized minimum.
func LooksLike(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	op := (b[2] >> 3) & 0x0f
	qd := binary.BigEndian.Uint16(b[4:])
	return (op == 0 || op == 4 || op == 5) && qd <= 16
}
