package tls

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"strings"
	"testing"

	"droneaudit/netflow"
)

// seal13 protects one TLS 1.3 record (RFC 8446 §5.2) the way a sender does.
func seal13(t *testing.T, c *aead13, seq uint64, typ byte, content []byte) []byte {
	t.Helper()
	inner := append(append(bytes.Clone(content), typ), 0, 0, 0) // with a little padding
	hdr := []byte{typeApplicationData, 3, 3, 0, 0}
	binary.BigEndian.PutUint16(hdr[3:], uint16(len(inner)+16))
	xorNonce(c.nonce[:], c.iv[:], seq)
	return c.aead.Seal(hdr, c.nonce[:], inner, hdr)
}

// TestKeyUpdateHandBuilt: Go's crypto/tls has no way to make a peer send KeyUpdate, so after a
// real Go TLS 1.3 session the test appends records built by hand: each side sends data, a
// KeyUpdate, and data under the next secret (RFC 8446 §4.6.3, §7.2). The OpenSSL test makes
// real KeyUpdates when openssl is installed.
func TestKeyUpdateHandBuilt(t *testing.T) {
	var kl bytes.Buffer
	c, s := configs(t, &kl)
	c.MaxVersion = tls.VersionTLS13
	w := goSession(t, c, s, testExchanges[:1])
	// Drop the client's close_notify: the hand-built records follow the exchange.
	if w[len(w)-1].dir == netflow.ClientToServer {
		w = w[:len(w)-1]
	}
	keys := keysOf(t, kl.Bytes())
	st := streams(w)
	var cr [32]byte
	copy(cr[:], st[0][5+4+2:])
	sec, ok := keys.Lookup(cr[:])
	if !ok {
		t.Fatal("no secrets")
	}
	su := suites[tls.TLS_AES_128_GCM_SHA256]
	var got [2][]byte
	ses := NewSession(Config{Keys: keys, OnData: func(d *Data) { got[d.Dir] = append(got[d.Dir], d.Bytes...) }})
	for _, x := range w {
		ses.Feed(x.dir, x.data)
	}
	// The records each direction has sent under its first application secret.
	sent := [2]uint64{ses.h[0].seq, ses.h[1].seq}
	secret := [2][]byte{sec.ClientTrafficSecret0, sec.ServerTrafficSecret0}
	var want [2][]byte
	for d := range 2 {
		cur, _ := newAEAD13(su, secret[d], false)
		seq := sent[d]
		var extra []byte
		for gen := range 3 {
			msg := []byte(strings.Repeat("generation ", gen+1))
			extra = append(extra, seal13(t, cur, seq, typeApplicationData, msg)...)
			want[d] = append(want[d], msg...)
			extra = append(extra, seal13(t, cur, seq+1, typeHandshake, []byte{hsKeyUpdate, 0, 0, 1, 1})...)
			secret[d] = nextSecret13(su, secret[d])
			cur, _ = newAEAD13(su, secret[d], false)
			seq = 0
		}
		last := []byte("after three key updates")
		extra = append(extra, seal13(t, cur, seq, typeApplicationData, last)...)
		want[d] = append(want[d], last...)
		for p := extra; len(p) > 0; p = p[min(len(p), 7):] {
			ses.Feed(netflow.Direction(d), p[:min(len(p), 7)])
		}
	}
	sum := ses.Close()
	base := joined(testExchanges[:1])
	for d := range 2 {
		if !bytes.Equal(got[d], append(bytes.Clone(base[d]), want[d]...)) {
			t.Errorf("direction %d: got %q…", d, got[d][max(0, len(got[d])-80):])
		}
	}
	if sum.KeyUpdates != 6 || sum.Status != StatusDecrypted {
		t.Errorf("%d key updates, %s %s", sum.KeyUpdates, sum.Status, sum.Reason)
	}
}
