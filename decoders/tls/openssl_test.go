package tls

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"droneaudit/netflow"
)

// Sessions made by the OpenSSL command line (openssl s_server and s_client, both writing a key
// log), captured by a TCP proxy in the test: the decryption is checked against a TLS stack other
// than Go's. Skipped when openssl is not installed (Debian package openssl).

type opensslCase struct {
	name       string
	server     []string // extra s_server arguments
	client     []string // extra s_client arguments
	input      []string // written to s_client's standard input, one piece at a time
	suite      string   // the suite name the -www page must show
	version    uint16
	updates    int    // key updates expected
	resume     bool   // run twice, the second session resuming the first
	early      string // 0-RTT data the resumed session sends
	handshakes int    // full key setups expected (2 with a renegotiation), 0 = not checked
}

func writePEMs(t *testing.T, dir string) (string, string) {
	t.Helper()
	certs := testCerts(t)
	crt := certs[1] // RSA: every OpenSSL suite (ECDHE-RSA, DHE-RSA, RSA) can use it
	key, err := x509.MarshalPKCS8PrivateKey(crt.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cp, kp := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cp, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: crt.Certificate[0]}), 0o600)
	os.WriteFile(kp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	return cp, kp
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proxy accepts one connection, connects it to target and records both directions.
type proxy struct {
	ln   net.Listener
	mu   sync.Mutex
	wire []wire
	done chan struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		var wg sync.WaitGroup
		cp := func(dst, src net.Conn, dir netflow.Direction) {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if n > 0 {
					p.mu.Lock()
					p.wire = append(p.wire, wire{dir, bytes.Clone(buf[:n])})
					p.mu.Unlock()
					dst.Write(buf[:n])
				}
				if err != nil {
					if tc, ok := dst.(*net.TCPConn); ok {
						tc.CloseWrite()
					}
					return
				}
			}
		}
		wg.Add(2)
		go cp(s, c, netflow.ClientToServer)
		go cp(c, s, netflow.ServerToClient)
		wg.Wait()
		c.Close()
		s.Close()
	}()
	return p
}

// opensslRun is one s_client connection: the bytes the proxy recorded and s_client's output.
type opensslRun struct {
	wire []wire
	out  string
}

// runOpenSSL starts s_server for len(extra) connections and runs one s_client for each, with
// extra[i] added to its arguments, through a recording proxy. It returns the runs and the key
// logs of both sides joined.
func runOpenSSL(t *testing.T, dir string, c opensslCase, extra [][]string) ([]opensslRun, []byte) {
	t.Helper()
	cert, key := writePEMs(t, dir)
	addr := freePort(t)
	skeys, ckeys := filepath.Join(dir, "server.keys"), filepath.Join(dir, "client.keys")
	os.Remove(skeys)
	os.Remove(ckeys)
	sargs := []string{"s_server", "-accept", addr, "-cert", cert, "-key", key, "-naccept", fmt.Sprint(len(extra)), "-keylogfile", skeys}
	if c.early == "" {
		sargs = append(sargs, "-www") // s_server cannot combine -www with -early_data
	}
	sargs = append(sargs, c.server...)
	srv := exec.Command("openssl", sargs...)
	sin, _ := srv.StdinPipe() // kept open: s_server without -www reads commands from it
	defer sin.Close()
	sout, _ := srv.StdoutPipe()
	srv.Stderr = srv.Stdout
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	ready := make(chan bool, 1)
	var slog bytes.Buffer
	go func() {
		sc := bufio.NewScanner(sout)
		for sc.Scan() {
			slog.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "ACCEPT") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("s_server did not start: %s", slog.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("s_server did not start")
	}
	var runs []opensslRun
	for _, extraClient := range extra {
		runs = append(runs, runClient(t, c, addr, ckeys, extraClient))
	}
	sk, _ := os.ReadFile(skeys)
	ck, _ := os.ReadFile(ckeys)
	return runs, append(append(ck, '\n'), sk...)
}

func runClient(t *testing.T, c opensslCase, addr, ckeys string, extraClient []string) opensslRun {
	t.Helper()
	px := startProxy(t, addr)
	cargs := append([]string{"s_client", "-connect", px.ln.Addr().String(), "-servername", "example.test", "-keylogfile", ckeys}, c.client...)
	cargs = append(cargs, extraClient...)
	cli := exec.Command("openssl", cargs...)
	in, _ := cli.StdinPipe()
	var cout bytes.Buffer
	cli.Stdout, cli.Stderr = &cout, &cout
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	clientChunks := func() int {
		px.mu.Lock()
		defer px.mu.Unlock()
		n := 0
		for _, w := range px.wire {
			if w.dir == netflow.ClientToServer {
				n++
			}
		}
		return n
	}
	for _, s := range c.input {
		before := clientChunks()
		io.WriteString(in, s)
		if s == "k\n" || s == "K\n" || s == "R\n" {
			// s_client takes a command only when it reads it alone: wait for the KeyUpdate
			// record before writing on.
			for end := time.Now().Add(10 * time.Second); clientChunks() == before && time.Now().Before(end); {
				time.Sleep(20 * time.Millisecond)
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	if c.early != "" {
		in.Close() // no server page ends this session: s_client ends at the end of its input
	}
	waited := make(chan error, 1)
	go func() { waited <- cli.Wait() }()
	select {
	case <-waited:
	case <-time.After(20 * time.Second):
		cli.Process.Kill()
		<-waited
		t.Fatalf("s_client did not finish: %s", cout.String())
	}
	in.Close()
	select {
	case <-px.done:
	case <-time.After(10 * time.Second):
		t.Fatal("proxy did not finish")
	}
	px.mu.Lock()
	defer px.mu.Unlock()
	return opensslRun{px.wire, cout.String()}
}

func TestOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed (Debian package openssl)")
	}
	if testing.Short() {
		t.Skip("starts openssl processes")
	}
	get := "GET / HTTP/1.0\r\n\r\n"
	psk := []string{"-psk", "1a2b3c4d5e6f", "-psk_identity", "droneaudit", "-nocert"}
	cases := []opensslCase{
		{name: "tls13-aes128", server: []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"}, input: []string{get}, suite: "TLS_AES_128_GCM_SHA256", version: VersionTLS13},
		{name: "tls13-aes256-keyupdate", server: []string{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"}, input: []string{"K\n", get}, suite: "TLS_AES_256_GCM_SHA384", version: VersionTLS13, updates: 2},
		{name: "tls13-chacha-keyupdate", server: []string{"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"}, input: []string{"k\n", "k\n", get}, suite: "TLS_CHACHA20_POLY1305_SHA256", version: VersionTLS13, updates: 2},
		{name: "tls13-resumed", server: []string{"-tls1_3"}, input: []string{get}, suite: "TLS_AES_256_GCM_SHA384", version: VersionTLS13, resume: true},
		{name: "tls13-early-data", server: []string{"-tls1_3", "-early_data"}, input: []string{get, ""}, suite: "TLS_AES_256_GCM_SHA384", version: VersionTLS13, resume: true, early: "early bytes\n"},
		{name: "tls12-ecdhe-aes128-sha-etm", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"}, input: []string{get}, suite: "ECDHE-RSA-AES128-SHA", version: VersionTLS12},
		{name: "tls12-ecdhe-aes256-sha384-noetm", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384"}, client: []string{"-no_etm"}, input: []string{get}, suite: "ECDHE-RSA-AES256-SHA384", version: VersionTLS12},
		{name: "tls12-dhe-aes256-gcm", server: []string{"-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"}, input: []string{get}, suite: "DHE-RSA-AES256-GCM-SHA384", version: VersionTLS12},
		{name: "tls12-ecdhe-chacha", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"}, input: []string{get}, suite: "ECDHE-RSA-CHACHA20-POLY1305", version: VersionTLS12},
		{name: "tls12-rsa-aes128-gcm", server: []string{"-tls1_2", "-cipher", "AES128-GCM-SHA256"}, input: []string{get}, suite: "AES128-GCM-SHA256", version: VersionTLS12},
		{name: "tls12-rsa-aes256-sha256", server: []string{"-tls1_2", "-cipher", "AES256-SHA256"}, input: []string{get}, suite: "AES256-SHA256", version: VersionTLS12},
		{name: "tls12-psk-aes128-cbc-sha256", server: append([]string{"-tls1_2", "-cipher", "PSK-AES128-CBC-SHA256"}, psk...), client: psk[:4], input: []string{get}, suite: "PSK-AES128-CBC-SHA256", version: VersionTLS12},
		{name: "tls12-ecdhe-psk-chacha", server: append([]string{"-tls1_2", "-cipher", "ECDHE-PSK-CHACHA20-POLY1305"}, psk...), client: psk[:4], input: []string{get}, suite: "ECDHE-PSK-CHACHA20-POLY1305", version: VersionTLS12},
		{name: "tls12-renegotiated", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-client_renegotiation", "-no_resumption_on_reneg"}, input: []string{"R\n", get}, suite: "ECDHE-RSA-AES128-GCM-SHA256", version: VersionTLS12, handshakes: 2},
		{name: "tls12-resumed", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}, input: []string{get}, suite: "ECDHE-RSA-AES128-GCM-SHA256", version: VersionTLS12, resume: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			extra := [][]string{nil}
			if c.resume {
				sess := filepath.Join(dir, "session.pem")
				extra = [][]string{{"-sess_out", sess}, {"-sess_in", sess}}
				if c.early != "" {
					ed := filepath.Join(dir, "early.txt")
					os.WriteFile(ed, []byte(c.early), 0o600)
					extra[1] = append(extra[1], "-early_data", ed)
				}
			}
			runs, keylog := runOpenSSL(t, dir, c, extra)
			keys := keysOf(t, keylog)
			for run, r := range runs {
				out := r.out
				got, sum := decryptWire(t, r.wire, keys, feedInOrder)
				name := fmt.Sprintf("%s run %d", c.name, run)
				if sum.Status != StatusDecrypted || sum.Version != c.version {
					t.Fatalf("%s: %s %s (%s); events %v\ns_client: %.2000s", name, VersionName(sum.Version), sum.Status, sum.Reason, sum.Events, out)
				}
				wantReq := get
				if run == 1 {
					wantReq = c.early + get
				}
				if !bytes.Equal(got[0], []byte(wantReq)) {
					t.Errorf("%s: client plaintext %q", name, got[0])
				}
				if c.early != "" {
					// No -www page: the check is the client's bytes, 0-RTT ones included.
					var early []byte
					s := NewSession(Config{Keys: keys, OnData: func(d *Data) {
						if d.Early {
							early = append(early, d.Bytes...)
						}
					}})
					for _, x := range r.wire {
						s.Feed(x.dir, x.data)
					}
					s.Close()
					if run == 1 && string(early) != c.early {
						t.Errorf("%s: 0-RTT data %q, want %q (s_client: %.3000s)", name, early, c.early, out)
					}
					continue
				}
				page := string(got[1])
				if !strings.HasPrefix(page, "HTTP/1.0 200 ok\r\n") || !strings.Contains(page, "Cipher is "+c.suite) {
					t.Errorf("%s: page %.300q does not name %s", name, page, c.suite)
				}
				// What s_client printed of the page is what was decrypted.
				if i := strings.Index(out, "HTTP/1.0 200 ok"); i < 0 || !strings.Contains(strings.ReplaceAll(out[i:], "\r", ""), strings.ReplaceAll(page[:min(len(page), 400)], "\r", "")) {
					t.Errorf("%s: decrypted page differs from s_client's output", name)
				}
				if c.handshakes > 0 {
					n := 0
					for _, e := range sum.Events {
						if e.Kind == EventKeys {
							n++
						}
					}
					if n != c.handshakes {
						t.Errorf("%s: %d key setups, want %d: %v", name, n, c.handshakes, sum.Events)
					}
				}
				if sum.KeyUpdates != c.updates {
					t.Errorf("%s: %d key updates, want %d", name, sum.KeyUpdates, c.updates)
				}
				if run == 1 && !sum.Resumed {
					t.Errorf("%s: not resumed", name)
				}
			}
		})
	}
}
