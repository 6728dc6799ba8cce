// Package quic recovers the TLS ClientHello of QUIC connections without any key: client Initial
// packets are protected with keys derived from the connection ID the client chose (RFC 9001 §5.2,
// RFC 9369 §3.3.1), so a passive observer can remove their protection, reassemble the CRYPTO
// stream across several Initial packets and datagrams, and read the server name, ALPN and the
// JA4 fingerprint. Versions 1 (RFC 9000) and 2 (RFC 9369) and draft-29 are handled.
package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// QUIC versions with Initial protection this package knows.
const (
	Version1       uint32 = 0x00000001
	Version2       uint32 = 0x6b3343cf
	VersionDraft29 uint32 = 0xff00001d
)

// Initial salts: RFC 9001 §5.2, RFC 9369 §3.3.1, draft-ietf-quic-tls-29 §5.2.
var (
	saltV1      = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	saltV2      = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
	saltDraft29 = []byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99}
)

// Keys are the packet protection keys of one direction of the Initial space.
type Keys struct {
	Secret []byte
	Key    []byte // AES-128-GCM key
	IV     []byte
	HP     []byte // header protection key (AES-128-ECB)
	aead   cipher.AEAD
	hp     cipher.Block
	block  [32 + 16 + 12 + 16]byte // Secret, Key, IV and HP in one allocation with the Keys
}

// Supported reports whether Initial keys can be derived for version v.
func Supported(v uint32) bool { return v == Version1 || v == Version2 || v == VersionDraft29 }

// expandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty context: the
// HkdfLabel structure is length, "tls13 "+label, context.
func expandLabel(secret []byte, label string, n int) ([]byte, error) {
	return hkdf.Expand(sha256.New, secret, string(labelInfo(new([maxInfo]byte), label, n)), n)
}

// maxInfo bounds the HkdfLabel of the Initial labels with room to spare (the longest,
// "tls13 quicv2 key" with its length fields, is 20 bytes).
const maxInfo = 48

// labelInfo writes the HkdfLabel of label with an empty context into buf.
func labelInfo(buf *[maxInfo]byte, label string, n int) []byte {
	info := binary.BigEndian.AppendUint16(buf[:0], uint16(n))
	info = append(info, byte(len("tls13 ")+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	return append(info, 0)
}

// hmacSHA256 is HMAC-SHA256 (RFC 2104) of a message of at most 64 bytes under a key of at most 64
// bytes, computed in stack buffers: the Initial keys of every QUIC connection take five HMACs,
// and hmac.New with crypto/hkdf allocates several objects for each. TestStackHKDF checks it
// against crypto/hkdf.
func hmacSHA256(key, msg []byte) [32]byte {
	var in [64 + 64]byte  // key XOR ipad, then the message
	var out [64 + 32]byte // key XOR opad, then the inner hash
	var kb [64]byte
	copy(kb[:], key)
	for i := 0; i < 64; i += 8 { // eight bytes at a time: byte loops cost as much as the hashing
		k := binary.LittleEndian.Uint64(kb[i:])
		binary.LittleEndian.PutUint64(in[i:], k^0x3636363636363636)
		binary.LittleEndian.PutUint64(out[i:], k^0x5c5c5c5c5c5c5c5c)
	}
	n := copy(in[64:], msg)
	inner := sha256.Sum256(in[:64+n])
	copy(out[64:], inner[:])
	return sha256.Sum256(out[:])
}

// expandLabel32 is expandLabel for n ≤ 32 (one HKDF-Expand block, RFC 5869 §2.3: T(1) =
// HMAC(PRK, info | 0x01)) without allocating; dst receives the first n bytes.
func expandLabel32(dst, secret []byte, label string) {
	var buf [maxInfo]byte
	info := append(labelInfo(&buf, label, len(dst)), 1)
	t := hmacSHA256(secret, info)
	copy(dst, t[:])
}

// packetLabels are the labels of the packet protection keys of a version (RFC 9001 §5.1, RFC 9369
// §3.3.2), written out once.
type packetLabels struct{ key, iv, hp string }

var (
	labelsV1 = packetLabels{"quic key", "quic iv", "quic hp"}
	labelsV2 = packetLabels{"quicv2 key", "quicv2 iv", "quicv2 hp"}
)

// InitialKeys derives the Initial keys of one side (client or server) from the client's first
// Destination Connection ID.
func InitialKeys(version uint32, dcid []byte, client bool) (*Keys, error) {
	var salt []byte
	labels, prefix := &labelsV1, "quic "
	switch version {
	case Version1:
		salt = saltV1
	case Version2:
		salt, labels, prefix = saltV2, &labelsV2, "quicv2 "
	case VersionDraft29:
		salt = saltDraft29
	default:
		return nil, fmt.Errorf("quic: no Initial keys for version 0x%08x", version)
	}
	label := "client in"
	if !client {
		label = "server in"
	}
	k := &Keys{}
	var err error
	if len(dcid) <= 64 {
		// A connection ID is at most 20 bytes (RFC 9000 §17.2): the stack HMAC fits it.
		initial := hmacSHA256(salt, dcid) // HKDF-Extract(salt, dcid)
		k.Secret, k.Key, k.IV, k.HP = k.block[:32:32], k.block[32:48:48], k.block[48:60:60], k.block[60:76:76]
		expandLabel32(k.Secret, initial[:], label)
		expandLabel32(k.Key, k.Secret, labels.key)
		expandLabel32(k.IV, k.Secret, labels.iv)
		expandLabel32(k.HP, k.Secret, labels.hp)
	} else if err = k.derive(salt, dcid, label, prefix); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k.Key)
	if err != nil {
		return nil, err
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	if k.hp, err = aes.NewCipher(k.HP); err != nil {
		return nil, err
	}
	return k, nil
}

// derive is the key schedule with crypto/hkdf, for connection IDs longer than the stack HMAC
// takes.
func (k *Keys) derive(salt, dcid []byte, label, prefix string) error {
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return err
	}
	if k.Secret, err = expandLabel(initial, label, 32); err != nil {
		return err
	}
	if k.Key, err = expandLabel(k.Secret, prefix+"key", 16); err != nil {
		return err
	}
	if k.IV, err = expandLabel(k.Secret, prefix+"iv", 12); err != nil {
		return err
	}
	k.HP, err = expandLabel(k.Secret, prefix+"hp", 16)
	return err
}

// Mask returns the header protection mask for a 16-byte sample (RFC 9001 §5.4.3: AES-ECB of
// the sample).
func (k *Keys) Mask(sample []byte) [16]byte {
	var m [16]byte
	k.hp.Encrypt(m[:], sample[:16])
	return m
}
