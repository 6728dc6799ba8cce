package quic

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

// TestStackHKDF checks the stack HMAC and HKDF-Expand-Label against crypto/hmac and crypto/hkdf
// for keys and messages of every length they take, and the Initial keys against the crypto/hkdf
// derivation for connection IDs of every length up to 64 bytes.
func TestStackHKDF(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for kl := 0; kl <= 64; kl++ {
		for ml := 0; ml <= 64; ml += 1 + kl%5 {
			key, msg := fill(kl), fill(ml)
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			got := hmacSHA256(key, msg)
			if !bytes.Equal(got[:], m.Sum(nil)) {
				t.Fatalf("HMAC key %d bytes, message %d bytes differs from crypto/hmac", kl, ml)
			}
		}
	}
	for _, label := range []string{"client in", "server in", "quic key", "quic iv", "quic hp", "quicv2 key", "quicv2 iv", "quicv2 hp", "quic ku", ""} {
		for n := 1; n <= 32; n++ {
			secret := fill(32)
			want, err := expandLabel(secret, label, n)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, n)
			expandLabel32(got, secret, label)
			if !bytes.Equal(got, want) {
				t.Fatalf("Expand-Label %q %d bytes differs from crypto/hkdf", label, n)
			}
		}
	}
	for _, v := range []uint32{Version1, Version2, VersionDraft29} {
		for n := 0; n <= 64; n++ {
			dcid := fill(n)
			for _, client := range []bool{true, false} {
				k, err := InitialKeys(v, dcid, client)
				if err != nil {
					t.Fatal(err)
				}
				var want Keys
				salt := map[uint32][]byte{Version1: saltV1, Version2: saltV2, VersionDraft29: saltDraft29}[v]
				label, prefix := "server in", labelPrefix(v)
				if client {
					label = "client in"
				}
				if err := want.derive(salt, dcid, label, prefix); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(k.Secret, want.Secret) || !bytes.Equal(k.Key, want.Key) || !bytes.Equal(k.IV, want.IV) || !bytes.Equal(k.HP, want.HP) {
					t.Fatalf("version %x DCID %d bytes client %v: keys differ from crypto/hkdf", v, n, client)
				}
			}
		}
	}
	// Longer than the stack HMAC takes: crypto/hkdf derives them.
	long := fill(100)
	k, err := InitialKeys(Version1, long, true)
	if err != nil {
		t.Fatal(err)
	}
	prk, _ := hkdf.Extract(sha256.New, long, saltV1)
	want, _ := expandLabel(prk, "client in", 32)
	if !bytes.Equal(k.Secret, want) {
		t.Fatal("secret of a 100-byte DCID differs")
	}
}

func BenchmarkInitialKeys(b *testing.B) {
	dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := InitialKeys(Version1, dcid, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHMAC(b *testing.B) {
	key, msg := make([]byte, 32), make([]byte, 20)
	for b.Loop() {
		hmacSHA256(key, msg)
	}
}
