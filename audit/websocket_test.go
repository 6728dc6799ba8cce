package audit

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	xws "golang.org/x/net/websocket"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/tlskeys"
	"droneaudit/decoders/tlslayer"
	"droneaudit/decoders/websocket/wstest"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
)

// mqttPacket writes an MQTT 3.1.1 packet (§2.2: fixed header, remaining length).
func mqttPacket(first byte, body []byte) []byte {
	out := []byte{first}
	for n := len(body); ; {
		b := byte(n % 128)
		if n /= 128; n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			break
		}
	}
	return append(out, body...)
}

func mqttStr(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

// recordWS upgrades a real net/http client's TLS connection to golang.org/x/net/websocket's
// server (subprotocol proto when set), sends the frames and returns the capture with its key log.
func recordWS(t *testing.T, proto string, frames ...[]byte) ([]byte, func() []decoders.Unwrapper) {
	got := make(chan []byte, 1)
	srv := xws.Server{
		Handshake: func(c *xws.Config, r *http.Request) error {
			if proto != "" {
				c.Protocol = []string{proto}
			}
			return nil
		},
		Handler: func(ws *xws.Conn) {
			b, _ := io.ReadAll(ws)
			got <- b
		},
	}
	var kl bytes.Buffer
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{KeyLog: &kl, ServerName: "ws.example.test"}, srv,
		func(c *http.Client, base string) error {
			req, _ := http.NewRequest("GET", base+"/ws", nil)
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			req.Header.Set("Sec-WebSocket-Version", "13")
			if proto != "" {
				req.Header.Set("Sec-WebSocket-Protocol", proto)
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			rw := resp.Body.(io.ReadWriteCloser) // a 101's body is the connection (net/http)
			for _, f := range frames {
				rw.Write(f)
			}
			rw.Write(wstest.Frame(0x8, true, false, []byte{1, 2, 3, 4}, []byte{0x03, 0xe8}))
			select {
			case <-got:
			case <-time.After(5 * time.Second):
			}
			rw.Close()
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := netfixture.LabHTTPSPcap(conns)
	if err != nil {
		t.Fatal(err)
	}
	return wire, func() []decoders.Unwrapper {
		keys := tlskeys.NewLog()
		keys.AddText(kl.Bytes())
		return []decoders.Unwrapper{tlslayer.New(keys)}
	}
}

// runFixes audits a capture and returns every fix.
func runFixes(t *testing.T, name string, capture []byte, o Options) []geo.Fix {
	var fixes []geo.Fix
	o.Policy = DefaultPolicy()
	o.OnFixes = func(b []StreamedFix) []StreamedFix {
		for _, f := range b {
			fixes = append(fixes, f.Fix)
		}
		return b[:0]
	}
	if _, err := Run(t.Context(), []Source{BytesSource(name, capture)}, o); err != nil {
		t.Fatal(err)
	}
	return fixes
}

// An MQTT PUBLISH sent over a WebSocket inside TLS (frames masked as RFC 6455 wants, subprotocol
// mqtt) is a row of 'requests' (protocol mqtt/ws, the topic) and its position a network fix of
// the audit naming that row.
func TestWebSocketMQTTOverTLS(t *testing.T) {
	const topic = "thing/product/1581F5BKD223Q00A0D2Y/osd"
	osd := []byte(`{"tid":"t1","data":{"latitude":22.907809968,"longitude":113.703482143,"height":56.4}}`)
	connect := mqttPacket(0x10, append(append(mqttStr("MQTT"), 4, 0x02, 0, 60), mqttStr("pilot-1")...))
	pub := mqttPacket(0x30, append(mqttStr(topic), osd...))
	mask := []byte{1, 2, 3, 4}
	capture, layer := recordWS(t, "mqtt", wstest.Frame(0x2, true, false, mask, connect), wstest.Frame(0x2, true, false, mask, pub))
	res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("ws.pcap", capture)}, destinations.Options{Unwrappers: layer()}, requests.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var pubRow *requests.Row
	for i, r := range res.Rows {
		if r.Method == "PUBLISH" {
			pubRow = &res.Rows[i]
		}
	}
	if pubRow == nil || pubRow.Protocol != "mqtt/ws" || pubRow.URL != topic || !strings.HasSuffix(pubRow.ID, "#m1") || !pubRow.TLS ||
		pubRow.Request.SHA256 != sum(osd) {
		t.Fatalf("rows %+v", res.Rows)
	}
	fixes := runFixes(t, "ws.pcap", capture, Options{Destinations: &destinations.Options{Unwrappers: layer()}})
	ok := false
	for _, f := range fixes {
		if f.Lat == 22.907809968 && f.Lon == 113.703482143 && f.Evidence.Decoder == "mqtt" && f.Evidence.Request != nil &&
			f.Evidence.Request.ID == pubRow.ID && f.Evidence.Request.URL == topic {
			ok = true
		}
	}
	if !ok {
		t.Errorf("no fix of the PUBLISH naming row %s: %+v", pubRow.ID, fixes)
	}
}

// The messages of a WebSocket that is not MQTT are read like bodies: a JSON message's position is
// a fix naming the upgrade request, and a position in text no decoder reads is found by the
// known-value search in the client's masked frame, which the wire bytes hide.
func TestWebSocketMessagesOverTLS(t *testing.T) {
	mask := []byte{0x5a, 0xa5, 0x3c, 0xc3}
	capture, layer := recordWS(t, "",
		wstest.Frame(0x1, true, false, mask, []byte(`{"aircraft":{"latitude":51.1600,"longitude":5.4700}}`)),
		wstest.Frame(0x1, true, false, mask, []byte(`track point 48.1234567,11.5432109 logged`)))
	res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("ws.pcap", capture)}, destinations.Options{Unwrappers: layer()}, requests.Options{})
	if err != nil || len(res.Rows) != 1 || res.Rows[0].Status != 101 {
		t.Fatalf("rows %+v: %v", res.Rows, err)
	}
	fixes := runFixes(t, "ws.pcap", capture, Options{Destinations: &destinations.Options{Unwrappers: layer()},
		Zones: zonesAround(t, 48.1234567, 11.5432109, 1000, geo.Secret)})
	seen := map[string]bool{}
	for _, f := range fixes {
		rq := f.Evidence.Request
		if rq == nil || rq.ID != res.Rows[0].ID || !strings.HasSuffix(rq.URL, "/ws") {
			continue
		}
		switch {
		case f.Evidence.Decoder == "http" && f.Lat == 51.16 && f.Lon == 5.47:
			seen["json"] = true
		case f.Evidence.Decoder == "search" && f.Lat > 48.12 && f.Lat < 48.13:
			seen["search"] = true
		}
	}
	if !seen["json"] || !seen["search"] {
		t.Errorf("seen %v in %+v", seen, fixes)
	}
}

// MQTT over WebSocket over HTTP/2 (RFC 8441, a real extended CONNECT between x/net/http2's client
// and net/http's server over crypto/tls): the PUBLISH's position is a network fix of the audit
// naming the row 'requests' lists for it (<flow>#<stream>m<n>, protocol mqtt/ws).
func TestWebSocketMQTTOverH2(t *testing.T) {
	if !netfixture.InXConnectProcess(t) {
		return
	}
	const topic = "thing/product/1581F5BKD223Q00A0D2Y/osd"
	osd := []byte(`{"tid":"t1","data":{"latitude":22.907809968,"longitude":113.703482143,"height":56.4}}`)
	connect := mqttPacket(0x10, append(append(mqttStr("MQTT"), 4, 0x02, 0, 60), mqttStr("pilot-1")...))
	pub := mqttPacket(0x30, append(mqttStr(topic), osd...))
	mask := []byte{1, 2, 3, 4}
	var kl bytes.Buffer
	conns, err := netfixture.RecordH2WebSocket(netfixture.HTTPSOptions{KeyLog: &kl, ServerName: "ws.example.test"}, "/mqtt", "mqtt",
		[][]byte{wstest.Frame(0x2, true, false, mask, connect), wstest.Frame(0x2, true, false, mask, pub)})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := netfixture.LabHTTPSPcap(conns)
	if err != nil {
		t.Fatal(err)
	}
	layer := func() []decoders.Unwrapper {
		keys := tlskeys.NewLog()
		keys.AddText(kl.Bytes())
		return []decoders.Unwrapper{tlslayer.New(keys)}
	}
	res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("ws-h2.pcap", wire)}, destinations.Options{Unwrappers: layer()}, requests.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var pubRow *requests.Row
	for i, r := range res.Rows {
		if r.Method == "PUBLISH" {
			pubRow = &res.Rows[i]
		}
	}
	if pubRow == nil || pubRow.Protocol != "mqtt/ws" || pubRow.URL != topic || !strings.HasSuffix(pubRow.ID, "-tls#1m1") || pubRow.Request.SHA256 != sum(osd) {
		t.Fatalf("rows %+v", res.Rows)
	}
	fixes := runFixes(t, "ws-h2.pcap", wire, Options{Destinations: &destinations.Options{Unwrappers: layer()}})
	ok := false
	for _, f := range fixes {
		if f.Lat == 22.907809968 && f.Lon == 113.703482143 && f.Evidence.Decoder == "mqtt" && f.Evidence.Request != nil &&
			f.Evidence.Request.ID == pubRow.ID && f.Evidence.Request.URL == topic {
			ok = true
		}
	}
	if !ok {
		t.Errorf("no fix of the PUBLISH naming row %s: %+v", pubRow.ID, fixes)
	}
}
