package tlskeys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"droneaudit/capture"
	"droneaudit/internal/corpus"
)

const r1 = "ab85fc5f6db67c9cf825cd8a1f34cf6c5e89ec09656a4944ec5536a36aed5728"

func TestAddTextLabels(t *testing.T) {
	sec := func(b byte, n int) string { return strings.Repeat(hex.EncodeToString([]byte{b}), n) }
	text := "# comment\r\n\n" +
		"CLIENT_RANDOM " + r1 + " " + sec(1, 48) + "\r\n" +
		"CLIENT_EARLY_TRAFFIC_SECRET " + r1 + " " + sec(2, 32) + "\n" +
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET  " + r1 + "\t" + sec(3, 32) + "\n" +
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " + r1 + " " + sec(4, 32) + "\n" +
		"CLIENT_TRAFFIC_SECRET_0 " + r1 + " " + sec(5, 48) + "\n" +
		"SERVER_TRAFFIC_SECRET_0 " + r1 + " " + sec(6, 48) + "\n" +
		"EXPORTER_SECRET " + r1 + " " + sec(7, 32) + "\n" +
		"EARLY_EXPORTER_SECRET " + r1 + " " + sec(8, 32) + "\n" +
		"RSA 3e2ffbd86d10f694 " + sec(9, 48) + "\n" +
		"CLIENT_RANDOM " + r1 + " " + sec(10, 48) + "\n" + // conflict: first kept
		"CLIENT_RANDOM " + r1 + " " + sec(1, 48) + "\n" + // repeat: not counted
		"FUTURE_SECRET " + r1 + " " + sec(1, 32) + "\n" + // unknown label
		"CLIENT_RANDOM zz" + r1[2:] + " " + sec(1, 48) + "\n" + // bad hex
		"CLIENT_RANDOM " + r1[:62] + " " + sec(1, 48) + "\n" + // short random
		"CLIENT_RANDOM " + r1 + " " + sec(1, 100) + "\n" + // secret too long
		"CLIENT_RANDOM " + r1 + " " + strings.Repeat("a", 5000) + "\n" + // over-long line
		"SERVER_TRAFFIC_SECRET_0 " + strings.Repeat("11", 32) + " " + sec(11, 32) // no final newline
	l := NewLog()
	st := l.AddText([]byte(text))
	s, ok := l.Lookup(mustHex(r1))
	if !ok {
		t.Fatal("session not found")
	}
	want := map[string]struct {
		got []byte
		b   byte
		n   int
	}{
		"master": {s.Master, 1, 48}, "early": {s.ClientEarlyTrafficSecret, 2, 32},
		"chs": {s.ClientHandshakeTrafficSecret, 3, 32}, "shs": {s.ServerHandshakeTrafficSecret, 4, 32},
		"cts": {s.ClientTrafficSecret0, 5, 48}, "sts": {s.ServerTrafficSecret0, 6, 48},
		"exp": {s.ExporterSecret, 7, 32}, "eexp": {s.EarlyExporterSecret, 8, 32},
	}
	for name, w := range want {
		if !bytes.Equal(w.got, bytes.Repeat([]byte{w.b}, w.n)) {
			t.Errorf("%s = %x", name, w.got)
		}
	}
	if pm, ok := l.RSAPreMaster(mustHex("3e2ffbd86d10f694")); !ok || len(pm) != 48 {
		t.Errorf("RSA pre-master %x %v", pm, ok)
	}
	if _, ok := l.Lookup(bytes.Repeat([]byte{0x11}, 32)); !ok {
		t.Error("last line without a newline was lost")
	}
	if st.Added != 9 || st.Conflicts != 1 || st.Unknown != 1 || st.RSAEntries != 1 || st.Rejected != 4 {
		t.Errorf("stats %+v", st)
	}
	if l.Len() != 2 || !s.TLS13() {
		t.Errorf("len %d tls13 %v", l.Len(), s.TLS13())
	}
}

func TestAddReaderInPieces(t *testing.T) {
	line := "CLIENT_RANDOM " + r1 + " " + strings.Repeat("ab", 48) + "\n"
	l := NewLog()
	st, err := l.Add(io.MultiReader(strings.NewReader(line[:10]), strings.NewReader(line[10:70]), strings.NewReader(line[70:])))
	if err != nil || st.Added != 1 {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestMaxSessions(t *testing.T) {
	l := NewLog()
	l.MaxSessions = 2
	var b strings.Builder
	for i := range 5 {
		b.WriteString("CLIENT_RANDOM " + strings.Repeat("0", 62) + hex.EncodeToString([]byte{byte(i)}) + " " + strings.Repeat("ab", 48) + "\n")
	}
	st := l.AddText([]byte(b.String()))
	if l.Len() != 2 || st.Dropped != 3 {
		t.Fatalf("len %d stats %+v", l.Len(), st)
	}
}

func TestRemember(t *testing.T) {
	l := NewLog()
	l.Remember("ticket", []byte("t1"), []byte("master"))
	if m, ok := l.Recall("ticket", []byte("t1")); !ok || string(m) != "master" {
		t.Fatal(m, ok)
	}
	if _, ok := l.Recall("id", []byte("t1")); ok {
		t.Fatal("kinds must not mix")
	}
}

func TestAddSecretOtherType(t *testing.T) {
	l := NewLog()
	if _, err := l.AddSecret(capture.Secret{Type: 0x5353484b, Data: []byte("x")}); !errors.Is(err, ErrNotKeyLog) {
		t.Fatal(err)
	}
	if l.Stats().Ignored != 1 {
		t.Fatal(l.Stats())
	}
}

// TestCorpusKeyFiles reads Wireshark's key logs and the Decryption Secrets Blocks of
// tls12-dsb.pcapng.
func TestCorpusKeyFiles(t *testing.T) {
	for rel, want := range map[string]int{"tls/tls12-chacha20poly1305.keys": 7, "tls/http2-data-reassembly.keys": 1, "tls/tls13-20-chacha20poly1305.keys": 2} {
		l := NewLog()
		st, err := l.AddFile(corpus.Path(t, rel))
		if err != nil || l.Len() != want || st.Rejected != 0 {
			t.Errorf("%s: %d sessions, %+v, %v", rel, l.Len(), st, err)
		}
	}
	f, err := os.Open(corpus.Path(t, "tls/tls12-dsb.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capture.NewReader(f, "tls12-dsb.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	l := NewLog()
	blocks := 0
	r.OnSecrets = func(s capture.Secret) {
		blocks++
		if _, err := l.AddSecret(s); err != nil {
			t.Error(err)
		}
	}
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	if blocks != 2 || l.Len() != 2 {
		t.Fatalf("%d blocks, %d sessions", blocks, l.Len())
	}
	for _, cr := range []string{"f67a28b386b31c620d76c0026fdd9888edbe6bf0f5b715b2caca158f84ae9d66", "1e0d63b41d7c7bb639559cfc9f06ffd5c65fe4a9df31abc5af833b0d834436f4"} {
		if s, ok := l.Lookup(mustHex(cr)); !ok || len(s.Master) != 48 {
			t.Errorf("no master secret for %s", cr)
		}
	}
}

func FuzzAddText(f *testing.F) {
	f.Add([]byte("CLIENT_RANDOM " + r1 + " " + strings.Repeat("ab", 48) + "\n"))
	f.Add([]byte("# x\r\nRSA 3e2ffbd86d10f694 00\nSERVER_TRAFFIC_SECRET_0 " + r1 + " 00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := NewLog()
		l.MaxSessions = 4
		st := l.AddText(b)
		if l.Len() > 4 || st.Added > st.Lines {
			t.Fatalf("len %d stats %+v", l.Len(), st)
		}
		s2 := NewLog()
		if _, err := s2.Add(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	})
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
