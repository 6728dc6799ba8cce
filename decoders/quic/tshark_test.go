package quic

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// tsharkStreams decrypts a capture with tshark and the key log, and reassembles the STREAM frames
// it shows by stream, direction and offset.
func tsharkStreams(t *testing.T, chunks []netfixture.Chunk, keylog []byte) map[string][]byte {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed: no oracle")
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := netfixture.WriteDatagrams(w, chunks); err != nil {
		t.Fatal(err)
	}
	w.Close()
	pcap, keys := filepath.Join(dir, "s.pcap"), filepath.Join(dir, "s.keys")
	if err := os.WriteFile(pcap, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, keylog, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-r", pcap, "-o", "tls.keylog_file:"+keys, "-T", "json", "-J", "udp quic", "--no-duplicate-keys").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var packets []struct {
		Source struct {
			Layers map[string]any `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &packets); err != nil {
		t.Fatalf("tshark JSON: %v", err)
	}
	pieces := map[string]map[uint64][]byte{}
	for _, p := range packets {
		udp, _ := p.Source.Layers["udp"].(map[string]any)
		d := netflow.ServerToClient
		if fmt.Sprint(udp["udp.dstport"]) == strconv.Itoa(int(netfixture.QUICServer.Port())) {
			d = netflow.ClientToServer
		}
		walk(p.Source.Layers["quic"], func(m map[string]any) {
			id, ok := m["quic.stream.stream_id"].(string)
			if !ok {
				return
			}
			off := uint64(0)
			if s, ok := m["quic.stream.offset"].(string); ok {
				off, _ = strconv.ParseUint(s, 10, 64)
			}
			data, _ := hex.DecodeString(strings.ReplaceAll(fmt.Sprint(m["quic.stream_data"]), ":", ""))
			key := id + " " + d.String()
			if pieces[key] == nil {
				pieces[key] = map[uint64][]byte{}
			}
			pieces[key][off] = data
		})
	}
	streams := map[string][]byte{}
	for key, ps := range pieces {
		var s []byte
		for {
			p, ok := ps[uint64(len(s))]
			if !ok || len(p) == 0 {
				break
			}
			s = append(s, p...)
		}
		streams[key] = s
	}
	return streams
}

func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walk(c, fn)
		}
	case []any:
		for _, c := range x {
			walk(c, fn)
		}
	}
}

// tshark, given the same capture and key log, shows the same bytes on every stream as the Conn
// recovers: a raw stream with a key update, QUIC v1 and v2, and an HTTP/3 session with its control
// and QPACK streams.
func TestTsharkOracle(t *testing.T) {
	msg := make([]byte, 200<<10)
	rand.NewChaCha8([32]byte{9}).Read(msg)
	type session struct {
		name   string
		run    func(kl *bytes.Buffer) ([]netfixture.Chunk, error)
		tolerV bool // tshark may not know the version
	}
	sessions := []session{
		{"echo v1", func(kl *bytes.Buffer) ([]netfixture.Chunk, error) {
			return netfixture.QUICSession(context.Background(), netfixture.QUICOptions{ServerName: "a.example", KeyLog: kl, Message: msg})
		}, false},
		{"echo v2", func(kl *bytes.Buffer) ([]netfixture.Chunk, error) {
			return netfixture.QUICSession(context.Background(), netfixture.QUICOptions{ServerName: "a.example", KeyLog: kl, Message: msg, Version2: true})
		}, true},
		{"http3 v1", func(kl *bytes.Buffer) ([]netfixture.Chunk, error) {
			return netfixture.HTTP3Session(context.Background(), netfixture.HTTP3Options{ServerName: "api.example", KeyLog: kl,
				Requests: []netfixture.HTTP3Request{{Method: "GET", Path: "/a?lat=1"}, {Method: "POST", Path: "/b", Body: msg}}})
		}, false},
	}
	for _, s := range sessions {
		var kl bytes.Buffer
		chunks, err := s.run(&kl)
		if err != nil {
			t.Fatal(err)
		}
		keys := tlskeys.NewLog()
		keys.AddText(kl.Bytes())
		ours, _, sum := collect(t, chunks, keys)
		theirs := tsharkStreams(t, chunks, kl.Bytes())
		if len(theirs) == 0 && s.tolerV {
			t.Logf("%s: tshark shows no STREAM frames (its QUIC dissector does not decrypt this version); ours: %d streams", s.name, len(ours))
			continue
		}
		n := 0
		for id, st := range ours {
			for d := netflow.ClientToServer; d <= netflow.ServerToClient; d++ {
				key := fmt.Sprintf("%d %s", id, d)
				if st[d].Len() == 0 && len(theirs[key]) == 0 {
					continue
				}
				n++
				if !bytes.Equal(st[d].Bytes(), theirs[key]) {
					t.Errorf("%s: stream %s: %d bytes, tshark %d", s.name, key, st[d].Len(), len(theirs[key]))
				}
			}
		}
		if n != len(theirs) {
			t.Errorf("%s: we compared %d stream directions, tshark shows %d", s.name, n, len(theirs))
		}
		t.Logf("%s: %d stream directions equal to tshark's; key updates %d", s.name, n, sum.Counts.KeyUpdates)
	}
}
