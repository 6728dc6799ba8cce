package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"droneaudit/internal/netfixture"
)

// h3Requests are what the HTTP/3 tests send: a GET, a POST of JSON carrying a position, and an
// upload large enough to span many packets (and a key update).
func h3Requests() []netfixture.HTTP3Request {
	return []netfixture.HTTP3Request{
		{Method: "GET", Path: "/api/v1/devices?sn=3N3BH"},
		{Method: "POST", Path: "/api/v1/telemetry", Body: []byte(`{"aircraft":{"latitude":52.5200,"longitude":13.4050,"height":80}}`)},
		{Method: "POST", Path: "/api/v1/flight-logs", Body: bytes.Repeat([]byte("0123456789abcdef-flight-record-"), 40000)},
	}
}

// h3Capture runs a real quic-go HTTP/3 session and writes it to dir as a pcapng with the key log
// in a Decryption Secrets Block and as a pcap with the key log beside it.
func h3Capture(t *testing.T, dir string, v2 bool) (pcapng, pcap, keys string) {
	t.Helper()
	var kl bytes.Buffer
	chunks, err := netfixture.HTTP3Session(t.Context(), netfixture.HTTP3Options{ServerName: "api.dji.example", Version2: v2, KeyLog: &kl, Requests: h3Requests()})
	if err != nil {
		t.Fatal(err)
	}
	pcapng, pcap, keys = filepath.Join(dir, "h3.pcapng"), filepath.Join(dir, "h3.pcap"), filepath.Join(dir, "h3.keys")
	for _, f := range []struct {
		path   string
		format netfixture.Format
		dsb    []byte
	}{{pcapng, netfixture.Pcapng, kl.Bytes()}, {pcap, netfixture.Pcap, nil}} {
		var buf bytes.Buffer
		w, err := netfixture.NewWriter(&buf, f.format, f.dsb)
		if err != nil {
			t.Fatal(err)
		}
		if err := netfixture.WriteDatagrams(w, chunks); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if err := os.WriteFile(f.path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(keys, kl.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return pcapng, pcap, keys
}

type h3Row struct {
	ID, Flow, Protocol, Method, URL string
	TLS                             bool
	Status                          int
	Request                         h3Body
	Response                        *h3Body
}

type h3Body struct {
	Size          int64
	SHA256        string
	ContentType   string `json:"content_type"`
	ContentLength int64  `json:"content_length"`
	Complete      bool
}

func sum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// 'droneaudit requests' lists every HTTP/3 request of real quic-go sessions (QUIC v1 and v2),
// with keys from the capture's own secrets block and from --keylog: method, URL with the
// :authority, status, body sizes and hashes of what was sent and answered, complete, named
// "<flow>#<stream id>".
func TestRequestsHTTP3(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		dir := t.TempDir()
		pcapng, pcap, keys := h3Capture(t, dir, v2)
		for _, args := range [][]string{{pcapng}, {"--keylog", keys, pcap}} {
			code, out, errs := cli(t, append([]string{"requests", "--format", "json"}, args...)...)
			if code != 0 {
				t.Fatalf("v2=%v %v: exit %d: %s", v2, args, code, errs)
			}
			var doc struct {
				Requests []h3Row `json:"requests"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if os.Getenv("H3DUMP") != "" {
				t.Log(out)
			}
			want := h3Requests()
			if len(doc.Requests) != len(want) {
				t.Fatalf("v2=%v %v: %d rows, want %d:\n%s", v2, args, len(doc.Requests), len(want), out)
			}
			for i, r := range doc.Requests {
				w := want[i]
				resp := netfixture.HTTP3Response(w.Method, w.Path, w.Body)
				if r.Protocol != "h3" || !r.TLS || r.Method != w.Method || r.URL != "https://api.dji.example"+w.Path || r.Status != 200 {
					t.Errorf("v2=%v %v row %d: %+v", v2, args, i, r)
				}
				if r.ID != r.Flow+"#"+[]string{"0", "4", "8"}[i] {
					t.Errorf("v2=%v row %d: id %s, flow %s", v2, i, r.ID, r.Flow)
				}
				if q := r.Request; q.Size != int64(len(w.Body)) || q.SHA256 != sum256(w.Body) || !q.Complete {
					t.Errorf("v2=%v row %d: request body %+v, sent %d bytes", v2, i, q, len(w.Body))
				}
				if s := r.Response; s == nil || s.Size != int64(len(resp)) || s.SHA256 != sum256(resp) || !s.Complete || s.ContentType != "text/plain" {
					t.Errorf("v2=%v row %d: response body %+v, answered %d bytes", v2, i, s, len(resp))
				}
			}
		}
		// The text form lists the same requests.
		_, out, _ := cli(t, "requests", pcapng)
		if !bytes.Contains([]byte(out), []byte("https://api.dji.example/api/v1/flight-logs")) {
			t.Errorf("v2=%v text:\n%s", v2, out)
		}
	}
}

// A capture that stops in the middle of an upload lists the request with what was seen of it,
// marked incomplete and without a hash; the requests before it stay complete.
func TestRequestsHTTP3Cut(t *testing.T) {
	var kl bytes.Buffer
	chunks, err := netfixture.HTTP3Session(t.Context(), netfixture.HTTP3Options{ServerName: "api.dji.example", KeyLog: &kl, Requests: h3Requests()})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcapng, kl.Bytes())
	if err := netfixture.WriteDatagrams(w, chunks[:len(chunks)/2]); err != nil {
		t.Fatal(err)
	}
	w.Close()
	path := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, "requests", "--format", "json", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Requests []h3Row `json:"requests"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Requests) != 3 {
		t.Fatalf("%v:\n%s", err, out)
	}
	for i, r := range doc.Requests[:2] {
		if !r.Request.Complete || r.Response == nil || !r.Response.Complete {
			t.Errorf("row %d before the cut: %+v", i, r)
		}
	}
	cut := doc.Requests[2]
	if q := cut.Request; q.Complete || q.SHA256 != "" || q.Size <= 0 || q.Size >= int64(len(h3Requests()[2].Body)) || cut.Response != nil || cut.Method != "POST" {
		t.Errorf("cut upload: %+v", cut)
	}
}
