package tls

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPRF12Vector: the TLS 1.2 PRF-SHA256 test vector posted to the TLS working group
// (formats/dji-network.md §5.6).
func TestPRF12Vector(t *testing.T) {
	got := prf12(sha256.New, unhex(t, "9bbe436ba940f017b17652849a71db35"), "test label", unhex(t, "a0ba9f936cda311827a6f796ffd5198c"), 100)
	want := "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
	if hex.EncodeToString(got) != want {
		t.Fatalf("PRF = %x", got)
	}
}

// TestTrafficKeysRFC8448: the handshake and application traffic keys of RFC 8448 §3.
func TestTrafficKeysRFC8448(t *testing.T) {
	s := suites[0x1301]
	for _, v := range []struct{ secret, key, iv string }{
		{"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21", "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"},
		{"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
		{"9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9"},
		{"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
	} {
		key, iv := trafficKeys13(s, unhex(t, v.secret))
		if hex.EncodeToString(key) != v.key || hex.EncodeToString(iv) != v.iv {
			t.Errorf("secret %s: key %x iv %x", v.secret[:8], key, iv)
		}
	}
}

// trafficKeys13's one-HMAC derivation gives what HKDF-Expand-Label through crypto/hkdf gives, for
// every TLS 1.3 suite (SHA-256 and SHA-384, 16- and 32-byte keys) and secrets of many values.
func TestTrafficKeysMatchHKDF(t *testing.T) {
	n := 0
	for _, s := range suites {
		if !s.tls13 {
			continue
		}
		n++
		size := s.prfHash()().Size()
		for i := range 64 {
			secret := make([]byte, size)
			for k := range secret {
				secret[k] = byte(i*31 + k*7)
			}
			key, iv := trafficKeys13(s, secret)
			wantKey := expandLabel(s.prfHash(), secret, "key", nil, s.keyLen)
			wantIV := expandLabel(s.prfHash(), secret, "iv", nil, 12)
			if hex.EncodeToString(key) != hex.EncodeToString(wantKey) || hex.EncodeToString(iv) != hex.EncodeToString(wantIV) {
				t.Fatalf("%s, secret %x: key %x iv %x, want %x %x", s.name, secret, key, iv, wantKey, wantIV)
			}
		}
	}
	if n < 3 {
		t.Fatalf("%d TLS 1.3 suites checked", n)
	}
}
