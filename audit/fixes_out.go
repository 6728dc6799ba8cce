package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"droneaudit/geo"
)

// FixRecord is the flat form of a fix in NDJSON output: one JSON object per line, stable field
// names (Zeek-style logs). It defines the line: the NDJSON writer appends by hand the bytes
// encoding/json writes for it, so a field added or moved here must be added or moved in
// ndjsonFixes.Write too (TestNDJSONFixesMatchEncodingJSON compares the two).
type FixRecord struct {
	Lat        float64        `json:"lat"`
	Lon        float64        `json:"lon"`
	AltM       *float64       `json:"alt_m,omitempty"`
	AltRef     string         `json:"alt_ref,omitempty"`
	Time       string         `json:"time,omitempty"`
	Role       geo.Role       `json:"role"`
	PrecisionM float64        `json:"precision_m"`
	Decoder    string         `json:"decoder"`
	Message    string         `json:"message,omitempty"`
	Encoding   string         `json:"encoding,omitempty"`
	Input      string         `json:"input"`
	SHA256     string         `json:"sha256"`
	Locator    string         `json:"locator"`
	Offset     int64          `json:"offset"`
	Channel    geo.Channel    `json:"channel"`
	Network    *geo.Network   `json:"network,omitempty"`
	Broadcast  *geo.Broadcast `json:"broadcast,omitempty"`
	Note       string         `json:"note,omitempty"`
}

// NewFixRecord flattens a fix.
func NewFixRecord(f geo.Fix) FixRecord {
	ev := f.Evidence
	r := FixRecord{Lat: f.Lat, Lon: f.Lon, Role: f.Role, PrecisionM: round(f.PrecisionM, 3), Decoder: ev.Decoder, Message: ev.Message,
		Encoding: ev.Encoding, Input: ev.Input, SHA256: ev.SHA256, Locator: ev.Locator, Offset: ev.Offset, Channel: ev.Channel,
		Network: ev.Network, Broadcast: ev.Broadcast, Note: ev.Note}
	if f.HasAlt {
		a := round(f.AltM, 3)
		r.AltM, r.AltRef = &a, f.AltRef
	}
	if !f.Time.IsZero() {
		r.Time = f.Time.UTC().Format(time.RFC3339Nano)
	}
	return r
}

// FixWriter writes fixes in one of the output formats.
type FixWriter interface {
	Write(geo.Fix) error
	Close() error
}

// FixFormats are the formats NewFixWriter accepts.
var FixFormats = []string{"text", "ndjson", "csv", "geojson"}

// NewFixWriter returns a writer of the named format.
func NewFixWriter(format string, w io.Writer) (FixWriter, error) {
	switch format {
	case "text":
		return &textFixes{w: w}, nil
	case "ndjson":
		return &ndjsonFixes{w: w, buf: make([]byte, 0, ndjsonBlock+4<<10)}, nil
	case "csv":
		cw := csv.NewWriter(w)
		return &csvFixes{w: cw}, cw.Write(csvHeader)
	case "geojson":
		return &geojsonFixes{w: w, tracks: map[trackKey]*track{}}, nil
	}
	return nil, fmt.Errorf("unknown fix format %q", format)
}

type textFixes struct{ w io.Writer }

func (t *textFixes) Write(f geo.Fix) error {
	ts := "-"
	if !f.Time.IsZero() {
		ts = f.Time.UTC().Format(time.RFC3339Nano)
	}
	alt := ""
	if f.HasAlt {
		alt = fmt.Sprintf(" alt %.1f m", f.AltM)
	}
	ev := f.Evidence
	_, err := fmt.Fprintf(t.w, "%s %.7f,%.7f%s %s [%s %s %s] %s %s\n", ts, f.Lat, f.Lon, alt, f.Role, ev.Decoder, ev.Message, ev.Locator, ev.Channel, ev.Input)
	return err
}

func (t *textFixes) Close() error { return nil }

var csvHeader = []string{"time", "lat", "lon", "alt_m", "alt_ref", "role", "precision_m", "decoder", "message", "encoding", "channel", "destination", "input", "sha256", "locator", "offset", "note"}

type csvFixes struct{ w *csv.Writer }

func (c *csvFixes) Write(f geo.Fix) error {
	r := NewFixRecord(f)
	alt := ""
	if r.AltM != nil {
		alt = strconv.FormatFloat(*r.AltM, 'f', -1, 64)
	}
	return c.w.Write([]string{r.Time, strconv.FormatFloat(r.Lat, 'f', -1, 64), strconv.FormatFloat(r.Lon, 'f', -1, 64), alt, r.AltRef,
		string(r.Role), strconv.FormatFloat(r.PrecisionM, 'f', -1, 64), r.Decoder, r.Message, r.Encoding, string(r.Channel),
		csvDestination(f.Evidence), r.Input, r.SHA256, r.Locator, strconv.FormatInt(r.Offset, 10), r.Note})
}

func (c *csvFixes) Close() error {
	c.w.Flush()
	return c.w.Error()
}

// geojsonFixes gathers one track per input and role and writes a FeatureCollection at Close:
// a LineString (or a Point for a single fix) per track, ready for QGIS.
type geojsonFixes struct {
	w      io.Writer
	tracks map[trackKey]*track
	order  []*track
}

type trackKey struct {
	input string
	role  geo.Role
}

type track struct {
	key         trackKey
	sha256      string
	decoder     string
	channel     geo.Channel
	coords      [][]float64
	first, last time.Time
}

func (g *geojsonFixes) Write(f geo.Fix) error {
	k := trackKey{f.Evidence.Input, f.Role}
	t, ok := g.tracks[k]
	if !ok {
		t = &track{key: k, sha256: f.Evidence.SHA256, decoder: f.Evidence.Decoder, channel: f.Evidence.Channel}
		g.tracks[k] = t
		g.order = append(g.order, t)
	}
	c := []float64{f.Lon, f.Lat}
	if f.HasAlt && !math.IsNaN(f.AltM) {
		c = append(c, round(f.AltM, 3))
	}
	t.coords = append(t.coords, c)
	if !f.Time.IsZero() {
		if t.first.IsZero() || f.Time.Before(t.first) {
			t.first = f.Time
		}
		if f.Time.After(t.last) {
			t.last = f.Time
		}
	}
	return nil
}

func (g *geojsonFixes) Close() error {
	type geometry struct {
		Type        string `json:"type"`
		Coordinates any    `json:"coordinates"`
	}
	type feature struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
		Geometry   geometry       `json:"geometry"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, t := range g.order {
		props := map[string]any{"input": t.key.input, "sha256": t.sha256, "role": t.key.role, "decoder": t.decoder,
			"channel": t.channel, "fixes": len(t.coords)}
		if !t.first.IsZero() {
			props["first_time"] = t.first.UTC().Format(time.RFC3339Nano)
			props["last_time"] = t.last.UTC().Format(time.RFC3339Nano)
		}
		geom := geometry{Type: "LineString", Coordinates: t.coords}
		if len(t.coords) == 1 {
			geom = geometry{Type: "Point", Coordinates: t.coords[0]}
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", Properties: props, Geometry: geom})
	}
	enc := json.NewEncoder(g.w)
	enc.SetEscapeHTML(false)
	return enc.Encode(fc)
}

// csvDestination is the other party of a fix, prefixed with its direction on a network.
func csvDestination(ev geo.Evidence) string {
	d, dir := destination(ev)
	if dir != "" {
		return dir + " " + d
	}
	return d
}
