package websocket_test

import (
	"bytes"
	"testing"

	"droneaudit/decoders/websocket"
	"droneaudit/decoders/websocket/wstest"
)

// BenchmarkStream reads masked 1 KiB binary messages fed in 1460-byte segments.
func BenchmarkStream(b *testing.B) {
	var s []byte
	for range 1000 {
		s = append(s, wstest.Frame(0x2, true, false, mask, bytes.Repeat([]byte{0x30}, 1024))...)
	}
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		st := websocket.NewStream(websocket.Config{FromClient: true}, func(*websocket.Message) {})
		for i := 0; i < len(s); i += 1460 {
			st.Feed(s[i:min(len(s), i+1460)])
		}
	}
}

// BenchmarkDeflate reads 1000 compressed OSD-like JSON messages with context takeover.
func BenchmarkDeflate(b *testing.B) {
	d := wstest.NewDeflater(true)
	var s []byte
	for i := range 1000 {
		s = append(s, wstest.Frame(0x1, true, true, nil, d.Message(b, []byte(`{"method":"osd","data":{"latitude":22.9078`+string(rune('0'+i%10))+`,"longitude":113.7034}}`)))...)
	}
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		st := websocket.NewStream(websocket.Config{Deflate: &websocket.Deflate{}}, func(*websocket.Message) {})
		st.Feed(s)
	}
}
