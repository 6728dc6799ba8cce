package fakenet

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	dtls "droneaudit/decoders/tls"
)

// Config describes the fake internet.
type Config struct {
	// TCP are the addresses to accept redirected connections on (ip:port).
	TCP []string
	// UDP are the addresses to read datagrams on, one per common port (ip:port).
	UDP []string
	Log *Log
	// CA, when set, terminates TLS with certificates it signs (--tls-intercept); KeyLog then
	// receives the session secrets in the NSS key log format.
	CA     *CA
	KeyLog io.Writer
	// Idle closes a connection after this long without client bytes (default 2 minutes).
	Idle time.Duration
}

// Server runs the listeners until Close.
type Server struct {
	cfg   Config
	tcp   []net.Listener
	udp   []net.PacketConn
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

// maxConns bounds concurrent connections: a client that opens thousands only gets the first.
const maxConns = 1024

// Start opens every listener; on error nothing stays open.
func Start(cfg Config) (*Server, error) {
	if cfg.Idle <= 0 {
		cfg.Idle = 2 * time.Minute
	}
	s := &Server{cfg: cfg, conns: map[net.Conn]struct{}{}}
	for _, a := range cfg.TCP {
		l, err := net.Listen("tcp", a)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.tcp = append(s.tcp, l)
	}
	for _, a := range cfg.UDP {
		c, err := net.ListenPacket("udp", a)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.udp = append(s.udp, c)
	}
	for _, l := range s.tcp {
		s.wg.Add(1)
		go s.accept(l)
	}
	for _, c := range s.udp {
		s.wg.Add(1)
		go s.readUDP(c)
	}
	return s, nil
}

// Addrs returns the TCP listeners' addresses (useful with port 0).
func (s *Server) Addrs() []net.Addr {
	var out []net.Addr
	for _, l := range s.tcp {
		out = append(out, l.Addr())
	}
	return out
}

// Close stops accepting, closes every open connection and waits for their records.
func (s *Server) Close() error {
	s.mu.Lock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	for _, l := range s.tcp {
		l.Close()
	}
	for _, c := range s.udp {
		c.Close()
	}
	s.wg.Wait()
	return nil
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || len(s.conns) >= maxConns {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *Server) accept(l net.Listener) {
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				slog.Warn("fakenet accept", "err", err)
			}
			return
		}
		if !s.track(c) {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serve(c)
		}()
	}
}

// serve handles one connection: read the first bytes, answer, log.
func (s *Server) serve(c net.Conn) {
	rec := Record{Time: time.Now(), Client: c.RemoteAddr().String(), Dst: c.LocalAddr().String(), Transport: "tcp"}
	if tc, ok := c.(*net.TCPConn); ok {
		if d, ok := originalDst(tc); ok {
			rec.Dst = d.String()
		}
	}
	first, err := readFirst(c, s.cfg.Idle)
	if err != nil && len(first) == 0 {
		rec.Error = err.Error()
	}
	if dtls.LooksLike(first) && s.cfg.CA != nil {
		s.intercept(c, first, &rec)
		return
	}
	s.finish(c, first, &rec, false)
}

// finish logs the record and answers. The record is written once the first bytes classify;
// for MQTT after the packet that follows CONNECT (PUBLISH, SUBSCRIBE), because the client
// waits for CONNACK before it sends it. inner says the bytes came from inside intercepted TLS.
func (s *Server) finish(c net.Conn, first []byte, rec *Record, inner bool) {
	write := func(b []byte) {
		sum := Classify(b)
		if inner {
			rec.Inner = &sum
			if rec.Name == "" {
				rec.Name = sum.Host
			}
		} else {
			rec.First, rec.Protocol, rec.Name = &sum, sum.Protocol, sum.Name()
		}
		if err := s.cfg.Log.Write(*rec); err != nil {
			slog.Warn("fakenet log", "err", err)
		}
	}
	proto := Classify(first).Protocol
	if proto != "mqtt" {
		write(first)
		s.answer(c, first, proto)
		return
	}
	seen := append([]byte(nil), first...)
	logged := false
	serveMQTT(c, first, s.cfg.Idle, func(b []byte) {
		if logged {
			return
		}
		seen = append(seen, b[:min(len(b), max(0, MaxFirst-len(seen)))]...)
		if mqttPackets(seen) >= 2 || len(seen) >= MaxFirst {
			write(seen)
			logged = true
		}
	})
	if !logged {
		write(seen)
	}
}

// answer keeps the client talking: HTTP gets 200 with an empty JSON object for each request,
// MQTT gets CONNACK, PUBACK, SUBACK and PINGRESP; TLS (not intercepted) and anything else get
// no answer, and the connection stays open until the client closes it or goes idle.
func (s *Server) answer(c net.Conn, first []byte, proto string) {
	switch proto {
	case "http":
		serveHTTP(c, first, s.cfg.Idle)
	case "mqtt":
		serveMQTT(c, first, s.cfg.Idle, nil)
	default:
		drain(c, s.cfg.Idle)
	}
}

// intercept terminates TLS with a certificate for the name the client asked (or the address it
// dialled), then classifies and answers what it sends inside. A handshake the client aborts
// with an alert is the sign of pinning.
func (s *Server) intercept(c net.Conn, first []byte, rec *Record) {
	sum := Classify(first)
	rec.Intercepted, rec.First, rec.Protocol, rec.Name = true, &sum, sum.Protocol, sum.Name()
	fallback := rec.Dst
	if ap, err := netip.ParseAddrPort(rec.Dst); err == nil {
		fallback = ap.Addr().String()
	}
	conf := &tls.Config{
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := h.ServerName
			if name == "" {
				name = fallback
			}
			return s.cfg.CA.Leaf(name)
		},
		KeyLogWriter: s.cfg.KeyLog,
		NextProtos:   []string{"http/1.1"}, // h2 would need an HTTP/2 server to keep the client talking
		MinVersion:   tls.VersionTLS10,
	}
	tc := tls.Server(&prefixConn{Conn: c, r: io.MultiReader(bytes.NewReader(first), c)}, conf)
	c.SetDeadline(time.Now().Add(s.cfg.Idle))
	if err := tc.Handshake(); err != nil {
		msg := err.Error()
		// crypto/tls reports an alert the peer sent as "remote error: tls: <alert>"; a
		// certificate alert (bad_certificate, unknown_ca, certificate_unknown, …) during the
		// handshake means the client refused the lab's certificate: it pins, or the lab CA is
		// not installed where it looks.
		if strings.Contains(msg, "remote error") {
			rec.Alert = strings.TrimPrefix(msg, "remote error: ")
			rec.Pinned = strings.Contains(msg, "certificate")
		} else {
			rec.Error = msg
		}
		// A client that just closes after the server's certificate (no alert) also refused it.
		if errors.Is(err, io.EOF) {
			rec.Pinned, rec.Error = true, "client closed the connection during the handshake (no alert)"
		}
		s.cfg.Log.Write(*rec)
		return
	}
	c.SetDeadline(time.Time{})
	inner, err := readFirst(tc, s.cfg.Idle)
	if err != nil && len(inner) == 0 {
		rec.Error = "inside TLS: " + err.Error()
	}
	s.finish(tc, inner, rec, true)
}

// prefixConn replays bytes already read before the rest of the connection.
type prefixConn struct {
	net.Conn
	r io.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// readFirst reads until the bytes classify (Complete), MaxFirst, the client pauses for a short
// while after sending something, or idle passes with nothing sent.
func readFirst(c net.Conn, idle time.Duration) ([]byte, error) {
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 4096)
	deadline := time.Now().Add(idle)
	for len(buf) < MaxFirst {
		wait := deadline
		if len(buf) > 0 {
			// Something arrived: the rest of a message comes within a round trip or two.
			wait = time.Now().Add(2 * time.Second)
		}
		c.SetReadDeadline(wait)
		n, err := c.Read(chunk[:min(len(chunk), MaxFirst-len(buf))])
		buf = append(buf, chunk[:n]...)
		if err != nil {
			c.SetReadDeadline(time.Time{})
			if len(buf) > 0 && isTimeout(err) {
				return buf, nil
			}
			return buf, err
		}
		if Complete(buf) {
			break
		}
	}
	c.SetReadDeadline(time.Time{})
	return buf, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// drain reads and discards until the client closes or goes idle: the connection stays open
// without an answer, as a server that has not decided yet.
func drain(c net.Conn, idle time.Duration) {
	buf := make([]byte, 4096)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
