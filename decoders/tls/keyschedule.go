package tls

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/binary"
	"hash"
)

// The key derivations of a passive decryptor. crypto/tls computes them too but exports none, so
// they are written here from the RFCs; the tests check them against the RFCs' vectors.

// pHash is P_hash of RFC 5246 §5: A(0) = seed, A(i) = HMAC(secret, A(i-1)), and the output is
// HMAC(secret, A(1) ‖ seed) ‖ HMAC(secret, A(2) ‖ seed) ‖ … cut to len(out).
func pHash(h func() hash.Hash, secret, seed, out []byte) {
	mac := hmac.New(h, secret)
	mac.Write(seed)
	a := mac.Sum(nil)
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		mac.Write(seed)
		n := copy(out, mac.Sum(nil))
		out = out[n:]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5): PRF(secret, label, seed) = P_<hash>(secret, label ‖
// seed), with the suite's PRF hash (SHA-256, or SHA-384 for the _SHA384 suites).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	out := make([]byte, n)
	pHash(h, secret, ls, out)
	return out
}

// prf10 is the PRF of TLS 1.0 and 1.1 (RFC 2246 §5, RFC 4346 §5): the secret is split in two
// halves (sharing the middle byte when its length is odd), and P_MD5 of the first is XORed with
// P_SHA-1 of the second.
func prf10(secret []byte, label string, seed []byte, n int) []byte {
	ls := make([]byte, 0, len(label)+len(seed))
	ls = append(append(ls, label...), seed...)
	half := (len(secret) + 1) / 2
	s1, s2 := secret[:half], secret[len(secret)-half:]
	out := make([]byte, n)
	tmp := make([]byte, n)
	pHash(md5.New, s1, ls, out)
	pHash(sha1.New, s2, ls, tmp)
	for i := range out {
		out[i] ^= tmp[i]
	}
	return out
}

// keyBlock12 expands a TLS 1.0–1.2 master secret into the key block (RFC 5246 §6.3):
// PRF(master, "key expansion", server_random ‖ client_random) — the server random first, the
// opposite order of the master secret's own derivation.
func keyBlock12(s *suite, version uint16, master, clientRandom, serverRandom []byte) []byte {
	seed := make([]byte, 0, 64)
	seed = append(append(seed, serverRandom...), clientRandom...)
	n := 2*s.macLen + 2*s.keyLen + 2*s.fixedIVLen(version)
	if version < VersionTLS12 {
		return prf10(master, "key expansion", seed, n)
	}
	return prf12(s.prfHash(), master, "key expansion", seed, n)
}

// expandLabel is HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1):
// HKDF-Expand(secret, HkdfLabel, n), HkdfLabel = uint16 n ‖ opaque label<7..255> = "tls13 " ‖
// label ‖ opaque context<0..255>.
func expandLabel(h func() hash.Hash, secret []byte, label string, context []byte, n int) []byte {
	info := hkdfLabel(make([]byte, 0, 10+len(label)+len(context)), label, context, n)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		// Only an output longer than 255 hash lengths fails; no caller asks for one.
		panic("tls: " + err.Error())
	}
	return out
}

// ExpandLabel is HKDF-Expand-Label of RFC 8446 §7.1, for the QUIC decoders, which derive their
// packet keys from the same TLS 1.3 secrets (RFC 9001 §5.1).
func ExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, n int) []byte {
	return expandLabel(h, secret, label, context, n)
}

// trafficKeys13 derives one direction's record key and IV from a TLS 1.3 traffic secret
// (RFC 8446 §7.3): key = HKDF-Expand-Label(secret, "key", "", key_length), iv =
// HKDF-Expand-Label(secret, "iv", "", 12).
//
// Both are shorter than the hash, and HKDF-Expand of at most one hash length is the single block
// T(1) = HMAC(secret, info ‖ 0x01) (RFC 5869 §2.3); so one HMAC keyed with the secret serves
// both, where crypto/hkdf would key two. A lab capture holds thousands of TLS sessions, each
// deriving four of these: the key schedule was a tenth of decrypting one. The test checks the
// outputs against expandLabel (crypto/hkdf) for every suite.
func trafficKeys13(s *suite, secret []byte) (key, iv []byte) {
	mac := hmac.New(s.prfHash(), secret)
	var info [32]byte
	key = expandOneBlock(mac, hkdfLabel(info[:0], "key", nil, s.keyLen), s.keyLen)
	iv = expandOneBlock(mac, hkdfLabel(info[:0], "iv", nil, 12), 12)
	return key, iv
}

// hkdfLabel appends the HkdfLabel of RFC 8446 §7.1 to b: uint16 n ‖ opaque label<7..255> =
// "tls13 " ‖ label ‖ opaque context<0..255>.
func hkdfLabel(b []byte, label string, context []byte, n int) []byte {
	const prefix = "tls13 "
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = append(b, byte(len(prefix)+len(label)))
	b = append(append(b, prefix...), label...)
	b = append(b, byte(len(context)))
	return append(b, context...)
}

// expandOneBlock is HKDF-Expand(PRK, info, n) for n at most one hash length, with mac keyed
// with the PRK: the first n bytes of HMAC(PRK, info ‖ 0x01).
func expandOneBlock(mac hash.Hash, info []byte, n int) []byte {
	mac.Reset()
	mac.Write(info)
	mac.Write([]byte{1})
	return mac.Sum(nil)[:n]
}

// nextSecret13 is the KeyUpdate step of RFC 8446 §7.2: application_traffic_secret_N+1 =
// HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length).
func nextSecret13(s *suite, secret []byte) []byte {
	h := s.prfHash()
	return expandLabel(h, secret, "traffic upd", nil, h().Size())
}
