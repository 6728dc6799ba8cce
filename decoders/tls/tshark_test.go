package tls

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/corpus"
)

// followed is one stream as tshark follows it: node 0 (the address printed first) and the bytes
// each node sent.
type followed struct {
	node0 string
	data  [2][]byte
}

// tsharkFollow runs tshark's "follow,tls,raw" on streams 0..n-1 of a capture and returns the
// decrypted bytes of each stream, per node.
func tsharkFollow(t *testing.T, pcap, keys string, n int) map[int]*followed {
	t.Helper()
	args := []string{"-r", pcap, "-q"}
	if keys != "" {
		args = append(args, "-o", "tls.keylog_file:"+keys)
	}
	for i := range n {
		args = append(args, "-z", fmt.Sprintf("follow,tls,raw,%d", i))
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	res := map[int]*followed{}
	var cur *followed
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		var id int
		if _, err := fmt.Sscanf(line, "Filter: tcp.stream eq %d", &id); err == nil {
			cur = &followed{}
			res[id] = cur
			continue
		}
		if cur != nil && strings.HasPrefix(line, "Node 0: ") {
			cur.node0 = strings.TrimPrefix(line, "Node 0: ")
			continue
		}
		if cur == nil || line == "" || strings.HasPrefix(line, "=") || strings.HasPrefix(line, "Node ") || strings.HasPrefix(line, "Follow:") {
			continue
		}
		dir := 0
		if strings.HasPrefix(line, "\t") {
			dir = 1
		}
		b, err := hex.DecodeString(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("tshark output line %q: %v", line, err)
		}
		cur.data[dir] = append(cur.data[dir], b...)
	}
	return res
}

// TestTsharkOracle: on Wireshark's decryption captures, the plaintext of every connection is
// byte for byte what tshark decrypts with the same key log (or the capture's own secrets).
func TestTsharkOracle(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed")
	}
	if testing.Short() {
		t.Skip("runs tshark")
	}
	for _, c := range []struct{ pcap, keys string }{
		{"tls/tls12-chacha20poly1305.pcap", "tls/tls12-chacha20poly1305.keys"},
		{"tls/tls12-dsb.pcapng", ""},
		{"tls/http2-data-reassembly.pcap", "tls/http2-data-reassembly.keys"},
		{"tls/tls13-20-chacha20poly1305.pcap", "tls/tls13-20-chacha20poly1305.keys"},
	} {
		keys := tlskeys.NewLog()
		keyPath := ""
		if c.keys != "" {
			keyPath = corpus.Path(t, c.keys)
			if _, err := keys.AddFile(keyPath); err != nil {
				t.Fatal(err)
			}
		}
		path := corpus.Path(t, c.pcap)
		flows := decryptCapture(t, path, keys)
		want := tsharkFollow(t, path, keyPath, len(flows))
		for i, fr := range flows {
			w := want[i]
			if w == nil {
				t.Errorf("%s stream %d: tshark followed nothing", c.pcap, i)
				continue
			}
			// tshark's node 0 is the sender of the first decrypted bytes, not always the client.
			tw := w.data
			if w.node0 != fr.flow.Client.String() {
				tw[0], tw[1] = tw[1], tw[0]
			}
			for d := range 2 {
				if got := fr.plain[d].Bytes(); !bytes.Equal(got, tw[d]) || len(got) == 0 {
					t.Errorf("%s stream %d direction %d: %d bytes, tshark %d (node 0 %s, client %s)", c.pcap, i, d, len(got), len(tw[d]), w.node0, fr.flow.Client)
				}
			}
		}
	}
}
