package http

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/qpack"
	"github.com/quic-go/quic-go/quicvarint"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// h3Frame is one HTTP/3 frame (RFC 9114 §7.1): type and length varints, then the payload.
func h3Frame(typ uint64, payload []byte) []byte {
	b := quicvarint.Append(nil, typ)
	b = quicvarint.Append(b, uint64(len(payload)))
	return append(b, payload...)
}

// h3Request is the client half of a request stream, its header block encoded by quic-go's QPACK
// encoder (static table and literals).
func h3Request(t testing.TB, method, path, ctype, clen string, body []byte) []byte {
	var hb bytes.Buffer
	enc := qpack.NewEncoder(&hb)
	fields := []qpack.HeaderField{{Name: ":method", Value: method}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: "api.dji.example"}, {Name: ":path", Value: path}}
	if ctype != "" {
		fields = append(fields, qpack.HeaderField{Name: "content-type", Value: ctype})
	}
	if clen != "" {
		fields = append(fields, qpack.HeaderField{Name: "content-length", Value: clen})
	}
	for _, f := range fields {
		if err := enc.WriteField(f); err != nil {
			t.Fatal(err)
		}
	}
	out := h3Frame(0x01, hb.Bytes())
	if len(body) > 0 {
		out = append(out, h3Frame(0x00, body)...)
	}
	return out
}

// The positions of an HTTP/3 request (its :path's query and its JSON body) are fixes whose
// evidence names the request as the requests command's row does: "<QUIC flow>#<stream id>".
// A body shorter than its content-length (the stream was cut) is not read.
func TestH3NetFixes(t *testing.T) {
	body := []byte(`{"aircraft":{"latitude":22.907809968,"longitude":113.703482143}}`)
	for _, tc := range []struct {
		name  string
		clen  string
		fixes int
	}{{"whole", "", 2}, {"cut", "999", 1}} {
		raw := h3Request(t, "POST", "/api/v1/fly?lat=51.4783&lng=-2.5922", "application/json", tc.clen, body)
		if !H3Protocol.Sniff(raw) {
			t.Fatal("request stream not recognised")
		}
		var rec decodertest.Sink
		fl := H3Net{}.NewFlow(decoders.Input{Path: "h3.pcap"}, &rec)
		nw := geo.Network{FlowUID: "Cabc-quic-4", Proto: netflow.UDP, Dst: netip.MustParseAddrPort("203.0.113.7:443"), Direction: netflow.ClientToServer}
		for off := 0; off < len(raw); off += 29 {
			fl.Segment(decoders.Segment{Frame: off, Time: time.Unix(5, 0), Network: nw, Payload: raw[off:min(off+29, len(raw))]})
		}
		fl.Close()
		if len(rec.Fixes) != tc.fixes || rec.Counts["http_requests"] != 1 {
			t.Fatalf("%s: fixes %+v, counts %v", tc.name, rec.Fixes, rec.Counts)
		}
		for _, f := range rec.Fixes {
			rq := f.Evidence.Request
			if rq == nil || rq.ID != "Cabc#4" || rq.Method != "POST" || rq.URL != "https://api.dji.example/api/v1/fly?lat=51.4783&lng=-2.5922" {
				t.Errorf("%s: request %+v", tc.name, rq)
			}
		}
		if tc.fixes == 2 && (rec.Fixes[1].Lat != 22.907809968 || !strings.Contains(rec.Fixes[1].Evidence.Message, "json body")) {
			t.Errorf("json fix %+v", rec.Fixes[1])
		}
	}
	// A control stream (type 0x00) is not taken for a request stream.
	if H3Protocol.Sniff([]byte{0x00, 0x04, 0x00}) {
		t.Error("control stream recognised as a request stream")
	}
}

func FuzzH3Net(f *testing.F) {
	f.Add(h3Request(f, "POST", "/a?lat=1&lng=2", "application/json", "", []byte(`{"lat":1.5,"lng":2.5}`)))
	f.Add(h3Request(f, "GET", "/", "", "", nil))
	f.Add([]byte{0x01, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		H3Protocol.Sniff(b)
		var rec decodertest.Sink
		fl := H3Net{}.NewFlow(decoders.Input{}, &rec)
		fl.Segment(decoders.Segment{Network: geo.Network{FlowUID: "x-quic-0"}, Payload: b})
		fl.Close()
	})
}
