package tls

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// encodeStreams packs the two directions of a session as a fuzz input: a 2-byte piece size,
// the client stream's length (4 bytes), the client stream, the server stream.
func encodeStreams(piece uint16, st [2][]byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, piece)
	b = binary.BigEndian.AppendUint32(b, uint32(len(st[0])))
	return append(append(b, st[0]...), st[1]...)
}

// seedDir holds recorded Go sessions and their key logs for FuzzSession. They are files rather
// than sessions made at fuzz time because every fuzz worker runs the setup again: fresh sessions
// would have fresh keys, and the seeds the coordinator hands out would not match a worker's keys.
// Regenerate with DRONEAUDIT_WRITE_SEEDS=1 go test -run TestWriteSessionSeeds.
const seedDir = "testdata/sessions"

var seedSessions = []struct {
	name     string
	v, suite uint16
}{
	{"tls13", tls.VersionTLS13, 0},
	{"tls12-gcm", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	{"tls12-chacha", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305},
	{"tls12-cbc", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
}

func TestWriteSessionSeeds(t *testing.T) {
	if os.Getenv("DRONEAUDIT_WRITE_SEEDS") == "" {
		t.Skip("set DRONEAUDIT_WRITE_SEEDS=1 to rewrite " + seedDir)
	}
	os.MkdirAll(seedDir, 0o755)
	for _, ss := range seedSessions {
		var kl bytes.Buffer
		c, s := configs(t, &kl)
		c.MaxVersion = ss.v
		if ss.suite != 0 {
			c.CipherSuites, s.CipherSuites = []uint16{ss.suite}, []uint16{ss.suite}
		}
		w := goSession(t, c, s, []exchange{{[]byte("GET / HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\nhello")}})
		if err := os.WriteFile(filepath.Join(seedDir, ss.name+".streams"), encodeStreams(0, streams(w)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(seedDir, ss.name+".keys"), kl.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSessionSeeds checks that the recorded seeds still decrypt.
func TestSessionSeeds(t *testing.T) {
	keys := tlskeys.NewLog()
	for _, ss := range seedSessions {
		in, err := os.ReadFile(filepath.Join(seedDir, ss.name+".streams"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := keys.AddFile(filepath.Join(seedDir, ss.name+".keys")); err != nil {
			t.Fatal(err)
		}
		n := int(binary.BigEndian.Uint32(in[2:]))
		var resp []byte
		s := NewSession(Config{Keys: keys, OnData: func(d *Data) {
			if d.Dir == netflow.ServerToClient {
				resp = append(resp, d.Bytes...)
			}
		}})
		s.Feed(netflow.ClientToServer, in[6:6+n])
		s.Feed(netflow.ServerToClient, in[6+n:])
		if sum := s.Close(); sum.Status != StatusDecrypted || string(resp) != "HTTP/1.1 200 OK\r\n\r\nhello" {
			t.Errorf("%s: %s %s %q", ss.name, sum.Status, sum.Reason, resp)
		}
	}
}

// FuzzSession feeds arbitrary bytes through the record layer, the handshake reader and the
// record protection. Seeds are real sessions whose keys are in the key log, so mutations reach
// decryption. Invariants: no panic, no more plaintext than bytes fed, bounded buffers.
func FuzzSession(f *testing.F) {
	keys := tlskeys.NewLog()
	for _, ss := range seedSessions {
		in, err := os.ReadFile(filepath.Join(seedDir, ss.name+".streams"))
		if err != nil {
			f.Fatal(err)
		}
		keys.AddFile(filepath.Join(seedDir, ss.name+".keys"))
		f.Add(bytes.Clone(in))
		binary.BigEndian.PutUint16(in, 7)
		f.Add(bytes.Clone(in))
		binary.BigEndian.PutUint16(in, 0x8000|200)
		f.Add(bytes.Clone(in))
	}
	f.Add([]byte{0, 1, 0, 0, 0, 5, 22, 3, 3, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 6 {
			return
		}
		piece := int(binary.BigEndian.Uint16(in))
		n := int(binary.BigEndian.Uint32(in[2:]))
		in = in[6:]
		n = min(n, len(in))
		st := [2][]byte{in[:n], in[n:]}
		total := 0
		s := NewSession(Config{Keys: keys, MaxPending: 1 << 16, OnData: func(d *Data) {
			total += len(d.Bytes)
			if d.Offset < 0 || len(d.Bytes) > maxRecordLen {
				t.Fatalf("bad data %+v", d)
			}
		}})
		if piece == 0 {
			s.Feed(netflow.ClientToServer, st[0])
			s.Feed(netflow.ServerToClient, st[1])
		} else {
			// The top bit of the piece size drops every 5th piece of the server's bytes as a hole.
			hole, piece := piece&0x8000 != 0, max(1, piece&0x7fff)
			for i := 0; len(st[0])+len(st[1]) > 0; i++ {
				for d := range st {
					k := min(piece, len(st[d]))
					if hole && d == 1 && i%5 == 4 {
						s.Gap(1, int64(k))
					} else {
						s.Feed(netflow.Direction(d), st[d][:k])
					}
					st[d] = st[d][k:]
				}
			}
		}
		for d := range s.h {
			if len(s.h[d].buf) > recordHeaderLen+maxRecordLen || s.h[d].pendN > 1<<16 {
				t.Fatalf("direction %d holds %d + %d bytes", d, len(s.h[d].buf), s.h[d].pendN)
			}
		}
		sum := s.Close()
		if total > n+len(in)-n || int64(total) != sum.AppBytes[0]+sum.AppBytes[1] {
			t.Fatalf("%d plaintext bytes from %d input bytes (summary %v)", total, len(in), sum.AppBytes)
		}
	})
}
