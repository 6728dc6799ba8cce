package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"droneaudit/geo"
)

// Names of the files of a report folder (droneaudit audit --report-dir).
const (
	ReportJSONName    = "report.json"
	ReportMDName      = "report.md"
	ReportHTMLName    = "report.html"
	ReportGeoJSONName = "findings.geojson"
	ReportSumsName    = "SHA256SUMS"
)

// ReportFile is one file of a report folder.
type ReportFile struct {
	Name string
	Data []byte
}

// Files renders the report folder: report.json, report.md, report.html, findings.geojson and
// SHA256SUMS over them, in that order. The same document gives the same bytes.
func (d *Document) Files() ([]ReportFile, error) {
	var j bytes.Buffer
	if err := d.WriteJSON(&j); err != nil {
		return nil, fmt.Errorf("%s: %w", ReportJSONName, err)
	}
	h, err := d.HTML()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ReportHTMLName, err)
	}
	g, err := d.GeoJSON()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ReportGeoJSONName, err)
	}
	files := []ReportFile{{ReportJSONName, j.Bytes()}, {ReportMDName, d.Markdown()}, {ReportHTMLName, h}, {ReportGeoJSONName, g}}
	// GNU sha256sum's format ("<hex>  <name>"), so that `sha256sum -c SHA256SUMS` checks the
	// folder without droneaudit.
	var sums bytes.Buffer
	for _, f := range files {
		s := sha256.Sum256(f.Data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(s[:]), f.Name)
	}
	return append(files, ReportFile{ReportSumsName, sums.Bytes()}), nil
}

// WriteJSON writes report.json, indented: what `audit --format json` prints too.
func (d *Document) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// leakProps are the properties of a point of the "leaks" layer: one observation behind a finding.
type leakProps struct {
	Layer       string       `json:"layer"`
	Finding     string       `json:"finding"`
	Which       string       `json:"which"` // first or last observation of the finding
	Kind        string       `json:"kind"`
	Severity    Severity     `json:"severity"`
	FailsPolicy bool         `json:"fails_policy"`
	Rule        RuleName     `json:"rule"`
	Channel     geo.Channel  `json:"channel"`
	Scope       string       `json:"scope"`
	Role        geo.Role     `json:"role,omitempty"`
	Zone        string       `json:"zone,omitempty"`
	DistanceM   float64      `json:"zone_distance_m"`
	Destination string       `json:"destination,omitempty"`
	Time        string       `json:"time,omitempty"`
	TimeRef     string       `json:"time_ref,omitempty"`
	Evidence    geo.Evidence `json:"evidence"`
}

// simpleTrackProps are the properties of a line of the "tracks" layer.
type simpleTrackProps struct {
	Layer   string      `json:"layer"`
	Input   string      `json:"input"`
	Decoder string      `json:"decoder"`
	Channel geo.Channel `json:"channel"`
	Source  string      `json:"source,omitempty"`
	Fixes   int64       `json:"fixes"`
	Points  int         `json:"points"`
}

// GeoJSON writes findings.geojson: one RFC 7946 collection with the layers "zones" (as
// `droneaudit fixes --format geojson` writes them), "tracks" (the thinned aircraft tracks of the
// report) and "leaks" (the first and last observation of every finding), each feature naming its
// layer. Machine output: coordinates are never redacted here.
func (d *Document) GeoJSON() ([]byte, error) {
	var b bytes.Buffer
	g := newGeoJSONFixes(&b, d.meta.Zones)
	g.start()
	for _, t := range d.Tracks {
		coords := make([][]float64, len(t.Points))
		for i, p := range t.Points {
			coords[i] = []float64{p[0], p[1]}
		}
		geom := geoGeometry{Type: "LineString", Coordinates: coords}
		if len(coords) == 1 {
			geom = geoGeometry{Type: "Point", Coordinates: coords[0]}
		}
		g.feature(geoFeature{Type: "Feature", Geometry: geom, Properties: simpleTrackProps{Layer: "tracks", Input: t.Input, Decoder: t.Decoder,
			Channel: t.Channel, Source: t.Source, Fixes: t.Fixes, Points: len(t.Points)}})
	}
	for _, p := range findingPoints(d.Findings) {
		which := "first"
		if p.o == p.f.Last && p.o != p.f.First {
			which = "last"
		}
		var dest string
		if p.f.Destination != nil {
			dest = destText(p.f.Destination)
		}
		g.feature(geoFeature{Type: "Feature", Geometry: geoGeometry{Type: "Point", Coordinates: []float64{p.o.Lon, p.o.Lat}},
			Properties: leakProps{Layer: "leaks", Finding: p.f.ID, Which: which, Kind: p.f.Kind, Severity: p.f.Severity, FailsPolicy: p.f.FailsPolicy,
				Rule: p.f.Rule, Channel: p.f.Channel, Scope: p.f.Scope, Role: p.f.Role, Zone: p.f.Zone, DistanceM: p.o.DistanceM,
				Destination: dest, Time: p.o.Time, TimeRef: p.o.TimeRef, Evidence: p.o.Evidence}})
	}
	if err := g.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
