package requests_test

import (
	"bytes"
	"strings"
	"testing"

	"droneaudit/decoders/websocket/wstest"
	"droneaudit/internal/netfixture"
)

// MQTT over WebSocket over HTTP/2 (RFC 8441): golang.org/x/net/http2's client opens a stream
// with an extended CONNECT (:protocol websocket, subprotocol mqtt) to net/http's HTTP/2 server
// over crypto/tls, the server accepts it with a 200, and the client's masked WebSocket frames in
// the stream's DATA carry an MQTT CONNECT and two PUBLISH packets, the second split over two
// messages. Decrypted with the key log, each PUBLISH is a row (protocol mqtt/ws, the topic, the
// payload byte for byte) named after the stream, beside the CONNECT's own h2 row.
func TestMQTTOverWebSocketOverH2(t *testing.T) {
	if !netfixture.InXConnectProcess(t) {
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
		wstest.Frame(0x8, true, false, mask, []byte{0x03, 0xe8}), // close
	}
	var kl bytes.Buffer
	conns, err := netfixture.RecordH2WebSocket(netfixture.HTTPSOptions{KeyLog: &kl, ServerName: "ws.example.test"}, "/mqtt", "mqtt", frames)
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
