package destinations

import (
	"hash/fnv"
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
