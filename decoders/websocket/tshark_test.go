package websocket_test

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/websocket"
	"droneaudit/decoders/websocket/wstest"
	"droneaudit/internal/netfixture"
)

// TestTsharkOracle writes a WebSocket session with masked, fragmented and permessage-deflate
// messages (context takeover both ways) into a pcap and compares the text messages tshark's
// WebSocket dissector reports with what this package reads. It skips without tshark (Debian
// package tshark).
//
// Two variants stay out of the comparison because tshark (checked with the Debian build here)
// reads them differently from the bytes that were sent, while this package reads them back
// exactly (TestDeflate): a compressed message fragmented around a ping frame comes out of tshark
// as a few bytes of garbage, and with server_no_context_takeover agreed, tshark fails on the
// client's later messages, which keep their context.
func TestTsharkOracle(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark)")
	}
	req := "GET /mqtt HTTP/1.1\r\nHost: cloud.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + websocket.AcceptKey("dGhlIHNhbXBsZSBub25jZQ==") + "\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"

	type frame struct {
		fromClient bool
		b          []byte
	}
	cz, sz := wstest.NewDeflater(true), wstest.NewDeflater(true)
	osd := func(i int) string {
		return `{"method":"device_osd","data":{"host":{"latitude":22.90780` + string(rune('0'+i)) + `,"longitude":113.703482}}}`
	}
	var frames []frame
	var wantUp, wantDown []string
	add := func(fromClient bool, b []byte) { frames = append(frames, frame{fromClient, b}) }
	add(true, wstest.Frame(0x1, true, false, mask, []byte("hello")))
	wantUp = append(wantUp, "hello")
	for i := range 3 {
		add(true, wstest.Frame(0x1, true, true, mask, cz.Message(t, []byte(osd(i)))))
		wantUp = append(wantUp, osd(i))
		add(false, wstest.Frame(0x1, true, true, nil, sz.Message(t, []byte("ack "+osd(i)))))
		wantDown = append(wantDown, "ack "+osd(i))
	}
	add(true, wstest.Frame(0x1, false, false, mask, []byte(osd(7)[:30])))
	add(true, wstest.Frame(0x9, true, false, mask, []byte("p")))
	add(true, wstest.Frame(0x0, true, false, mask, []byte(osd(7)[30:])))
	wantUp = append(wantUp, osd(7))
	add(false, wstest.Frame(0x8, true, false, nil, []byte("\x03\xe8done")))

	path := filepath.Join(t.TempDir(), "ws.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.TCP(netip.MustParseAddrPort("10.0.0.2:50000"), netip.MustParseAddrPort("10.0.0.1:80"))
	if err != nil {
		t.Fatal(err)
	}
	c.Send(true, []byte(req))
	c.Send(false, []byte(resp))
	var up, down []byte
	for _, fr := range frames {
		c.Send(fr.fromClient, fr.b)
		if fr.fromClient {
			up = append(up, fr.b...)
		} else {
			down = append(down, fr.b...)
		}
	}
	c.Close()
	w.Close()
	f.Close()

	out, err := exec.Command("tshark", "-r", path, "-2", "-Y", "websocket.payload.text", "-T", "fields",
		"-e", "ip.src", "-e", "websocket.payload.text", "-E", "occurrence=l").CombinedOutput()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	var tsUp, tsDown []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		src, text, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "Running as") {
			continue
		}
		if src == "10.0.0.2" {
			tsUp = append(tsUp, text)
		} else {
			tsDown = append(tsDown, text)
		}
	}

	_, reqH, _ := wstest.SplitHead(t, []byte(req))
	status, respH, _ := wstest.SplitHead(t, []byte(resp))
	h, err := websocket.ParseHandshake(status, reqH, respH)
	if err != nil || !h.AcceptOK || h.Client == nil || h.Client.NoContextTakeover {
		t.Fatalf("handshake %+v %v", h, err)
	}
	var ours [2][]string
	conn := websocket.NewConn(h, websocket.Limits{}, func(dir int, m *websocket.Message) {
		if m.Opcode == websocket.OpText {
			ours[dir] = append(ours[dir], string(m.Payload))
		}
	}, func(n decoders.Note) { t.Errorf("note %+v", n) })
	if conn.Feed(0, up) != nil || conn.Feed(1, down) != nil {
		t.Fatal("feed error")
	}
	if strings.Join(ours[0], "\n") != strings.Join(wantUp, "\n") || strings.Join(ours[1], "\n") != strings.Join(wantDown, "\n") {
		t.Fatalf("ours:\n%q\n%q", ours[0], ours[1])
	}
	// tshark's view of the same frames: every message it shows as text is one of ours, in order.
	if !equalish(tsUp, wantUp) || !equalish(tsDown, wantDown) {
		t.Errorf("tshark up %q\nwant %q\ntshark down %q\nwant %q", tsUp, wantUp, tsDown, wantDown)
	}
	if !bytes.Contains(out, []byte("hello")) {
		t.Errorf("tshark output %s", out)
	}
}

func equalish(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }
