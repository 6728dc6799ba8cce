package tls

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"droneaudit/internal/netfixture"
)

func flight(t testing.TB, o netfixture.TLSOptions) []byte {
	t.Helper()
	b, err := netfixture.ClientHelloFlight(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCollectorRealClientHello feeds a real crypto/tls ClientHello (post-quantum key share, so
// about 1.5 KB, more than one TCP segment) in pieces of every size from 1 to 1500 bytes.
func TestCollectorRealClientHello(t *testing.T) {
	b := flight(t, netfixture.TLSOptions{ServerName: "flysafe-api.dji.com", ALPN: []string{"h2", "http/1.1"}})
	if len(b) <= 1448 {
		t.Fatalf("ClientHello flight is %d bytes; expected a post-quantum hello larger than one segment", len(b))
	}
	for _, step := range []int{1, 7, 100, 1448, 1500} {
		var c Collector
		done := false
		for off := 0; off < len(b) && !done; off += step {
			done = c.Feed(b[off:min(off+step, len(b))])
		}
		ch, err := c.Result()
		if !done || err != nil || ch == nil {
			t.Fatalf("step %d: done %v err %v", step, done, err)
		}
		if ch.ServerName != "flysafe-api.dji.com" || !slices.Equal(ch.ALPN, []string{"h2", "http/1.1"}) {
			t.Fatalf("step %d: sni %q alpn %q", step, ch.ServerName, ch.ALPN)
		}
		if ch.MaxVersion() != 0x0304 || ch.LegacyVersion != 0x0303 || ch.ECH || ch.QUIC {
			t.Fatalf("step %d: versions %x legacy %x ech %v", step, ch.SupportedVersions, ch.LegacyVersion, ch.ECH)
		}
		if !slices.Contains(ch.Groups, 0x11ec) { // X25519MLKEM768
			t.Errorf("groups %x lack X25519MLKEM768", ch.Groups)
		}
	}
}

func TestTLS12OnlyClient(t *testing.T) {
	b := flight(t, netfixture.TLSOptions{ServerName: "events.mapbox.com", MaxVersion: 0x0303, Classic: true})
	var c Collector
	if !c.Feed(b) {
		t.Fatal("not done")
	}
	ch, err := c.Result()
	if err != nil || ch.MaxVersion() != 0x0303 || ch.ServerName != "events.mapbox.com" || len(ch.ALPN) != 0 {
		t.Fatalf("%+v %v", ch, err)
	}
	if j := ch.JA4(false); j[:4] != "t12d" || j[8:10] != "00" {
		t.Errorf("JA4 %s", j)
	}
}

func TestCollectorRejectsOtherStreams(t *testing.T) {
	var c Collector
	if !c.Feed([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) {
		t.Fatal("not done on HTTP")
	}
	if _, err := c.Result(); err == nil {
		t.Fatal("no error for HTTP")
	}
}

// handHello builds a ClientHello from explicit fields so the fingerprints can be checked against
// strings written out by hand from the JA3 and JA4 definitions.
func handHello() []byte {
	var body []byte
	u16 := func(v int) { body = binary.BigEndian.AppendUint16(body, uint16(v)) }
	u16(0x0303)
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)
	ciphers := []int{0x1a1a, 0x1301, 0x1302, 0xc02b}
	u16(2 * len(ciphers))
	for _, c := range ciphers {
		u16(c)
	}
	body = append(body, 1, 0)
	var ext []byte
	add := func(typ int, data []byte) {
		ext = binary.BigEndian.AppendUint16(ext, uint16(typ))
		ext = binary.BigEndian.AppendUint16(ext, uint16(len(data)))
		ext = append(ext, data...)
	}
	add(0x2a2a, nil)                                            // GREASE
	add(0x0000, []byte{0, 8, 0, 0, 5, 'a', '.', 'c', 'o', 'm'}) // SNI "a.com"
	add(0x000a, []byte{0, 4, 0, 0x1d, 0, 0x17})                 // groups x25519, secp256r1
	add(0x000b, []byte{1, 0})                                   // point formats
	add(0x000d, []byte{0, 4, 0x04, 0x03, 0x08, 0x04})           // sig algs
	add(0x0010, []byte{0, 6, 2, 'h', '2', 2, 'h', '3'})         // ALPN
	add(0x002b, []byte{4, 0x03, 0x04, 0x03, 0x03})              // versions
	add(0xfe0d, []byte{0})                                      // ECH
	u16(len(ext))
	body = append(body, ext...)
	return append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

func TestFingerprintsByHand(t *testing.T) {
	ch, err := ParseClientHello(handHello())
	if err != nil {
		t.Fatal(err)
	}
	if ch.ServerName != "a.com" || !ch.ECH {
		t.Fatalf("%+v", ch)
	}
	if got, want := ch.JA3String(), "771,4865-4866-49195,0-10-11-13-16-43-65037,29-23,0"; got != want {
		t.Errorf("JA3 %q, want %q", got, want)
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:])[:12] }
	want := "t13d0307h2_" + sum("1301,1302,c02b") + "_" + sum("000a,000b,000d,002b,fe0d_0403,0804")
	if got := ch.JA4(false); got != want {
		t.Errorf("JA4 %s, want %s", got, want)
	}
}

func TestTruncatedHelloNeverPanics(t *testing.T) {
	b := handHello()
	for n := range len(b) {
		ParseClientHello(b[:n])
		var c Collector
		rec := append([]byte{22, 3, 1, byte(n >> 8), byte(n)}, b[:n]...)
		c.Feed(rec)
	}
}

func FuzzClientHello(f *testing.F) {
	f.Add(flight(f, netfixture.TLSOptions{ServerName: "x.dji.com", ALPN: []string{"h2"}}))
	f.Add(flight(f, netfixture.TLSOptions{ServerName: "y", MaxVersion: 0x0303, Classic: true}))
	h := handHello()
	f.Add(append([]byte{22, 3, 1, byte(len(h) >> 8), byte(len(h))}, h...))
	for _, s := range netfixture.CorpusPayloadSeeds(40, LooksLike) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Collector
		c.Feed(b)
		if ch, _ := c.Result(); ch != nil {
			ch.JA3()
			ch.JA4(false)
		}
		if len(b) > 0 {
			sameAsOld(t, b[1:])
		}
		if len(b) > 5 {
			sameAsOld(t, b[5:]) // a record's body: the handshake message
		}
		// One parser for several hellos in turn: each result as ParseClientHello's, nothing
		// left over from the one before.
		var hp HelloParser
		for _, m := range [][]byte{b, handHello(), b[min(len(b), 5):], b[min(len(b), 1):]} {
			sameAsParser(t, &hp, m)
		}
		var pc Collector
		pc.Parser = &hp
		pc.Feed(b)
		got, gerr := pc.Result()
		want, werr := c.Result()
		if !reflect.DeepEqual(got, want) || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("collector with a parser: %+v %v, without %+v %v", got, gerr, want, werr)
		}
	})
}

// sameAsParser checks that a HelloParser's result equals ParseClientHello's.
func sameAsParser(t *testing.T, hp *HelloParser, msg []byte) {
	t.Helper()
	got, gerr := hp.Parse(msg)
	want, werr := ParseClientHello(msg)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
		t.Fatalf("parser: %+v %v\nParseClientHello: %+v %v", got, gerr, want, werr)
	}
}

// sameAsOld checks that ParseClientHello returns what the parser before the shared allocation
// returned: the same fields (nil and empty alike), the same error.
func sameAsOld(t *testing.T, msg []byte) {
	t.Helper()
	got, gerr := ParseClientHello(msg)
	want, werr := oldParseClientHello(msg)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("error %v, the old parser's %v", gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("hello %+v\nthe old parser's %+v", got, want)
	}
	if got == nil {
		return
	}
	// Appending to one list must not change another that shares its allocation.
	before := fmt.Sprintf("%+v", *got)
	got.CipherSuites = append(got.CipherSuites, 0xffff)
	got.Extensions = append(got.Extensions, 0xffff)
	got.Groups = append(got.Groups, 0xffff)
	got.SessionID = append(got.SessionID, 0xff)
	got.CipherSuites = got.CipherSuites[:len(got.CipherSuites)-1]
	got.Extensions = got.Extensions[:len(got.Extensions)-1]
	got.Groups = got.Groups[:len(got.Groups)-1]
	got.SessionID = got.SessionID[:len(got.SessionID)-1]
	if after := fmt.Sprintf("%+v", *got); after != before {
		t.Fatalf("appending to one list changed another:\n%s\n%s", before, after)
	}
}

// TestParseClientHelloSameAsOld compares the parser with the one before it shared one allocation
// among its lists, on real hellos of crypto/tls and of the corpus, every truncation of them, and
// hand-made ones with duplicate and malformed extensions.
func TestParseClientHelloSameAsOld(t *testing.T) {
	var msgs [][]byte
	for _, o := range []netfixture.TLSOptions{
		{ServerName: "flysafe-api.dji.com", ALPN: []string{"h2", "http/1.1"}},
		{ServerName: "y", MaxVersion: 0x0303, Classic: true},
		{ALPN: []string{"a", "bb", "ccc"}},
	} {
		fl := flight(t, o)
		msgs = append(msgs, fl[5:])
	}
	msgs = append(msgs, handHello())
	for _, s := range netfixture.CorpusPayloadSeeds(40, LooksLike) {
		if len(s) > 5 {
			msgs = append(msgs, s[5:])
		}
	}
	dup := handHello()
	body := dup[4:]
	// A second copy of every extension: duplicates overwrite or add, as before.
	extOff := 2 + 32 + 1 + int(body[34])
	extOff += 2 + int(binary.BigEndian.Uint16(body[extOff:]))
	extOff += 1 + int(body[extOff])
	exts := body[extOff+2:]
	twice := append(append(append([]byte(nil), body[:extOff]...), byte(2*len(exts)>>8), byte(2*len(exts))), append(append([]byte(nil), exts...), exts...)...)
	msgs = append(msgs, append([]byte{1, byte(len(twice) >> 16), byte(len(twice) >> 8), byte(len(twice))}, twice...))
	var hp HelloParser
	for _, m := range msgs {
		for n := 0; n <= len(m); n++ {
			sameAsOld(t, m[:n])
			sameAsParser(t, &hp, m[:n])
			if n >= 4 {
				// The header's length cut to the bytes there: a short body.
				c := append([]byte{1, byte((n - 4) >> 16), byte((n - 4) >> 8), byte(n - 4)}, m[4:n]...)
				sameAsOld(t, c)
			}
		}
		for i := 4; i < len(m); i++ { // every byte flipped once
			c := bytes.Clone(m)
			c[i] ^= 0xff
			sameAsOld(t, c)
			sameAsParser(t, &hp, c)
		}
	}
}

func BenchmarkParseClientHello(b *testing.B) {
	fl := flight(b, netfixture.TLSOptions{ServerName: "flysafe-api.dji.com", ALPN: []string{"h2", "http/1.1"}})
	msg := fl[5:]
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ch, err := ParseClientHello(msg); err != nil || ch.ServerName == "" {
				b.Fatal(err)
			}
		}
	})
	b.Run("parser", func(b *testing.B) {
		var hp HelloParser
		b.ReportAllocs()
		for b.Loop() {
			if ch, err := hp.Parse(msg); err != nil || ch.ServerName == "" {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCollector(b *testing.B) {
	fl := flight(b, netfixture.TLSOptions{ServerName: "flysafe-api.dji.com", ALPN: []string{"h2"}})
	b.SetBytes(int64(len(fl)))
	for b.Loop() {
		var c Collector
		c.Feed(fl[:1448])
		c.Feed(fl[1448:])
		if ch, err := c.Result(); err != nil || ch.ServerName == "" {
			b.Fatal(err)
		}
	}
}

// TestParserManyExtensions: a hello with more extension types than the parser's list holds
// (hostile, or a future client) parses as ParseClientHello parses it, and a short one after it
// as well.
func TestParserManyExtensions(t *testing.T) {
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0, 0, 2, 0x13, 0x01, 1, 0)
	var ext []byte
	for i := range 100 {
		ext = append(ext, 0xfe, byte(i), 0, 1, byte(i))
	}
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	var hp HelloParser
	for _, m := range [][]byte{msg, handHello(), msg[:len(msg)-3]} {
		sameAsParser(t, &hp, m)
	}
	ch, err := hp.Parse(msg)
	if err != nil || len(ch.Extensions) != 100 || ch.Extensions[99] != 0xfe63 {
		t.Fatalf("%d extension types, err %v", len(ch.Extensions), err)
	}
}
