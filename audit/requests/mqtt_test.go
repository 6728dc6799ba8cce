package requests_test

import (
	"bytes"
	"net/netip"
	"testing"

	"droneaudit/internal/netfixture"
)

// mqttPublish is an MQTT 3.1.1 CONNECT then a QoS 0 PUBLISH of payload on topic (OASIS MQTT
// 3.1.1 §3.1, §3.3), as one client write.
func mqttPublish(topic string, payload []byte) []byte {
	str := func(b []byte, s string) []byte { return append(append(b, byte(len(s)>>8), byte(len(s))), s...) }
	pkt := func(first byte, body []byte) []byte { return append([]byte{first, byte(len(body))}, body...) }
	connect := append(str(nil, "MQTT"), 4, 0x02, 0, 60)
	connect = str(connect, "rc-1")
	return append(pkt(0x10, connect), pkt(0x30, append(str(nil, topic), payload...))...)
}

// MQTT inside TLS on port 8883 (a crypto/tls session with its key log): the decrypted PUBLISH is
// a row, like a clear one.
func TestMQTTOverTLS(t *testing.T) {
	var kl bytes.Buffer
	payload := []byte(`{"data":{"latitude":22.9,"longitude":113.7}}`)
	chunks, err := netfixture.TLSSession(netfixture.TLSOptions{ServerName: "mqtt.example.test", KeyLog: &kl,
		Request: mqttPublish("thing/product/SN1/osd", payload), Response: []byte{0x20, 2, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err := netfixture.WriteHTTPS(w, []*netfixture.HTTPSConn{{Chunks: chunks}}, phone, netip.MustParseAddrPort("203.0.113.9:8883"), nil, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	res, bodies := build(t, "mqtts.pcap", buf.Bytes(), kl.Bytes())
	if len(res.Rows) != 1 {
		t.Fatalf("%d rows; notes %v", len(res.Rows), res.Notes)
	}
	r := res.Rows[0]
	if r.Protocol != "mqtt" || !r.TLS || r.Method != "PUBLISH" || r.URL != "thing/product/SN1/osd" || r.Name != "mqtt.example.test" ||
		r.Request.Size != int64(len(payload)) || r.Request.SHA256 != hexSum(payload) || !bytes.Equal(bodies[r.ID+" client-to-server"], payload) {
		t.Errorf("row %+v", r)
	}
}
