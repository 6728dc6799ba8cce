package requests_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/tlskeys"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/internal/netfixture"
)

var (
	phone  = netip.MustParseAddrPort("192.168.1.20:40000")
	server = netip.MustParseAddrPort("203.0.113.7:443")
)

// page returns n deterministic bytes.
func page(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return b
}

func hexSum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// handler serves GET /page?n=N (chunked when chunked=1) and POST /upload (answers the hash).
func handler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/page":
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Type", "application/octet-stream")
		b := page(n)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
			w.Write(b)
			return
		}
		for len(b) > 0 {
			k := min(len(b), 70000)
			w.Write(b[:k])
			w.(http.Flusher).Flush()
			b = b[k:]
		}
	case "/upload":
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, hexSum(b))
	default:
		http.NotFound(w, r)
	}
}

// noLen hides a body's length, so that net/http sends it chunked (HTTP/1.1).
type noLen struct{ io.Reader }

// sent is what the client asked and what it expects back.
type sent struct {
	method, path  string
	req, resp     []byte
	status        int
	concurrentH2  bool
	hiddenLength  bool
	responseBytes int
}

func plan() []sent {
	return []sent{
		{method: "GET", path: "/page?n=100", resp: page(100), status: 200},
		{method: "POST", path: "/upload", req: page(300_000), resp: []byte(hexSum(page(300_000))), status: 200},
		{method: "POST", path: "/upload?chunked", req: page(50_001), resp: []byte(hexSum(page(50_001))), status: 200, hiddenLength: true},
		{method: "GET", path: "/page?n=2000000&chunked=1", resp: page(2_000_000), status: 200},
		{method: "GET", path: "/missing", status: 404},
	}
}

// record runs the plan over HTTPS and returns the capture, the key log and the plan.
func record(t *testing.T, h2 bool, format netfixture.Format) ([]byte, []byte, []sent) {
	t.Helper()
	var kl bytes.Buffer
	p := plan()
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{HTTP2: h2, KeyLog: &kl}, http.HandlerFunc(handler),
		func(c *http.Client, base string) error {
			for i := range p {
				var body io.Reader
				if p[i].req != nil {
					body = bytes.NewReader(p[i].req)
					if p[i].hiddenLength {
						body = noLen{body}
					}
				}
				req, _ := http.NewRequest(p[i].method, base+p[i].path, body)
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != p[i].status {
					return fmt.Errorf("%s: status %d", p[i].path, resp.StatusCode)
				}
				if p[i].status == 404 {
					p[i].resp = b
				}
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, format, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := netfixture.WriteHTTPS(w, conns, phone, server, nil, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.Bytes(), kl.Bytes(), p
}

// build runs the requests command's path on one capture with a key log, keeping the bodies the
// hook is handed.
func build(t *testing.T, name string, capture, keylog []byte) (*requests.Result, map[string][]byte) {
	t.Helper()
	keys := tlskeys.NewLog()
	keys.AddText(keylog)
	var mu sync.Mutex
	bodies := map[string][]byte{}
	opt := requests.Options{MaxBody: 4 << 20, OnBody: func(c *requests.Content) string {
		mu.Lock()
		defer mu.Unlock()
		bodies[c.Request+" "+c.Dir.String()] = bytes.Clone(c.Bytes)
		return ""
	}}
	res, err := requests.Build(context.Background(), []engine.Source{engine.BytesSource(name, capture)},
		destinations.Options{Unwrappers: []decoders.Unwrapper{tlslayer.New(keys)}, Shards: 2}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res, bodies
}

// Real HTTPS sessions between net/http client and server, HTTP/1.1 and HTTP/2: every request is
// a row, with the URL, the status, and every request and response body recovered byte for byte.
func TestHTTPSRequestsRecovered(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1.1", true: "h2"}[h2], func(t *testing.T) {
			capture, keylog, p := record(t, h2, netfixture.Pcap)
			res, bodies := build(t, "https.pcap", capture, keylog)
			if len(res.Rows) != len(p) {
				for _, r := range res.Rows {
					t.Logf("row %+v", r)
				}
				t.Fatalf("%d rows, want %d; notes %v", len(res.Rows), len(p), res.Notes)
			}
			want := map[bool]string{false: "http/1.1", true: "h2"}[h2]
			for i, r := range res.Rows {
				s := p[i]
				if r.Method != s.method || !strings.HasSuffix(r.URL, s.path) || !strings.HasPrefix(r.URL, "https://127.0.0.1:") {
					t.Errorf("row %d: %s %s, want %s …%s", i, r.Method, r.URL, s.method, s.path)
				}
				if r.Protocol != want || !r.TLS || r.Name != "example.test" || r.Server != server.String() {
					t.Errorf("row %d: protocol %s tls %v name %q server %s", i, r.Protocol, r.TLS, r.Name, r.Server)
				}
				if r.Status != s.status || r.Response == nil {
					t.Fatalf("row %d: status %d, response %v", i, r.Status, r.Response)
				}
				if r.Request.Size != int64(len(s.req)) || r.Request.SHA256 != hexSum(s.req) || !r.Request.Complete {
					t.Errorf("row %d: request body %d bytes %s, want %d %s", i, r.Request.Size, r.Request.SHA256, len(s.req), hexSum(s.req))
				}
				if r.Response.Size != int64(len(s.resp)) || r.Response.SHA256 != hexSum(s.resp) || !r.Response.Complete {
					t.Errorf("row %d: response body %d bytes %s, want %d %s", i, r.Response.Size, r.Response.SHA256, len(s.resp), hexSum(s.resp))
				}
				if len(s.req) > 0 && !bytes.Equal(bodies[r.ID+" client-to-server"], s.req) {
					t.Errorf("row %d: request body handed to the hook differs", i)
				}
				if len(s.resp) > 0 && !bytes.Equal(bodies[r.ID+" server-to-client"], s.resp) {
					t.Errorf("row %d: response body handed to the hook differs (%d bytes)", i, len(bodies[r.ID+" server-to-client"]))
				}
			}
			for _, n := range res.Notes {
				if strings.HasPrefix(string(n.Code), "tls-") {
					t.Errorf("note %s: %s", n.Code, n.Message)
				}
			}
		})
	}
}
