package tls

import (
	"encoding/binary"
	"fmt"
)

// oldParseClientHello is ParseClientHello as it was before it shared one allocation among its
// lists; the differential tests compare the two. It decodes a whole handshake message: type 1, a 24-bit length, then the body.
func oldParseClientHello(msg []byte) (*ClientHello, error) {
	if len(msg) < 4 || msg[0] != 1 {
		return nil, ErrNotClientHello
	}
	n := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
	if 4+n > len(msg) {
		return nil, &Error{Offset: 1, Reason: fmt.Sprintf("length %d past the end", n)}
	}
	c := &cursor{b: msg[:4+n], off: 4}
	ch := &ClientHello{LegacyVersion: uint16(c.u16("legacy_version"))}
	copy(ch.Random[:], c.bytes(32, "random"))
	if id := c.bytes(c.u8("session id length"), "session id"); len(id) > 0 {
		ch.SessionID = append([]byte(nil), id...)
	}
	suites := c.bytes(c.u16("cipher suites length"), "cipher suites")
	for i := 0; i+1 < len(suites); i += 2 {
		ch.CipherSuites = append(ch.CipherSuites, binary.BigEndian.Uint16(suites[i:]))
	}
	c.bytes(c.u8("compression methods length"), "compression methods")
	if c.err != nil {
		return nil, c.err
	}
	if c.off == len(c.b) {
		return ch, nil // no extensions (SSL 3.0-style hello)
	}
	ext := c.bytes(c.u16("extensions length"), "extensions")
	if c.err != nil {
		return nil, c.err
	}
	base := c.off - len(ext)
	e := &cursor{b: ext}
	for e.off < len(ext) && e.err == nil {
		typ := uint16(e.u16("extension type"))
		start := e.off
		body := e.bytes(e.u16("extension length"), "extension body")
		if e.err != nil {
			break
		}
		ch.Extensions = append(ch.Extensions, typ)
		if err := oldExtension(ch, typ, body); err != nil {
			err.Offset += base + start + 2
			return ch, err
		}
	}
	if e.err != nil {
		e.err.Offset += base
		return ch, e.err
	}
	return ch, nil
}

func oldExtension(ch *ClientHello, typ uint16, body []byte) *Error {
	c := &cursor{b: body}
	switch typ {
	case extServerName:
		list := &cursor{b: c.bytes(c.u16("server name list length"), "server name list")}
		for list.off < len(list.b) && list.err == nil {
			kind := list.u8("name type")
			name := list.bytes(list.u16("name length"), "host name")
			if kind == 0 && list.err == nil && ch.ServerName == "" {
				ch.ServerName = string(name)
			}
		}
		if list.err != nil {
			c.err = list.err
		}
	case extALPN:
		list := &cursor{b: c.bytes(c.u16("ALPN list length"), "ALPN list")}
		for list.off < len(list.b) && list.err == nil && len(ch.ALPN) < 32 {
			p := list.bytes(list.u8("protocol length"), "protocol")
			if list.err == nil {
				ch.ALPN = append(ch.ALPN, string(p))
			}
		}
		if list.err != nil {
			c.err = list.err
		}
	case extSupportedVersions:
		ch.SupportedVersions = oldU16list(c.bytes(c.u8("versions length"), "versions"))
	case extSupportedGroups:
		ch.Groups = oldU16list(c.bytes(c.u16("groups length"), "groups"))
	case extSignatureAlgs:
		ch.SignatureAlgs = oldU16list(c.bytes(c.u16("signature algorithms length"), "signature algorithms"))
	case extECPointFormats:
		ch.PointFormats = append([]uint8(nil), c.bytes(c.u8("point formats length"), "point formats")...)
	case extECH:
		ch.ECH = true
	case extQUICParams:
		ch.QUIC = true
	case extSessionTicket:
		if len(body) > 0 && len(body) <= 4096 {
			ch.SessionTicket = append([]byte(nil), body...)
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

func oldU16list(b []byte) []uint16 {
	out := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, binary.BigEndian.Uint16(b[i:]))
	}
	return out
}
