package http

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// appendBody grows a pooled buffer across size classes and keeps every byte in order, whatever
// the buffers the pools hand back hold.
func TestAppendBodyAcrossClasses(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for round := range 50 {
		var want, b []byte
		for range r.IntN(40) {
			p := make([]byte, r.IntN(40000))
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			want = append(want, p...)
			b = appendBody(b, p)
		}
		if !bytes.Equal(b, want) {
			t.Fatalf("round %d: %d bytes kept, want %d, or different", round, len(b), len(want))
		}
		if c := cap(b); len(b) > 0 && (c&(c-1) != 0 || c < 1<<minBodyClass) {
			t.Fatalf("round %d: capacity %d is not a class size", round, c)
		}
		giveBody(b)
	}
	if got := takeBody(100); len(got) != 0 || cap(got) != 1<<minBodyClass {
		t.Fatalf("takeBody(100): len %d cap %d", len(got), cap(got))
	}
	if got := takeBody(1<<maxBodyClass + 1); cap(got) != 1<<maxBodyClass+1 {
		t.Fatalf("a body over the largest class: cap %d", cap(got))
	}
}

// An HTTP/1.1 connection of many exchanges (bodies with a Content-Length and chunked, from empty
// to 300 KB, pipelined and fed in random pieces) gives the same exchanges with Recycle as without:
// each body as sent, during the hook, and none left on the message after it.
func TestH1RecycleSameExchanges(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var client, server strings.Builder
	var want [][2][]byte
	for i := range 60 {
		req := bytes.Repeat([]byte{byte('a' + i%26)}, r.IntN(3)*r.IntN(100000))
		resp := make([]byte, r.IntN(300000))
		for k := range resp {
			resp[k] = byte(r.Uint32())
		}
		want = append(want, [2][]byte{req, resp})
		fmt.Fprintf(&client, "POST /up/%d HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s", i, len(req), req)
		if i%2 == 0 {
			fmt.Fprintf(&server, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(resp), resp)
			continue
		}
		server.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
		for rest := resp; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(20000))
			fmt.Fprintf(&server, "%x\r\n%s\r\n", k, rest[:k])
			rest = rest[k:]
		}
		server.WriteString("0\r\n\r\n")
	}
	for _, recycle := range []bool{false, true} {
		var got [][2][]byte
		var handed []*Exchange
		c := NewH1Conn(H1Config{MaxBody: 1 << 20, MaxPending: 100, Recycle: recycle, OnExchange: func(e *Exchange) {
			if e.Request.SHA256 != sha256.Sum256(e.Request.Body) || e.Response.SHA256 != sha256.Sum256(e.Response.Body) {
				t.Errorf("recycle %v: request %d: body does not match its hash", recycle, e.Seq)
			}
			got = append(got, [2][]byte{bytes.Clone(e.Request.Body), bytes.Clone(e.Response.Body)})
			handed = append(handed, e)
		}})
		pr := rand.New(rand.NewPCG(11, 12))
		for _, side := range []struct {
			dir  bool
			data string
		}{{true, client.String()}, {false, server.String()}} {
			for b := []byte(side.data); len(b) > 0; {
				k := min(len(b), 1+pr.IntN(70000))
				if side.dir {
					c.Feed(c2s, b[:k])
				} else {
					c.Feed(s2c, b[:k])
				}
				b = b[k:]
			}
		}
		c.Close()
		if len(got) != len(want) {
			t.Fatalf("recycle %v: %d exchanges, want %d", recycle, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i][0], want[i][0]) || !bytes.Equal(got[i][1], want[i][1]) {
				t.Fatalf("recycle %v: exchange %d: bodies of %d and %d bytes, want %d and %d", recycle, i,
					len(got[i][0]), len(got[i][1]), len(want[i][0]), len(want[i][1]))
			}
			if recycle && (handed[i].Request.Body != nil || handed[i].Response.Body != nil) {
				t.Fatalf("exchange %d: body left on the message after the hook", i)
			}
		}
	}
}
