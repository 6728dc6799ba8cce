package mqttws_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	xws "golang.org/x/net/websocket"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/decoders/mqttws"
	"droneaudit/decoders/websocket"
	"droneaudit/decoders/websocket/wstest"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// MQTT 5.0 packets written from the specification (§3.1 CONNECT, §3.8 SUBSCRIBE, §3.3 PUBLISH,
// §3.14 DISCONNECT), as a Cloud API client sends them.

func remLen(n int) []byte {
	var out []byte
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			return out
		}
	}
}

func str(s string) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...) }

func packet(first byte, body []byte) []byte {
	return append(append([]byte{first}, remLen(len(body))...), body...)
}

func connect(clientID, user string) []byte {
	b := append(str("MQTT"), 5, 0x82, 0, 60, 0) // level 5, user name + clean start, keep-alive, no properties
	b = append(b, str(clientID)...)
	return packet(0x10, append(b, str(user)...))
}

func subscribe(filter string) []byte {
	b := []byte{0, 1, 0} // packet id, no properties
	return packet(0x82, append(append(b, str(filter)...), 0))
}

func publish(topic string, payload []byte) []byte {
	b := append(str(topic), 0) // QoS 0: no packet id; no properties
	return packet(0x30, append(b, payload...))
}

const (
	serial = "1581F5BKD223Q00A0D2Y"
	topic  = "thing/product/" + serial + "/osd"
	osd    = `{"tid":"6a7bfe89","bid":"42a19f36","timestamp":1654070968655,"gateway":"4TADKAQ000002J","data":{"latitude":22.907809968,"longitude":113.703482143,"height":56.4}}`
)

// TestMosquittoWebSocket runs a real mosquitto broker with a WebSocket listener, publishes a DJI
// Cloud API OSD message through it with golang.org/x/net/websocket's client (the PUBLISH split
// over two WebSocket messages), records both directions, and reads them back: the client's
// PUBLISH and the broker's copy of it each yield the aircraft's position.
func TestMosquittoWebSocket(t *testing.T) {
	if _, err := exec.LookPath("mosquitto"); err != nil {
		if _, err := os.Stat("/usr/sbin/mosquitto"); err != nil {
			t.Skip("mosquitto not installed (Debian package mosquitto)")
		}
	}
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	port, tcpPort := freePort(t), freePort(t)
	// mosquitto 2.0.11 with libwebsockets 4 exits ("Unable to start any listening sockets") when
	// its only listener is a WebSocket one; a plain MQTT listener beside it keeps it up.
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	os.WriteFile(conf, []byte("listener "+strconv.Itoa(tcpPort)+" 127.0.0.1\nlistener "+strconv.Itoa(port)+
		"\nprotocol websockets\nallow_anonymous true\n"), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var log bytes.Buffer
	broker := exec.CommandContext(ctx, bin, "-c", conf)
	broker.Stdout, broker.Stderr = &log, &log
	if err := broker.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); broker.Wait() }()
	var raw net.Conn
	for i := 0; ; i++ {
		if raw, err = net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			break
		}
		if i == 100 {
			t.Fatalf("mosquitto's WebSocket listener did not come up (built without websockets?): %v\n%s", err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	rec := &wstest.Recorder{Conn: raw}
	cfg, _ := xws.NewConfig("ws://127.0.0.1:"+strconv.Itoa(port)+"/mqtt", "http://localhost/")
	cfg.Protocol = []string{"mqtt"}
	ws, err := xws.NewClient(cfg, rec)
	if err != nil {
		t.Fatalf("WebSocket handshake with mosquitto: %v\n%s", err, log.String())
	}
	ws.PayloadType = xws.BinaryFrame
	read := func(want []byte) {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var all []byte
		for !bytes.Contains(all, want) {
			var msg []byte
			if err := xws.Message.Receive(ws, &msg); err != nil {
				t.Fatalf("waiting for %q: %v (have %x)", want, err, all)
			}
			all = append(all, msg...)
		}
	}
	write := func(b []byte) {
		t.Helper()
		if _, err := ws.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	write(connect("pilot-"+serial, "fh2"))
	read([]byte{0x20}) // CONNACK
	write(subscribe("thing/product/+/osd"))
	read([]byte{0x90}) // SUBACK
	pub := publish(topic, []byte(osd))
	write(pub[:20]) // one MQTT packet in two WebSocket messages (MQTT 5.0 §6)
	write(pub[20:])
	read([]byte(osd)) // the broker's copy, to our subscription
	write([]byte{0xe0, 0})
	ws.Close()
	up, down := rec.Streams()

	_, req, upFrames := wstest.SplitHead(t, up)
	status, resp, downFrames := wstest.SplitHead(t, down)
	h, err := websocket.ParseHandshake(status, req, resp)
	if err != nil || !mqttws.Subprotocol(h.Subprotocol) || !h.AcceptOK {
		t.Fatalf("handshake %+v: %v", h, err)
	}
	client, server := netip.MustParseAddrPort("10.0.0.2:50000"), netip.MustParseAddrPort("10.0.0.1:"+strconv.Itoa(port))
	sink := &decodertest.Sink{}
	in := decoders.Input{Path: "lab.pcapng", SHA256: "00"}
	c := mqttws.NewConn(h, websocket.Limits{}, in, sink)
	for i, d := range [][]byte{upFrames, downFrames} {
		n := geo.Network{Proto: netflow.TCP, Src: client, Dst: server, Direction: netflow.ClientToServer}
		if i == 1 {
			n.Src, n.Dst, n.Direction = server, client, netflow.ServerToClient
		}
		for k := 0; k < len(d); k += 9 { // segments cut across frame headers and MQTT packets
			c.Segment(decoders.Segment{Frame: 10*i + k/9 + 1, Offset: int64(k), Network: n, Payload: d[k:min(len(d), k+9)]})
		}
	}
	c.Close()
	if len(sink.Fixes) != 2 {
		t.Fatalf("%d fixes, notes %+v", len(sink.Fixes), sink.Notes)
	}
	for i, f := range sink.Fixes {
		if f.Lat != 22.907809968 || f.Lon != 113.703482143 || f.Role != geo.RoleAircraft || f.Evidence.Channel != geo.ChannelNetwork ||
			!strings.HasPrefix(f.Evidence.Message, topic) || f.Evidence.Decoder != "mqtt" {
			t.Errorf("fix %d: %+v", i, f)
		}
	}
	if d := sink.Fixes[1].Evidence.Network.Direction; d != netflow.ServerToClient {
		t.Errorf("broker's copy has direction %v", d)
	}
	ids := map[string]bool{}
	for _, n := range sink.NotesWithCode(decoders.CodeIdentity) {
		for k, v := range n.Attrs {
			ids[k+"="+v] = true
		}
	}
	for _, want := range []string{"mqtt_client_id=pilot-" + serial, "mqtt_username=fh2", "device_serial=" + serial} {
		if !ids[want] {
			t.Errorf("identity %s not noted: %v", want, ids)
		}
	}
	if len(sink.NotesWithCode(decoders.CodeMalformed)) != 0 || sink.Counts["mqtt_publish"] != 2 {
		t.Errorf("notes %+v counts %v", sink.Notes, sink.Counts)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestMessages: a text message is noted and not read; a message cut by the bound ends the
// direction's MQTT stream with a note, the other direction reads on.
func TestMessages(t *testing.T) {
	sink := &decodertest.Sink{}
	f := mqttws.NewFlow(decoders.Input{Path: "x"}, sink)
	up := decoders.Segment{Frame: 1, Network: geo.Network{Direction: netflow.ClientToServer}}
	down := decoders.Segment{Frame: 2, Network: geo.Network{Direction: netflow.ServerToClient}}
	f.Message(up, &websocket.Message{Opcode: websocket.OpText, Payload: []byte("hello")})
	f.Message(up, &websocket.Message{Opcode: websocket.OpBinary, Payload: connect("c", "u")})
	f.Message(up, &websocket.Message{Opcode: websocket.OpBinary, Payload: publish(topic, []byte(osd))[:30], Truncated: true})
	f.Message(up, &websocket.Message{Opcode: websocket.OpBinary, Payload: publish(topic, []byte(osd))})
	f.Message(down, &websocket.Message{Opcode: websocket.OpPing})
	f.Close()
	if len(sink.Fixes) != 0 || len(sink.NotesWithCode(decoders.CodeTruncated)) != 1 || len(sink.NotesWithCode(decoders.CodeMalformed)) != 1 {
		t.Errorf("fixes %d notes %+v", len(sink.Fixes), sink.Notes)
	}
	if !mqttws.Subprotocol("MQTT") || !mqttws.Subprotocol("mqttv3.1") || mqttws.Subprotocol("wamp") {
		t.Error("Subprotocol")
	}
}
