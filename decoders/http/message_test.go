package http

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"droneaudit/netflow"
)

const (
	c2s = netflow.ClientToServer
	s2c = netflow.ServerToClient
)

// follow feeds the client's bytes, then the server's, each in pieces of n bytes (whole when n is
// 0): a response follows its request, as on the wire. It returns the exchanges.
func follow(t *testing.T, client, server string, n int, maxBody int) []*Exchange {
	t.Helper()
	var out []*Exchange
	c := NewH1Conn(H1Config{MaxBody: maxBody, OnExchange: func(e *Exchange) { out = append(out, e) }})
	for _, side := range []struct {
		dir netflow.Direction
		b   []byte
	}{{c2s, []byte(client)}, {s2c, []byte(server)}} {
		b := side.b
		for len(b) > 0 {
			k := len(b)
			if n > 0 {
				k = min(n, len(b))
			}
			c.Feed(side.dir, b[:k])
			b = b[k:]
		}
	}
	c.Close()
	return out
}

// Keep-alive with pipelining: three requests sent at once (a GET, a POST with Content-Length, a
// chunked POST), three responses (Content-Length, chunked with a trailer, a HEAD's
// Content-Length without body) paired in order, whatever the segmentation.
func TestH1PipelinedExchanges(t *testing.T) {
	client := "GET /a?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n" +
		"POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"lat\":1.5}" +
		"POST /chunk HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" +
		"HEAD /h HTTP/1.1\r\nHost: example.com\r\n\r\n"
	server := "HTTP/1.1 100 Continue\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
		"HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\nContent-Encoding: br\r\n\r\n3\r\nxyz\r\n0\r\nX-Trailer: 1\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n"
	for _, n := range []int{0, 1, 7, 64} {
		ex := follow(t, client, server, n, 0)
		if len(ex) != 4 {
			t.Fatalf("pieces of %d: %d exchanges", n, len(ex))
		}
		want := []struct {
			method, target string
			status         int
			req, resp      string
		}{{"GET", "/a?x=1", 200, "", "abc"}, {"POST", "/up", 201, `{"lat":1.5}`, "xyz"}, {"POST", "/chunk", 204, "hello world", ""}, {"HEAD", "/h", 200, "", ""}}
		for i, w := range want {
			e := ex[i]
			if e.Seq != i+1 || e.Request.Method != w.method || e.Request.Target != w.target || e.Response == nil || e.Response.Status != w.status {
				t.Fatalf("pieces of %d: exchange %d: %+v %+v", n, i, e.Request, e.Response)
			}
			if string(e.Request.Body) != w.req || e.Request.SHA256 != sha256.Sum256([]byte(w.req)) || !e.Request.Complete {
				t.Errorf("pieces of %d: exchange %d request body %q", n, i, e.Request.Body)
			}
			if string(e.Response.Body) != w.resp || e.Response.BodyLen != int64(len(w.resp)) || !e.Response.Complete {
				t.Errorf("pieces of %d: exchange %d response body %q", n, i, e.Response.Body)
			}
		}
		if ex[0].Request.Host != "example.com" || ex[1].Request.ContentType != "application/json" || ex[1].Response.ContentEncoding != "br" ||
			ex[1].Response.Get("x-trailer") != "1" || !ex[2].Request.Chunked {
			t.Errorf("pieces of %d: fields %+v %+v", n, ex[0].Request, ex[1].Response)
		}
	}
}

// A body over the bound is hashed in full and kept up to the bound; a body that runs to the end
// of the connection (no length) is complete at Close; a request left without response comes out
// at Close with none.
func TestH1BodyBounds(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000)
	client := fmt.Sprintf("PUT /big HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", len(big), big) + "GET /last HTTP/1.0\r\n\r\n"
	server := "HTTP/1.1 200 OK\r\n\r\n" + string(big[:5000])
	ex := follow(t, client, server, 1000, 100)
	if len(ex) != 2 {
		t.Fatalf("%d exchanges", len(ex))
	}
	q := ex[0].Request
	if q.BodyLen != int64(len(big)) || len(q.Body) != 100 || !q.Truncated || q.SHA256 != sha256.Sum256(big) || !q.Complete {
		t.Errorf("big body: %d bytes, %d kept, truncated %v", q.BodyLen, len(q.Body), q.Truncated)
	}
	if r := ex[0].Response; r.BodyLen != 5000 || !r.Complete || r.SHA256 != sha256.Sum256(big[:5000]) {
		t.Errorf("read-to-close body %d bytes complete %v", r.BodyLen, r.Complete)
	}
	if ex[1].Request.Target != "/last" || ex[1].Response != nil {
		t.Errorf("last exchange %+v", ex[1])
	}
}

// After a gap the message in progress ends cut and the direction stops; a 101 switches both
// directions off; broken framing ends the direction with an error naming the offset.
func TestH1GapsAndErrors(t *testing.T) {
	var got []*Exchange
	c := NewH1Conn(H1Config{OnExchange: func(e *Exchange) { got = append(got, e) }})
	c.Feed(c2s, []byte("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345"))
	c.Gap(c2s)
	c.Feed(c2s, []byte("GET /y HTTP/1.1\r\n\r\n"))
	c.Close()
	if len(got) != 1 || got[0].Request.Complete || got[0].Request.BodyLen != 5 || c.Err(c2s) == nil {
		t.Errorf("after a gap: %d exchanges, err %v", len(got), c.Err(c2s))
	}

	got = nil
	c = NewH1Conn(H1Config{OnExchange: func(e *Exchange) { got = append(got, e) }})
	c.Feed(c2s, []byte("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"))
	c.Feed(s2c, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi"))
	c.Close()
	if len(got) != 1 || got[0].Response.Status != 101 || !c.Upgraded {
		t.Errorf("upgrade: %d exchanges, upgraded %v", len(got), c.Upgraded)
	}

	for _, bad := range []string{
		"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"POST /c HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"NOT HTTP\r\n\r\n",
		"GET / HTTP/1.1\r\n" + strings.Repeat("X: y\r\n", maxFields+1) + "\r\n",
		"GET / HTTP/1.1\r\n" + strings.Repeat("x", MaxHead+1),
	} {
		c = NewH1Conn(H1Config{})
		err := c.Feed(c2s, []byte(bad))
		if err == nil || !strings.Contains(err.Error(), "offset") {
			t.Errorf("%.40q: err %v", bad, err)
		}
	}
}

// FuzzH1 feeds arbitrary bytes as both directions of a connection, split where the fuzzer says:
// no panic, bounded memory, and every body either kept whole or marked truncated.
func FuzzH1(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), uint8(3))
	f.Add([]byte("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), []byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No\r\n\r\n"), uint8(1))
	f.Add([]byte("HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.0\n\n"), []byte("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.0 200 OK\r\n\r\nbody"), uint8(0))
	f.Add([]byte("GET /ws HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 101 Switching\r\n\r\n\x81\x00"), uint8(2))
	f.Fuzz(func(t *testing.T, client, server []byte, step uint8) {
		c := NewH1Conn(H1Config{MaxBody: 64, MaxPending: 4, Recycle: step&0x10 != 0, OnExchange: func(e *Exchange) {
			for _, m := range []*Message{e.Request, e.Response} {
				if m != nil && (len(m.Body) > 64 || (int64(len(m.Body)) < m.BodyLen) != m.Truncated) {
					t.Fatalf("body %d kept of %d, truncated %v", len(m.Body), m.BodyLen, m.Truncated)
				}
			}
		}})
		n := int(step%16) + 1
		for len(client) > 0 || len(server) > 0 {
			k := min(n, len(client))
			c.Feed(c2s, client[:k])
			client = client[k:]
			k = min(n, len(server))
			c.Feed(s2c, server[:k])
			server = server[k:]
		}
		c.Close()
	})
}

// FuzzHeadParts compares the head splitting helpers with the strings calls they stand for.
func FuzzHeadParts(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1\r\nHost: a\r\nContent-Type: x", "a\r\r\nb\r", "\n\n\r\n", "", "POST  /x  HTTP/1.1",
		"HTTP/1.1 200", "Content-Length", "CONTENT-ENCODİNG", "transfer-encoding", "hoſt", "USER-AGENT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := headLines(nil, s), strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n"); !slices.Equal(got, want) {
			t.Fatalf("headLines(%q) = %q, want %q", s, got, want)
		}
		if pa, n := splitStart(s); !slices.Equal(pa[:n], strings.SplitN(s, " ", 3)) {
			t.Fatalf("splitStart(%q) = %q", s, pa[:n])
		}
		for _, names := range [][]string{headFields, requestFields} {
			want := ""
			if slices.Contains(names, strings.ToLower(s)) {
				want = strings.ToLower(s)
			}
			if got := fieldName(s, names); got != want {
				t.Fatalf("fieldName(%q) = %q, want %q", s, got, want)
			}
		}
	})
}
