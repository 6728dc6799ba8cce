package quic

import (
	"bytes"
	"context"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// echoSession runs a real quic-go connection whose client sends msg on one stream and the server
// echoes it, and returns the datagrams and the key log quic-go wrote.
func echoSession(t *testing.T, v2 bool, msg []byte) ([]netfixture.Chunk, *tlskeys.Log) {
	t.Helper()
	var kl bytes.Buffer
	chunks, err := netfixture.QUICSession(context.Background(), netfixture.QUICOptions{ServerName: "mydrone.dji.com", Version2: v2, KeyLog: &kl, Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	log := tlskeys.NewLog()
	if st := log.AddText(kl.Bytes()); st.Added == 0 {
		t.Fatalf("quic-go wrote no key log lines: %q", kl.String())
	}
	return chunks, log
}

func dirOf(c netfixture.Chunk) netflow.Direction {
	if c.FromClient {
		return netflow.ClientToServer
	}
	return netflow.ServerToClient
}

// collect feeds a session to a Conn and returns each stream's bytes per direction.
func collect(t *testing.T, chunks []netfixture.Chunk, log *tlskeys.Log, errsOK ...bool) (map[uint64]*[2]bytes.Buffer, map[uint64][2]bool, Summary) {
	t.Helper()
	got := map[uint64]*[2]bytes.Buffer{}
	fins := map[uint64][2]bool{}
	c := NewConn(log, func(d StreamData) {
		if got[d.ID] == nil {
			got[d.ID] = &[2]bytes.Buffer{}
		}
		if d.Gap {
			t.Errorf("stream %d %s: gap at %d", d.ID, d.Dir, d.Offset)
		}
		if int64(d.Offset) != int64(got[d.ID][d.Dir].Len()) {
			t.Errorf("stream %d %s: piece at %d after %d bytes", d.ID, d.Dir, d.Offset, got[d.ID][d.Dir].Len())
		}
		got[d.ID][d.Dir].Write(d.Data)
		if d.Fin {
			f := fins[d.ID]
			f[d.Dir] = true
			fins[d.ID] = f
		}
	})
	for i, ch := range chunks {
		if err := c.Datagram(dirOf(ch), ch.Data); err != nil && len(errsOK) == 0 {
			t.Errorf("datagram %d: %v", i, err)
		}
	}
	return got, fins, c.Close()
}

// A real quic-go connection (v1 and v2) decrypts with its key log: every byte of the stream
// both ways, with its FIN, and the big message makes quic-go update its 1-RTT keys (it does after
// 100 packets), which the decryption follows.
func TestConnDecryptsQuicGo(t *testing.T) {
	msg := make([]byte, 300<<10)
	rng := rand.NewChaCha8([32]byte{7})
	rng.Read(msg)
	for _, v2 := range []bool{false, true} {
		chunks, log := echoSession(t, v2, msg)
		got, fins, sum := collect(t, chunks, log)
		if sum.Status != StatusDecrypted || sum.ServerName != "mydrone.dji.com" {
			t.Fatalf("v2=%v: %+v", v2, sum)
		}
		wantV := Version1
		if v2 {
			wantV = Version2
		}
		if sum.Version != wantV {
			t.Errorf("version %08x, want %08x", sum.Version, wantV)
		}
		s := got[0]
		if s == nil || !bytes.Equal(s[0].Bytes(), msg) || !bytes.Equal(s[1].Bytes(), msg) {
			t.Fatalf("v2=%v: stream 0 not recovered (%v streams)", v2, len(got))
		}
		if !fins[0][0] || !fins[0][1] {
			t.Errorf("v2=%v: FINs %v", v2, fins[0])
		}
		if sum.Counts.KeyUpdates == 0 || sum.Counts.Handshake == 0 || sum.Counts.OneRTT < 200 || sum.Counts.Undecrypted != 0 {
			t.Errorf("v2=%v: counts %+v", v2, sum.Counts)
		}
		t.Logf("v2=%v: %+v suite %s streams %+v close %s", v2, sum.Counts, sum.Suite, sum.Streams, sum.Close)
	}
}

// Without the key log's lines, or with secrets that are not the connection's, nothing is handed
// on and the summary says why.
func TestConnWithoutKeys(t *testing.T) {
	chunks, log := echoSession(t, false, []byte("secret flight plan"))
	_ = log // the session's own key log is not given: neither test below has the real secrets
	wrong := tlskeys.NewLog()
	for name, l := range map[string]*tlskeys.Log{"missing": tlskeys.NewLog(), "wrong": wrong} {
		if name == "wrong" {
			// The same client random with other secrets.
			c := NewConn(nil, nil)
			for _, ch := range chunks {
				if ch.FromClient {
					c.Datagram(netflow.ClientToServer, ch.Data)
				}
			}
			hello, _ := c.hello.Result()
			if hello == nil {
				t.Fatal("no ClientHello")
			}
			for _, lbl := range []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"} {
				l.AddText([]byte(lbl + " " + hexs(hello.Random[:]) + " " + hexs(bytes.Repeat([]byte{0x42}, 32)) + "\n"))
			}
		}
		got, _, sum := collect(t, chunks, l, true)
		if len(got) != 0 {
			t.Errorf("%s keys: %d streams handed on", name, len(got))
		}
		want := StatusNoKeys
		if name == "wrong" {
			want = StatusWrongKeys
		}
		if sum.Status != want || sum.Reason == "" || sum.Counts.Undecrypted == 0 {
			t.Errorf("%s keys: %+v", name, sum)
		}
		t.Logf("%s: %s: %s", name, sum.Status, sum.Reason)
	}
}

func hexs(b []byte) string { return hex.EncodeToString(b) }
