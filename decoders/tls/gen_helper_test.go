package tls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// Sessions between Go's crypto/tls client and server over loopback TCP (kernel buffers: both
// sides may write at once, as in a HelloRetryRequest), recorded byte for byte in the order they
// were written, with both sides' key log lines.

type wire struct {
	dir  netflow.Direction
	data []byte
}

type recorder struct {
	net.Conn
	dir netflow.Direction
	mu  *sync.Mutex
	out *[]wire
}

func (c *recorder) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.out = append(*c.out, wire{c.dir, bytes.Clone(p)})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

var (
	certsOnce sync.Once
	certRSA   tls.Certificate
	certECDSA tls.Certificate
)

func testCerts(t testing.TB) []tls.Certificate {
	certsOnce.Do(func() {
		mk := func(pub, priv any) tls.Certificate {
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "droneaudit test"},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{"example.test"}}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
			if err != nil {
				panic(err)
			}
			return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}
		}
		ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		certECDSA = mk(&ek.PublicKey, ek)
		rk, _ := rsa.GenerateKey(rand.Reader, 2048)
		certRSA = mk(&rk.PublicKey, rk)
	})
	return []tls.Certificate{certECDSA, certRSA}
}

// exchange is one request and its response.
type exchange struct{ req, resp []byte }

// goSession runs one connection: the client sends each request, the server answers it. It
// returns what crossed the wire, in order.
func goSession(t testing.TB, ccfg, scfg *tls.Config, xs []exchange) []wire {
	t.Helper()
	a, b := loopbackPair(t)
	var mu sync.Mutex
	var out []wire
	cc := &recorder{Conn: a, dir: netflow.ClientToServer, mu: &mu, out: &out}
	sc := &recorder{Conn: b, dir: netflow.ServerToClient, mu: &mu, out: &out}
	srv := tls.Server(sc, scfg)
	errc := make(chan error, 1)
	go func() {
		defer sc.Close()
		for _, x := range xs {
			if _, err := io.ReadFull(srv, make([]byte, len(x.req))); err != nil {
				errc <- err
				return
			}
			if _, err := srv.Write(x.resp); err != nil {
				errc <- err
				return
			}
		}
		// Read on until the client's close_notify.
		io.Copy(io.Discard, srv)
		errc <- nil
	}()
	cli := tls.Client(cc, ccfg)
	for _, x := range xs {
		if _, err := cli.Write(x.req); err != nil {
			t.Fatalf("client write: %v", err)
		}
		if _, err := io.ReadFull(cli, make([]byte, len(x.resp))); err != nil {
			t.Fatalf("client read: %v", err)
		}
	}
	if len(xs) == 0 {
		if err := cli.Handshake(); err != nil {
			t.Fatalf("handshake: %v", err)
		}
	}
	cli.Close()
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return out
}

// configs returns a client and a server configuration writing one key log.
func configs(t testing.TB, keylog io.Writer) (*tls.Config, *tls.Config) {
	c := &tls.Config{InsecureSkipVerify: true, ServerName: "example.test", KeyLogWriter: keylog}
	s := &tls.Config{Certificates: testCerts(t), KeyLogWriter: keylog}
	return c, s
}

// feedMode chooses how recorded bytes reach the Session.
type feedMode int

const (
	feedInOrder     feedMode = iota // write by write, as they crossed the wire
	feedBytewise                    // in random small pieces
	feedClientFirst                 // the whole client direction, then the whole server direction
)

// decryptWire feeds recorded bytes to a new Session.
func decryptWire(t testing.TB, w []wire, keys *tlskeys.Log, mode feedMode) ([2][]byte, Summary) {
	t.Helper()
	var plain [2][]byte
	s := NewSession(Config{Keys: keys, OnData: func(d *Data) { plain[d.Dir] = append(plain[d.Dir], d.Bytes...) }})
	r := mrand.New(mrand.NewPCG(1, 2))
	switch mode {
	case feedInOrder:
		for _, x := range w {
			s.Feed(x.dir, x.data)
		}
	case feedBytewise:
		for _, x := range w {
			for p := x.data; len(p) > 0; {
				n := min(len(p), 1+r.IntN(40))
				s.Feed(x.dir, p[:n])
				p = p[n:]
			}
		}
	case feedClientFirst:
		for _, d := range []netflow.Direction{netflow.ClientToServer, netflow.ServerToClient} {
			for _, x := range w {
				if x.dir == d {
					s.Feed(x.dir, x.data)
				}
			}
		}
	}
	return plain, s.Close()
}

func joined(xs []exchange) [2][]byte {
	var out [2][]byte
	for _, x := range xs {
		out[0] = append(out[0], x.req...)
		out[1] = append(out[1], x.resp...)
	}
	return out
}

func keysOf(t testing.TB, b []byte) *tlskeys.Log {
	l := tlskeys.NewLog()
	if st := l.AddText(b); st.Rejected > 0 {
		t.Fatalf("key log: %+v", st)
	}
	return l
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// loopbackPair returns the two ends of a loopback TCP connection.
func loopbackPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return a, r.c
}
