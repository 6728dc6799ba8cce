package requests_test

import (
	"bytes"
	"context"
	"image/png"
	"strings"
	"sync"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/internal/corpus"
	"droneaudit/netflow"
)

// corpusRequests runs the requests path over a corpus capture with its key log ("" for none),
// keeping the response bodies by row id.
func corpusRequests(t *testing.T, pcap, keys string) (*requests.Result, map[string][]byte) {
	t.Helper()
	var paths []string
	if keys != "" {
		paths = append(paths, corpus.Path(t, keys))
	}
	layer, err := tlslayer.FromFiles(paths)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	bodies := map[string][]byte{}
	opt := requests.Options{MaxBody: 1 << 20, OnBody: func(c *requests.Content) string {
		if c.Dir == netflow.ServerToClient {
			mu.Lock()
			bodies[c.Request] = bytes.Clone(c.Bytes)
			mu.Unlock()
		}
		return ""
	}}
	res, err := requests.Build(context.Background(), engine.FileSources([]string{corpus.Path(t, pcap)}),
		destinations.Options{Unwrappers: []decoders.Unwrapper{layer}}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res, bodies
}

// Wireshark's seven TLS 1.2 ChaCha20-Poly1305 sessions (OpenSSL): each decrypts to GET / and the
// page of openssl s_server naming its suite, in stream order.
func TestCorpusChaCha20Sessions(t *testing.T) {
	res, bodies := corpusRequests(t, "tls/tls12-chacha20poly1305.pcap", "tls/tls12-chacha20poly1305.keys")
	suites := []string{"ECDHE-ECDSA", "ECDHE-RSA", "DHE-RSA", "RSA-PSK", "DHE-PSK", "ECDHE-PSK", "PSK"}
	if len(res.Rows) != len(suites) {
		t.Fatalf("%d rows, want %d; notes %v", len(res.Rows), len(suites), res.Notes)
	}
	for i, r := range res.Rows {
		want := "Cipher is " + suites[i] + "-CHACHA20-POLY1305"
		if r.Method != "GET" || !strings.HasSuffix(r.URL, "/") || r.Status != 200 || !r.TLS {
			t.Errorf("session %d: %s %s status %d", i, r.Method, r.URL, r.Status)
		}
		if !strings.Contains(string(bodies[r.ID]), want+"\n") && !strings.Contains(string(bodies[r.ID]), want+" ") {
			t.Errorf("session %d: page does not say %q", i, want)
		}
	}
	if len(res.Notes) != 0 {
		t.Errorf("notes %v", res.Notes)
	}
}

// The two sessions whose keys are only in the pcapng's Decryption Secrets Blocks decrypt with no
// key log. (The requests are HEAD /, as tshark shows them too; the corpus README says GET.)
func TestCorpusDSBOnly(t *testing.T) {
	res, _ := corpusRequests(t, "tls/tls12-dsb.pcapng", "")
	var got []string
	for _, r := range res.Rows {
		got = append(got, r.Method+" "+r.URL+" "+r.Name)
	}
	want := []string{"HEAD https://example.com/ example.com", "HEAD https://example.net/ example.net"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want %q; notes %v", got, want, res.Notes)
	}
}

// The HTTP/2 session yields /wireshark.png with its DATA reassembled whole: a valid PNG that ends
// with its IEND chunk, as long as the response's content-length where it has one (this one has
// none: its length is the 76091 bytes tshark reassembles too, http2.body.reassembled.length).
func TestCorpusHTTP2PNG(t *testing.T) {
	res, bodies := corpusRequests(t, "tls/http2-data-reassembly.pcap", "tls/http2-data-reassembly.keys")
	if len(res.Rows) != 1 {
		t.Fatalf("%d rows; notes %v", len(res.Rows), res.Notes)
	}
	r := res.Rows[0]
	if r.Protocol != "h2" || r.Method != "GET" || !strings.HasSuffix(r.URL, "/wireshark.png") || r.Status != 200 || r.Response == nil {
		t.Fatalf("row %+v", r)
	}
	b := bodies[r.ID]
	want := r.Response.ContentLength
	if want < 0 {
		want = 76091
	}
	if int64(len(b)) != want || r.Response.Size != want || !r.Response.Complete || !bytes.HasSuffix(b, []byte("IEND\xae\x42\x60\x82")) {
		t.Errorf("body %d bytes, size %d, content-length %d, complete %v", len(b), r.Response.Size, r.Response.ContentLength, r.Response.Complete)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("body is no valid PNG: %v", err)
	}
}

// The TLS 1.3 draft-20 session decrypts (its page names the suite), or is reported as
// unsupported with nothing handed on.
func TestCorpusDraft20(t *testing.T) {
	res, bodies := corpusRequests(t, "tls/tls13-20-chacha20poly1305.pcap", "tls/tls13-20-chacha20poly1305.keys")
	unsupported := 0
	for _, n := range res.Notes {
		if n.Code == decoders.CodeTLSUnsupported {
			unsupported++
		}
	}
	if unsupported > 0 {
		if len(res.Rows) != 0 {
			t.Errorf("unsupported, yet %d rows", len(res.Rows))
		}
		return
	}
	if len(res.Rows) == 0 {
		t.Fatalf("no rows and no unsupported note: %v", res.Notes)
	}
	for _, r := range res.Rows {
		if r.Method != "GET" || r.Status != 200 || !strings.Contains(string(bodies[r.ID]), "TLS13-CHACHA20-POLY1305-SHA256") {
			t.Errorf("row %s: %s %s %d, page names the suite: %v", r.ID, r.Method, r.URL, r.Status, strings.Contains(string(bodies[r.ID]), "TLS13-CHACHA20-POLY1305-SHA256"))
		}
	}
}
