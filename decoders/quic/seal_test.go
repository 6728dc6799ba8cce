package quic

import (
	"bytes"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// sealShort builds a protected 1-RTT packet (RFC 9001 §5.3–5.4): the inverse of what Conn does,
// for generated tests.
func sealShort(pr *protection, dcid []byte, pn uint64, phase byte, payload []byte) []byte {
	pkt := []byte{0x40 | phase<<2 | 0x01} // fixed bit, key phase, 2-byte packet number
	pkt = append(pkt, dcid...)
	pnOff := len(pkt)
	pkt = append(pkt, byte(pn>>8), byte(pn))
	var nonce [12]byte
	copy(nonce[:], pr.iv)
	for i := 0; i < 8; i++ {
		nonce[4+i] ^= byte(pn >> (56 - 8*i))
	}
	pkt = pr.aead.Seal(pkt, nonce[:], payload, pkt)
	mask := pr.hp(pkt[pnOff+4 : pnOff+20])
	pkt[0] ^= mask[0] & 0x1f
	pkt[pnOff] ^= mask[1]
	pkt[pnOff+1] ^= mask[2]
	return pkt
}

var fixedSecret = bytes.Repeat([]byte{0x5a}, 32)

// fixedConn is a Conn whose 1-RTT client secret is fixedSecret and whose server connection ID is
// known, as after a handshake.
func fixedConn(onStream func(StreamData)) (*Conn, *protection) {
	c := NewConn(tlskeys.NewLog(), onStream)
	c.version = Version1
	c.secrets = &tlskeys.Secrets{ClientTrafficSecret0: fixedSecret, ServerTrafficSecret0: fixedSecret}
	c.addCID(netflow.ClientToServer, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	pr, err := newProtection(Version1, suiteAES128GCM, fixedSecret)
	if err != nil {
		panic(err)
	}
	return c, pr
}

func streamFrame(id, off uint64, data string, fin bool) []byte {
	t := byte(0x08 | 0x04 | 0x02)
	if fin {
		t |= 1
	}
	b := []byte{t, byte(id), 0x40 | byte(off>>8), byte(off), 0x40 | byte(len(data)>>8), byte(len(data))}
	return append(b, data...)
}

// Key updates both ways round: the sender moves to the next keys (key phase 1), a packet sent
// before the update arrives after it and opens under the previous keys, then a second update
// (phase 0 again) follows. Data is handed on in stream order whatever the packet order.
func TestKeyUpdateGenerated(t *testing.T) {
	var got bytes.Buffer
	c, k0 := fixedConn(func(d StreamData) { got.Write(d.Data) })
	k1, _ := k0.next(Version1)
	k2, _ := k1.next(Version1)
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	pad := bytes.Repeat([]byte{0}, 20) // PADDING, so every packet has a header-protection sample
	pkts := [][]byte{
		sealShort(k0, dcid, 0, 0, append(streamFrame(0, 0, "one ", false), pad...)),
		sealShort(k1, dcid, 2, 1, append(streamFrame(0, 8, "three ", false), pad...)),
		sealShort(k0, dcid, 1, 0, append(streamFrame(0, 4, "two ", false), pad...)), // late, old keys
		sealShort(k2, dcid, 3, 0, append(streamFrame(0, 14, "four", true), pad...)),
	}
	for i, p := range pkts {
		if err := c.Datagram(netflow.ClientToServer, p); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	sum := c.Close()
	if got.String() != "one two three four" || sum.Counts.KeyUpdates != 2 || sum.Counts.OneRTT != 4 {
		t.Fatalf("got %q, %+v", got.String(), sum.Counts)
	}
	// A packet protected with other keys is not handed on.
	c2, _ := fixedConn(func(d StreamData) { t.Errorf("unauthenticated data handed on: %q", d.Data) })
	other, _ := newProtection(Version1, suiteAES128GCM, bytes.Repeat([]byte{1}, 32))
	if err := c2.Datagram(netflow.ClientToServer, sealShort(other, dcid, 0, 0, append(streamFrame(0, 0, "forged", true), pad...))); err == nil {
		t.Error("a forged packet opened")
	}
}

// ChaCha20-Poly1305 and AES-256-GCM secrets open too: the suite is found by trial.
func TestOtherSuites(t *testing.T) {
	for _, s := range []suite{suiteChaCha20, suiteAES256GCM} {
		secret := bytes.Repeat([]byte{0x33}, 32)
		if s == suiteAES256GCM {
			secret = bytes.Repeat([]byte{0x33}, 48)
		}
		var got bytes.Buffer
		c := NewConn(tlskeys.NewLog(), func(d StreamData) { got.Write(d.Data) })
		c.version = Version2
		c.secrets = &tlskeys.Secrets{ClientTrafficSecret0: secret}
		pr, err := newProtection(Version2, s, secret)
		if err != nil {
			t.Fatal(err)
		}
		p := sealShort(pr, nil, 0, 0, append(streamFrame(2, 0, "uni data", true), make([]byte, 20)...))
		if err := c.Datagram(netflow.ClientToServer, p); err != nil || got.String() != "uni data" || c.Close().Suite != s.String() {
			t.Errorf("%s: %v %q", s, err, got.String())
		}
	}
}

// The reassembly holds out-of-order data within its bounds and hands it on in order; past the
// bounds it gives up the hole and says so with a gap; retransmissions are not handed on twice.
func TestStreamReassembly(t *testing.T) {
	var out []StreamData
	s := newStreams(func(d StreamData) { d.Data = bytes.Clone(d.Data); out = append(out, d) })
	s.frame(netflow.ClientToServer, 0, 5, []byte("world"), true)
	s.frame(netflow.ClientToServer, 0, 0, []byte("hello"), false)
	s.frame(netflow.ClientToServer, 0, 0, []byte("hel"), false) // retransmission
	s.frame(netflow.ServerToClient, 0, 0, []byte("ok"), true)
	if len(out) != 3 || string(out[0].Data)+string(out[1].Data) != "helloworld" || !out[1].Fin || !out[2].Done {
		t.Fatalf("%+v", out)
	}
	s.frame(netflow.ClientToServer, 0, 0, []byte("hello"), false) // after the end: not a new stream
	if len(out) != 3 || s.Stats.Streams != 1 {
		t.Fatalf("a finished stream came back: %+v", s.Stats)
	}
	// A hole that never fills: the held bytes go on after a gap once past the bound.
	out = nil
	big := bytes.Repeat([]byte{'x'}, MaxHeldPerStream/2+1)
	s.frame(netflow.ClientToServer, 4, 100, big, false)
	s.frame(netflow.ClientToServer, 4, 100+uint64(len(big)), big, false)
	if len(out) == 0 || !out[0].Gap || out[0].Offset != 100 || s.Stats.GapBytes != 100 {
		t.Fatalf("hole not given up: %d pieces, %+v", len(out), s.Stats)
	}
	s.close()
	if last := out[len(out)-1]; !last.Done {
		t.Errorf("close did not end the stream: %+v", last)
	}
}
