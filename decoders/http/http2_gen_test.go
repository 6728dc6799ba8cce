package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dtls "droneaudit/decoders/tls"
	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// recConn records the TLS bytes of a client connection as they cross it.
type recConn struct {
	net.Conn
	mu  *sync.Mutex
	out *[][2][]byte // per chunk: [direction byte][data]
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		*c.out = append(*c.out, [2][]byte{{1}, bytes.Clone(p[:n])})
		c.mu.Unlock()
	}
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.out = append(*c.out, [2][]byte{{0}, bytes.Clone(p)})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// TestGoHTTP2 runs net/http's HTTP/2 client and server over TLS with a key log, decrypts the
// recorded connection and follows it: every request and response, bodies byte for byte,
// concurrent streams, repeated headers (HPACK dynamic table) and trailers.
func TestGoHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		w.Header().Set("Trailer", "X-Body-Sha256")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(201)
		w.Write(bytes.Repeat([]byte(r.URL.Path), 3000))
		w.Header().Set("X-Body-Sha256", fmt.Sprintf("%x", sum))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	var kl bytes.Buffer
	var mu sync.Mutex
	var conns []*[][2][]byte // the transport may dial more than once while requests start
	tr := &nethttp.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, KeyLogWriter: &kl, NextProtos: []string{"h2"}},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			out := new([][2][]byte)
			conns = append(conns, out)
			return &recConn{Conn: c, mu: &mu, out: out}, nil
		},
	}
	client := &nethttp.Client{Transport: tr}
	bodies := map[string][]byte{}
	var wg sync.WaitGroup
	do := func(i int) {
		defer wg.Done()
		path := fmt.Sprintf("/upload/%d", i)
		req, _ := nethttp.NewRequest("POST", srv.URL+path, bytes.NewReader(bodies[path]))
		req.Header.Set("X-Drone", "same value every time")
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s", resp.Proto)
		}
	}
	for i := range 8 {
		bodies[fmt.Sprintf("/upload/%d", i)] = bytes.Repeat([]byte{byte('a' + i)}, 1000+i*7000)
	}
	// The first request opens the connection; the others share it as concurrent streams.
	wg.Add(1)
	do(0)
	for i := 1; i < 8; i++ {
		wg.Add(1)
		go do(i)
	}
	wg.Wait()
	tr.CloseIdleConnections()
	keys := tlskeys.NewLog()
	keys.AddText(kl.Bytes())
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d connections dialled", len(conns))
	// Followed twice: keeping every body, and with Recycle (body memory reused after the hook).
	for _, recycle := range []bool{false, true} {
		var msgs, handed []*H2Message
		decrypted := 0
		for _, chunks := range conns {
			h2 := NewH2Conn(H2Config{Recycle: recycle, OnMessage: func(m *H2Message) {
				if m.Complete {
					// With Recycle the body is valid only during the call: keep a copy, and the
					// message itself to check that its body was taken back.
					cp := *m
					cp.Body = bytes.Clone(m.Body)
					msgs = append(msgs, &cp)
					handed = append(handed, m)
				}
			}})
			s := dtls.NewSession(dtls.Config{Keys: keys, OnData: func(d *dtls.Data) {
				if err := h2.Feed(d.Dir, d.Bytes); err != nil {
					t.Fatal(err)
				}
			}})
			for _, c := range *chunks {
				s.Feed(netflow.Direction(c[0][0]), c[1])
			}
			sum := s.Close()
			h2.Close()
			if sum.Status == dtls.StatusDecrypted {
				decrypted++
				if sum.ALPN != "h2" {
					t.Errorf("ALPN %q", sum.ALPN)
				}
			} else if sum.Status != dtls.StatusIncomplete && sum.Status != dtls.StatusPartial {
				t.Errorf("connection: TLS %s %s", sum.Status, sum.Reason)
			}
		}
		if decrypted != 1 || len(conns) != 1 {
			t.Fatalf("%d connections, %d decrypted: want one, shared by every stream", len(conns), decrypted)
		}
		// Stream IDs repeat across connections: pair each request with its response by path.
		reqs, resps := map[string]*H2Message{}, map[string]*H2Message{}
		for _, m := range msgs {
			if m.Dir == netflow.ClientToServer {
				reqs[m.Path] = m
			} else {
				resps[m.Header("x-path")] = m
			}
		}
		if len(reqs) != len(bodies) || len(resps) != len(bodies) {
			t.Fatalf("%d requests, %d responses", len(reqs), len(resps))
		}
		for id, rq := range reqs {
			rs := resps[id]
			want := bodies[rq.Path]
			if rq.Method != "POST" || !strings.HasPrefix(rq.Authority, "127.0.0.1:") || !bytes.Equal(rq.Body, want) || rq.Header("x-drone") != "same value every time" || !rq.Complete {
				t.Errorf("%s: %s %s%s, %d body bytes (want %d), x-drone %q", id, rq.Method, rq.Authority, rq.Path, len(rq.Body), len(want), rq.Header("x-drone"))
			}
			sum := sha256.Sum256(want)
			if rs == nil || rs.Status != 201 || !bytes.Equal(rs.Body, bytes.Repeat([]byte(rq.Path), 3000)) || rs.Header("x-path") != rq.Path ||
				len(rs.Trailers) != 1 || rs.Trailers[0].Value != fmt.Sprintf("%x", sum) || !rs.Complete {
				t.Errorf("%s: response %+v", id, rs)
			}
		}
		for _, m := range handed {
			if recycle && m.Body != nil {
				t.Errorf("recycle %v: body of %d bytes left on a handed message", recycle, len(m.Body))
			}
		}
	}
}

// FuzzH2 feeds arbitrary bytes as the two directions of an HTTP/2 connection: frames, HPACK
// header blocks, padding and CONTINUATION sequences. Invariants: no panic, bounded bodies.
func FuzzH2(f *testing.F) {
	frame := func(typ, flags byte, id uint32, payload []byte) []byte {
		h := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags, byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
		return append(h, payload...)
	}
	// HEADERS with :method GET (static index 2), :path / (4), :scheme https (7), then DATA.
	client := append([]byte(ClientPreface), frame(4, 0, 0, nil)...)
	client = append(client, frame(1, 0x5, 1, []byte{0x82, 0x84, 0x87})...)
	server := append(frame(4, 0, 0, []byte{0, 1, 0, 0, 0x10, 0}), frame(1, 0x4, 1, []byte{0x88})...)
	server = append(server, frame(0, 0x1, 1, []byte("hello"))...)
	f.Add(uint16(len(client)), append(client, server...))
	f.Add(uint16(3), append(client, server...))
	// An extended CONNECT (RFC 8441): :method CONNECT and :protocol websocket as literals, then
	// DATA both ways on the open stream (a WebSocket tunnel).
	lit := func(nameIdx byte, name, value string) []byte {
		b := []byte{nameIdx}
		if nameIdx == 0 {
			b = append(append(b, byte(len(name))), name...)
		}
		return append(append(b, byte(len(value))), value...)
	}
	hdr := append(append(lit(2, "", "CONNECT"), lit(0, ":protocol", "websocket")...), 0x84, 0x87)
	xc := append(append([]byte(ClientPreface), frame(4, 0, 0, nil)...), frame(1, 0x4, 1, hdr)...)
	xc = append(xc, frame(0, 0, 1, []byte{0x82, 0x80})...)
	xs := append(append(frame(4, 0, 0, nil), frame(1, 0x4, 1, []byte{0x88})...), frame(0, 0, 1, []byte{0x82, 0x00})...)
	f.Add(uint16(len(xc)), append(xc, xs...))
	f.Fuzz(func(t *testing.T, split uint16, in []byte) {
		n := min(int(split), len(in))
		c := NewH2Conn(H2Config{MaxBody: 1 << 10, MaxHeld: 1 << 12, MaxStreams: 8, MaxFrame: 1 << 14, Recycle: split&1 == 1, OnMessage: func(m *H2Message) {
			if len(m.Body) > 1<<10 || int64(len(m.Body)) > m.BodyLen {
				t.Fatalf("body %d of %d", len(m.Body), m.BodyLen)
			}
		}, OnTunnel: func(tn *H2Tunnel) {
			if tn.Request == nil || tn.Request.Method != "CONNECT" || tn.Request.Protocol == "" || len(tn.Data) == 0 || len(tn.Data) > 1<<14 {
				t.Fatalf("tunnel %+v with %d bytes", tn.Request, len(tn.Data))
			}
		}})
		c.Feed(netflow.ClientToServer, in[:n])
		c.Feed(netflow.ServerToClient, in[n:])
		if c.held > 1<<12 || len(c.streams) > 8 {
			t.Fatalf("held %d, %d streams", c.held, len(c.streams))
		}
		c.Close()
	})
}
