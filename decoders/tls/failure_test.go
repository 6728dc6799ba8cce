package tls

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// recorded is one Go session with its key log.
type recorded struct {
	wire   []wire
	keylog []byte
}

func record(t *testing.T, version uint16, suite uint16) recorded {
	t.Helper()
	var kl bytes.Buffer
	c, s := configs(t, &kl)
	c.MaxVersion = version
	if suite != 0 {
		c.CipherSuites, s.CipherSuites = []uint16{suite}, []uint16{suite}
	}
	return recorded{goSession(t, c, s, testExchanges), kl.Bytes()}
}

// corrupt flips one bit in every secret of a key log: the lines still parse, and are wrong.
func corrupt(keylog []byte) []byte {
	var out []byte
	for _, line := range strings.Split(strings.TrimSpace(string(keylog)), "\n") {
		f := strings.Fields(line)
		last := f[2][len(f[2])-1]
		if last == '0' {
			last = '1'
		} else {
			last = '0'
		}
		out = fmt.Appendf(out, "%s %s %s%c\n", f[0], f[1], f[2][:len(f[2])-1], last)
	}
	return out
}

func noPlain(t *testing.T, name string, got [2][]byte) {
	t.Helper()
	if len(got[0])+len(got[1]) > 0 {
		t.Errorf("%s: %d plaintext bytes handed on", name, len(got[0])+len(got[1]))
	}
}

func TestWrongAndMissingKeys(t *testing.T) {
	for _, tc := range []struct {
		v     uint16
		suite uint16
	}{
		{tls.VersionTLS13, 0},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA},
	} {
		r := record(t, tc.v, tc.suite)
		name := VersionName(tc.v) + " " + SuiteName(tc.suite)
		got, sum := decryptWire(t, r.wire, keysOf(t, corrupt(r.keylog)), feedInOrder)
		if sum.Status != StatusWrongKeys || sum.Reason == "" {
			t.Errorf("%s wrong keys: %s %q", name, sum.Status, sum.Reason)
		}
		noPlain(t, name+" wrong keys", got)
		// A key log without this session's secrets: the reason names its client random, to be
		// looked for in the lab's key logs.
		other := tlskeys.NewLog()
		other.AddText([]byte("CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n"))
		got, sum = decryptWire(t, r.wire, other, feedInOrder)
		if sum.Status != StatusNoKeys || !strings.Contains(sum.Reason, fmt.Sprintf("%x", sum.ClientRandom)) {
			t.Errorf("%s no keys: %s %q", name, sum.Status, sum.Reason)
		}
		noPlain(t, name+" no keys", got)
		// No secret at all in the run: the reason says so, once, without formatting per session.
		got, sum = decryptWire(t, r.wire, tlskeys.NewLog(), feedInOrder)
		if sum.Status != StatusNoKeys || sum.Reason != noKeyMaterial {
			t.Errorf("%s no key material: %s %q", name, sum.Status, sum.Reason)
		}
		noPlain(t, name+" no key material", got)
		got, sum = decryptWire(t, r.wire, nil, feedInOrder)
		if sum.Status != StatusNoKeys {
			t.Errorf("%s nil key log: %s", name, sum.Status)
		}
		noPlain(t, name+" nil key log", got)
	}
}

// streams returns the bytes of each direction.
func streams(w []wire) [2][]byte {
	var s [2][]byte
	for _, x := range w {
		s[x.dir] = append(s[x.dir], x.data...)
	}
	return s
}

// recordStarts returns the offsets of the records of a stream.
func recordStarts(b []byte) []int {
	var out []int
	for off := 0; off+5 <= len(b); off += 5 + (int(b[off+3])<<8 | int(b[off+4])) {
		out = append(out, off)
	}
	return out
}

func TestTruncatedRecord(t *testing.T) {
	r := record(t, tls.VersionTLS13, 0)
	st := streams(r.wire)
	want := joined(testExchanges)
	s := NewSession(Config{Keys: keysOf(t, r.keylog)})
	var got [2][]byte
	s.cfg.OnData = func(d *Data) { got[d.Dir] = append(got[d.Dir], d.Bytes...) }
	s.Feed(netflow.ClientToServer, st[0])
	// The server's stream cut 7 bytes into its last application data record.
	starts := recordStarts(st[1])
	cut := starts[len(starts)-1] + 7
	s.Feed(netflow.ServerToClient, st[1][:cut])
	sum := s.Close()
	if sum.Status != StatusPartial {
		t.Errorf("status %s", sum.Status)
	}
	var ev *Event
	for i := range sum.Events {
		if sum.Events[i].Kind == EventTruncated {
			ev = &sum.Events[i]
		}
	}
	if ev == nil || ev.Dir != netflow.ServerToClient || ev.Offset != int64(starts[len(starts)-1]) {
		t.Fatalf("truncation event %+v in %v", ev, sum.Events)
	}
	if !bytes.Equal(got[0], want[0]) || !bytes.HasPrefix(want[1], got[1]) || len(got[1]) == 0 {
		t.Errorf("plaintext: client %d/%d, server %d/%d bytes", len(got[0]), len(want[0]), len(got[1]), len(want[1]))
	}
}

func TestGapAndMidStream(t *testing.T) {
	r := record(t, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	keys := keysOf(t, r.keylog)
	st := streams(r.wire)
	want := joined(testExchanges)
	run := func(feed func(s *Session)) ([2][]byte, Summary) {
		var got [2][]byte
		s := NewSession(Config{Keys: keys, OnData: func(d *Data) { got[d.Dir] = append(got[d.Dir], d.Bytes...) }})
		feed(s)
		return got, s.Close()
	}
	// A segment of the server's handshake flight lost: nothing can be decrypted.
	got, sum := run(func(s *Session) {
		s.Feed(0, st[0])
		s.Feed(1, st[1][:20])
		s.Gap(1, 100)
		s.Feed(1, st[1][120:])
	})
	if sum.Status != StatusNoHandshake || !strings.Contains(sum.Reason, "ServerHello") {
		t.Errorf("lost handshake segment: %s %q", sum.Status, sum.Reason)
	}
	noPlain(t, "lost handshake segment", got)
	// A gap in the server's application data: the records the hole touched are lost, those
	// before and after it are decrypted (resync.go).
	starts := recordStarts(st[1])
	at := starts[len(starts)-2] + 3
	got, sum = run(func(s *Session) {
		s.Feed(0, st[0])
		s.Feed(1, st[1][:at])
		s.Gap(1, 0)
		s.Feed(1, st[1][at+10:])
	})
	if sum.Status != StatusPartial || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], withoutHole(t, st, keys, at, at+10)) || sum.Skipped[1] == 0 {
		t.Errorf("gap in data: %s, server %d of %d bytes, skipped %v", sum.Status, len(got[1]), len(want[1]), sum.Skipped)
	}
	// Joined mid-stream: both directions start at an application data record.
	c0, s0 := recordStarts(st[0]), recordStarts(st[1])
	got, sum = run(func(s *Session) {
		s.Feed(0, st[0][c0[len(c0)-3]:])
		s.Feed(1, st[1][s0[len(s0)-3]:])
	})
	if sum.Status != StatusNoHandshake || !strings.Contains(sum.Reason, "mid-stream") {
		t.Errorf("mid-stream: %s %q", sum.Status, sum.Reason)
	}
	noPlain(t, "mid-stream", got)
	// Mid-stream, starting inside a record.
	got, sum = run(func(s *Session) {
		s.Feed(0, st[0][c0[len(c0)-3]+2:])
		s.Feed(1, st[1][s0[len(s0)-3]+2:])
	})
	if sum.Status != StatusNoHandshake && sum.Status != StatusNotTLS {
		t.Errorf("mid-stream inside a record: %s %q", sum.Status, sum.Reason)
	}
	noPlain(t, "mid-stream inside a record", got)
	// Not TLS at all.
	got, sum = run(func(s *Session) { s.Feed(0, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) })
	if sum.Status != StatusNotTLS {
		t.Errorf("HTTP: %s", sum.Status)
	}
	noPlain(t, "HTTP", got)
}

// TestCaptureFailures writes one capture holding good sessions and broken ones (wrong keys, no
// keys, a cut record at the end, a lost handshake segment, a mid-stream start) and reads it
// like the engine: each broken session is reported and skipped, the good ones decrypt whole.
func TestCaptureFailures(t *testing.T) {
	type flowCase struct {
		name   string
		rec    recorded
		keys   []byte
		write  func(c *netfixture.TCPConn, w []wire) error
		status Status
	}
	sendAll := func(c *netfixture.TCPConn, w []wire) error {
		for _, x := range w {
			if err := c.Send(x.dir == netflow.ClientToServer, x.data); err != nil {
				return err
			}
		}
		return c.Close()
	}
	good13, good12 := record(t, tls.VersionTLS13, 0), record(t, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
	wrong, none, cut := record(t, tls.VersionTLS13, 0), record(t, tls.VersionTLS12, 0), record(t, tls.VersionTLS13, 0)
	lost, mid := record(t, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), record(t, tls.VersionTLS13, 0)
	holed := record(t, tls.VersionTLS13, 0)
	var hole [2]int // bytes of holed's server stream never captured
	cases := []flowCase{
		{"good TLS 1.3", good13, good13.keylog, sendAll, StatusDecrypted},
		{"wrong keys", wrong, corrupt(wrong.keylog), sendAll, StatusWrongKeys},
		{"no keys", none, nil, sendAll, StatusNoKeys},
		{"cut at the end", cut, cut.keylog, func(c *netfixture.TCPConn, w []wire) error {
			st := streams(w)
			starts := recordStarts(st[1])
			if err := c.Send(true, st[0]); err != nil {
				return err
			}
			return c.Send(false, st[1][:starts[len(starts)-1]+9])
		}, StatusPartial},
		{"lost handshake segment", lost, lost.keylog, func(c *netfixture.TCPConn, w []wire) error {
			for i, x := range w {
				if i == 1 { // the server's first flight: one 1448-byte segment never captured
					c.Advance(false, min(len(x.data), c.MSS))
					if err := c.Send(false, x.data[min(len(x.data), c.MSS):]); err != nil {
						return err
					}
					continue
				}
				if err := c.Send(x.dir == netflow.ClientToServer, x.data); err != nil {
					return err
				}
			}
			return c.Close()
		}, StatusNoHandshake},
		{"mid-stream", mid, mid.keylog, func(c *netfixture.TCPConn, w []wire) error {
			st := streams(w)
			c0, s0 := recordStarts(st[0]), recordStarts(st[1])
			if err := c.Send(true, st[0][c0[len(c0)-2]:]); err != nil {
				return err
			}
			return c.Send(false, st[1][s0[len(s0)-2]:])
		}, StatusNoHandshake},
		{"lost data segment", holed, holed.keylog, func(c *netfixture.TCPConn, w []wire) error {
			at, done := 0, false
			for _, x := range w {
				fromClient := x.dir == netflow.ClientToServer
				if !fromClient && !done && len(x.data) > 4*c.MSS {
					// One segment in the middle of the big response is lost.
					hole = [2]int{at + 2*c.MSS, at + 3*c.MSS}
					done = true
					if err := c.Send(false, x.data[:2*c.MSS]); err != nil {
						return err
					}
					c.Advance(false, c.MSS)
					if err := c.Send(false, x.data[3*c.MSS:]); err != nil {
						return err
					}
					at += len(x.data)
					continue
				}
				if !fromClient {
					at += len(x.data)
				}
				if err := c.Send(fromClient, x.data); err != nil {
					return err
				}
			}
			return c.Close()
		}, StatusPartial},
		{"good TLS 1.2", good12, good12.keylog, sendAll, StatusDecrypted},
	}
	var keylog []byte
	for _, c := range cases {
		keylog = append(keylog, c.keys...)
	}
	var file bytes.Buffer
	w, err := netfixture.NewWriter(&file, netfixture.Pcapng, keylog)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		conn, err := w.TCP(netip.MustParseAddrPort(fmt.Sprintf("10.0.0.2:%d", 40000+i)), netip.MustParseAddrPort("192.0.2.10:443"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.write(conn, c.rec.wire); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	capBytes := bytes.Clone(file.Bytes())
	flows := decryptReader(t, &file, "failures.pcapng", tlskeys.NewLog())
	defer func() {
		// tshark as an oracle on the sessions that decrypted whole (keys from the capture's DSB).
		if _, err := exec.LookPath("tshark"); err != nil || testing.Short() {
			return
		}
		path := filepath.Join(t.TempDir(), "failures.pcapng")
		os.WriteFile(path, capBytes, 0o600)
		ts := tsharkFollow(t, path, "", len(flows))
		compared := 0
		defer func() { t.Logf("tshark agrees on %d sessions", compared) }()
		for i, fr := range flows {
			if fr.sum.Status != StatusDecrypted {
				continue
			}
			compared++
			w := ts[i]
			if w == nil {
				t.Errorf("%s: tshark followed nothing", cases[i].name)
				continue
			}
			tw := w.data
			if w.node0 != fr.flow.Client.String() {
				tw[0], tw[1] = tw[1], tw[0]
			}
			if !bytes.Equal(tw[0], fr.plain[0].Bytes()) || !bytes.Equal(tw[1], fr.plain[1].Bytes()) {
				t.Errorf("%s: tshark decrypts %d/%d bytes, droneaudit %d/%d", cases[i].name, len(tw[0]), len(tw[1]), fr.plain[0].Len(), fr.plain[1].Len())
			}
		}
	}()
	if len(flows) != len(cases) {
		t.Fatalf("%d flows, want %d", len(flows), len(cases))
	}
	want := joined(testExchanges)
	for i, c := range cases {
		fr := flows[i]
		got := [2][]byte{fr.plain[0].Bytes(), fr.plain[1].Bytes()}
		if fr.sum.Status != c.status {
			t.Errorf("%s: status %s (%s), want %s", c.name, fr.sum.Status, fr.sum.Reason, c.status)
		}
		switch c.status {
		case StatusDecrypted:
			if !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
				t.Errorf("%s: plaintext differs", c.name)
			}
		case StatusPartial:
			if c.name == "lost data segment" {
				if !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], withoutHole(t, streams(c.rec.wire), keysOf(t, c.keys), hole[0], hole[1])) {
					t.Errorf("%s: %d server bytes, not those of the records the hole missed", c.name, len(got[1]))
				}
				break
			}
			if !bytes.HasPrefix(want[0], got[0]) || !bytes.HasPrefix(want[1], got[1]) || len(got[1]) == 0 {
				t.Errorf("%s: plaintext is not a prefix of the sent data", c.name)
			}
		default:
			noPlain(t, c.name, got)
		}
		t.Logf("%s: %s %s", c.name, fr.sum.Status, fr.sum.Reason)
	}
}

// withoutHole returns the server plaintext of the records that do not touch bytes [from, to)
// of the server's stream: what a decryptor can give after that hole.
func withoutHole(t *testing.T, st [2][]byte, keys *tlskeys.Log, from, to int) []byte {
	t.Helper()
	var out []byte
	s := NewSession(Config{Keys: keys, OnData: func(d *Data) {
		end := int(d.Offset) + 5 + (int(st[d.Dir][d.Offset+3])<<8 | int(st[d.Dir][d.Offset+4]))
		if d.Dir == netflow.ServerToClient && (end <= from || int(d.Offset) >= to) {
			out = append(out, d.Bytes...)
		}
	}})
	s.Feed(0, st[0])
	s.Feed(1, st[1])
	s.Close()
	return out
}

// TestResyncAfterHole: holes of various sizes in the server's application data of TLS 1.3,
// TLS 1.2 GCM, ChaCha20 and CBC sessions: every record the hole did not touch is decrypted,
// fed in small pieces.
func TestResyncAfterHole(t *testing.T) {
	for _, tc := range []struct {
		v, suite uint16
	}{
		{tls.VersionTLS13, 0},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305},
		{tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA},
	} {
		r := record(t, tc.v, tc.suite)
		keys := keysOf(t, r.keylog)
		st := streams(r.wire)
		starts := recordStarts(st[1])
		n := len(starts)
		for _, hole := range [][2]int{
			{starts[n-5] + 100, starts[n-4] + 50},  // the end of one record and the start of the next
			{starts[n-6] + 7, starts[n-3] + 2},     // several whole records
			{starts[n-4], starts[n-3]},             // exactly one record
			{starts[n-4] + 1, starts[n-4] + 1 + 1}, // one byte
		} {
			var got []byte
			s := NewSession(Config{Keys: keys, OnData: func(d *Data) {
				if d.Dir == netflow.ServerToClient {
					got = append(got, d.Bytes...)
				}
			}})
			s.Feed(0, st[0])
			feedPieces(s, 1, st[1][:hole[0]], 333)
			s.Gap(1, int64(hole[1]-hole[0]))
			feedPieces(s, 1, st[1][hole[1]:], 333)
			sum := s.Close()
			want := withoutHole(t, st, keys, hole[0], hole[1])
			name := fmt.Sprintf("%s %s hole %v", VersionName(tc.v), SuiteName(tc.suite), hole)
			if !bytes.Equal(got, want) || sum.Status != StatusPartial {
				t.Errorf("%s: %d bytes, want %d; %s %s %v", name, len(got), len(want), sum.Status, sum.Reason, sum.Events)
			}
		}
	}
}

func feedPieces(s *Session, dir netflow.Direction, b []byte, n int) {
	for len(b) > 0 {
		k := min(n, len(b))
		s.Feed(dir, b[:k])
		b = b[k:]
	}
}
