package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"

	"droneaudit/decoders/tls"
)

// Packet protection with the TLS 1.3 secrets of a key log (RFC 9001 §5): the Handshake, 0-RTT
// and 1-RTT packets of a connection are protected by keys expanded from the traffic secrets with
// the QUIC labels, under the AEAD of the negotiated TLS cipher suite, and their headers by that
// suite's header protection (AES-ECB, or ChaCha20 for TLS_CHACHA20_POLY1305_SHA256, §5.4.3–4).

// suite is one of the three TLS 1.3 cipher suites QUIC uses (RFC 9001 §5.3; CCM is not offered by
// the stacks labs meet).
type suite uint8

const (
	suiteAES128GCM suite = iota + 1 // TLS_AES_128_GCM_SHA256
	suiteAES256GCM                  // TLS_AES_256_GCM_SHA384
	suiteChaCha20                   // TLS_CHACHA20_POLY1305_SHA256
)

func (s suite) String() string {
	switch s {
	case suiteAES128GCM:
		return "TLS_AES_128_GCM_SHA256"
	case suiteAES256GCM:
		return "TLS_AES_256_GCM_SHA384"
	case suiteChaCha20:
		return "TLS_CHACHA20_POLY1305_SHA256"
	}
	return "unknown"
}

func (s suite) hash() func() hash.Hash {
	if s == suiteAES256GCM {
		return sha512.New384
	}
	return sha256.New
}

func (s suite) keyLen() int {
	if s == suiteAES128GCM {
		return 16
	}
	return 32
}

// suitesFor lists the suites whose hash gives a secret of n bytes: the key log does not name the
// suite, so the first packet that authenticates decides among them.
func suitesFor(n int) []suite {
	switch n {
	case 32:
		return []suite{suiteAES128GCM, suiteChaCha20}
	case 48:
		return []suite{suiteAES256GCM}
	}
	return nil
}

// labelPrefix is "quic " for versions 1 and draft-29 and "quicv2 " for version 2 (RFC 9369 §3.3.2).
func labelPrefix(version uint32) string {
	if version == Version2 {
		return "quicv2 "
	}
	return "quic "
}

// protection is what opens the packets of one direction of one packet number space under one key
// phase: the AEAD and IV of the payload and the header protection.
type protection struct {
	suite  suite
	secret []byte
	aead   cipher.AEAD
	iv     []byte
	hp     func(sample []byte) [5]byte
}

// newProtection expands a traffic secret into packet protection keys (RFC 9001 §5.1):
// key = HKDF-Expand-Label(secret, "quic key"), iv = …"quic iv" (12), hp = …"quic hp".
func newProtection(version uint32, s suite, secret []byte) (*protection, error) {
	h, p := s.hash(), labelPrefix(version)
	key := tls.ExpandLabel(h, secret, p+"key", nil, s.keyLen())
	hpKey := tls.ExpandLabel(h, secret, p+"hp", nil, s.keyLen())
	pr := &protection{suite: s, secret: secret, iv: tls.ExpandLabel(h, secret, p+"iv", nil, 12)}
	var err error
	if pr.aead, err = newAEAD(s, key); err != nil {
		return nil, err
	}
	if pr.hp, err = newHP(s, hpKey); err != nil {
		return nil, err
	}
	return pr, nil
}

// next is the key update of RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>,
// "quic ku", "", Hash.length); the header protection key does not change.
func (pr *protection) next(version uint32) (*protection, error) {
	h := pr.suite.hash()
	secret := tls.ExpandLabel(h, pr.secret, labelPrefix(version)+"ku", nil, len(pr.secret))
	key := tls.ExpandLabel(h, secret, labelPrefix(version)+"key", nil, pr.suite.keyLen())
	n := &protection{suite: pr.suite, secret: secret, hp: pr.hp, iv: tls.ExpandLabel(h, secret, labelPrefix(version)+"iv", nil, 12)}
	var err error
	if n.aead, err = newAEAD(pr.suite, key); err != nil {
		return nil, err
	}
	return n, nil
}

func newAEAD(s suite, key []byte) (cipher.AEAD, error) {
	if s == suiteChaCha20 {
		return chacha20poly1305.New(key)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// newHP returns the header protection mask function: AES-ECB of the 16-byte sample (RFC 9001
// §5.4.3), or ChaCha20 keyed by hp with the sample's first 4 bytes as the little-endian block
// counter and the other 12 as the nonce, encrypting five zero bytes (§5.4.4).
func newHP(s suite, key []byte) (func([]byte) [5]byte, error) {
	if s == suiteChaCha20 {
		return func(sample []byte) [5]byte {
			var m [5]byte
			c, err := chacha20.NewUnauthenticatedCipher(key, sample[4:16])
			if err != nil {
				return m // unreachable: key and nonce lengths are fixed
			}
			c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
			c.XORKeyStream(m[:], m[:])
			return m
		}, nil
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return func(sample []byte) [5]byte {
		var full [16]byte
		b.Encrypt(full[:], sample[:16])
		return [5]byte(full[:5])
	}, nil
}

// initialProtection is the Initial keys in the form the other spaces use.
func (k *Keys) protection() *protection {
	return &protection{suite: suiteAES128GCM, secret: k.Secret, aead: k.aead, iv: k.IV, hp: func(s []byte) [5]byte {
		m := k.Mask(s)
		return [5]byte(m[:5])
	}}
}

// removeHP removes header protection in place from the packet pkt[:end] whose packet number starts
// at pnOff (RFC 9001 §5.4.1–2) and returns the packet number length and truncated value. long
// selects the 4 protected bits of a long header, else the 5 of a short header.
func removeHP(pkt []byte, pnOff, end int, hp func([]byte) [5]byte, long bool) (pnLen int, trunc uint64, ok bool) {
	if pnOff+4+16 > end {
		return 0, 0, false
	}
	pnLen, trunc = unmask(pkt, pnOff, hp(pkt[pnOff+4:pnOff+20]), long)
	return pnLen, trunc, true
}

// unmask applies a header protection mask to the first byte and the packet number at pnOff
// (RFC 9001 §5.4.1) and returns the packet number length and truncated value.
func unmask(pkt []byte, pnOff int, mask [5]byte, long bool) (pnLen int, trunc uint64) {
	if long {
		pkt[0] ^= mask[0] & 0x0f
	} else {
		pkt[0] ^= mask[0] & 0x1f
	}
	pnLen = int(pkt[0]&3) + 1
	for i := 0; i < pnLen; i++ {
		pkt[pnOff+i] ^= mask[1+i]
		trunc = trunc<<8 | uint64(pkt[pnOff+i])
	}
	return pnLen, trunc
}

// open authenticates and decrypts the payload pkt[hdrLen:end] under packet number pn, with the
// header pkt[:hdrLen] as associated data (RFC 9001 §5.3). The plaintext is appended to dst.
func (pr *protection) open(dst, pkt []byte, hdrLen, end int, pn uint64) ([]byte, error) {
	var nonce [12]byte
	copy(nonce[:], pr.iv)
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(pn >> (56 - 8*i))
	}
	return pr.aead.Open(dst, nonce[:], pkt[hdrLen:end], pkt[:hdrLen])
}
