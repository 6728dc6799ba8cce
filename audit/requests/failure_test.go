package requests_test

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/internal/netfixture"
)

// session records one HTTPS connection (HTTP/1.1, a GET and a POST) with its own key log.
func session(t *testing.T, tag string) (*netfixture.HTTPSConn, []byte) {
	t.Helper()
	var kl bytes.Buffer
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{KeyLog: &kl, ServerName: tag + ".test"}, http.HandlerFunc(handler),
		func(c *http.Client, base string) error {
			resp, err := c.Get(base + "/page?n=30000")
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			resp, err = c.Post(base+"/upload", "application/json", strings.NewReader(`{"lat":52.5,"lon":13.4}`))
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		})
	if err != nil || len(conns) != 1 {
		t.Fatalf("%d connections: %v", len(conns), err)
	}
	return conns[0], kl.Bytes()
}

// firstClientData is the index of the client's first request: its first write is the
// ClientHello, its second the Finished (TLS 1.3), the third the request.
func firstClientData(c *netfixture.HTTPSConn) int {
	n := 0
	for j, ch := range c.Chunks {
		if ch.FromClient {
			if n++; n == 3 {
				return j
			}
		}
	}
	return 0
}

var secretHex = regexp.MustCompile(`(?m) [0-9a-f]+$`)

// Damaged sessions in one capture: wrong keys, a record cut by the end of the capture, a lost
// handshake segment, a capture that joins mid-stream. Each is reported with its own code and
// nothing of it is guessed; the good sessions around them lose nothing.
func TestDamagedSessionsReported(t *testing.T) {
	tags := []string{"good1", "wrongkeys", "truncated", "nohello", "midstream", "good2"}
	var conns []*netfixture.HTTPSConn
	var keylog bytes.Buffer
	for _, tag := range tags {
		c, kl := session(t, tag)
		if tag == "wrongkeys" {
			// Same client randoms, other secrets: every secret's hex digits turned.
			kl = secretHex.ReplaceAllFunc(kl, func(b []byte) []byte {
				return bytes.Map(func(r rune) rune {
					if r == ' ' {
						return r
					}
					return rune("123456789abcdef0"[strings.IndexRune("0123456789abcdef", r)])
				}, b)
			})
		}
		if tag == "truncated" {
			// The capture ends inside the first response, 15000 bytes into it: inside a record.
			req, left := firstClientData(c), 15000
			for j := req + 1; j < len(c.Chunks); j++ {
				if ch := c.Chunks[j]; !ch.FromClient {
					if len(ch.Data) >= left {
						c.Chunks = append(c.Chunks[:j:j], netfixture.Chunk{Data: ch.Data[:left]})
						break
					}
					left -= len(ch.Data)
				}
			}
		}
		conns = append(conns, c)
		keylog.Write(kl)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	err := netfixture.WriteHTTPS(w, conns, phone, server,
		func(i, j int) bool { return tags[i] == "nohello" && j == 1 }, // the server's first flight
		func(i int) int {
			if tags[i] == "midstream" {
				return firstClientData(conns[i])
			}
			return 0
		})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	res, _ := build(t, "damaged.pcap", buf.Bytes(), keylog.Bytes())

	byName := map[string]int{}
	for _, r := range res.Rows {
		byName[r.Name]++
		if r.Name == "good1.test" || r.Name == "good2.test" {
			if r.Response == nil || !r.Response.Complete || !r.Request.Complete {
				t.Errorf("good session row %s: %+v", r.ID, r)
			}
		}
	}
	if byName["good1.test"] != 2 || byName["good2.test"] != 2 {
		t.Errorf("good sessions lost rows: %v", byName)
	}
	for _, bad := range []string{"wrongkeys.test", "nohello.test"} {
		if byName[bad] != 0 {
			t.Errorf("%s: %d rows from a session that cannot be decrypted", bad, byName[bad])
		}
	}
	if byName["truncated.test"] > 1 {
		t.Errorf("truncated session: %d rows, want at most the first request", byName["truncated.test"])
	}
	codes := map[decoders.Code]int{}
	for _, n := range res.Notes {
		codes[n.Code]++
		t.Logf("note %s %s: %s", n.Code, n.Locator, n.Message)
	}
	for _, c := range []decoders.Code{decoders.CodeTLSWrongKeys, decoders.CodeTLSPartial, decoders.CodeTLSNoHandshake} {
		if codes[c] == 0 {
			t.Errorf("no %s note", c)
		}
	}
	if codes[decoders.CodeTLSNoHandshake] < 2 {
		t.Errorf("%d no-handshake notes, want the lost hello and the mid-stream join", codes[decoders.CodeTLSNoHandshake])
	}
}
