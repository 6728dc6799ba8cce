package http

import (
	"bytes"
	"errors"
	"image/png"
	"io"
	"os"
	"testing"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
	"droneaudit/decoders/tls"
	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/corpus"
	"droneaudit/netflow"
)

// decryptedStreams reads a capture with its key log and returns the decrypted bytes of each
// direction of its first TCP connection.
func decryptedStreams(t *testing.T, pcap, keylog string) [2][]byte {
	t.Helper()
	keys := tlskeys.NewLog()
	if _, err := keys.AddFile(keylog); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := capture.NewReader(f, pcap)
	if err != nil {
		t.Fatal(err)
	}
	nd, ft := capture.NewNetDecoder(), flowtable.New()
	var out [2][]byte
	var first *flowtable.Flow
	s := tls.NewSession(tls.Config{Keys: keys, OnData: func(d *tls.Data) { out[d.Dir] = append(out[d.Dir], d.Bytes...) }})
	deliver := func(d flowtable.Delivery) {
		if d.Flow.Proto != netflow.TCP || (first != nil && d.Flow != first) {
			return
		}
		first = d.Flow
		if d.Gap {
			s.Gap(d.Dir, 0)
		}
		s.Feed(d.Dir, d.Payload)
	}
	ft.EnableReassembly(deliver)
	for {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if tr, ok, err := nd.Decode(p); err == nil && ok {
			deliver(ft.Add(tr, p.Frame, p.Time))
		}
	}
	ft.Flush()
	if sum := s.Close(); sum.Status != tls.StatusDecrypted {
		t.Fatalf("TLS: %s %s", sum.Status, sum.Reason)
	}
	return out
}

// TestCorpusHTTP2PNG: Wireshark's http2-data-reassembly capture asks for /wireshark.png; the
// PNG comes back over many DATA frames and must be reassembled whole. The response carries no
// content-length (its headers are :status, content-type and date), so "whole" is checked by
// the PNG itself (every chunk's CRC, IEND last) and by the length tshark gives: its DATA frames
// on stream 1 add up to 76091 bytes (tshark -o tls.keylog_file:… -Y http2.type==0).
func TestCorpusHTTP2PNG(t *testing.T) {
	st := decryptedStreams(t, corpus.Path(t, "tls/http2-data-reassembly.pcap"), corpus.Path(t, "tls/http2-data-reassembly.keys"))
	var msgs []*H2Message
	c := NewH2Conn(H2Config{OnMessage: func(m *H2Message) { msgs = append(msgs, m) }})
	// One direction after the other, in odd pieces: the follower must not care.
	for d := range st {
		for p := st[d]; len(p) > 0; p = p[min(len(p), 1000):] {
			if err := c.Feed(netflow.Direction(d), p[:min(len(p), 1000)]); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Close()
	var req, resp *H2Message
	for _, m := range msgs {
		if m.Dir == netflow.ClientToServer && m.Path == "/wireshark.png" {
			req = m
		}
	}
	if req == nil {
		t.Fatalf("no request for /wireshark.png among %d messages", len(msgs))
	}
	for _, m := range msgs {
		if m.Dir == netflow.ServerToClient && m.StreamID == req.StreamID {
			resp = m
		}
	}
	if req.Method != "GET" || req.Authority == "" || resp == nil {
		t.Fatalf("request %+v, response %v", req, resp)
	}
	want := resp.ContentLength
	if want < 0 {
		want = 76091
	}
	if resp.Status != 200 || !resp.Complete || resp.Truncated || int64(len(resp.Body)) != want || resp.BodyLen != want {
		t.Fatalf("response %d complete %v, %d body bytes, content-length %d", resp.Status, resp.Complete, len(resp.Body), resp.ContentLength)
	}
	if _, err := png.Decode(bytes.NewReader(resp.Body)); err != nil {
		t.Fatalf("body is not a valid PNG: %v", err)
	}
	if !bytes.HasSuffix(resp.Body, []byte("IEND\xae\x42\x60\x82")) {
		t.Fatal("the PNG does not end with its IEND chunk")
	}
	if resp.Header("content-type") != "image/png" {
		t.Errorf("content-type %q", resp.Header("content-type"))
	}
	t.Logf("%s %s%s -> %d, %d bytes of PNG, stream %d", req.Method, req.Authority, req.Path, resp.Status, len(resp.Body), req.StreamID)
}
