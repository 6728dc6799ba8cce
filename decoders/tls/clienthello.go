// Package tls reads TLS ClientHello messages (RFC 8446 §4.1.2) from the client's first bytes of
// a TCP stream, or from a QUIC CRYPTO stream, and derives what names and fingerprints a flow:
// the server name (SNI), the ALPN protocols, the offered versions, Encrypted Client Hello, and
// the JA3 and JA4 client fingerprints.
package tls

import (
	"droneaudit/internal/intern"
	"encoding/binary"
	"errors"
	"fmt"
)

// Extension types used here (IANA TLS ExtensionType registry).
const (
	extServerName        = 0x0000
	extSupportedGroups   = 0x000a
	extECPointFormats    = 0x000b
	extSignatureAlgs     = 0x000d
	extALPN              = 0x0010
	extSupportedVersions = 0x002b
	extQUICParams        = 0x0039
	extECH               = 0xfe0d
	extEncryptThenMAC    = 0x0016
	extSessionTicket     = 0x0023
	extPreSharedKey      = 0x0029
	extEarlyData         = 0x002a
	extKeyShareDraft     = 0x0028 // key_share before TLS 1.3 draft-23
	extKeyShare          = 0x0033
)

// ClientHello holds the fields of a ClientHello that name and fingerprint a client.
type ClientHello struct {
	LegacyVersion uint16
	CipherSuites  []uint16
	// Extensions lists the extension types in the order sent.
	Extensions        []uint16
	ServerName        string
	ALPN              []string
	SupportedVersions []uint16
	Groups            []uint16
	PointFormats      []uint8
	SignatureAlgs     []uint16
	// ECH is set when the encrypted_client_hello extension is present: the ServerName is then
	// the outer (public) name, and the real one is hidden — or the client sends GREASE ECH.
	ECH bool
	// QUIC is set when the quic_transport_parameters extension is present.
	QUIC bool
	// Random is the client random, the key of the session's secrets in a key log.
	Random [32]byte
	// SessionID is the legacy session ID (a TLS 1.2 resumption offer, or a TLS 1.3
	// compatibility value).
	SessionID []byte
	// SessionTicket is the ticket offered for TLS 1.2 resumption (RFC 5077), if any.
	SessionTicket []byte
	// EarlyData is set when the client offers TLS 1.3 0-RTT data.
	EarlyData bool
	// EncryptThenMAC is set when the client offers encrypt_then_mac (RFC 7366).
	EncryptThenMAC bool
	// PSK is set when the client offers a TLS 1.3 pre-shared key (resumption).
	PSK bool
}

// ErrNotClientHello means the bytes are not a ClientHello handshake message.
var ErrNotClientHello = errors.New("tls: not a ClientHello")

// Error names the byte offset inside the handshake message where parsing stopped.
type Error struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("tls: ClientHello offset %d: %s", e.Offset, e.Reason)
}

// IsGREASE reports whether v is one of the reserved GREASE values (RFC 8701), which
// fingerprints ignore.
func IsGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// cursor reads big-endian fields with bounds checks; the first failure sticks.
type cursor struct {
	b   []byte
	off int
	err *Error
}

func (c *cursor) fail(reason string) {
	if c.err == nil {
		c.err = &Error{Offset: c.off, Reason: reason}
	}
}

func (c *cursor) bytes(n int, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || c.off+n > len(c.b) {
		c.fail(what + " runs past the end")
		return nil
	}
	v := c.b[c.off : c.off+n]
	c.off += n
	return v
}

func (c *cursor) u8(what string) int {
	v := c.bytes(1, what)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (c *cursor) u16(what string) int {
	v := c.bytes(2, what)
	if v == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(v))
}

// helloBlock is a ClientHello allocated together with room for its lists: a typical hello's
// cipher suites, extension types, groups, signature algorithms and versions (about 50 values)
// and its session ID and point formats fit, so parsing one costs one allocation for all of them
// instead of one (or several, as a list grows) per field. A hello that needs more takes the rest
// from the heap.
type helloBlock struct {
	ch  ClientHello
	u16 [96]uint16
	b   [40]byte
}

// arena hands out the lists of one ClientHello from a helloBlock's room. Every list is cut with
// its capacity equal to its length, so a caller appending to one never writes into another.
type arena struct {
	u16  []uint16
	b    []byte
	strs []string
	p    *HelloParser // interns the strings; nil: each string is allocated
}

// takeStrings returns an empty slice with room for n strings.
func (a *arena) takeStrings(n int) []string {
	if n <= len(a.strs) {
		s := a.strs[:0:n]
		a.strs = a.strs[n:]
		return s
	}
	return make([]string, 0, n)
}

// take16 returns an empty slice with room for n values; it is never nil.
func (a *arena) take16(n int) []uint16 {
	if n <= len(a.u16) {
		s := a.u16[:0:n]
		a.u16 = a.u16[n:]
		return s
	}
	return make([]uint16, 0, n)
}

// copyBytes returns a copy of v (len(v) > 0) that does not point into the message.
func (a *arena) copyBytes(v []byte) []byte {
	if len(v) <= len(a.b) {
		s := a.b[:len(v):len(v)]
		a.b = a.b[len(v):]
		copy(s, v)
		return s
	}
	return append([]byte(nil), v...)
}

// list16 decodes a list of big-endian 16-bit values; the result is never nil.
func (a *arena) list16(b []byte) []uint16 {
	out := a.take16(len(b) / 2)[:len(b)/2]
	for i := range out {
		out[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return out
}

// ParseClientHello decodes a whole handshake message: type 1, a 24-bit length, then the body.
// The result points into no part of msg.
func ParseClientHello(msg []byte) (*ClientHello, error) { return parseHello(msg, nil) }

// HelloParser parses ClientHellos one after the other into one ClientHello and buffers it reuses,
// for an observer that reads each hello's fields before it parses the next: a hello then costs
// no allocation. The server names and ALPN protocols are interned (a lab's clients name a
// handful of hosts; package intern bounds what is kept). The zero value is ready; not for
// concurrent use.
type HelloParser struct {
	ch    ClientHello
	u16   [512]uint16
	ext   [64]uint16      // the extension types: a list of their own, so they are not counted first
	b     [4096 + 64]byte // a session ticket is kept up to 4096 bytes
	strs  [32]string
	names intern.Table
}

// Parse is ParseClientHello into the parser's ClientHello: the result (and its lists) is valid
// until the next call; its strings stay valid.
func (p *HelloParser) Parse(msg []byte) (*ClientHello, error) { return parseHello(msg, p) }

func (p *HelloParser) str(b []byte) string { return p.names.String(b) }

// str returns b as a string, interned when the arena belongs to a parser.
func (a *arena) str(b []byte) string {
	if a.p != nil {
		return a.p.str(b)
	}
	return string(b)
}

func parseHello(msg []byte, p *HelloParser) (*ClientHello, error) {
	if len(msg) < 4 || msg[0] != 1 {
		return nil, ErrNotClientHello
	}
	n := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
	if 4+n > len(msg) {
		return nil, &Error{Offset: 1, Reason: fmt.Sprintf("length %d past the end", n)}
	}
	c := cursor{b: msg[:4+n], off: 4}
	version := uint16(c.u16("legacy_version"))
	random := c.bytes(32, "random")
	id := c.bytes(c.u8("session id length"), "session id")
	suites := c.bytes(c.u16("cipher suites length"), "cipher suites")
	c.bytes(c.u8("compression methods length"), "compression methods")
	if c.err != nil {
		return nil, c.err
	}
	var ch *ClientHello
	var a arena
	if p != nil {
		p.ch = ClientHello{}
		ch = &p.ch
		a = arena{u16: p.u16[:], b: p.b[:], strs: p.strs[:], p: p}
	} else {
		blk := &helloBlock{}
		ch = &blk.ch
		a = arena{u16: blk.u16[:], b: blk.b[:]}
	}
	ch.LegacyVersion = version
	copy(ch.Random[:], random)
	if len(id) > 0 {
		ch.SessionID = a.copyBytes(id)
	}
	if len(suites) >= 2 {
		ch.CipherSuites = a.list16(suites)
	}
	if c.off == len(c.b) {
		return ch, nil // no extensions (SSL 3.0-style hello)
	}
	ext := c.bytes(c.u16("extensions length"), "extensions")
	if c.err != nil {
		return nil, c.err
	}
	base := c.off - len(ext)
	for off := 0; off < len(ext); {
		if off+4 > len(ext) || off+4+(int(ext[off+2])<<8|int(ext[off+3])) > len(ext) {
			// A cut extension: the cursor names what runs past the end, and where.
			e := cursor{b: ext, off: off}
			if off+2 > len(ext) {
				e.u16("extension type")
			} else {
				e.off += 2
				e.bytes(e.u16("extension length"), "extension body")
			}
			e.err.Offset += base
			return ch, e.err
		}
		typ := binary.BigEndian.Uint16(ext[off:])
		start := off + 2
		end := off + 4 + (int(ext[off+2])<<8 | int(ext[off+3]))
		body := ext[off+4 : end]
		off = end
		if ch.Extensions == nil {
			if p != nil {
				// Past 64 types (a hostile hello) append moves the list to the heap.
				ch.Extensions = p.ext[:0]
			} else {
				ch.Extensions = a.take16(countExtensions(ext[start-2:]))
			}
		}
		ch.Extensions = append(ch.Extensions, typ)
		if err := ch.extension(&a, typ, body); err != nil {
			err.Offset += base + start + 2
			return ch, err
		}
	}
	return ch, nil
}

// countExtensions counts the whole extensions at the start of b (type, length, body), to size
// the list of extension types at once.
func countExtensions(b []byte) int {
	n := 0
	for len(b) >= 4 {
		l := int(b[2])<<8 | int(b[3])
		if 4+l > len(b) {
			break
		}
		n++
		b = b[4+l:]
	}
	return n
}

func (ch *ClientHello) extension(a *arena, typ uint16, body []byte) *Error {
	c := cursor{b: body}
	switch typ {
	case extServerName:
		list := cursor{b: c.bytes(c.u16("server name list length"), "server name list")}
		for list.off < len(list.b) && list.err == nil {
			kind := list.u8("name type")
			name := list.bytes(list.u16("name length"), "host name")
			if kind == 0 && list.err == nil && ch.ServerName == "" {
				ch.ServerName = a.str(name)
			}
		}
		if list.err != nil {
			c.err = list.err
		}
	case extALPN:
		lb := c.bytes(c.u16("ALPN list length"), "ALPN list")
		// Without a parser to intern them, one string holds the whole list: each protocol is a
		// piece of it.
		var all string
		if a.p == nil {
			all = string(lb)
		}
		list := cursor{b: lb}
		for list.off < len(list.b) && list.err == nil && len(ch.ALPN) < 32 {
			p := list.bytes(list.u8("protocol length"), "protocol")
			if list.err == nil {
				if ch.ALPN == nil {
					ch.ALPN = a.takeStrings(min(32, countALPN(lb[list.off-len(p)-1:])))
				}
				if a.p != nil {
					ch.ALPN = append(ch.ALPN, a.p.str(p))
				} else {
					ch.ALPN = append(ch.ALPN, all[list.off-len(p):list.off])
				}
			}
		}
		if list.err != nil {
			c.err = list.err
		}
	case extSupportedVersions:
		ch.SupportedVersions = a.list16(c.bytes(c.u8("versions length"), "versions"))
	case extSupportedGroups:
		ch.Groups = a.list16(c.bytes(c.u16("groups length"), "groups"))
	case extSignatureAlgs:
		ch.SignatureAlgs = a.list16(c.bytes(c.u16("signature algorithms length"), "signature algorithms"))
	case extECPointFormats:
		if v := c.bytes(c.u8("point formats length"), "point formats"); len(v) > 0 {
			ch.PointFormats = a.copyBytes(v)
		} else {
			ch.PointFormats = nil
		}
	case extECH:
		ch.ECH = true
	case extQUICParams:
		ch.QUIC = true
	case extSessionTicket:
		if len(body) > 0 && len(body) <= 4096 {
			ch.SessionTicket = a.copyBytes(body)
		}
	case extEarlyData:
		ch.EarlyData = true
	case extEncryptThenMAC:
		ch.EncryptThenMAC = true
	case extPreSharedKey:
		ch.PSK = true
	}
	return c.err
}

// countALPN counts the whole length-prefixed protocols at the start of b.
func countALPN(b []byte) int {
	n := 0
	for len(b) > 0 && 1+int(b[0]) <= len(b) {
		n++
		b = b[1+int(b[0]):]
	}
	return n
}

// MaxVersion returns the highest non-GREASE version offered in supported_versions, or the
// legacy version when that extension is absent.
func (ch *ClientHello) MaxVersion() uint16 {
	var best uint16
	for _, v := range ch.SupportedVersions {
		if !IsGREASE(v) && v > best {
			best = v
		}
	}
	if best == 0 {
		return ch.LegacyVersion
	}
	return best
}
