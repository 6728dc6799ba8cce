package http3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"droneaudit/decoders/quic"
	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// fixtureRequests are what the real sessions send: a query with a position in its URL, an upload
// big enough to make quic-go update its keys, and a small JSON body.
func fixtureRequests() []netfixture.HTTP3Request {
	upload := make([]byte, 200<<10)
	rand.NewChaCha8([32]byte{3}).Read(upload)
	return []netfixture.HTTP3Request{
		{Method: "GET", Path: "/api/v1/flysafe/areas?lat=52.3731&lng=4.8922"},
		{Method: "POST", Path: "/upload/flightrecord", Body: upload},
		{Method: "PUT", Path: "/telemetry", Body: []byte(`{"latitude":52.3731,"longitude":4.8922}`)},
	}
}

// session runs the fixture requests over a real quic-go HTTP/3 connection and reads them back.
func session(t *testing.T, v2 bool) ([]*Exchange, quic.Summary, *Conn) {
	t.Helper()
	var kl bytes.Buffer
	chunks, err := netfixture.HTTP3Session(context.Background(), netfixture.HTTP3Options{ServerName: "api.dji.example", Version2: v2, KeyLog: &kl, Requests: fixtureRequests()})
	if err != nil {
		t.Fatal(err)
	}
	keys := tlskeys.NewLog()
	keys.AddText(kl.Bytes())
	var got []*Exchange
	h := NewConn(0, func(e *Exchange) { got = append(got, e) })
	qc := quic.NewConn(keys, h.StreamData)
	for _, ch := range chunks {
		dir := netflow.ServerToClient
		if ch.FromClient {
			dir = netflow.ClientToServer
		}
		qc.Datagram(dir, ch.Data)
	}
	sum := qc.Close()
	h.Close()
	return got, sum, h
}

// Every HTTP/3 request of a real quic-go session (QUIC v1 and v2) is recovered: method,
// authority, path, the request body byte for byte and the response.
func TestRealHTTP3Requests(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		got, sum, h := session(t, v2)
		t.Logf("v2=%v: %d exchanges, %+v", v2, len(got), sum.Counts)
		if sum.Status != quic.StatusDecrypted {
			t.Fatalf("v2=%v: %+v", v2, sum)
		}
		want := fixtureRequests()
		if len(got) != len(want) {
			t.Fatalf("v2=%v: %d exchanges, want %d", v2, len(got), len(want))
		}
		for i, e := range got {
			w := want[i]
			q, r := e.Request, e.Response
			if q.Method != w.Method || q.Path != w.Path || q.Authority != "api.dji.example" || q.Scheme != "https" {
				t.Errorf("v2=%v request %d: %s %s %s %s", v2, i, q.Method, q.Scheme, q.Authority, q.Path)
			}
			if !bytes.Equal(q.Body, w.Body) || q.BodyLen != int64(len(w.Body)) || !q.Complete || len(q.Problems) != 0 {
				t.Errorf("v2=%v request %d: body %d bytes (len %d), complete %v, problems %v", v2, i, len(q.Body), q.BodyLen, q.Complete, q.Problems)
			}
			if q.SHA256 != sha256.Sum256(w.Body) || r.SHA256 != sha256.Sum256(r.Body) {
				t.Errorf("v2=%v exchange %d: body hashes %x %x", v2, i, q.SHA256, r.SHA256)
			}
			if r.Status != 200 || !bytes.Equal(r.Body, netfixture.HTTP3Response(w.Method, w.Path, w.Body)) || r.Header("content-type") != "text/plain" || !r.Complete {
				t.Errorf("v2=%v response %d: %d %q %v", v2, i, r.Status, r.Body, r.Fields)
			}
		}
		if sum.Counts.KeyUpdates == 0 {
			t.Errorf("v2=%v: the upload made no key update (%+v)", v2, sum.Counts)
		}
		if h.EncoderBytes != [2]int64{} {
			t.Logf("v2=%v: QPACK encoder streams carried %v bytes", v2, h.EncoderBytes)
		}
	}
}
