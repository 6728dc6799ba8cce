// Package netfixture makes the network fixtures that tests and benchmarks need, from real
// protocol stacks rather than hand-written bytes: TLS sessions between Go's crypto/tls client and
// server, QUIC connections between quic-go endpoints over loopback, and the capture files
// (pcap, pcapng with a Decryption Secrets Block) that carry them. Nothing here is copied from a
// capture; every byte is produced when the test runs.
package netfixture

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// Chunk is one write on a connection, in the order the bytes crossed it.
type Chunk struct {
	FromClient bool
	Data       []byte
}

var (
	certOnce sync.Once
	cert     tls.Certificate
	certErr  error
)

// serverCert is a throwaway self-signed certificate for every name; clients skip verification.
func serverCert() (tls.Certificate, error) {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "droneaudit fixture"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			DNSNames:     []string{"*"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	return cert, certErr
}

// TLSOptions choose what the client offers.
type TLSOptions struct {
	ServerName string
	ALPN       []string
	MaxVersion uint16 // 0 = crypto/tls default (TLS 1.3)
	// Classic avoids the post-quantum key share, so the ClientHello fits one segment.
	Classic bool
	KeyLog  io.Writer
	Request []byte // sent by the client after the handshake; the server answers with Response
	// Response is what the server sends back.
	Response []byte
	// Seed, when not 0, makes the session reproducible byte for byte: the client and the
	// server draw their randoms from ChaCha8 streams of the seed, the server certificate is an
	// Ed25519 one (deterministic signatures) made from the seed, the key share is X25519 only
	// and no session ticket is sent. Go 1.26 and later use a reader given to crypto only with
	// GODEBUG=cryptocustomrand=1 (a //go:debug line in the main package or test file); without
	// it the key shares, and so the bytes, still differ from run to run.
	Seed uint64
}

// seededCert is a self-signed Ed25519 certificate for every name, the same for the same seed.
func seededCert(seed uint64) (tls.Certificate, error) {
	var s [ed25519.SeedSize]byte
	if _, err := mrand.NewChaCha8(seedBytes(seed)).Read(s[:]); err != nil {
		return tls.Certificate{}, err
	}
	key := ed25519.NewKeyFromSeed(s[:])
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(seed & 0x7fffffff)),
		Subject:      pkix.Name{CommonName: "droneaudit fixture"},
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		DNSNames:     []string{"*"},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// steadyReader is a seeded stream that answers one-byte reads with a zero and without moving on:
// crypto reads one byte from a custom reader half of the time, at random (randutil.MaybeReadByte,
// so that callers do not depend on the stream), which would make the rest of the stream differ
// from run to run. No key or random of TLS is one byte long.
type steadyReader struct{ r io.Reader }

func (s steadyReader) Read(p []byte) (int, error) {
	if len(p) == 1 {
		p[0] = 0
		return 1, nil
	}
	return s.r.Read(p)
}

// seedBytes spreads a seed over a ChaCha8 key.
func seedBytes(seed uint64) [32]byte {
	var k [32]byte
	binary.LittleEndian.PutUint64(k[:], seed)
	binary.LittleEndian.PutUint64(k[8:], seed^0x9e3779b97f4a7c15)
	return k
}

type recConn struct {
	net.Conn
	client bool
	mu     *sync.Mutex
	out    *[]Chunk
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.out = append(*c.out, Chunk{FromClient: c.client, Data: bytes.Clone(p)})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// TLSSession runs a whole TLS session between crypto/tls endpoints over an in-memory pipe and
// returns every write in order.
func TLSSession(o TLSOptions) ([]Chunk, error) {
	crt, err := serverCert()
	if o.Seed != 0 {
		crt, err = seededCert(o.Seed)
	}
	if err != nil {
		return nil, err
	}
	a, b := net.Pipe()
	var mu sync.Mutex
	var chunks []Chunk
	cc := &recConn{Conn: a, client: true, mu: &mu, out: &chunks}
	sc := &recConn{Conn: b, client: false, mu: &mu, out: &chunks}
	ccfg := &tls.Config{ServerName: o.ServerName, NextProtos: o.ALPN, InsecureSkipVerify: true, MaxVersion: o.MaxVersion, KeyLogWriter: o.KeyLog}
	if o.Classic {
		ccfg.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	scfg := &tls.Config{Certificates: []tls.Certificate{crt}, NextProtos: o.ALPN}
	if o.Seed != 0 {
		// One stream per side: the two sides run on their own goroutines.
		ccfg.Rand = steadyReader{mrand.NewChaCha8(seedBytes(o.Seed + 1))}
		scfg.Rand = steadyReader{mrand.NewChaCha8(seedBytes(o.Seed + 2))}
		ccfg.CurvePreferences = []tls.CurveID{tls.X25519}
		scfg.SessionTicketsDisabled = true
		fixed := func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }
		ccfg.Time, scfg.Time = fixed, fixed
	}
	srv := tls.Server(sc, scfg)
	errc := make(chan error, 1)
	go func() {
		defer sc.Close() // raw close: a TLS close_notify would block on the unread pipe
		if err := srv.Handshake(); err != nil {
			errc <- err
			return
		}
		if len(o.Request) > 0 {
			if _, err := io.ReadFull(srv, make([]byte, len(o.Request))); err != nil {
				errc <- err
				return
			}
		}
		if len(o.Response) > 0 {
			if _, err := srv.Write(o.Response); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	cli := tls.Client(cc, ccfg)
	if err := cli.Handshake(); err != nil {
		return nil, err
	}
	if len(o.Request) > 0 {
		if _, err := cli.Write(o.Request); err != nil {
			return nil, err
		}
	}
	if len(o.Response) > 0 {
		if _, err := io.ReadFull(cli, make([]byte, len(o.Response))); err != nil {
			return nil, err
		}
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	cli.Close()
	mu.Lock()
	defer mu.Unlock()
	return chunks, nil
}

// ClientHelloFlight returns the client's first flight (the TLS records holding its ClientHello)
// of a real crypto/tls client.
func ClientHelloFlight(o TLSOptions) ([]byte, error) {
	chunks, err := TLSSession(o)
	if err != nil {
		return nil, err
	}
	for _, c := range chunks {
		if c.FromClient {
			return c.Data, nil
		}
	}
	return nil, errors.New("netfixture: client sent nothing")
}

// recPacketConn records the datagrams a quic-go client sends and receives.
type recPacketConn struct {
	net.PacketConn
	mu  sync.Mutex
	out []Chunk
}

func (c *recPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.mu.Lock()
	c.out = append(c.out, Chunk{FromClient: true, Data: bytes.Clone(p)})
	c.mu.Unlock()
	return c.PacketConn.WriteTo(p, addr)
}

func (c *recPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		c.mu.Lock()
		c.out = append(c.out, Chunk{FromClient: false, Data: bytes.Clone(p[:n])})
		c.mu.Unlock()
	}
	return n, addr, err
}

// QUICOptions choose the QUIC connection.
type QUICOptions struct {
	ServerName string
	ALPN       string
	Version2   bool // RFC 9369 instead of RFC 9000
	KeyLog     io.Writer
	Message    []byte // sent on a stream and echoed back
}

// QUICSession runs a real quic-go connection over loopback UDP and returns the datagrams the
// client sent and received, in the order its socket saw them.
func QUICSession(ctx context.Context, o QUICOptions) ([]Chunk, error) {
	crt, err := serverCert()
	if err != nil {
		return nil, err
	}
	alpn := o.ALPN
	if alpn == "" {
		alpn = "h3"
	}
	qc := &quic.Config{}
	if o.Version2 {
		qc.Versions = []quic.Version{quic.Version2}
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{crt}, NextProtos: []string{alpn}}, qc)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	srvErr := make(chan error, 1)
	go func() {
		conn, err := ln.Accept(ctx)
		if err != nil {
			srvErr <- err
			return
		}
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			srvErr <- err
			return
		}
		buf, err := io.ReadAll(st)
		if err == nil {
			_, err = st.Write(buf)
		}
		st.Close()
		<-conn.Context().Done()
		srvErr <- err
	}()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rec := &recPacketConn{PacketConn: udp}
	tr := &quic.Transport{Conn: rec}
	defer tr.Close()
	conn, err := tr.Dial(ctx, ln.Addr(), &tls.Config{ServerName: o.ServerName, NextProtos: []string{alpn}, InsecureSkipVerify: true, KeyLogWriter: o.KeyLog}, qc)
	if err != nil {
		return nil, err
	}
	st, err := conn.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := st.Write(o.Message); err != nil {
		return nil, err
	}
	st.Close()
	if _, err := io.ReadAll(st); err != nil {
		return nil, err
	}
	conn.CloseWithError(0, "")
	if err := <-srvErr; err != nil && !isClosed(err) {
		return nil, err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.out, nil
}

func isClosed(err error) bool {
	var ae *quic.ApplicationError
	return errors.As(err, &ae) || errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled)
}

// SetReadBuffer and SetWriteBuffer pass quic-go's socket-buffer tuning to the UDP socket.
func (c *recPacketConn) SetReadBuffer(n int) error {
	if u, ok := c.PacketConn.(*net.UDPConn); ok {
		return u.SetReadBuffer(n)
	}
	return nil
}

// SetWriteBuffer: see SetReadBuffer.
func (c *recPacketConn) SetWriteBuffer(n int) error {
	if u, ok := c.PacketConn.(*net.UDPConn); ok {
		return u.SetWriteBuffer(n)
	}
	return nil
}
