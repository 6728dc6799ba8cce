package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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

// A position uploaded over HTTPS in a body that a rotating capture tool split between two files
// (the cut inside the body, the position after the cut) is still
// found: the TLS session and the HTTP reader carry on into the second file, and the finding names
// that file, its SHA-256 and the frame that completed the request there, and the request by the
// id of its row in 'droneaudit requests' on the same files. Without the rotation the same finding
// comes from the single file.
func TestFindingInBodySplitAcrossRotatedFiles(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1.1", true: "h2"}[h2], func(t *testing.T) { findingAcrossRotation(t, h2) })
	}
}

func findingAcrossRotation(t *testing.T, h2 bool) {
	body := `{"pad":"` + strings.Repeat("x", 200_000) + `","aircraft":{"latitude":52.5200,"longitude":13.4050}}`
	var kl bytes.Buffer
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{HTTP2: h2, KeyLog: &kl, ServerName: "upload.example.test"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body); w.Write([]byte("ok")) }),
		func(c *http.Client, base string) error {
			resp, err := c.Post(base+"/v1/telemetry", "application/json", strings.NewReader(body))
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := netfixture.LabHTTPSPcap(conns)
	if err != nil {
		t.Fatal(err)
	}
	// The body's 200 kB take about 140 full segments after the handshake: the cut after frame 60
	// falls inside it (read per file, the request is cut short there: the test fails so).
	const cut = 60
	files, err := netfixture.Rotate(wire, cut)
	if err != nil {
		t.Fatal(err)
	}
	layer := func() []decoders.Unwrapper {
		keys := tlskeys.NewLog()
		keys.AddText(kl.Bytes())
		return []decoders.Unwrapper{tlslayer.New(keys)}
	}
	names := []string{"cap_00001.pcap", "cap_00002.pcap"}
	rep, err := Run(t.Context(), []Source{BytesSource(names[0], files[0]), BytesSource(names[1], files[1])},
		Options{Zones: zonesAround(t, 52.52, 13.405, 300, geo.Secret), Policy: DefaultPolicy(), Destinations: &destinations.Options{Unwrappers: layer()}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource(names[0], files[0]), engine.BytesSource(names[1], files[1])},
		destinations.Options{Unwrappers: layer()}, requests.Options{})
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("requests: %v, %d rows", err, len(res.Rows))
	}
	row := res.Rows[0]
	if row.Request.Size != int64(len(body)) || !row.Request.Complete {
		t.Fatalf("request body %d bytes, complete %v, want %d", row.Request.Size, row.Request.Complete, len(body))
	}
	var leak *Finding
	for _, f := range rep.Findings {
		if f.Kind == KindLocationLeak {
			leak = f
		}
	}
	if leak == nil {
		t.Fatalf("no leak finding in the rotated files: %+v", rep.Findings)
	}
	ev := leak.First.Evidence
	sum := sha256.Sum256(files[1])
	if ev.Input != names[1] || ev.SHA256 != hex.EncodeToString(sum[:]) || !strings.HasPrefix(ev.Locator, "frame ") || ev.Offset <= 0 || ev.Offset >= int64(len(files[1])) {
		t.Errorf("finding evidence %s %.12s %q offset %d, want the second file (sha %.12x)", ev.Input, ev.SHA256, ev.Locator, ev.Offset, sum)
	}
	if rq := ev.Request; rq == nil || rq.ID != row.ID || rq.URL != row.URL {
		t.Errorf("finding's request %+v, row %s %s", ev.Request, row.ID, row.URL)
	}
	for _, in := range rep.Inputs {
		for _, n := range in.Notes {
			if strings.HasPrefix(string(n.Code), "tls-") {
				t.Errorf("%s: note %s", in.Path, n.Line())
			}
		}
	}
}
