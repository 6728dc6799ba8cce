package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"droneaudit/internal/netlab"
)

// The servers of the lab: a name, the address its DNS answer points to, and what runs there.
type labService struct {
	name  string
	addr  netip.Addr
	port  uint16
	proto string // tcp or udp
}

// byteCount counts what a socket sent and received.
type byteCount struct{ out, in atomic.Int64 }

type countConn struct {
	net.Conn
	c *byteCount
}

func (c countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.c.in.Add(int64(n))
	return n, err
}

func (c countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.c.out.Add(int64(n))
	return n, err
}

type countPacketConn struct {
	net.PacketConn
	c *byteCount
}

func (c countPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(p)
	c.c.in.Add(int64(n))
	return n, a, err
}

func (c countPacketConn) WriteTo(p []byte, a net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(p, a)
	c.c.out.Add(int64(n))
	return n, err
}

// selfSigned makes a certificate for the lab names and a pool that trusts it.
func selfSigned(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// DNS messages per RFC 1035 §4.1: a header, one question; the answer is one A record.
func dnsQuery(id uint16, name string) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0) // RD; QDCOUNT 1
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0, 0, 1, 0, 1) // root, QTYPE A, QCLASS IN
}

func dnsAnswer(q []byte, zone map[string]netip.Addr) ([]byte, bool) {
	if len(q) < 17 {
		return nil, false
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		n := int(q[i])
		if i+1+n > len(q) {
			return nil, false
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += 1 + n
	}
	end := i + 5
	if end > len(q) {
		return nil, false
	}
	a, ok := zone[strings.Join(labels, ".")]
	if !ok {
		return nil, false
	}
	r := append([]byte(nil), q[:end]...)
	r[2], r[3] = 0x81, 0x80                                // response, RD, RA
	r[6], r[7] = 0, 1                                      // ANCOUNT 1
	r = append(r, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4) // name pointer, A, IN, TTL 60
	ip := a.As4()
	return append(r, ip[:]...), true
}

// captureProc is a running `droneaudit capture`.
type captureProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	dir            string
}

func startCapture(t *testing.T, bin, ns, dir string, args ...string) *captureProc {
	t.Helper()
	p := &captureProc{dir: dir}
	p.cmd = netlab.Cmd(ns, bin, append([]string{"capture", "-w", dir, "--format", "json", "--stats-interval", "1s"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.Env = append(os.Environ(), "CI=true")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	// The first file exists once every socket is open.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, "*.pcapng")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			p.cmd.Wait()
			t.Fatalf("capture did not start: %s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	return p
}

// stop sends SIGTERM (as a service manager would) and waits for the exit.
func (p *captureProc) stop(t *testing.T) (captureSummary, int) {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	return p.wait(t)
}

func (p *captureProc) wait(t *testing.T) (captureSummary, int) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
		t.Fatalf("capture did not stop: %s", p.stderr.String())
	}
	var s captureSummary
	if err := json.Unmarshal(p.stdout.Bytes(), &s); err != nil {
		t.Fatalf("summary: %v\nstdout: %s\nstderr: %s", err, p.stdout.String(), p.stderr.String())
	}
	return s, p.cmd.ProcessState.ExitCode()
}

// droneauditBinary builds the command into the test's temporary folder, as CI would run it; the
// build cache makes the second and later builds a link step of about two seconds.
func droneauditBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "droneaudit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root")
	}
}

func addAddr(t *testing.T, ns, dev string, a netip.Addr) {
	t.Helper()
	if out, err := exec.Command("ip", "-n", ns, "addr", "add", a.String()+"/24", "dev", dev).CombinedOutput(); err != nil {
		t.Fatalf("ip addr add: %v %s", err, out)
	}
}

// inNS runs fn inside a namespace and fails the test on error.
func inNS(t *testing.T, ns string, fn func() error) {
	t.Helper()
	if err := netlab.In(ns, fn); err != nil {
		t.Fatal(err)
	}
}

func isClosedErr(err error) bool {
	var ae *quic.ApplicationError
	return err == nil || errors.Is(err, io.EOF) || errors.As(err, &ae) || errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled)
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
