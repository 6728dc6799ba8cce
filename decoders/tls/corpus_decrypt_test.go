package tls

import (
	"bytes"
	"strings"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/corpus"
	"droneaudit/netflow"
)

func corpusKeys(t *testing.T, rel string) *tlskeys.Log {
	t.Helper()
	l := tlskeys.NewLog()
	if _, err := l.AddFile(corpus.Path(t, rel)); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCorpusChaCha20 checks what Wireshark's suite checks on its TLS 1.2 ChaCha20-Poly1305
// capture: TCP streams 0–6 decrypt to "GET / HTTP/1.1" and a page naming the suite.
func TestCorpusChaCha20(t *testing.T) {
	keys := corpusKeys(t, "tls/tls12-chacha20poly1305.keys")
	flows := decryptCapture(t, corpus.Path(t, "tls/tls12-chacha20poly1305.pcap"), keys)
	suites := []string{"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", "DHE-RSA-CHACHA20-POLY1305",
		"RSA-PSK-CHACHA20-POLY1305", "DHE-PSK-CHACHA20-POLY1305", "ECDHE-PSK-CHACHA20-POLY1305", "PSK-CHACHA20-POLY1305"}
	if len(flows) != len(suites) {
		t.Fatalf("%d TCP connections, want %d", len(flows), len(suites))
	}
	for i, fr := range flows {
		req, page := fr.plain[netflow.ClientToServer].String(), fr.plain[netflow.ServerToClient].String()
		if fr.sum.Status != StatusDecrypted || !strings.HasPrefix(req, "GET / HTTP/1.1\r\n") || !strings.Contains(page, "Cipher is "+suites[i]) {
			t.Errorf("stream %d (%s): %s %s; request %.40q; page has %q: %v", i, fr.sum.SuiteName, fr.sum.Status, fr.sum.Reason, req, "Cipher is "+suites[i], strings.Contains(page, "Cipher is "+suites[i]))
			for _, e := range fr.sum.Events {
				t.Log(e)
			}
		}
	}
}

// TestCorpusDSB: the two sessions of tls12-dsb.pcapng have keys only in the file's Decryption
// Secrets Blocks. The requests are curl's "HEAD /" (frames 6 and 14, as tshark shows them; the
// corpus README's "GET /" names the path, not the method), answered by "HTTP/1.1 200".
func TestCorpusDSB(t *testing.T) {
	keys := tlskeys.NewLog()
	flows := decryptCapture(t, corpus.Path(t, "tls/tls12-dsb.pcapng"), keys)
	if len(flows) != 2 {
		t.Fatalf("%d connections", len(flows))
	}
	for i, host := range []string{"example.com", "example.net"} {
		fr := flows[i]
		req := fr.plain[netflow.ClientToServer].String()
		if fr.sum.Status != StatusDecrypted || !strings.HasPrefix(req, "HEAD / HTTP/1.1\r\n") || !strings.Contains(req, "\r\nHost: "+host+"\r\n") {
			t.Errorf("stream %d: %s %s; request %q", i, fr.sum.Status, fr.sum.Reason, req)
		}
		if !strings.HasPrefix(fr.plain[netflow.ServerToClient].String(), "HTTP/1.1 200 ") {
			t.Errorf("stream %d: response %.40q", i, fr.plain[netflow.ServerToClient].String())
		}
	}
}

// TestCorpusHTTP2: TLS 1.2 AES-128-GCM carrying HTTP/2: the client's plaintext starts with the
// connection preface and frames follow on both sides.
func TestCorpusHTTP2(t *testing.T) {
	keys := corpusKeys(t, "tls/http2-data-reassembly.keys")
	flows := decryptCapture(t, corpus.Path(t, "tls/http2-data-reassembly.pcap"), keys)
	if len(flows) != 1 {
		t.Fatalf("%d connections", len(flows))
	}
	fr := flows[0]
	if fr.sum.Status != StatusDecrypted || fr.sum.Suite != 0xc02b || fr.sum.ALPN != "h2" {
		t.Fatalf("%+v", fr.sum)
	}
	if !bytes.HasPrefix(fr.plain[0].Bytes(), []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")) {
		t.Fatalf("client plaintext starts %q", fr.plain[0].Bytes()[:min(40, fr.plain[0].Len())])
	}
	// The server's first frame is a SETTINGS frame (RFC 9113 §3.4).
	if s := fr.plain[1].Bytes(); len(s) < 9 || s[3] != 0x4 {
		t.Fatalf("server plaintext starts %x", s[:min(9, len(s))])
	}
}

// TestCorpusDraft20: a TLS 1.3 draft-20 session decrypts, or is reported unsupported with no
// plaintext.
func TestCorpusDraft20(t *testing.T) {
	keys := corpusKeys(t, "tls/tls13-20-chacha20poly1305.keys")
	flows := decryptCapture(t, corpus.Path(t, "tls/tls13-20-chacha20poly1305.pcap"), keys)
	if len(flows) == 0 {
		t.Fatal("no connections")
	}
	found := false
	for i, fr := range flows {
		t.Logf("stream %d: %s %s %s %s", i, VersionName(fr.sum.Version), fr.sum.SuiteName, fr.sum.Status, fr.sum.Reason)
		switch fr.sum.Status {
		case StatusDecrypted:
			if strings.Contains(fr.plain[1].String(), "TLS13-CHACHA20-POLY1305-SHA256") {
				found = true
			}
		case StatusUnsupported:
			if fr.plain[0].Len()+fr.plain[1].Len() > 0 {
				t.Errorf("stream %d: unsupported but plaintext was handed on", i)
			}
		default:
			t.Errorf("stream %d: %s %s", i, fr.sum.Status, fr.sum.Reason)
		}
	}
	if !found {
		t.Error("no page names TLS13-CHACHA20-POLY1305-SHA256")
	}
}
