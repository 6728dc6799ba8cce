package audit

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/quic"
	"droneaudit/decoders/tlskeys"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
)

// A position uploaded over HTTP/3 (a real quic-go session, decrypted with its key log) is a
// finding that names the request that carried it, by the id of its row in 'droneaudit requests',
// its method and URL; the body hook gets the same body.
func TestFindingLinksToHTTP3Request(t *testing.T) {
	body := []byte(`{"aircraft":{"latitude":52.5200,"longitude":13.4050}}`)
	var kl bytes.Buffer
	chunks, err := netfixture.HTTP3Session(t.Context(), netfixture.HTTP3Options{ServerName: "upload.example.test", KeyLog: &kl,
		Requests: []netfixture.HTTP3Request{{Method: "GET", Path: "/v1/status"}, {Method: "POST", Path: "/v1/telemetry?model=x", Body: body}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err := netfixture.WriteDatagrams(w, chunks); err != nil {
		t.Fatal(err)
	}
	w.Close()
	layer := func() []decoders.Unwrapper {
		keys := tlskeys.NewLog()
		keys.AddText(kl.Bytes())
		return []decoders.Unwrapper{quic.NewLayer(keys)}
	}
	rep, err := Run(t.Context(), []Source{BytesSource("h3.pcap", buf.Bytes())},
		Options{Zones: zonesAround(t, 52.52, 13.405, 300, geo.Secret), Policy: DefaultPolicy(), Destinations: &destinations.Options{Unwrappers: layer()}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var hooked [][]byte
	rows, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("h3.pcap", buf.Bytes())}, destinations.Options{Unwrappers: layer()},
		requests.Options{OnBody: func(c *requests.Content) string {
			if c.Request != "" && !c.Truncated && c.Dir == 0 {
				mu.Lock()
				hooked = append(hooked, bytes.Clone(c.Bytes)) // called from the flow shards
				mu.Unlock()
			}
			return "seen"
		}})
	if err != nil || len(rows.Rows) != 2 {
		t.Fatalf("requests: %v, %d rows", err, len(rows.Rows))
	}
	row := rows.Rows[1]
	if len(hooked) != 1 || !bytes.Equal(hooked[0], body) || row.Request.Summary != "seen" {
		t.Errorf("body hook got %q; row summary %q", hooked, row.Request.Summary)
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
	if rq == nil || rq.ID != row.ID || rq.Method != "POST" || rq.URL != row.URL || !strings.HasSuffix(rq.URL, "/v1/telemetry?model=x") || row.Protocol != "h3" {
		t.Fatalf("finding's request %+v, row %s %s %s %s", rq, row.ID, row.Protocol, row.Method, row.URL)
	}
	var txt bytes.Buffer
	rep.WriteText(&txt)
	if !strings.Contains(txt.String(), "request: "+rq.ID+" POST "+rq.URL) {
		t.Errorf("text:\n%s", txt.String())
	}
}
