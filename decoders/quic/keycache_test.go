package quic

import (
	"bytes"
	"testing"
)

// TestKeyCacheSameKeys: the cache returns the keys InitialKeys derives, for each version and
// DCID (lengths 0 to 20, and one past the limit that is not cached), the same object when asked
// again, and starts again empty at its bound.
func TestKeyCacheSameKeys(t *testing.T) {
	var c KeyCache
	mask := bytes.Repeat([]byte{0x5a}, 16)
	for _, v := range []uint32{Version1, Version2, VersionDraft29} {
		for n := 0; n <= 21; n++ {
			dcid := bytes.Repeat([]byte{byte(n)}, n)
			want, err := InitialKeys(v, dcid, true)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := c.clientKeys(v, dcid)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Secret, want.Secret) || !bytes.Equal(got.Key, want.Key) || !bytes.Equal(got.IV, want.IV) || !bytes.Equal(got.HP, want.HP) || got.Mask(mask) != want.Mask(mask) {
					t.Fatalf("v%x dcid %x: cached keys differ from InitialKeys", v, dcid)
				}
			}
			again, _ := c.clientKeys(v, dcid)
			first, _ := c.clientKeys(v, dcid)
			if (again != first) != (n > 20) {
				t.Errorf("v%x dcid of %d bytes: cached %v", v, n, again == first)
			}
		}
	}
	// A zero-length DCID and a DCID of zero bytes are different keys.
	a, _ := c.clientKeys(Version1, nil)
	b, _ := c.clientKeys(Version1, []byte{0})
	if bytes.Equal(a.Key, b.Key) {
		t.Error("empty and one-zero-byte DCIDs share keys")
	}
	if _, err := c.clientKeys(0x1234, []byte{1}); err == nil {
		t.Error("keys for an unknown version")
	}
	for i := range maxCachedKeys + 1 {
		c.clientKeys(Version1, []byte{byte(i), byte(i >> 8), 1})
	}
	if len(c.m) > maxCachedKeys {
		t.Errorf("%d keys cached, bound %d", len(c.m), maxCachedKeys)
	}
	var nilCache *KeyCache
	if k, err := nilCache.clientKeys(Version1, []byte{1, 2}); err != nil || k == nil {
		t.Errorf("nil cache: %v %v", k, err)
	}
}
