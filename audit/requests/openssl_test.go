package requests_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"droneaudit/internal/netfixture"
)

// proxy accepts one connection on l, relays it to target and records both directions in the
// order the bytes arrived.
func proxy(t *testing.T, l net.Listener, target string) *netfixture.HTTPSConn {
	hc := &netfixture.HTTPSConn{}
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		var wg sync.WaitGroup
		relay := func(dst, src net.Conn, fromClient bool) {
			defer wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if n > 0 {
					mu.Lock()
					hc.Chunks = append(hc.Chunks, netfixture.Chunk{FromClient: fromClient, Data: bytes.Clone(buf[:n])})
					mu.Unlock()
					dst.Write(buf[:n])
				}
				if err != nil {
					dst.(*net.TCPConn).CloseWrite()
					return
				}
			}
		}
		wg.Add(2)
		go relay(s, c, true)
		go relay(c, s, false)
		wg.Wait()
		c.Close()
		s.Close()
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return hc
}

// Sessions made by OpenSSL's s_server (-www, writing the key log) and curl, through a recording
// proxy: TLS 1.2 and TLS 1.3, decrypted by the requests path to GET / and the page naming the
// suite, as with Wireshark's captures. Skipped without openssl or curl.
func TestOpenSSLCurlSessions(t *testing.T) {
	for _, tool := range []string{"openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	crt, key, kl := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"), filepath.Join(dir, "server.keys")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-subj", "/CN=example.test", "-keyout", key, "-out", crt, "-days", "1").CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v %s", err, out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	srvAddr := l.Addr().String()
	l.Close()
	srv := exec.Command("openssl", "s_server", "-accept", srvAddr, "-cert", crt, "-key", key, "-www", "-keylogfile", kl, "-quiet")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", srvAddr); err == nil {
			c.Close() // s_server serves one connection at a time: this one closes at once
			break
		}
		if i > 100 {
			t.Fatal("s_server does not listen")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var conns []*netfixture.HTTPSConn
	for _, v := range [][]string{{"--tlsv1.2", "--tls-max", "1.2"}, {"--tlsv1.3"}} {
		pl, _ := net.Listen("tcp", "127.0.0.1:0")
		hc := proxy(t, pl, srvAddr)
		args := append([]string{"-sk", "--http1.1", "-o", os.DevNull, "https://" + pl.Addr().String() + "/"}, v...)
		if out, err := exec.Command("curl", args...).CombinedOutput(); err != nil {
			t.Fatalf("curl %v: %v %s", v, err, out)
		}
		pl.Close()
		time.Sleep(100 * time.Millisecond) // the proxy sees both sides close
		conns = append(conns, hc)
	}
	keylog, err := os.ReadFile(kl)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err := netfixture.WriteHTTPS(w, conns, phone, server, nil, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	res, bodies := build(t, "openssl.pcap", buf.Bytes(), keylog)
	if len(res.Rows) != 2 {
		t.Fatalf("%d rows; notes %v", len(res.Rows), res.Notes)
	}
	for i, r := range res.Rows {
		page := string(bodies[r.ID+" server-to-client"])
		if r.Method != "GET" || r.Status != 200 || !strings.Contains(page, "Cipher is ") || !strings.Contains(page, []string{"TLSv1.2", "TLSv1.3"}[i]) {
			t.Errorf("session %d: %s %s %d, page %.200q", i, r.Method, r.URL, r.Status, page)
		}
	}
}
