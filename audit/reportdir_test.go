package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"droneaudit/audit/destinations"
	"droneaudit/docs"
	"droneaudit/geo"
	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

// demoDocument audits the embedded demo session (MAVLink over UDP through the Kleine-Brogel
// zones) and wraps it in its report document.
func demoDocument(t *testing.T, shards int, m ReportMeta) *Document {
	t.Helper()
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), []Source{BytesSource(demo.CaptureName, demo.EmbeddedCapture)},
		Options{Zones: zones, Policy: DefaultPolicy(), Shards: shards, Destinations: &destinations.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	m.Zones = zones
	return NewDocument(rep, m)
}

// labDocument audits the generated lab capture (HTTP, MQTT, TLS, QUIC, DNS) with a policy that
// fails on clear-text telemetry and denies DJI hosts, so that every finding kind that a capture
// can give today is in it.
func labDocument(t *testing.T) *Document {
	t.Helper()
	capture := labCapture(t, netfixture.Pcapng, 2000, 5)
	zones := zonesAround(t, 22.9079, 113.7034, 500, geo.Secret)
	p := DefaultPolicy()
	p.FailOnCleartextTelemetry = true
	p.Destinations.DenyOwners = []string{destinations.OwnerDJI}
	p.Destinations.DenyCountries = []string{"CN"}
	rep, err := Run(t.Context(), []Source{BytesSource("lab.pcapng", capture)},
		Options{Zones: zones, Policy: p, Destinations: &destinations.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	return NewDocument(rep, ReportMeta{Zones: zones, Case: "case <1>", Examiner: "E. X.", Commit: "test"})
}

func reportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.ReportSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func files(t *testing.T, d *Document) map[string][]byte {
	t.Helper()
	fs, err := d.Files()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	var names []string
	for _, f := range fs {
		out[f.Name] = f.Data
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "report.json report.md report.html findings.geojson SHA256SUMS" {
		t.Fatalf("files %s", got)
	}
	return out
}

// report.json validates against docs/report.schema.json for the demo, for the lab capture (every
// network finding kind, requests, denied destinations) and for an audit with no zones and a
// missing input (the null zones and geoip); and the schema rejects a document that breaks it.
func TestReportJSONSchema(t *testing.T) {
	sch := reportSchema(t)
	rep, err := Run(t.Context(), []Source{FileSource(t.TempDir() + "/missing.pcap")}, Options{Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	lab := labDocument(t)
	kinds := map[string]bool{}
	requests := 0
	for _, f := range lab.Findings {
		kinds[f.Kind] = true
		if f.Request != nil && f.Request.Method != "" && strings.HasPrefix(f.Request.URL, "http://") {
			requests++
		}
	}
	if !kinds[KindLocationLeak] || !kinds[KindCleartextTelemetry] || !kinds[KindDestinationDenied] || requests == 0 {
		t.Fatalf("lab finding kinds %v, %d with a request", kinds, requests)
	}
	for name, d := range map[string]*Document{"demo": demoDocument(t, 0, ReportMeta{Commit: "test"}), "lab": lab,
		"missing": NewDocument(rep, ReportMeta{Commit: "unknown"})} {
		b := files(t, d)[ReportJSONName]
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Fatalf("%s: report.json does not validate: %v", name, err)
		}
		// The schema checks: a finding without its rule does not validate.
		var m map[string]any
		json.Unmarshal(b, &m)
		if fs := m["findings"].([]any); len(fs) > 0 {
			delete(fs[0].(map[string]any), "rule")
			if err := sch.Validate(m); err == nil {
				t.Fatalf("%s: a finding without a rule validated", name)
			}
		}
	}
}

// The same audit, run twice and with another number of shards, writes the same bytes into every
// report file; SHA256SUMS lists each file's hash.
func TestReportFolderDeterministic(t *testing.T) {
	m := ReportMeta{Case: "K-1", Examiner: "A. B.", Commit: "test"}
	a := files(t, demoDocument(t, 1, m))
	b := files(t, demoDocument(t, 4, m))
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	var want strings.Builder
	for _, name := range []string{ReportJSONName, ReportMDName, ReportHTMLName, ReportGeoJSONName} {
		s := sha256.Sum256(a[name])
		fmt.Fprintf(&want, "%s  %s\n", hex.EncodeToString(s[:]), name)
	}
	if string(a[ReportSumsName]) != want.String() {
		t.Fatalf("SHA256SUMS:\n%s\nwant\n%s", a[ReportSumsName], want.String())
	}
	// findings.geojson: one collection with the three layers.
	var fc struct {
		Type     string
		Features []struct {
			Properties map[string]any
			Geometry   struct{ Type string }
		}
	}
	if err := json.Unmarshal(a[ReportGeoJSONName], &fc); err != nil {
		t.Fatal(err)
	}
	layers := map[string]int{}
	for _, f := range fc.Features {
		layers[fmt.Sprint(f.Properties["layer"])]++
	}
	if fc.Type != "FeatureCollection" || layers["zones"] != 5 || layers["tracks"] == 0 || layers["leaks"] == 0 {
		t.Fatalf("geojson %s, layers %v", fc.Type, layers)
	}
}

var coord = regexp.MustCompile(`\b5[01]\.[0-9]{4,}`)

// The human reports carry the case metadata in every file, escape what came from the inputs,
// need no script and fetch nothing; --redact removes every coordinate from them (the machine
// files keep them).
func TestReportHumanFiles(t *testing.T) {
	m := ReportMeta{Case: `K-7 <script>alert("x")</script>`, Examiner: "Insp. \x1b[31mRed", Commit: "test"}
	plain := files(t, demoDocument(t, 0, m))
	for _, name := range []string{ReportJSONName, ReportMDName, ReportHTMLName} {
		if !bytes.Contains(plain[name], []byte("K-7")) || !bytes.Contains(plain[name], []byte("Insp.")) {
			t.Errorf("%s lacks the case metadata", name)
		}
	}
	h := string(plain[ReportHTMLName])
	for _, bad := range []string{"<script", "\x1b", " src=", "@import", "url("} {
		if strings.Contains(h, bad) {
			t.Errorf("report.html holds %q", bad)
		}
	}
	if strings.Contains(string(plain[ReportMDName]), "<script") || strings.Contains(string(plain[ReportMDName]), "\x1b") {
		t.Error("report.md holds unescaped input text")
	}
	if !strings.Contains(h, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'sha256-`+styleHash+`'; img-src data:`) ||
		!strings.Contains(h, `<svg id="map"`) || !strings.Contains(h, `class="zone secret"`) {
		t.Error("report.html lacks its CSP or its map")
	}
	if !coord.MatchString(h) || !coord.MatchString(string(plain[ReportMDName])) {
		t.Fatal("the unredacted reports show no coordinate")
	}
	m.Redact = true
	red := files(t, demoDocument(t, 0, m))
	for _, name := range []string{ReportMDName, ReportHTMLName} {
		if c := coord.FindString(string(red[name])); c != "" {
			t.Errorf("redacted %s shows the coordinate %s", name, c)
		}
		if !bytes.Contains(red[name], []byte(`inside zone &#34;Kleine-Brogel Air Base&#34;`)) && !bytes.Contains(red[name], []byte(`inside zone "Kleine-Brogel Air Base"`)) {
			t.Errorf("redacted %s does not name the zone", name)
		}
	}
	if !coord.Match(red[ReportJSONName]) || !coord.Match(red[ReportGeoJSONName]) {
		t.Error("the machine files lost their coordinates")
	}
	var txt bytes.Buffer
	d := demoDocument(t, 0, m)
	if err := d.WriteTextWith(&txt, TextOptions{Redact: true, Case: m.Case}); err != nil {
		t.Fatal(err)
	}
	if c := coord.FindString(txt.String()); c != "" || !strings.Contains(txt.String(), "Case: K-7") {
		t.Errorf("redacted text report shows %q or lacks the case", c)
	}
}
