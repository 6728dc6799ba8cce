package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/tlskeys"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
)

// A position uploaded over HTTPS (a real net/http session, HTTP/1.1 and HTTP/2, decrypted with its
// key log) is a finding that names the request that carried it, by the id of its row in
// 'droneaudit requests', its method and URL, in the JSON and in the text report.
func TestFindingLinksToRequest(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1.1", true: "h2"}[h2], func(t *testing.T) { findingLinksToRequest(t, h2) })
	}
}

func findingLinksToRequest(t *testing.T, h2 bool) {
	var kl bytes.Buffer
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{HTTP2: h2, KeyLog: &kl, ServerName: "upload.example.test"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body); w.Write([]byte("ok")) }),
		func(c *http.Client, base string) error {
			for _, body := range []string{`{"status":"idle"}`, `{"aircraft":{"latitude":52.5200,"longitude":13.4050}}`} {
				resp, err := c.Post(base+"/v1/telemetry?model=x", "application/json", strings.NewReader(body))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := netfixture.LabHTTPSPcap(conns)
	if err != nil {
		t.Fatal(err)
	}
	layer := func() []decoders.Unwrapper {
		keys := tlskeys.NewLog()
		keys.AddText(kl.Bytes())
		return []decoders.Unwrapper{tlslayer.New(keys)}
	}

	rep, err := Run(t.Context(), []Source{BytesSource("https.pcap", wire)},
		Options{Zones: zonesAround(t, 52.52, 13.405, 300, geo.Secret), Policy: DefaultPolicy(), Destinations: &destinations.Options{Unwrappers: layer()}})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("https.pcap", wire)}, destinations.Options{Unwrappers: layer()}, requests.Options{})
	if err != nil || len(rows.Rows) != 2 {
		t.Fatalf("requests: %v, %d rows", err, len(rows.Rows))
	}
	var leak *Finding
	for _, f := range rep.Findings {
		if f.Kind == KindLocationLeak {
			leak = f
		}
	}
	if leak == nil {
		t.Fatalf("no leak finding: %+v", rep.Findings)
	}
	rq := leak.First.Evidence.Request
	row := rows.Rows[1]
	if rq == nil || rq.ID != row.ID || rq.Method != "POST" || rq.URL != row.URL || !strings.HasSuffix(rq.URL, "/v1/telemetry?model=x") {
		t.Fatalf("finding's request %+v, row %s %s %s", rq, row.ID, row.Method, row.URL)
	}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	var doc struct {
		Findings []struct {
			First struct {
				Evidence struct {
					Request *geo.Request `json:"request"`
				} `json:"evidence"`
			} `json:"first"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range doc.Findings {
		if r := f.First.Evidence.Request; r != nil && *r == *rq {
			found = true
		}
	}
	var txt bytes.Buffer
	rep.WriteText(&txt)
	if !found || !strings.Contains(txt.String(), "request: "+rq.ID+" POST "+rq.URL) {
		t.Errorf("JSON has the request: %v; text:\n%s", found, txt.String())
	}
}

// In the generated lab capture every network finding (HTTP uploads and MQTT PUBLISH) names a
// request that 'droneaudit requests' lists with the same id, method and URL.
func TestLabFindingsLinkToRows(t *testing.T) {
	capture := labCapture(t, netfixture.Pcapng, 3000, 3)
	layer := []decoders.Unwrapper{tlslayer.New(nil)}
	rep, err := Run(t.Context(), []Source{BytesSource("lab.pcapng", capture)},
		Options{Zones: zonesAround(t, 22.9079, 113.7034, 500, geo.Secret), Policy: DefaultPolicy(), Destinations: &destinations.Options{Unwrappers: layer}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("lab.pcapng", capture)},
		destinations.Options{Unwrappers: []decoders.Unwrapper{tlslayer.New(nil)}}, requests.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]requests.Row{}
	for _, r := range res.Rows {
		rows[r.ID] = r
	}
	linked := map[string]int{}
	for _, f := range rep.Findings {
		if f.First == nil || f.First.Evidence.Network == nil {
			continue
		}
		for _, o := range []*Observation{f.First, f.Last} {
			rq := o.Evidence.Request
			if rq == nil {
				t.Fatalf("finding %s (%s) names no request", f.ID, o.Evidence.Decoder)
			}
			r, ok := rows[rq.ID]
			if !ok || r.Method != rq.Method || r.URL != rq.URL {
				t.Fatalf("finding %s names %+v; row %+v", f.ID, rq, r)
			}
			linked[o.Evidence.Decoder]++
		}
	}
	if linked["http"] == 0 || linked["mqtt"] == 0 {
		t.Errorf("linked observations by decoder: %v", linked)
	}
}
