package quic

// KeyCache holds client Initial keys by version and Destination Connection ID for the Trackers
// of one observer. The Initial keys are a function of the version and the DCID alone (RFC 9001
// §5.2: HKDF of a per-version salt and the DCID), so two connections whose first Initials carry
// the same DCID share keys by construction: a client that tries again from a new port with the
// same DCID, or a replayed capture, then derives them once (HMACs and the AES and GCM setup).
// A nil cache derives every time. The zero value is ready; not for concurrent use.
type KeyCache struct {
	m map[keyID]*Keys
}

// keyID names one set of Initial keys; a DCID is at most 20 bytes (RFC 9000 §17.2).
type keyID struct {
	version uint32
	n       uint8
	dcid    [20]byte
}

// maxCachedKeys bounds a KeyCache: past it the cache starts again empty.
const maxCachedKeys = 1024

// clientKeys returns the client Initial keys of version v and dcid, from the cache when they
// were derived before.
func (c *KeyCache) clientKeys(v uint32, dcid []byte) (*Keys, error) {
	if c == nil || len(dcid) > 20 {
		return InitialKeys(v, dcid, true)
	}
	id := keyID{version: v, n: uint8(len(dcid))}
	copy(id.dcid[:], dcid)
	if k, ok := c.m[id]; ok {
		return k, nil
	}
	k, err := InitialKeys(v, dcid, true)
	if err != nil {
		return nil, err
	}
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[keyID]*Keys)
	}
	c.m[id] = k
	return k, nil
}
