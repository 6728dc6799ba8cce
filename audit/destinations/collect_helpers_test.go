package destinations

import (
	"net/netip"

	"droneaudit/decoders/tls"
	"testing"
)

// FuzzMayBeAddr checks that every string netip.ParseAddr reads is one mayBeAddr lets through.
func FuzzMayBeAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::1", "fe80::1%eth0", "example.com", "01.2.3.4", "1.2.3", "", "::ffff:1.2.3.4", "1.2.3.4%x", "a:b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := netip.ParseAddr(s); err == nil && !mayBeAddr(s) {
			t.Fatalf("%q is an address", s)
		}
	})
}

// TestFingerprintCache checks that the cached fingerprints are the hello's own, also for hellos
// whose values only move between lists (the key holds each list's length).
func TestFingerprintCache(t *testing.T) {
	hellos := []*tls.ClientHello{
		{LegacyVersion: 0x0303, CipherSuites: []uint16{0x1301, 0x1302}, Extensions: []uint16{0x000a}, ALPN: []string{"h2"}},
		{LegacyVersion: 0x0303, CipherSuites: []uint16{0x1301}, Extensions: []uint16{0x1302, 0x000a}, ALPN: []string{"h2"}},
		{LegacyVersion: 0x0303, CipherSuites: []uint16{0x1301, 0x0a0a}, Extensions: []uint16{0x000a}, ALPN: []string{"h2"}},
		{LegacyVersion: 0x0303, CipherSuites: []uint16{0x1301}, Extensions: []uint16{0x000a}, ALPN: []string{"h3"}, ServerName: "x"},
		{LegacyVersion: 0x0303, CipherSuites: []uint16{0x1301}, Extensions: []uint16{0x000a}, PointFormats: []byte{0}, SupportedVersions: []uint16{0x0304}},
		{LegacyVersion: 0x0303, CipherSuites: make([]uint16, 400), Extensions: []uint16{0x000a}},
	}
	st := newState()
	for round := range 2 {
		for i, ch := range hellos {
			for _, quic := range []bool{false, true} {
				got := st.fingerprints(ch, quic)
				if want := (fingerprint{ja3: ch.JA3(), ja4: ch.JA4(quic)}); got != want {
					t.Fatalf("round %d hello %d quic %v: %+v, want %+v", round, i, quic, got, want)
				}
			}
		}
	}
}
