package tls

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
)

// Protocol versions (RFC 8446 §4.2.1 and earlier).
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// VersionName names a protocol version as reports print it.
func VersionName(v uint16) string {
	switch {
	case v == 0x0300:
		return "SSL 3.0"
	case v == VersionTLS10:
		return "TLS 1.0"
	case v == VersionTLS11:
		return "TLS 1.1"
	case v == VersionTLS12:
		return "TLS 1.2"
	case v == VersionTLS13:
		return "TLS 1.3"
	case v>>8 == 0x7f:
		return fmt.Sprintf("TLS 1.3 draft-%d", v&0xff)
	}
	return fmt.Sprintf("version 0x%04x", v)
}

type cipherKind uint8

const (
	kindGCM    cipherKind = iota + 1 // AES-GCM (RFC 5288 for TLS 1.2)
	kindChaCha                       // ChaCha20-Poly1305 (RFC 7905)
	kindCBC                          // block cipher in CBC mode with HMAC (RFC 5246 §6.2.3.2)
)

type blockCipher uint8

const (
	blockAES blockCipher = iota + 1
	block3DES
)

// suite is what the record layer needs to know of a cipher suite.
type suite struct {
	id     uint16
	name   string
	kind   cipherKind
	block  blockCipher // CBC suites
	keyLen int
	macLen int  // CBC suites: HMAC output length, which is also the MAC key length
	sha384 bool // the PRF (TLS 1.2) or HKDF (TLS 1.3) hash is SHA-384
	tls13  bool
}

func (s *suite) prfHash() func() hash.Hash {
	if s.sha384 {
		return sha512.New384
	}
	return sha256.New
}

// hashLen is the length of the PRF/HKDF hash, without making one.
func (s *suite) hashLen() int {
	if s.sha384 {
		return 48
	}
	return 32
}

func (s *suite) macHash() func() hash.Hash {
	switch s.macLen {
	case 20:
		return sha1.New
	case 48:
		return sha512.New384
	}
	return sha256.New
}

// fixedIVLen is the IV taken from the key block: the 4-byte salt of GCM, the 12-byte IV of
// ChaCha20-Poly1305, and for CBC in TLS 1.0 the first record's IV (later versions send an
// explicit IV in each record).
func (s *suite) fixedIVLen(version uint16) int {
	switch s.kind {
	case kindGCM:
		return 4
	case kindChaCha:
		return 12
	}
	if version == VersionTLS10 {
		if s.block == block3DES {
			return 8
		}
		return 16
	}
	return 0
}

// The suites droneaudit decrypts (IANA TLS Cipher Suites registry). Suites with other ciphers
// (CCM, CAMELLIA, ARIA, RC4, NULL) are reported as unsupported, never guessed at.
var suites = map[uint16]*suite{}

func init() {
	add := func(id uint16, name string, kind cipherKind, keyLen, macLen int, sha384 bool) {
		s := &suite{id: id, name: name, kind: kind, keyLen: keyLen, macLen: macLen, sha384: sha384}
		if kind == kindCBC {
			s.block = blockAES
			if keyLen == 24 {
				s.block = block3DES
			}
		}
		suites[id] = s
	}
	// TLS 1.3 (RFC 8446 §B.4).
	for _, s := range []*suite{
		{id: 0x1301, name: "TLS_AES_128_GCM_SHA256", kind: kindGCM, keyLen: 16},
		{id: 0x1302, name: "TLS_AES_256_GCM_SHA384", kind: kindGCM, keyLen: 32, sha384: true},
		{id: 0x1303, name: "TLS_CHACHA20_POLY1305_SHA256", kind: kindChaCha, keyLen: 32},
	} {
		s.tls13 = true
		suites[s.id] = s
	}
	// AES-GCM (RFC 5288, RFC 5289, RFC 5487, RFC 8442).
	for _, g := range []struct {
		id   uint16
		name string
	}{
		{0x009c, "RSA_WITH_AES_128_GCM_SHA256"}, {0x009d, "RSA_WITH_AES_256_GCM_SHA384"},
		{0x009e, "DHE_RSA_WITH_AES_128_GCM_SHA256"}, {0x009f, "DHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0x00a2, "DHE_DSS_WITH_AES_128_GCM_SHA256"}, {0x00a3, "DHE_DSS_WITH_AES_256_GCM_SHA384"},
		{0x00a8, "PSK_WITH_AES_128_GCM_SHA256"}, {0x00a9, "PSK_WITH_AES_256_GCM_SHA384"},
		{0x00aa, "DHE_PSK_WITH_AES_128_GCM_SHA256"}, {0x00ab, "DHE_PSK_WITH_AES_256_GCM_SHA384"},
		{0x00ac, "RSA_PSK_WITH_AES_128_GCM_SHA256"}, {0x00ad, "RSA_PSK_WITH_AES_256_GCM_SHA384"},
		{0xc02b, "ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}, {0xc02c, "ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		{0xc02f, "ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, {0xc030, "ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
		{0xd001, "ECDHE_PSK_WITH_AES_128_GCM_SHA256"}, {0xd002, "ECDHE_PSK_WITH_AES_256_GCM_SHA384"},
	} {
		sha384 := g.name[len(g.name)-6:] == "SHA384"
		keyLen := 16
		if sha384 {
			keyLen = 32
		}
		add(g.id, "TLS_"+g.name, kindGCM, keyLen, 0, sha384)
	}
	// ChaCha20-Poly1305 (RFC 7905).
	for _, c := range []struct {
		id   uint16
		name string
	}{
		{0xcca8, "ECDHE_RSA"}, {0xcca9, "ECDHE_ECDSA"}, {0xccaa, "DHE_RSA"}, {0xccab, "PSK"},
		{0xccac, "ECDHE_PSK"}, {0xccad, "DHE_PSK"}, {0xccae, "RSA_PSK"},
	} {
		add(c.id, "TLS_"+c.name+"_WITH_CHACHA20_POLY1305_SHA256", kindChaCha, 32, 0, false)
	}
	// CBC with HMAC (RFC 5246 App. A.5, RFC 4492, RFC 5289, RFC 4279, RFC 5487, RFC 5489).
	for _, c := range []struct {
		id     uint16
		name   string
		keyLen int
		mac    int
	}{
		{0x000a, "RSA_WITH_3DES_EDE_CBC_SHA", 24, 20}, {0xc012, "ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", 24, 20},
		{0x0016, "DHE_RSA_WITH_3DES_EDE_CBC_SHA", 24, 20}, {0xc008, "ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", 24, 20},
		{0x002f, "RSA_WITH_AES_128_CBC_SHA", 16, 20}, {0x0035, "RSA_WITH_AES_256_CBC_SHA", 32, 20},
		{0x003c, "RSA_WITH_AES_128_CBC_SHA256", 16, 32}, {0x003d, "RSA_WITH_AES_256_CBC_SHA256", 32, 32},
		{0x0032, "DHE_DSS_WITH_AES_128_CBC_SHA", 16, 20}, {0x0038, "DHE_DSS_WITH_AES_256_CBC_SHA", 32, 20},
		{0x0033, "DHE_RSA_WITH_AES_128_CBC_SHA", 16, 20}, {0x0039, "DHE_RSA_WITH_AES_256_CBC_SHA", 32, 20},
		{0x0040, "DHE_DSS_WITH_AES_128_CBC_SHA256", 16, 32}, {0x006a, "DHE_DSS_WITH_AES_256_CBC_SHA256", 32, 32},
		{0x0067, "DHE_RSA_WITH_AES_128_CBC_SHA256", 16, 32}, {0x006b, "DHE_RSA_WITH_AES_256_CBC_SHA256", 32, 32},
		{0xc009, "ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 16, 20}, {0xc00a, "ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 32, 20},
		{0xc013, "ECDHE_RSA_WITH_AES_128_CBC_SHA", 16, 20}, {0xc014, "ECDHE_RSA_WITH_AES_256_CBC_SHA", 32, 20},
		{0xc023, "ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 16, 32}, {0xc024, "ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 32, 48},
		{0xc027, "ECDHE_RSA_WITH_AES_128_CBC_SHA256", 16, 32}, {0xc028, "ECDHE_RSA_WITH_AES_256_CBC_SHA384", 32, 48},
		{0x008c, "PSK_WITH_AES_128_CBC_SHA", 16, 20}, {0x008d, "PSK_WITH_AES_256_CBC_SHA", 32, 20},
		{0x0090, "DHE_PSK_WITH_AES_128_CBC_SHA", 16, 20}, {0x0091, "DHE_PSK_WITH_AES_256_CBC_SHA", 32, 20},
		{0x0094, "RSA_PSK_WITH_AES_128_CBC_SHA", 16, 20}, {0x0095, "RSA_PSK_WITH_AES_256_CBC_SHA", 32, 20},
		{0x00ae, "PSK_WITH_AES_128_CBC_SHA256", 16, 32}, {0x00af, "PSK_WITH_AES_256_CBC_SHA384", 32, 48},
		{0x00b2, "DHE_PSK_WITH_AES_128_CBC_SHA256", 16, 32}, {0x00b3, "DHE_PSK_WITH_AES_256_CBC_SHA384", 32, 48},
		{0x00b6, "RSA_PSK_WITH_AES_128_CBC_SHA256", 16, 32}, {0x00b7, "RSA_PSK_WITH_AES_256_CBC_SHA384", 32, 48},
		{0xc035, "ECDHE_PSK_WITH_AES_128_CBC_SHA", 16, 20}, {0xc036, "ECDHE_PSK_WITH_AES_256_CBC_SHA", 32, 20},
		{0xc037, "ECDHE_PSK_WITH_AES_128_CBC_SHA256", 16, 32}, {0xc038, "ECDHE_PSK_WITH_AES_256_CBC_SHA384", 32, 48},
	} {
		// The _SHA384 suites also use SHA-384 for the PRF (RFC 5289 §3.2); the others SHA-256.
		add(c.id, "TLS_"+c.name, kindCBC, c.keyLen, c.mac, c.mac == 48)
	}
}

// SuiteName returns the IANA name of a cipher suite this package decrypts, or its number.
func SuiteName(id uint16) string {
	if s, ok := suites[id]; ok {
		return s.name
	}
	return fmt.Sprintf("0x%04x", id)
}

// SuiteSupported reports whether records of a cipher suite can be decrypted.
func SuiteSupported(id uint16) bool { _, ok := suites[id]; return ok }
