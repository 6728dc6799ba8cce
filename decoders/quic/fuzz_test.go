package quic

import (
	"bytes"
	"testing"

	"droneaudit/netflow"
)

// Fuzz1RTT: any datagram given to a connection with a fixed 1-RTT key is parsed and opened or
// rejected without a panic, and what is handed on is in stream order.
func Fuzz1RTT(f *testing.F) {
	_, pr := fixedConn(nil)
	k1, _ := pr.next(Version1)
	dcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	pad := make([]byte, 20)
	f.Add(sealShort(pr, dcid, 0, 0, append(streamFrame(0, 0, "hello", true), pad...)))
	f.Add(sealShort(k1, dcid, 7, 1, append(streamFrame(4, 3, "late", false), pad...)))
	f.Add(sealShort(pr, dcid, 1, 0, append([]byte{0x18, 1, 0, 8, 9, 9, 9, 9, 9, 9, 9, 9}, append(make([]byte, 16), pad...)...)))
	f.Add(sealShort(pr, dcid, 2, 0, append([]byte{0x1c, 0x0a, 0x08, 0x03, 'b', 'y', 'e'}, pad...)))
	f.Add([]byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		next := map[uint64]uint64{}
		c, _ := fixedConn(func(d StreamData) {
			if !d.Gap && d.Offset != next[d.ID] {
				t.Fatalf("stream %d: piece at %d, expected %d", d.ID, d.Offset, next[d.ID])
			}
			next[d.ID] = d.Offset + uint64(len(d.Data))
		})
		c.Datagram(netflow.ClientToServer, b)
		c.Datagram(netflow.ServerToClient, b)
		// The same bytes as the plaintext of a packet that authenticates, so the frames behind
		// the decryption are fuzzed too.
		c.Datagram(netflow.ClientToServer, sealShort(pr, dcid, 3, 0, append(bytes.Clone(b), pad...)))
		c.Close()
	})
}

// FuzzFrames: any decrypted payload is walked without a panic, every frame stays inside the
// payload, and the STREAM frames feed the reassembly.
func FuzzFrames(f *testing.F) {
	f.Add(streamFrame(0, 0, "GET /", true))
	f.Add(append(streamFrame(4, 10, "x", false), streamFrame(4, 0, "0123456789", false)...))
	f.Add([]byte{0x02, 0x05, 0x00, 0x01, 0x02, 0x01, 0x03, 0x00, 0x01, 0x06, 0x00, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x03, 0x05, 0x00, 0x00, 0x02, 0x01, 0x01, 0x02})
	f.Add([]byte{0x04, 0x00, 0x01, 0x05, 0x05, 0x04, 0x01, 0x07, 0x02, 'a', 'b', 0x10, 0x44, 0x00, 0x11, 0x00, 0x40, 0x40})
	f.Add([]byte{0x12, 0x05, 0x13, 0x05, 0x14, 0x01, 0x15, 0x00, 0x01, 0x16, 0x01, 0x17, 0x01, 0x19, 0x00, 0x1e})
	f.Add(append([]byte{0x1a}, make([]byte, 8)...))
	f.Add([]byte{0x1d, 0x00, 0x02, 'o', 'k', 0x31, 0x02, 'h', 'i', 0x30, 'r', 'e', 's', 't'})
	f.Add([]byte{0x0f, 0x00, 0x80, 0xff, 0xff, 0xff, 0x01, 'z'})
	f.Fuzz(func(t *testing.T, p []byte) {
		s := newStreams(func(StreamData) {})
		_ = ParseFrames(p, func(fr *Frame) {
			if fr.Offset < 0 || fr.Offset >= len(p) {
				t.Fatalf("frame at %d of %d", fr.Offset, len(p))
			}
			for _, b := range [][]byte{fr.Data, fr.CID, fr.Reason} {
				if len(b) > len(p) {
					t.Fatalf("field of %d bytes in a %d-byte payload", len(b), len(p))
				}
			}
			if fr.Type >= FrameStream && fr.Type <= FrameStream|7 {
				s.frame(netflow.ClientToServer, fr.StreamID, fr.DataOffset, fr.Data, fr.Fin)
			}
		})
		s.close()
		if s.held < 0 || s.held > MaxHeldPerConn {
			t.Fatalf("held %d", s.held)
		}
	})
}
