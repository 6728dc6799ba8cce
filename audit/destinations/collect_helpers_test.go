package destinations

import (
	"hash/fnv"
	"net/netip"
	"testing"
)

// TestFNV64 checks the fingerprint cache's hash against hash/fnv's FNV-1a.
func TestFNV64(t *testing.T) {
	for _, s := range []string{"", "a", "h2", "\xff\xfe\x00", "flysafe-api.dji.com"} {
		want := fnv.New64a()
		want.Write([]byte(s))
		want.Write([]byte{0x13, 0x01})
		h := fnv64(fnvOffset)
		h.string(s)
		h.u16(0x1301)
		if uint64(h) != want.Sum64() {
			t.Errorf("%q: %x, hash/fnv %x", s, uint64(h), want.Sum64())
		}
	}
}

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
