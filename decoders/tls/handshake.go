package tls

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Handshake message types (RFC 8446 §4, RFC 5246 §7.4).
const (
	hsClientHello         = 1
	hsServerHello         = 2
	hsNewSessionTicket    = 4
	hsEndOfEarlyData      = 5
	hsHelloRetryDraft     = 6 // HelloRetryRequest before TLS 1.3 draft-22
	hsEncryptedExtensions = 8
	hsFinished            = 20
	hsKeyUpdate           = 24
)

// maxHandshakeMsg bounds a handshake message that is kept whole; longer messages of the kept
// types are skipped and reported. Certificates and other messages the decryptor does not read
// are skipped by their length without being kept.
const maxHandshakeMsg = 64 << 10

// hsReader joins the handshake messages of one direction from record fragments (RFC 8446 §5.1:
// messages may span records; they never span a key change).
type hsReader struct {
	hdr  [4]byte
	nhdr int
	typ  uint8
	need int // body bytes still to come
	keep bool
	body []byte
}

func keptType(t uint8) bool {
	switch t {
	case hsClientHello, hsServerHello, hsNewSessionTicket, hsEndOfEarlyData, hsHelloRetryDraft,
		hsEncryptedExtensions, hsFinished, hsKeyUpdate:
		return true
	}
	return false
}

// feed adds a fragment. emit gets each message: its type, its body (nil when the message was
// skipped: not a kept type, or over the limit) and its declared length.
func (r *hsReader) feed(p []byte, emit func(typ uint8, body []byte, n int)) {
	for len(p) > 0 {
		if r.nhdr < 4 {
			k := copy(r.hdr[r.nhdr:], p)
			r.nhdr += k
			p = p[k:]
			if r.nhdr < 4 {
				return
			}
			r.typ = r.hdr[0]
			r.need = int(r.hdr[1])<<16 | int(r.hdr[2])<<8 | int(r.hdr[3])
			r.keep = keptType(r.typ) && r.need <= maxHandshakeMsg
			r.body = r.body[:0]
			if r.keep && cap(r.body) < r.need {
				// The length is known and bounded: one allocation, not a doubling per record.
				r.body = make([]byte, 0, r.need)
			}
			if r.need == 0 {
				r.nhdr = 0
				emit(r.typ, r.body[:0:0], 0)
				continue
			}
		}
		k := min(r.need, len(p))
		if r.keep {
			r.body = append(r.body, p[:k]...)
		}
		r.need -= k
		p = p[k:]
		if r.need == 0 {
			r.nhdr = 0
			n := len(r.body)
			if !r.keep {
				emit(r.typ, nil, int(r.hdr[1])<<16|int(r.hdr[2])<<8|int(r.hdr[3]))
				continue
			}
			emit(r.typ, r.body, n)
		}
	}
}

// started reports whether the reader holds part of a message.
func (r *hsReader) started() bool { return r.nhdr > 0 }

// helloRetryRandom is the ServerHello.random that marks a HelloRetryRequest (RFC 8446 §4.1.3):
// SHA-256 of "HelloRetryRequest".
var helloRetryRandom = []byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// serverHello holds what the decryptor needs of a ServerHello.
type serverHello struct {
	version   uint16 // negotiated: supported_versions when present, else the legacy field
	random    [32]byte
	sessionID []byte
	suite     uint16
	retry     bool // a HelloRetryRequest
	etm       bool // encrypt_then_mac accepted
	alpn      string
	ticketExt bool // the server will send a NewSessionTicket (TLS 1.2)
	psk       bool // TLS 1.3: the server accepted a pre-shared key
}

var errServerHello = errors.New("malformed ServerHello")

// parseServerHello reads a ServerHello body (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3). TLS 1.3 drafts
// before 22 have no session ID or compression method and carry the draft version in the legacy
// version field (0x7fNN).
func parseServerHello(b []byte) (*serverHello, error) {
	c := &cursor{b: b}
	sh := &serverHello{version: uint16(c.u16("version"))}
	copy(sh.random[:], c.bytes(32, "random"))
	oldDraft := sh.version>>8 == 0x7f && sh.version&0xff < 22
	if !oldDraft {
		if id := c.bytes(c.u8("session id length"), "session id"); len(id) > 0 {
			sh.sessionID = bytes.Clone(id)
		}
	}
	sh.suite = uint16(c.u16("cipher suite"))
	if !oldDraft {
		c.u8("compression method")
	}
	if c.err != nil {
		return nil, errServerHello
	}
	sh.retry = bytes.Equal(sh.random[:], helloRetryRandom)
	if c.off == len(b) {
		return sh, nil
	}
	ext := &cursor{b: c.bytes(c.u16("extensions length"), "extensions")}
	if c.err != nil {
		return nil, errServerHello
	}
	for ext.off < len(ext.b) && ext.err == nil {
		typ := ext.u16("extension type")
		body := ext.bytes(ext.u16("extension length"), "extension body")
		if ext.err != nil {
			break
		}
		switch typ {
		case extSupportedVersions:
			if len(body) >= 2 {
				sh.version = binary.BigEndian.Uint16(body)
			}
		case extEncryptThenMAC:
			sh.etm = true
		case extALPN:
			sh.alpn = firstALPN(body)
		case extSessionTicket:
			sh.ticketExt = true
		case extPreSharedKey:
			sh.psk = true
		}
	}
	if ext.err != nil {
		return nil, errServerHello
	}
	return sh, nil
}

// firstALPN reads the one protocol of a server's ALPN extension (RFC 7301 §3.1).
func firstALPN(body []byte) string {
	c := &cursor{b: body}
	list := &cursor{b: c.bytes(c.u16("ALPN list length"), "ALPN list")}
	p := list.bytes(list.u8("protocol length"), "protocol")
	if list.err != nil || c.err != nil {
		return ""
	}
	return string(p)
}

// encryptedExtensionsALPN returns the protocol selected in a TLS 1.3 EncryptedExtensions body.
func encryptedExtensionsALPN(b []byte) string {
	c := &cursor{b: b}
	ext := &cursor{b: c.bytes(c.u16("extensions length"), "extensions")}
	for ext.off < len(ext.b) && ext.err == nil {
		typ := ext.u16("extension type")
		body := ext.bytes(ext.u16("extension length"), "extension body")
		if ext.err == nil && typ == extALPN {
			return firstALPN(body)
		}
	}
	return ""
}

// ticketOf returns the ticket of a TLS 1.2 NewSessionTicket body (RFC 5077 §3.3).
func ticketOf(b []byte) []byte {
	c := &cursor{b: b}
	c.bytes(4, "lifetime hint")
	t := c.bytes(c.u16("ticket length"), "ticket")
	if c.err != nil || len(t) == 0 {
		return nil
	}
	return t
}
