package netfixture

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"

	"golang.org/x/net/http2"
)

// HTTPS traffic between Go's net/http client and server over loopback TLS (HTTP/1.1, or HTTP/2
// negotiated by ALPN), recorded on the client side byte for byte in the order the client wrote
// and read them, with the key log of the client. WriteHTTPS turns the recording into TCP
// connections of a capture.

// HTTPSOptions choose the protocol and where the key log goes.
type HTTPSOptions struct {
	HTTP2  bool
	KeyLog io.Writer // the client's NSS key log lines
	// ServerName is the SNI the client sends ("example.test" when empty).
	ServerName string
	// XNetClient makes the client golang.org/x/net/http2's Transport (HTTP/2 only) rather than
	// net/http's: it can send an extended CONNECT (RFC 8441, a request header ":protocol"),
	// which net/http's client refuses. The server offers extended CONNECT only in a process
	// started with GODEBUG=http2xconnect=1.
	XNetClient bool
}

// HTTPSConn is one recorded TLS connection.
type HTTPSConn struct {
	mu     sync.Mutex
	Chunks []Chunk
	// done is set when RecordHTTPS returns: a read loop of the client (HTTP/2 keeps one per
	// connection) may still be running then, and must not append to Chunks while the caller
	// reads them.
	done bool
}

type httpsRec struct {
	net.Conn
	c *HTTPSConn
}

func (r *httpsRec) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if n > 0 {
		r.c.mu.Lock()
		if !r.c.done {
			r.c.Chunks = append(r.c.Chunks, Chunk{FromClient: false, Data: bytes.Clone(p[:n])})
		}
		r.c.mu.Unlock()
	}
	return n, err
}

func (r *httpsRec) Write(p []byte) (int, error) {
	r.c.mu.Lock()
	if !r.c.done {
		r.c.Chunks = append(r.c.Chunks, Chunk{FromClient: true, Data: bytes.Clone(p)})
	}
	r.c.mu.Unlock()
	return r.Conn.Write(p)
}

// RecordHTTPS serves h over TLS on loopback, runs do with a client for it and the server's base
// URL, and returns each connection the client opened, in the order opened.
func RecordHTTPS(o HTTPSOptions, h http.Handler, do func(c *http.Client, base string) error) ([]*HTTPSConn, error) {
	crt, err := serverCert()
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = o.HTTP2
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{crt}}
	srv.StartTLS()
	defer srv.Close()
	var mu sync.Mutex
	var conns []*HTTPSConn
	d := &net.Dialer{}
	name := o.ServerName
	if name == "" {
		name = "example.test"
	}
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: name, KeyLogWriter: o.KeyLog},
		ForceAttemptHTTP2: o.HTTP2,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			hc := &HTTPSConn{}
			mu.Lock()
			conns = append(conns, hc)
			mu.Unlock()
			return &httpsRec{Conn: c, c: hc}, nil
		},
	}
	cl := &http.Client{Transport: tr}
	var tr2 *http2.Transport
	if o.XNetClient {
		tr2 = &http2.Transport{TLSClientConfig: tr.TLSClientConfig.Clone(),
			DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
				c, err := tr.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				tc := tls.Client(c, cfg)
				if err := tc.HandshakeContext(ctx); err != nil {
					c.Close()
					return nil, err
				}
				return tc, nil
			}}
		cl = &http.Client{Transport: tr2}
	}
	err = do(cl, srv.URL)
	tr.CloseIdleConnections()
	if tr2 != nil {
		tr2.CloseIdleConnections()
	}
	srv.Close()
	mu.Lock()
	defer mu.Unlock()
	for _, hc := range conns {
		hc.mu.Lock()
		hc.done = true
		hc.mu.Unlock()
	}
	return conns, err
}

// LabHTTPSPcap writes recorded connections as a pcap between the lab phone 192.168.1.20 (from
// port 40000 on, one port per connection) and a cloud server at 203.0.113.7:443, the addresses
// the audit tests read.
func LabHTTPSPcap(conns []*HTTPSConn) ([]byte, error) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Pcap, nil)
	if err != nil {
		return nil, err
	}
	if err := WriteHTTPS(w, conns, netip.MustParseAddrPort("192.168.1.20:40000"), netip.MustParseAddrPort("203.0.113.7:443"), nil, nil); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteHTTPS writes each connection as a TCP connection from client (port 40000 + its index) to
// server, the chunks in recorded order, then the FINs. skip, if set, drops chunk j of connection
// i from the capture (the sequence numbers move on: a hole); start, if set, gives the first
// chunk of connection i that is captured at all (the capture joins mid-stream, without the
// handshake).
func WriteHTTPS(w *Writer, conns []*HTTPSConn, client, server netip.AddrPort, skip func(i, j int) bool, start func(i int) int) error {
	for i, hc := range conns {
		cli := netip.AddrPortFrom(client.Addr(), client.Port()+uint16(i))
		first := 0
		if start != nil {
			first = start(i)
		}
		target := w
		if first > 0 {
			// The connection is opened before the capture starts: its SYNs and first chunks go
			// nowhere.
			var err error
			if target, err = NewWriter(io.Discard, Pcap, nil); err != nil {
				return err
			}
		}
		c, err := target.TCP(cli, server)
		if err != nil {
			return err
		}
		for j, ch := range hc.Chunks {
			if j == first && first > 0 {
				c.Continue(w)
			}
			if skip != nil && skip(i, j) {
				c.Advance(ch.FromClient, len(ch.Data))
				continue
			}
			if err := c.Send(ch.FromClient, ch.Data); err != nil {
				return err
			}
		}
		if err := c.Close(); err != nil {
			return err
		}
	}
	return nil
}
