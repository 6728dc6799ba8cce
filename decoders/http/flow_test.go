package http

import (
	"bytes"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/netflow"
)

func TestNetFixesFromBodiesAndQuery(t *testing.T) {
	var s bytes.Buffer
	for _, r := range []struct{ method, url, ct, body string }{
		{"GET", "http://flysafe-api.dji.com/api/qep/geo/feedback/areas/in_rectangle?lat=51.4783&lng=-2.5922", "", ""},
		{"POST", "http://flysafe-api.dji.com/api/v1/geo_fence/noflyzone_params", "application/json", `{"sn":"X","latitude":22.907809968,"longitude":113.703482143}`},
		{"POST", "http://x.example/form", "application/x-www-form-urlencoded", "home_lat=47.3763&home_lng=8.5282"},
	} {
		req, _ := http.NewRequest(r.method, r.url, strings.NewReader(r.body))
		if r.ct != "" {
			req.Header.Set("Content-Type", r.ct)
		}
		req.Write(&s)
	}
	raw := s.Bytes()
	var rec decodertest.Sink
	fl := Net{}.NewFlow(decoders.Input{Path: "lab.pcap"}, &rec)
	nw := geo.Network{Proto: netflow.TCP, Dst: netip.MustParseAddrPort("47.91.161.230:80"), Direction: netflow.ClientToServer}
	for off := 0; off < len(raw); off += 37 {
		fl.Segment(decoders.Segment{Frame: off, Time: time.Unix(5, 0), Network: nw, Payload: raw[off:min(off+37, len(raw))]})
	}
	// Server bytes that are not a response are ignored.
	fl.Segment(decoders.Segment{Frame: 999, Network: geo.Network{Direction: netflow.ServerToClient}, Payload: []byte(`{"lat":1,"lng":2}`)})
	fl.Close()
	if len(rec.Fixes) != 3 || rec.Counts["http_requests"] != 3 {
		t.Fatalf("fixes %+v, counts %v", rec.Fixes, rec.Counts)
	}
	if f := rec.Fixes[0]; f.Lat != 51.4783 || f.Evidence.Network.Host != "flysafe-api.dji.com" || !strings.HasPrefix(f.Evidence.Message, "GET /api/qep") {
		t.Errorf("query fix %+v", f)
	}
	if f := rec.Fixes[1]; f.Lon != 113.703482143 || !strings.Contains(f.Evidence.Message, "json body") {
		t.Errorf("json fix %+v", f)
	}
	if f := rec.Fixes[2]; f.Role != geo.RoleHome || f.Lat != 47.3763 {
		t.Errorf("form fix %+v", f)
	}
}
