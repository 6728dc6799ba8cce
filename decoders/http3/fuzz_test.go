package http3

import (
	"bytes"
	"testing"

	"github.com/quic-go/qpack"

	"droneaudit/decoders/quic"
	"droneaudit/netflow"
)

// headerBlock encodes fields with quic-go/qpack's encoder (static table and literals only).
func headerBlock(fields ...string) []byte {
	var b bytes.Buffer
	e := qpack.NewEncoder(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		e.WriteField(qpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	return b.Bytes()
}

func frame(typ uint64, payload []byte) []byte {
	b := appendVarint(nil, typ)
	b = appendVarint(b, uint64(len(payload)))
	return append(b, payload...)
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, 0x40|byte(v>>8), byte(v))
	}
	return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func requestSeed() []byte {
	b := frame(FrameHeaders, headerBlock(":method", "POST", ":scheme", "https", ":authority", "api.example", ":path", "/up", "content-type", "application/json"))
	b = append(b, frame(FrameData, []byte(`{"lat":52.1,`))...)
	b = append(b, frame(0x21, []byte("reserved"))...) // a reserved type is skipped (RFC 9114 §7.2.8)
	b = append(b, frame(FrameData, []byte(`"lon":4.3}`))...)
	return append(b, frame(FrameHeaders, headerBlock("x-trailer", "1"))...)
}

// The stream reader reads a request split at any point, skips reserved frame types and keeps
// trailers apart.
func TestStreamSplit(t *testing.T) {
	seed := requestSeed()
	for cut := 0; cut <= len(seed); cut++ {
		s := NewStream(0, 0)
		s.Feed(netflow.ClientToServer, seed[:cut])
		s.Feed(netflow.ClientToServer, seed[cut:])
		s.Fin(netflow.ClientToServer)
		q := s.Exchange().Request
		if q.Method != "POST" || q.Path != "/up" || q.Authority != "api.example" || string(q.Body) != `{"lat":52.1,"lon":4.3}` ||
			len(q.Trailers) != 1 || q.Header("content-type") != "application/json" || !q.Complete || len(q.Problems) != 0 {
			t.Fatalf("cut %d: %+v", cut, q)
		}
	}
}

// A header block that refers to the dynamic table is reported, not guessed.
func TestDynamicTableUnsupported(t *testing.T) {
	// Required Insert Count 1, Base 0, then an indexed field line of the dynamic table.
	s := NewStream(0, 0)
	s.Feed(netflow.ClientToServer, frame(FrameHeaders, []byte{0x02, 0x00, 0x80}))
	q := s.Exchange().Request
	if q.Method != "" || len(q.Problems) != 1 || !bytes.Contains([]byte(q.Problems[0]), []byte("dynamic table")) {
		t.Fatalf("%+v", q)
	}
	if _, err := DecodeHeaderBlock([]byte{0x00, 0x00, 0x80}); err != ErrDynamicTable {
		t.Errorf("dynamic index with a zero insert count: %v", err)
	}
}

// FuzzHTTP3Frames: any bytes on a request stream, split anywhere, are read without a panic and
// within the body bound.
func FuzzHTTP3Frames(f *testing.F) {
	f.Add(uint16(0), requestSeed())
	f.Add(uint16(3), frame(FrameHeaders, headerBlock(":status", "103"))) // interim
	f.Add(uint16(1), append(frame(FrameHeaders, headerBlock(":status", "200")), frame(FrameData, []byte("body"))...))
	f.Add(uint16(2), frame(FrameSettings, nil))
	f.Add(uint16(5), []byte{0x01, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, cut uint16, b []byte) {
		s := NewStream(0, 64)
		c := int(cut) % (len(b) + 1)
		for _, d := range []netflow.Direction{netflow.ClientToServer, netflow.ServerToClient} {
			s.Feed(d, b[:c])
			s.Feed(d, b[c:])
			s.Fin(d)
		}
		for _, m := range []*Message{&s.ex.Request, &s.ex.Response} {
			if len(m.Body) > 64 || int64(len(m.Body)) > m.BodyLen || len(m.Problems) > maxProblems {
				t.Fatalf("body %d of %d, %d problems", len(m.Body), m.BodyLen, len(m.Problems))
			}
		}
		// The same bytes as the streams of a connection.
		h := NewConn(64, func(*Exchange) {})
		for _, id := range []uint64{0, 2, 3, 4} {
			h.StreamData(quic.StreamData{ID: id, Data: b, Fin: true, Done: true})
		}
		h.Close()
	})
}

// FuzzQPACK: any header block decodes or fails without a panic, within the field bound.
func FuzzQPACK(f *testing.F) {
	f.Add(headerBlock(":method", "GET", ":path", "/", ":authority", "a.example", "user-agent", "droneaudit"))
	f.Add(headerBlock(":status", "200", "content-length", "1234", "x-custom", "value"))
	f.Add([]byte{0x00, 0x00, 0xd1, 0xc1})
	f.Add([]byte{0x02, 0x00, 0x80})
	f.Add([]byte{0x00, 0x00, 0x5f, 0x1d, 0x03, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, _ := DecodeHeaderBlock(b)
		if len(fields) > maxFields {
			t.Fatalf("%d fields", len(fields))
		}
	})
}
