package tls

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// JA3String returns the JA3 text of a ClientHello: version, ciphers, extensions, groups and
// point formats as decimal lists, GREASE values removed (Salesforce JA3, BSD-3-Clause,
// https://github.com/salesforce/ja3 README "How it works").
func (ch *ClientHello) JA3String() string {
	var sb strings.Builder
	sb.WriteString(strconv.Itoa(int(ch.LegacyVersion)))
	sb.WriteByte(',')
	decList(&sb, ch.CipherSuites)
	sb.WriteByte(',')
	decList(&sb, ch.Extensions)
	sb.WriteByte(',')
	decList(&sb, ch.Groups)
	sb.WriteByte(',')
	for i, f := range ch.PointFormats {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(strconv.Itoa(int(f)))
	}
	return sb.String()
}

// JA3 returns the MD5 of JA3String in lower-case hex.
func (ch *ClientHello) JA3() string {
	s := md5.Sum([]byte(ch.JA3String()))
	return hex.EncodeToString(s[:])
}

func decList(sb *strings.Builder, vs []uint16) {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			sb.WriteByte('-')
		}
		first = false
		sb.WriteString(strconv.Itoa(int(v)))
	}
}

// JA4 returns the JA4 client fingerprint (FoxIO JA4 technical details, BSD-3-Clause for JA4 TLS
// client: https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md). quic selects the
// "q" transport marker instead of "t".
func (ch *ClientHello) JA4(quic bool) string {
	proto := byte('t')
	if quic {
		proto = 'q'
	}
	sni := byte('i')
	if ch.ServerName != "" {
		sni = 'd'
	}
	ciphers := nonGREASE(ch.CipherSuites)
	exts := nonGREASE(ch.Extensions)
	a := make([]byte, 0, 10)
	a = append(a, proto)
	a = append(a, ja4Version(ch.MaxVersion())...)
	a = append(a, sni, byte('0'+min(len(ciphers), 99)/10), byte('0'+min(len(ciphers), 99)%10),
		byte('0'+min(len(exts), 99)/10), byte('0'+min(len(exts), 99)%10))
	a = append(a, ja4ALPN(ch.ALPN)...)

	slices.Sort(ciphers)
	b := ja4Hash(hexList(ciphers))

	var kept []uint16
	for _, e := range exts {
		if e != extServerName && e != extALPN {
			kept = append(kept, e)
		}
	}
	slices.Sort(kept)
	c := "000000000000"
	if len(kept) > 0 {
		s := hexList(kept)
		if sig := hexList(nonGREASE(ch.SignatureAlgs)); sig != "" {
			s += "_" + sig
		}
		c = ja4Hash(s)
	}
	return string(a) + "_" + b + "_" + c
}

func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4ALPN is the first and last character of the first ALPN value, or of its hex form when
// either is not an ASCII letter or digit.
func ja4ALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	v := alpn[0]
	f, l := v[0], v[len(v)-1]
	if alnum(f) && alnum(l) {
		return string([]byte{f, l})
	}
	h := hex.EncodeToString([]byte(v))
	return string([]byte{h[0], h[len(h)-1]})
}

func alnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func nonGREASE(vs []uint16) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !IsGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

func hexList(vs []uint16) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 0, 5*len(vs))
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15])
	}
	return string(b)
}

func ja4Hash(s string) string {
	if s == "" {
		return "000000000000"
	}
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:12]
}
