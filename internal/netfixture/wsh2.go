package netfixture

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// WebSocket over HTTP/2 (RFC 8441) between golang.org/x/net/http2's client and net/http's HTTP/2
// server over crypto/tls: an extended CONNECT with :protocol websocket, then WebSocket frames in
// the stream's DATA.

// XConnect is the GODEBUG setting with which net/http's HTTP/2 server offers extended CONNECT
// (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3) and x/net's client uses it. Both read GODEBUG
// once, when the process starts.
const XConnect = "http2xconnect=1"

// InXConnectProcess runs the calling test again in a process of the same test binary started
// with GODEBUG=http2xconnect=1, and reports whether the caller is that process (and should go
// on); in the first process it passes, fails or skips as the second did.
func InXConnectProcess(t *testing.T) bool {
	t.Helper()
	if strings.Contains(os.Getenv("GODEBUG"), XConnect) {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG="+strings.Trim(os.Getenv("GODEBUG")+","+XConnect, ","))
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("%s with %s: %v\n%s", t.Name(), XConnect, err, out)
	case bytes.Contains(out, []byte("--- SKIP: "+t.Name())):
		t.Skipf("skipped with %s:\n%s", XConnect, out)
	case !bytes.Contains(out, []byte("--- PASS: "+t.Name())):
		t.Fatalf("%s did not run with %s:\n%s", t.Name(), XConnect, out)
	}
	t.Logf("passed with GODEBUG=%s", XConnect)
	return false
}

// RecordH2WebSocket opens one WebSocket over HTTP/2 to path with subprotocol (none when empty),
// writes each of frames (whole WebSocket frames, masked as a client's must be) in DATA of its
// own, then close, and returns the recorded connection. It needs GODEBUG=http2xconnect=1
// (InXConnectProcess). o.HTTP2 and o.XNetClient are set.
func RecordH2WebSocket(o HTTPSOptions, path, subprotocol string, frames [][]byte) ([]*HTTPSConn, error) {
	o.HTTP2, o.XNetClient = true, true
	got := make(chan []byte, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
			http.Error(w, "extended CONNECT only", http.StatusBadRequest)
			return
		}
		if subprotocol != "" {
			w.Header().Set("Sec-WebSocket-Protocol", subprotocol)
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		b, _ := io.ReadAll(r.Body)
		got <- b
	})
	return RecordHTTPS(o, h, func(c *http.Client, base string) error {
		pr, pw := io.Pipe()
		req, _ := http.NewRequest(http.MethodConnect, base+path, pr)
		req.Header.Set(":protocol", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		if subprotocol != "" {
			req.Header.Set("Sec-WebSocket-Protocol", subprotocol)
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("extended CONNECT: status %d", resp.StatusCode)
		}
		for _, f := range frames {
			pw.Write(f)
			time.Sleep(5 * time.Millisecond) // each frame in DATA of its own
		}
		pw.Close()
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			return fmt.Errorf("the server did not read the stream's end")
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	})
}
