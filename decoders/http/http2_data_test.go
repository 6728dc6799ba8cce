package http

import (
	"bytes"
	"fmt"
	"testing"

	"droneaudit/netflow"
)

// h2Frames turns fuzz bytes into a sequence of whole HTTP/2 frames for one direction: HEADERS
// (HPACK static entries, END_HEADERS or not), CONTINUATION, DATA (padded or not, END_STREAM or
// not, any pad length, stream 0 included), RST_STREAM and PING, on a few streams.
func h2Frames(b []byte, client bool) []byte {
	var out []byte
	if client {
		out = append(out, ClientPreface...)
	}
	frame := func(typ, flags byte, id uint32, payload []byte) {
		out = append(out, byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload)), typ, flags,
			byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
		out = append(out, payload...)
	}
	frame(4, 0, 0, nil)  // SETTINGS
	head := []byte{0x88} // :status 200
	if client {
		head = []byte{0x83, 0x84, 0x87} // POST / https
	}
	for len(b) >= 3 {
		op, id, n := b[0], uint32(b[1]%4)*2-1, int(b[2])
		if b[1]%4 == 0 {
			id = 0
		}
		b = b[3:]
		payload := bytes.Repeat([]byte{op ^ byte(n)}, n*37%700)
		switch op % 8 {
		case 0, 1:
			frame(1, 0x4|op>>7&1, id, head) // END_HEADERS, END_STREAM from the top bit
		case 2:
			frame(1, op>>7&1, id, head[:1]) // HEADERS awaiting CONTINUATION
		case 3:
			frame(9, 0x4, id, head[1:])
		case 4, 5:
			frame(0, op>>7&1, id, payload)
		case 6:
			pad := int(op>>4) * 3
			frame(0, 0x8|op>>7&1, id, append(append([]byte{byte(pad)}, payload...), make([]byte, min(pad, n%5*7))...))
		case 7:
			if op&0x10 != 0 {
				frame(3, 0, id, []byte{0, 0, 0, 8})
			} else {
				frame(6, 0, 0, make([]byte, 8))
			}
		}
	}
	return out
}

// followH2 feeds both directions in pieces of step bytes and describes every
// message handed on, the frame counts and which directions stopped on an error.
func followH2(client, server []byte, step int, framer bool) string {
	var w bytes.Buffer
	c := NewH2Conn(H2Config{MaxBody: 3000, MaxHeld: 5000, MaxStreams: 4, Recycle: step%2 == 0, OnMessage: func(m *H2Message) {
		fmt.Fprintf(&w, "%d %v %q len %d sum %x complete %v truncated %v reset %v\n", m.StreamID, m.Dir, m.Body, m.BodyLen, m.SHA256[:4], m.Complete, m.Truncated, m.Reset)
	}})
	c.framerData = framer
	// The client's frames, then the server's: a message is then only handed on between whole
	// frames of both paths. (Interleaved, a server's RST_STREAM that comes while a client's DATA
	// frame is half read ends the body with the bytes read so far when DATA is streamed, without
	// them when the Framer waits for the whole frame.)
	for _, side := range []struct {
		dir netflow.Direction
		b   []byte
	}{{netflow.ClientToServer, client}, {netflow.ServerToClient, server}} {
		for b := side.b; len(b) > 0; {
			k := min(step, len(b))
			c.Feed(side.dir, b[:k])
			b = b[k:]
		}
	}
	fmt.Fprintf(&w, "frames %v errors %v %v\n", c.Frames, c.Err(0) != nil, c.Err(1) != nil)
	c.Close()
	fmt.Fprintf(&w, "closed\n")
	return w.String()
}

// FuzzH2DataPath: DATA frames read piece by piece give exactly what the Framer gives reading
// them whole (bodies, hashes, bounds, ends, resets, frame counts, errors), however the bytes
// are split.
func FuzzH2DataPath(f *testing.F) {
	f.Add([]byte{0, 1, 0, 4, 1, 50, 4, 1, 9}, []byte{0, 1, 0, 0x84, 1, 3}, uint8(7))
	f.Add([]byte{0x86, 1, 20, 0xf6, 1, 200, 6, 2, 3}, []byte{2, 1, 0, 3, 1, 0, 0x84, 1, 1}, uint8(1))
	f.Add([]byte{4, 0, 5, 0x76, 1, 0, 0xe6, 3, 1}, []byte{0x97, 1, 0, 7, 1, 0}, uint8(100))
	f.Fuzz(func(t *testing.T, cb, sb []byte, step uint8) {
		client, server := h2Frames(cb, true), h2Frames(sb, false)
		n := int(step) + 1
		streamed, framed := followH2(client, server, n, false), followH2(client, server, n, true)
		if streamed != framed {
			t.Fatalf("pieces of %d:\nstreamed DATA:\n%s\nDATA by the Framer:\n%s", n, streamed, framed)
		}
	})
}
