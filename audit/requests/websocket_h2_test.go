package requests_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders/websocket/wstest"
	"droneaudit/internal/netfixture"
)

// xconnect is the GODEBUG setting with which net/http's HTTP/2 server offers extended CONNECT
// (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3) and its client uses it; net/http reads GODEBUG
// once, at start.
const xconnect = "http2xconnect=1"

// inXConnectProcess runs the calling test again in a process of this test binary started with
// GODEBUG=http2xconnect=1 and reports whether the caller is that process (and should go on).
func inXConnectProcess(t *testing.T) bool {
	t.Helper()
	if strings.Contains(os.Getenv("GODEBUG"), xconnect) {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG="+strings.Trim(os.Getenv("GODEBUG")+","+xconnect, ","))
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Fatalf("%s with %s: %v\n%s", t.Name(), xconnect, err, out)
	case bytes.Contains(out, []byte("--- SKIP: "+t.Name())):
		t.Skipf("skipped with %s:\n%s", xconnect, out)
	case !bytes.Contains(out, []byte("--- PASS: "+t.Name())):
		t.Fatalf("%s did not run with %s:\n%s", t.Name(), xconnect, out)
	}
	t.Logf("passed with GODEBUG=%s", xconnect)
	return false
}

// MQTT over WebSocket over HTTP/2 (RFC 8441): golang.org/x/net/http2's client opens a stream with an extended
// CONNECT (:protocol websocket, subprotocol mqtt) to net/http's HTTP/2 server over crypto/tls,
// the server accepts it with a 200, and the client's masked WebSocket frames in the stream's DATA
// carry an MQTT CONNECT and two PUBLISH packets, the second split over two frames' worth of
// DATA. Decrypted with the key log, each PUBLISH is a row (protocol mqtt/ws, the topic, the
// payload byte for byte) named after the stream, beside the CONNECT's own h2 row.
func TestMQTTOverWebSocketOverH2(t *testing.T) {
	if !inXConnectProcess(t) {
		return
	}
	const topic = "thing/product/1581F5BKD223Q00A0D2Y/osd"
	osd := []byte(`{"tid":"t1","data":{"latitude":22.907809968,"longitude":113.703482143,"height":56.4}}`)
	big := bytes.Repeat([]byte("z"), 60)
	mqtt := mqttPublish(topic, osd)
	// the second PUBLISH alone (mqttPublish puts a CONNECT before it), cut over two messages
	second := mqttPublish(topic+"/2", big)[len(mqttPublish("", nil))-4:]
	mask := []byte{9, 8, 7, 6}
	frames := [][]byte{
		wstest.Frame(0x2, true, false, mask, mqtt),
		wstest.Frame(0x2, true, false, mask, second[:40]),
		wstest.Frame(0x2, true, false, mask, second[40:]),
	}
	got := make(chan []byte, 1)
	var kl bytes.Buffer
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{HTTP2: true, XNetClient: true, KeyLog: &kl, ServerName: "ws.example.test"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
				http.Error(w, "extended CONNECT only", http.StatusBadRequest)
				return
			}
			w.Header().Set("Sec-WebSocket-Protocol", "mqtt")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			b, _ := io.ReadAll(r.Body)
			got <- b
		}),
		func(c *http.Client, base string) error {
			pr, pw := io.Pipe()
			req, _ := http.NewRequest(http.MethodConnect, base+"/mqtt", pr)
			req.Header.Set(":protocol", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Protocol", "mqtt")
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return &statusError{resp.StatusCode}
			}
			for _, f := range frames {
				pw.Write(f)
				time.Sleep(5 * time.Millisecond) // each frame in DATA of its own
			}
			pw.Write(wstest.Frame(0x8, true, false, mask, []byte{0x03, 0xe8}))
			pw.Close()
			select {
			case <-got:
			case <-time.After(5 * time.Second):
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err := netfixture.WriteHTTPS(w, conns, phone, server, nil, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	res, bodies := build(t, "ws-h2.pcap", buf.Bytes(), kl.Bytes())
	var pubs []int
	connect := -1
	for i, r := range res.Rows {
		t.Logf("row %s %s %s %s", r.ID, r.Protocol, r.Method, r.URL)
		switch r.Method {
		case "PUBLISH":
			pubs = append(pubs, i)
		case "CONNECT":
			connect = i
		}
	}
	if connect < 0 || len(pubs) != 2 {
		t.Fatalf("rows %+v; notes %v", res.Rows, res.Notes)
	}
	c := res.Rows[connect]
	if c.Protocol != "h2" || c.Status != 200 || !strings.HasSuffix(c.URL, "/mqtt") {
		t.Errorf("CONNECT row %s %s %d %s", c.ID, c.Protocol, c.Status, c.URL)
	}
	for k, want := range []struct {
		topic   string
		payload []byte
	}{{topic, osd}, {topic + "/2", big}} {
		r := res.Rows[pubs[k]]
		if r.Protocol != "mqtt/ws" || r.URL != want.topic || !r.TLS || r.Name != "ws.example.test" || r.ID != c.ID+"m"+string(rune('1'+k)) ||
			r.Request.SHA256 != hexSum(want.payload) || !bytes.Equal(bodies[r.ID+" client-to-server"], want.payload) {
			t.Errorf("PUBLISH row %d: %+v", k, r)
		}
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + http.StatusText(e.code) }
