package tls

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Record protection, one direction and one key at a time. Every open either authenticates the
// record (AEAD tag, or padding and HMAC for CBC) or fails: a failure is never plaintext.

var (
	errAuth    = errors.New("record authentication failed")
	errPadding = errors.New("CBC padding invalid")
	errShort   = errors.New("record too short for its cipher")
)

// recordCipher opens one protected record. hdr is the 5-byte record header as received, frag
// its fragment, seq the record's sequence number for this key. The plaintext is appended to dst.
type recordCipher interface {
	open(dst []byte, seq uint64, hdr, frag []byte) ([]byte, error)
}

func newAEAD(s *suite, key []byte) (cipher.AEAD, error) {
	if s.kind == kindChaCha {
		return chacha20poly1305.New(key)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// xorNonce is the per-record nonce of TLS 1.3 (RFC 8446 §5.3) and of ChaCha20-Poly1305 in
// TLS 1.2 (RFC 7905 §2): the 64-bit sequence number, left-padded to the IV length, XORed with
// the IV.
func xorNonce(nonce, iv []byte, seq uint64) {
	copy(nonce, iv)
	n := len(nonce)
	for i := range 8 {
		nonce[n-1-i] ^= byte(seq >> (8 * i))
	}
}

// aad12 is the additional data of TLS 1.2 AEAD records (RFC 5246 §6.2.3.3): seq_num ‖ type ‖
// version ‖ length of the plaintext.
func aad12(b []byte, seq uint64, hdr []byte, plainLen int) []byte {
	b = binary.BigEndian.AppendUint64(b[:0], seq)
	b = append(b, hdr[0], hdr[1], hdr[2])
	return binary.BigEndian.AppendUint16(b, uint16(plainLen))
}

// gcm12 is AES-GCM in TLS 1.2 (RFC 5288 §3): nonce = 4-byte salt from the key block ‖ 8-byte
// explicit nonce carried at the start of each record.
type gcm12 struct {
	aead  cipher.AEAD
	nonce [12]byte
	aad   [13]byte
}

func (c *gcm12) open(dst []byte, seq uint64, hdr, frag []byte) ([]byte, error) {
	if len(frag) < 8+16 {
		return dst, errShort
	}
	copy(c.nonce[4:], frag[:8])
	ad := aad12(c.aad[:], seq, hdr, len(frag)-8-16)
	out, err := c.aead.Open(dst, c.nonce[:], frag[8:], ad)
	if err != nil {
		return dst, errAuth
	}
	return out, nil
}

// chacha12 is ChaCha20-Poly1305 in TLS 1.2 (RFC 7905 §2): no explicit nonce.
type chacha12 struct {
	aead  cipher.AEAD
	iv    [12]byte
	nonce [12]byte
	aad   [13]byte
}

func (c *chacha12) open(dst []byte, seq uint64, hdr, frag []byte) ([]byte, error) {
	if len(frag) < 16 {
		return dst, errShort
	}
	xorNonce(c.nonce[:], c.iv[:], seq)
	out, err := c.aead.Open(dst, c.nonce[:], frag, aad12(c.aad[:], seq, hdr, len(frag)-16))
	if err != nil {
		return dst, errAuth
	}
	return out, nil
}

// aead13 is the TLS 1.3 record protection (RFC 8446 §5.2): additional data = the record header
// (drafts before 25 used none), nonce = IV XOR sequence number.
type aead13 struct {
	aead   cipher.AEAD
	iv     [12]byte
	nonce  [12]byte
	noAAD  bool
	secret []byte // the traffic secret, for KeyUpdate
}

func (c *aead13) open(dst []byte, seq uint64, hdr, frag []byte) ([]byte, error) {
	if len(frag) < 17 {
		return dst, errShort
	}
	xorNonce(c.nonce[:], c.iv[:], seq)
	ad := hdr
	if c.noAAD {
		ad = nil
	}
	out, err := c.aead.Open(dst, c.nonce[:], frag, ad)
	if err != nil {
		return dst, errAuth
	}
	return out, nil
}

func newAEAD13(s *suite, secret []byte, noAAD bool) (*aead13, error) {
	key, iv := trafficKeys13(s, secret)
	a, err := newAEAD(s, key)
	if err != nil {
		return nil, err
	}
	c := &aead13{aead: a, noAAD: noAAD, secret: secret}
	copy(c.iv[:], iv)
	return c, nil
}

// cbc is a block cipher in CBC mode with HMAC (RFC 5246 §6.2.3.2): MAC-then-encrypt with an
// explicit IV per record (TLS 1.1+), or the previous record's last block (TLS 1.0); or, when both
// hellos carried encrypt_then_mac (RFC 7366), the MAC over the IV and ciphertext, checked first.
type cbc struct {
	block   cipher.Block
	mac     hash.Hash
	macLen  int
	etm     bool
	implied []byte // TLS 1.0: the IV of the next record
	ivBuf   []byte
	hdrBuf  [13]byte
	sum     []byte
}

func newCBC(s *suite, key, macKey, iv []byte, etm bool) (*cbc, error) {
	var b cipher.Block
	var err error
	if s.block == block3DES {
		b, err = des.NewTripleDESCipher(key)
	} else {
		b, err = aes.NewCipher(key)
	}
	if err != nil {
		return nil, err
	}
	c := &cbc{block: b, mac: hmac.New(s.macHash(), macKey), macLen: s.macLen, etm: etm}
	if len(iv) > 0 {
		c.implied = append([]byte(nil), iv...)
	}
	return c, nil
}

func (c *cbc) macOf(seq uint64, hdr []byte, data ...[]byte) []byte {
	n := 0
	for _, d := range data {
		n += len(d)
	}
	h := c.hdrBuf[:0]
	h = binary.BigEndian.AppendUint64(h, seq)
	h = append(h, hdr[0], hdr[1], hdr[2])
	h = binary.BigEndian.AppendUint16(h, uint16(n))
	c.mac.Reset()
	c.mac.Write(h)
	for _, d := range data {
		c.mac.Write(d)
	}
	c.sum = c.mac.Sum(c.sum[:0])
	return c.sum
}

func (c *cbc) open(dst []byte, seq uint64, hdr, frag []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	ivLen := bs
	if c.implied != nil {
		ivLen = 0
	}
	if c.etm {
		if len(frag) < ivLen+bs+c.macLen {
			return dst, errShort
		}
		body := frag[:len(frag)-c.macLen]
		if !hmac.Equal(c.macOf(seq, hdr, body), frag[len(body):]) {
			return dst, errAuth
		}
		frag = body
	}
	if len(frag) < ivLen+bs || (len(frag)-ivLen)%bs != 0 {
		return dst, errShort
	}
	iv, ct := frag[:ivLen], frag[ivLen:]
	if c.implied != nil {
		iv = c.implied
	}
	start := len(dst)
	dst = append(dst, ct...)
	pt := dst[start:]
	c.ivBuf = append(c.ivBuf[:0], iv...)
	cipher.NewCBCDecrypter(c.block, c.ivBuf).CryptBlocks(pt, pt)
	if c.implied != nil {
		copy(c.implied, ct[len(ct)-bs:])
	}
	// Padding (RFC 5246 §6.2.3.2): padding_length + 1 bytes, each equal to padding_length.
	pad := int(pt[len(pt)-1])
	macLen := c.macLen
	if c.etm {
		macLen = 0
	}
	if pad+1+macLen > len(pt) {
		return dst[:start], errPadding
	}
	for _, b := range pt[len(pt)-1-pad:] {
		if int(b) != pad {
			return dst[:start], errPadding
		}
	}
	pt = pt[:len(pt)-1-pad]
	if !c.etm {
		data := pt[:len(pt)-macLen]
		if !hmac.Equal(c.macOf(seq, hdr, data), pt[len(data):]) {
			return dst[:start], errAuth
		}
		pt = data
	}
	return dst[:start+len(pt)], nil
}
