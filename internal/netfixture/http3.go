package netfixture

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// HTTP3Request is one request an HTTP3Session makes.
type HTTP3Request struct {
	Method string
	Path   string
	Body   []byte
}

// HTTP3Options choose the HTTP/3 session.
type HTTP3Options struct {
	ServerName string
	Version2   bool // QUIC version 2 (RFC 9369) instead of 1
	KeyLog     io.Writer
	Requests   []HTTP3Request
}

// HTTP3Response is the body the fixture's server answers a request with: the method, path and
// SHA-256 of the request body it received (path is the request URI, query included), so a test can tell each response from the others.
func HTTP3Response(method, path string, body []byte) []byte {
	sum := sha256.Sum256(body)
	return fmt.Appendf(nil, "%s %s %d %s\n", method, path, len(body), hex.EncodeToString(sum[:]))
}

// HTTP3Session runs real HTTP/3 requests between quic-go's http3 client and server over
// loopback UDP, one after the other on one QUIC connection, and returns the datagrams the client
// sent and received in the order its socket saw them.
func HTTP3Session(ctx context.Context, o HTTP3Options) ([]Chunk, error) {
	crt, err := serverCert()
	if err != nil {
		return nil, err
	}
	qc := &quic.Config{}
	if o.Version2 {
		qc.Versions = []quic.Version{quic.Version2}
	}
	srvUDP, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer srvUDP.Close()
	srv := &http3.Server{
		TLSConfig:  http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{crt}}),
		QUICConfig: qc,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "text/plain")
			w.Write(HTTP3Response(r.Method, r.URL.RequestURI(), body))
		}),
	}
	go srv.Serve(srvUDP)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rec := &recPacketConn{PacketConn: udp}
	tr := &quic.Transport{Conn: rec}
	defer tr.Close()
	rt := &http3.Transport{
		TLSClientConfig: &tls.Config{ServerName: o.ServerName, InsecureSkipVerify: true, KeyLogWriter: o.KeyLog},
		QUICConfig:      qc.Clone(), // the transport changes its config; the server's must stay as it is
		Dial: func(ctx context.Context, _ string, tlsCfg *tls.Config, cfg *quic.Config) (*quic.Conn, error) {
			return tr.DialEarly(ctx, srvUDP.LocalAddr(), tlsCfg, cfg)
		},
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	for _, q := range o.Requests {
		var body io.Reader
		if q.Body != nil {
			body = &onlyReader{b: q.Body}
		}
		req, err := http.NewRequestWithContext(ctx, q.Method, "https://"+o.ServerName+q.Path, body)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if want := HTTP3Response(q.Method, q.Path, q.Body); string(got) != string(want) {
			return nil, fmt.Errorf("netfixture: server answered %q, want %q", got, want)
		}
	}
	rt.Close()
	// Let the close reach the server before the sockets go.
	time.Sleep(50 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.out, nil
}

// onlyReader hides the length of a body, so the client sends it as it reads it.
type onlyReader struct{ b []byte }

func (r *onlyReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

// Addresses the datagrams of a session are written with in a capture: a phone talking to an
// HTTPS server on port 443.
var (
	QUICClient = netip.MustParseAddrPort("192.168.2.20:50443")
	QUICServer = netip.MustParseAddrPort("203.0.113.7:443")
)

// WriteDatagrams writes a session's datagrams as UDP frames between QUICClient and QUICServer.
func WriteDatagrams(w *Writer, chunks []Chunk) error {
	for _, c := range chunks {
		src, dst := QUICClient, QUICServer
		if !c.FromClient {
			src, dst = dst, src
		}
		if err := w.UDP(src, dst, c.Data); err != nil {
			return err
		}
	}
	return nil
}
