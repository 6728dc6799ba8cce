package quic

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"droneaudit/decoders/tls"
	"droneaudit/internal/netfixture"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInitialKeyVectors checks the key schedule against RFC 9001 Appendix A.1 and RFC 9369
// Appendix A.1 (DCID 8394c8f03e515708).
func TestInitialKeyVectors(t *testing.T) {
	dcid := unhex(t, "8394c8f03e515708")
	cases := []struct {
		v                   uint32
		client              bool
		secret, key, iv, hp string
	}{
		{Version1, true, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea", "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{Version1, false, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b", "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
		{Version2, true, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b", "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
		{Version2, false, "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1", "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"},
	}
	for _, c := range cases {
		k, err := InitialKeys(c.v, dcid, c.client)
		if err != nil {
			t.Fatal(err)
		}
		for name, pair := range map[string][2]string{"secret": {hex.EncodeToString(k.Secret), c.secret}, "key": {hex.EncodeToString(k.Key), c.key},
			"iv": {hex.EncodeToString(k.IV), c.iv}, "hp": {hex.EncodeToString(k.HP), c.hp}} {
			if pair[0] != pair[1] {
				t.Errorf("v%x client=%v %s = %s, want %s", c.v, c.client, name, pair[0], pair[1])
			}
		}
	}
	// RFC 9001 A.2: the client's header-protection sample and mask.
	k, _ := InitialKeys(Version1, dcid, true)
	m := k.Mask(unhex(t, "d1b1c98dd7689fb8ec11d242b123dc9b"))
	if got := hex.EncodeToString(m[:5]); got != "437b9aec36" {
		t.Errorf("mask %s, want 437b9aec36", got)
	}
	if _, err := InitialKeys(0x1234, dcid, true); err == nil {
		t.Error("keys for an unknown version")
	}
}

// seal builds a protected client Initial (RFC 9001 §5.3, §5.4) carrying frames, padded to 1200
// bytes, with a 2-byte packet number.
func seal(t testing.TB, v uint32, dcid []byte, pn uint16, frames []byte) []byte {
	t.Helper()
	k, err := InitialKeys(v, dcid, true)
	if err != nil {
		t.Fatal(err)
	}
	typ := byte(0)
	if v == Version2 {
		typ = 1
	}
	hdr := []byte{0xc0 | typ<<4 | 0x01}
	hdr = binary.BigEndian.AppendUint32(hdr, v)
	hdr = append(hdr, byte(len(dcid)))
	hdr = append(hdr, dcid...)
	hdr = append(hdr, 0, 0) // empty SCID, empty token
	payloadLen := 1200 - len(hdr) - 2 - 2 - 16
	if len(frames) > payloadLen {
		payloadLen = len(frames)
	}
	pt := append(bytes.Clone(frames), make([]byte, payloadLen-len(frames))...)
	length := 2 + len(pt) + 16
	hdr = append(hdr, 0x40|byte(length>>8), byte(length))
	pnOff := len(hdr)
	hdr = binary.BigEndian.AppendUint16(hdr, pn)
	nonce := bytes.Clone(k.IV)
	nonce[10] ^= byte(pn >> 8)
	nonce[11] ^= byte(pn)
	pkt := k.aead.Seal(bytes.Clone(hdr), nonce, pt, hdr)
	mask := k.Mask(pkt[pnOff+4 : pnOff+20])
	pkt[0] ^= mask[0] & 0x0f
	pkt[pnOff] ^= mask[1]
	pkt[pnOff+1] ^= mask[2]
	return pkt
}

func cryptoFrame(off int, data []byte) []byte {
	f := []byte{0x06, 0x80 | byte(off>>24), byte(off >> 16), byte(off >> 8), byte(off), 0x40 | byte(len(data)>>8), byte(len(data))}
	return append(f, data...)
}

// helloMessage returns the ClientHello handshake message inside a real crypto/tls flight.
func helloMessage(t testing.TB, sni string) []byte {
	fl, err := netfixture.ClientHelloFlight(netfixture.TLSOptions{ServerName: sni, ALPN: []string{"h3"}})
	if err != nil {
		t.Fatal(err)
	}
	return fl[5:] // one record: strip the record header
}

func TestTrackerSplitOutOfOrder(t *testing.T) {
	hello := helloMessage(t, "es-flight-api-eu.djigate.com")
	for _, v := range []uint32{Version1, Version2} {
		dcid := unhex(t, "0102030405060708")
		cut := 700
		// Three Initials: the tail of the hello first, then a PING+ACK-only packet, then the head,
		// with an overlapping repeat of bytes 600..700.
		p1 := seal(t, v, dcid, 0, cryptoFrame(cut, hello[cut:]))
		p2 := seal(t, v, dcid, 1, []byte{0x01, 0x02, 0x00, 0x00, 0x00, 0x00})
		p3 := seal(t, v, dcid, 2, append(cryptoFrame(0, hello[:cut]), cryptoFrame(600, hello[600:cut])...))
		tr := NewTracker()
		for i, p := range [][]byte{p1, p2} {
			if done, err := tr.ClientDatagram(p); done || err != nil {
				t.Fatalf("v%x packet %d: done %v err %v", v, i, done, err)
			}
		}
		if done, err := tr.ClientDatagram(p3); !done || err != nil {
			t.Fatalf("v%x: done %v err %v", v, done, err)
		}
		ch, err := tr.Result()
		if err != nil || ch.ServerName != "es-flight-api-eu.djigate.com" || tr.Initials != 3 || tr.Version != v {
			t.Fatalf("v%x: %+v %v initials %d", v, ch, err, tr.Initials)
		}
	}
}

func TestRealQuicGo(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		chunks, err := netfixture.QUICSession(context.Background(), netfixture.QUICOptions{ServerName: "flysafe-api.dji.com", Version2: v2, Message: []byte("hello")})
		if err != nil {
			t.Fatal(err)
		}
		tr := NewTracker()
		for _, c := range chunks {
			if c.FromClient {
				if _, err := tr.ClientDatagram(c.Data); err != nil {
					t.Fatalf("v2=%v: %v", v2, err)
				}
			}
			if tr.Done() {
				break
			}
		}
		ch, err := tr.Result()
		if err != nil || ch == nil || ch.ServerName != "flysafe-api.dji.com" || !ch.QUIC {
			t.Fatalf("v2=%v: %+v %v", v2, ch, err)
		}
		want := Version1
		if v2 {
			want = Version2
		}
		if tr.Version != want {
			t.Errorf("version %x, want %x", tr.Version, want)
		}
		if tr.Initials < 2 {
			t.Errorf("quic-go's hello took %d Initial packets; expected it split over two", tr.Initials)
		}
		if j := ch.JA4(true); j[:4] != "q13d" || j[8:10] != "h3" {
			t.Errorf("JA4 %s", j)
		}
	}
}

func TestHostileDatagrams(t *testing.T) {
	good := seal(t, Version1, []byte{1, 2, 3, 4}, 0, cryptoFrame(0, []byte{1, 0, 0, 10}))
	for n := 0; n < len(good); n += 7 {
		NewTracker().ClientDatagram(good[:n])
	}
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1 // break the tag
	_, err := NewTracker().ClientDatagram(bad)
	var qe *Error
	if !errors.As(err, &qe) || qe.Offset == 0 {
		t.Fatalf("tampered packet: %v", err)
	}
}

func FuzzQUICInitial(f *testing.F) {
	hello := helloMessage(f, "a.dji.com")
	dcid := []byte{9, 8, 7, 6, 5, 4, 3, 2}
	f.Add(seal(f, Version1, dcid, 0, cryptoFrame(0, hello[:500])), seal(f, Version1, dcid, 1, cryptoFrame(500, hello[500:])))
	f.Add(seal(f, Version2, dcid, 0, cryptoFrame(0, hello[:900])), seal(f, Version2, dcid, 1, cryptoFrame(900, hello[900:])))
	for _, s := range netfixture.CorpusPayloadSeeds(20, IsLongHeader) {
		f.Add(s, []byte{})
	}
	f.Add(seal(f, Version1, dcid, 0, cryptoFrame(500, hello[500:])), seal(f, Version1, dcid, 1, append(cryptoFrame(0, hello[:600]), cryptoFrame(400, make([]byte, 300))...)))
	// Decrypted payloads: CRYPTO frames between runs of PADDING, for CryptoFrames.
	f.Add(append(append(make([]byte, 13), cryptoFrame(0, hello[:100])...), make([]byte, 300)...), append([]byte{0, 0, 0, 1, 0}, cryptoFrame(5, []byte("x"))...))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		tr := NewTracker()
		tr.ClientDatagram(a)
		tr.ClientDatagram(b)
		if ch, _ := tr.Result(); ch != nil {
			ch.JA4(true)
		}
		for _, p := range [][]byte{a, b} {
			got, gerr := CryptoFrames(p)
			want, werr := oldCryptoFrames(p)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("CryptoFrames %v %v, before %v %v", got, gerr, want, werr)
			}
		}
		sameAsOldTracker(t, a, b)
	})
}

var otherHelloOnce sync.Once
var otherHelloMsg []byte

// otherHello is a hello for another name, made once.
func otherHello(t testing.TB) []byte {
	otherHelloOnce.Do(func() { otherHelloMsg = helloMessage(t, "other.example") })
	return otherHelloMsg
}

// sameAsOldTracker feeds the datagrams to a Tracker and to the tracker as it was before it
// reused its buffers, and compares what each call returned and the results.
func sameAsOldTracker(t *testing.T, datagrams ...[]byte) {
	t.Helper()
	tr, old := NewTracker(), newOldTracker()
	for i, d := range datagrams {
		done, err := tr.ClientDatagram(d)
		odone, oerr := old.ClientDatagram(d)
		if done != odone || fmt.Sprint(err) != fmt.Sprint(oerr) {
			t.Fatalf("datagram %d: done %v err %v, the old tracker's %v %v", i, done, err, odone, oerr)
		}
	}
	ch, err := tr.Result()
	och, oerr := old.Result()
	// A tracker with a parser (used for another hello before) finds the same.
	var hp tls.HelloParser
	hp.Parse(otherHello(t))
	pt := NewTracker()
	pt.Parser = &hp
	for _, d := range datagrams {
		pt.ClientDatagram(d)
	}
	if pch, perr := pt.Result(); !reflect.DeepEqual(pch, och) || fmt.Sprint(perr) != fmt.Sprint(oerr) {
		t.Fatalf("with a parser: %+v %v, the old tracker's %+v %v", pch, perr, och, oerr)
	}
	if !reflect.DeepEqual(ch, och) || fmt.Sprint(err) != fmt.Sprint(oerr) || tr.Initials != old.Initials || tr.Version != old.Version || tr.Done() != old.Done() {
		t.Fatalf("result %+v %v (%d initials, version %x), the old tracker's %+v %v (%d, %x)", ch, err, tr.Initials, tr.Version, och, oerr, old.Initials, old.Version)
	}
}

// TestTrackerSameAsOld compares the tracker with the one before it reused its buffers on in-order,
// out-of-order, overlapping and conflicting CRYPTO frames, Retry, coalesced and cut datagrams and
// the corpus's long-header datagrams.
func TestTrackerSameAsOld(t *testing.T) {
	hello := helloMessage(t, "es-flight-api-eu.djigate.com")
	d1, d2 := []byte{1, 2, 3, 4, 5, 6, 7, 8}, unhex(t, "22222222222222222222")
	conflict := bytes.Clone(hello[300:700])
	for i := range conflict {
		conflict[i] ^= 0x55
	}
	for _, v := range []uint32{Version1, Version2, VersionDraft29} {
		inOrder := [][]byte{seal(t, v, d1, 0, cryptoFrame(0, hello[:700])), seal(t, v, d1, 1, cryptoFrame(700, hello[700:]))}
		cases := [][][]byte{
			inOrder,
			{inOrder[1], inOrder[0]},
			{append(bytes.Clone(inOrder[0]), inOrder[1]...)},
			{seal(t, v, d1, 0, append(cryptoFrame(0, hello[:500]), cryptoFrame(300, conflict)...)), inOrder[1]},
			{seal(t, v, d1, 0, cryptoFrame(0, hello[:500])), seal(t, v, d1, 1, cryptoFrame(300, conflict)), inOrder[1]},
			{seal(t, v, d1, 0, cryptoFrame(300, conflict)), seal(t, v, d1, 1, cryptoFrame(0, hello[:500])), inOrder[1]},
			{seal(t, v, d1, 0, cryptoFrame(0, hello[:400])), seal(t, v, d2, 0, cryptoFrame(400, hello[400:]))},
			{seal(t, v, d1, 0, cryptoFrame(0, []byte{2, 0, 0, 4})), inOrder[1]},
			{seal(t, v, d1, 0, cryptoFrame(0, []byte{1, 0xff, 0, 4}))},
			{seal(t, v, d1, 0, []byte{0x01, 0x02, 0x00, 0x00, 0x00, 0x00}), inOrder[0], inOrder[0], inOrder[1]},
		}
		for _, c := range cases {
			sameAsOldTracker(t, c...)
			for _, d := range c {
				for n := 0; n < len(d); n += 41 {
					sameAsOldTracker(t, d[:n])
					bad := bytes.Clone(d)
					bad[n] ^= 0x10
					sameAsOldTracker(t, bad, c[len(c)-1])
				}
			}
		}
	}
	for _, s := range netfixture.CorpusPayloadSeeds(40, IsLongHeader) {
		sameAsOldTracker(t, s)
	}
}

func BenchmarkInitialDecrypt(b *testing.B) {
	hello := helloMessage(b, "flysafe-api.dji.com")
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	p1 := seal(b, Version1, dcid, 0, cryptoFrame(0, hello[:1000]))
	p2 := seal(b, Version1, dcid, 1, cryptoFrame(1000, hello[1000:]))
	b.SetBytes(int64(len(p1) + len(p2)))
	for b.Loop() {
		tr := NewTracker()
		tr.ClientDatagram(p1)
		if done, err := tr.ClientDatagram(p2); !done || err != nil {
			b.Fatal(err)
		}
	}
}

// TestTrackerAfterRetry: after a Retry the client sends its Initials again under keys derived
// from the server's new connection ID (RFC 9001 §5.2); the tracker must try the packet's own
// DCID, and join CRYPTO data from before and after.
func TestTrackerAfterRetry(t *testing.T) {
	hello := helloMessage(t, "flysafe-api.dji.com")
	first := seal(t, Version1, unhex(t, "1111111111111111"), 0, cryptoFrame(0, hello[:400]))
	retried := seal(t, Version1, unhex(t, "22222222222222222222"), 0, cryptoFrame(400, hello[400:]))
	tr := NewTracker()
	if done, err := tr.ClientDatagram(first); done || err != nil {
		t.Fatal(done, err)
	}
	if done, err := tr.ClientDatagram(retried); !done || err != nil {
		t.Fatal(done, err)
	}
	if ch, err := tr.Result(); err != nil || ch.ServerName != "flysafe-api.dji.com" {
		t.Fatalf("%+v %v", ch, err)
	}
}

// TestCoalescedDatagram: a datagram may carry several QUIC packets (RFC 9000 §12.2); the Length
// field of the first leads to the second.
func TestCoalescedDatagram(t *testing.T) {
	hello := helloMessage(t, "active.dji.com")
	dcid := unhex(t, "0a0b0c0d0e0f0102")
	d := append(seal(t, Version1, dcid, 0, cryptoFrame(0, hello[:600])), seal(t, Version1, dcid, 1, cryptoFrame(600, hello[600:]))...)
	tr := NewTracker()
	if done, err := tr.ClientDatagram(d); !done || err != nil || tr.Initials != 2 {
		t.Fatalf("done %v err %v initials %d", done, err, tr.Initials)
	}
}
