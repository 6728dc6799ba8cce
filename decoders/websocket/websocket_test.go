package websocket_test

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	xws "golang.org/x/net/websocket"

	"droneaudit/decoders"
	"droneaudit/decoders/websocket"
	"droneaudit/decoders/websocket/wstest"
)

type got struct {
	op      websocket.Opcode
	payload string
	frames  int
	flags   string
	code    int
	reason  string
}

// collect reads one direction fed in pieces of size step and returns its messages and notes.
func collect(t testing.TB, cfg websocket.Config, stream []byte, step int) ([]got, []decoders.Note, error) {
	t.Helper()
	var out []got
	var notes []decoders.Note
	cfg.OnNote = func(n decoders.Note) { notes = append(notes, n) }
	s := websocket.NewStream(cfg, func(m *websocket.Message) {
		flags := ""
		if m.Compressed {
			flags += "z"
		}
		if m.Truncated {
			flags += "t"
		}
		if m.Incomplete {
			flags += "i"
		}
		if m.Err != nil {
			flags += "e"
		}
		out = append(out, got{m.Opcode, string(m.Payload), m.Frames, flags, m.CloseCode, m.CloseReason})
	})
	var err error
	for i := 0; i < len(stream); i += step {
		if e := s.Feed(stream[i:min(len(stream), i+step)]); e != nil && err == nil {
			err = e
		}
	}
	s.Close()
	return out, notes, err
}

// TestRealClient records a session between golang.org/x/net/websocket's client and server
// (masked client frames, 7-, 16- and 64-bit lengths, text and binary) and reads it back.
func TestRealClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: xws.Server{Handler: func(c *xws.Conn) {
		for {
			var msg []byte
			if err := xws.Message.Receive(c, &msg); err != nil {
				return
			}
			if c.PayloadType == xws.BinaryFrame {
				xws.Message.Send(c, append([]byte("echo:"), msg...))
			} else {
				xws.Message.Send(c, "echo:"+string(msg))
			}
		}
	}, Handshake: func(cfg *xws.Config, r *http.Request) error {
		cfg.Protocol = []string{"mqtt"}
		return nil
	}}}
	go srv.Serve(ln)
	defer srv.Close()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	rec := &wstest.Recorder{Conn: raw}
	cfg, _ := xws.NewConfig("ws://"+ln.Addr().String()+"/mqtt", "http://localhost/")
	cfg.Protocol = []string{"mqtt"}
	c, err := xws.NewClient(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 70000/16) // 64-bit length
	sent := []any{`{"latitude":22.907809968}`, []byte{0x30, 0x05, 0, 1, 'a', 'b', 'c'}, strings.Repeat("x", 300), big}
	for _, m := range sent {
		if err := xws.Message.Send(c, m); err != nil {
			t.Fatal(err)
		}
		var reply []byte
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := xws.Message.Receive(c, &reply); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	up, down := rec.Streams()

	_, req, upFrames := wstest.SplitHead(t, up)
	status, resp, downFrames := wstest.SplitHead(t, down)
	if !websocket.IsUpgradeRequest(req) {
		t.Fatalf("request not an upgrade: %v", req)
	}
	h, err := websocket.ParseHandshake(status, req, resp)
	if err != nil || h.Subprotocol != "mqtt" || !h.AcceptOK || h.Client != nil || h.Server != nil {
		t.Fatalf("handshake %+v %v", h, err)
	}
	for _, step := range []int{1, 7, 1 << 20} {
		msgs, notes, err := collect(t, websocket.Config{FromClient: true}, upFrames, step)
		if err != nil || len(notes) != 0 || len(msgs) != 5 {
			t.Fatalf("step %d client: %d messages, notes %+v, err %v", step, len(msgs), notes, err)
		}
		for i, m := range sent {
			want, op := "", websocket.OpText
			switch v := m.(type) {
			case string:
				want = v
			case []byte:
				want, op = string(v), websocket.OpBinary
			}
			if msgs[i].op != op || msgs[i].payload != want || msgs[i].frames != 1 || msgs[i].flags != "" {
				t.Errorf("step %d client message %d: %v %d bytes %q", step, i, msgs[i].op, len(msgs[i].payload), msgs[i].flags)
			}
		}
		if msgs[4].op != websocket.OpClose {
			t.Errorf("last client message %v, want close", msgs[4].op)
		}
		replies, notes, err := collect(t, websocket.Config{}, downFrames, step)
		if err != nil || len(notes) != 0 || len(replies) < 4 || replies[1].payload != "echo:\x30\x05\x00\x01abc" || replies[3].payload != "echo:"+string(big) {
			t.Fatalf("step %d server: %d messages, notes %+v, err %v", step, len(replies), notes, err)
		}
	}
}

var mask = []byte{0x37, 0xfa, 0x21, 0x3d}

// TestFragmentsAndControl: a masked message in three fragments with a ping between them, a pong,
// and a close with its status and reason (RFC 6455 §5.4, §5.5).
func TestFragmentsAndControl(t *testing.T) {
	var s []byte
	s = append(s, wstest.Frame(0x1, false, false, mask, []byte(`{"data":{"latit`))...)
	s = append(s, wstest.Frame(0x9, true, false, mask, []byte("ping!"))...)
	s = append(s, wstest.Frame(0x0, false, false, mask, []byte(`ude":22.9,"longi`))...)
	s = append(s, wstest.Frame(0x0, true, false, mask, []byte(`tude":113.7}}`))...)
	s = append(s, wstest.Frame(0xA, true, false, mask, nil)...)
	s = append(s, wstest.Frame(0x8, true, false, mask, []byte("\x03\xe8bye"))...)
	for _, step := range []int{1, 3, len(s)} {
		msgs, notes, err := collect(t, websocket.Config{FromClient: true}, s, step)
		want := []got{{websocket.OpPing, "ping!", 1, "", 0, ""}, {websocket.OpText, `{"data":{"latitude":22.9,"longitude":113.7}}`, 3, "", 0, ""},
			{websocket.OpPong, "", 1, "", 0, ""}, {websocket.OpClose, "\x03\xe8bye", 1, "", 1000, "bye"}}
		if err != nil || len(notes) != 0 || len(msgs) != len(want) {
			t.Fatalf("step %d: %+v %+v %v", step, msgs, notes, err)
		}
		for i := range want {
			if msgs[i] != want[i] {
				t.Errorf("step %d message %d: %+v, want %+v", step, i, msgs[i], want[i])
			}
		}
	}
	// A masked frame from the server is read and noted.
	_, notes, _ := collect(t, websocket.Config{}, wstest.Frame(0x2, true, false, mask, []byte{1}), 1)
	if len(notes) != 1 || notes[0].Offset != 0 {
		t.Errorf("masked server frame: %+v", notes)
	}
}

// TestDeflate: permessage-deflate with and without context takeover (RFC 7692 §7.2), a
// compressed message in fragments, and the handshake parameters.
func TestDeflate(t *testing.T) {
	msgs := []string{`{"method":"osd","data":{"latitude":22.907809968,"longitude":113.703482143}}`,
		`{"method":"osd","data":{"latitude":22.907809970,"longitude":113.703482150}}`, strings.Repeat("abc", 5000)}
	for _, takeover := range []bool{true, false} {
		d := wstest.NewDeflater(takeover)
		var s []byte
		for i, m := range msgs {
			z := d.Message(t, []byte(m))
			if i == 2 { // fragmented around a ping: RSV1 only on the first frame
				s = append(s, wstest.Frame(0x1, false, true, nil, z[:len(z)/2])...)
				s = append(s, wstest.Frame(0x9, true, false, nil, []byte("p"))...)
				s = append(s, wstest.Frame(0x0, true, false, nil, z[len(z)/2:])...)
			} else {
				s = append(s, wstest.Frame(0x1, true, true, nil, z)...)
			}
		}
		all, notes, err := collect(t, websocket.Config{Deflate: &websocket.Deflate{NoContextTakeover: !takeover}}, s, 5)
		var data []got
		for _, m := range all {
			if m.op != websocket.OpPing {
				data = append(data, m)
			}
		}
		if err != nil || len(notes) != 0 || len(data) != 3 || len(all) != 4 {
			t.Fatalf("takeover %v: %+v %+v %v", takeover, data, notes, err)
		}
		for i, m := range msgs {
			if data[i].payload != m || data[i].flags != "z" {
				t.Errorf("takeover %v message %d: %q flags %q", takeover, i, data[i].payload[:min(40, len(data[i].payload))], data[i].flags)
			}
		}
	}
	// The agreement from the response header.
	c, s := websocket.ParseExtensions([]string{`permessage-deflate; client_no_context_takeover; server_max_window_bits=10`})
	if c == nil || !c.NoContextTakeover || c.WindowBits != 15 || s.NoContextTakeover || s.WindowBits != 10 {
		t.Errorf("extensions: %+v %+v", c, s)
	}
	if c, s := websocket.ParseExtensions([]string{"x-webkit-deflate-frame"}); c != nil || s != nil {
		t.Error("other extension taken for permessage-deflate")
	}
}

// TestBounds: lengths are checked before anything is kept; messages over the bound are cut; a
// compressed bomb inflates to the bound only.
func TestBounds(t *testing.T) {
	// A 64-bit length with its top bit set is a protocol error at the frame's offset.
	pre := wstest.Frame(0x2, true, false, nil, []byte("ok"))
	bad := append(append([]byte{}, pre...), 0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0)
	msgs, _, err := collect(t, websocket.Config{}, bad, 1)
	var pe *websocket.ProtocolError
	if !errors.As(err, &pe) || pe.Offset != int64(len(pre)) || len(msgs) != 1 {
		t.Errorf("MSB length: %v %+v", err, msgs)
	}
	// A frame declaring 2^40 bytes allocates only the bound, and is emitted cut when the stream
	// ends.
	huge := []byte{0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0}
	body := bytes.Repeat([]byte{'A'}, 1<<20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	msgs, notes, err := collect(t, websocket.Config{MaxMessage: 64 << 10}, append(huge, body...), 4096)
	runtime.ReadMemStats(&after)
	if err != nil || len(msgs) != 1 || len(msgs[0].payload) != 64<<10 || msgs[0].flags != "ti" || len(notes) != 1 || notes[0].Code != decoders.CodeTruncated {
		t.Errorf("huge frame: %v %d messages notes %+v", err, len(msgs), notes)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("huge frame allocated %d bytes", n)
	}
	// Protocol errors.
	for name, s := range map[string][]byte{
		"long ping":            wstest.Frame(0x9, true, false, nil, make([]byte, 126)),
		"fragmented close":     wstest.Frame(0x8, false, false, nil, nil),
		"lone continuation":    wstest.Frame(0x0, true, false, nil, []byte("x")),
		"reserved opcode":      wstest.Frame(0x3, true, false, nil, nil),
		"rsv2":                 {0xa2, 0},
		"message in a message": append(wstest.Frame(0x1, false, false, nil, []byte("a")), wstest.Frame(0x1, true, false, nil, []byte("b"))...),
	} {
		if _, _, err := collect(t, websocket.Config{}, s, 1); !errors.As(err, &pe) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A deflate bomb is cut at the bound.
	z := wstest.NewDeflater(false).Message(t, make([]byte, 8<<20))
	msgs, notes, _ = collect(t, websocket.Config{Deflate: &websocket.Deflate{NoContextTakeover: true}, MaxMessage: 1 << 20}, wstest.Frame(0x2, true, true, nil, z), 1<<20)
	if len(msgs) != 1 || len(msgs[0].payload) != 1<<20 || msgs[0].flags != "zte" || len(notes) != 1 {
		t.Errorf("bomb: %d messages %+v", len(msgs), notes)
	}
	// A gap ends the direction; the message in progress is emitted incomplete.
	st := websocket.NewStream(websocket.Config{}, func(m *websocket.Message) {
		if !m.Incomplete || string(m.Payload) != "par" {
			t.Errorf("gap: %+v", m)
		}
	})
	st.Feed(wstest.Frame(0x1, true, false, nil, []byte("partial"))[:5])
	st.Gap()
	if !st.Dead() || st.Feed([]byte{0x81, 0}) != nil {
		t.Error("stream read on after a gap")
	}
}

// FuzzWebSocket reads arbitrary bytes as each direction, with and without deflate: no panic,
// payloads within the bound, messages in the order they end, within the input.
func FuzzWebSocket(f *testing.F) {
	d := wstest.NewDeflater(true)
	f.Add(byte(0), wstest.Frame(0x1, true, false, mask, []byte("hello")))
	f.Add(byte(1), append(wstest.Frame(0x1, true, true, nil, d.Message(f, []byte("aaaaaaaaaa"))), wstest.Frame(0x1, true, true, nil, d.Message(f, []byte("aaaaab")))...))
	f.Add(byte(2), append(wstest.Frame(0x2, false, false, nil, []byte("ab")), append(wstest.Frame(0x9, true, false, nil, nil), wstest.Frame(0x0, true, false, nil, []byte("c"))...)...))
	f.Add(byte(3), wstest.Frame(0x8, true, false, mask, []byte("\x03\xe9going away")))
	f.Add(byte(0), []byte{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2})
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		const bound = 64 << 10
		cfg := websocket.Config{FromClient: sel&1 != 0, MaxMessage: bound, Budget: decoders.NewExpansionBudget(1 << 30)}
		if sel&2 != 0 {
			cfg.Deflate = &websocket.Deflate{NoContextTakeover: sel&4 != 0}
		}
		var last int64 = -1
		s := websocket.NewStream(cfg, func(m *websocket.Message) {
			if len(m.Payload) > bound || m.End < last || m.End > int64(len(data)) || m.Offset >= m.End {
				t.Fatalf("message %+v after %d in %d bytes", m, last, len(data))
			}
			last = m.End
		})
		step := int(sel>>3) + 1
		for i := 0; i < len(data); i += step {
			s.Feed(data[i:min(len(data), i+step)])
		}
		s.Close()
	})
}
