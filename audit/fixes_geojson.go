package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"slices"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// geojsonFixes writes one RFC 7946 FeatureCollection. GeoJSON has one collection per file, so
// every feature says which layer it belongs to in its "layer" property (QGIS: filter on it, or
// let QGIS split the file by geometry type):
//
//   - "zones": the zones of FixOptions.Zones, first. A polygon keeps its rings, turned to the
//     right-hand rule (exterior counterclockwise); a point zone is drawn as a 64-sided polygon
//     around its circle, with its centre and radius_m as properties.
//   - "points": one Point per position whose role is no path: photo, home, take-off, pilot,
//     remote controller, waypoint, other. Written as they come, each with its role, time and
//     evidence. The altitude is a property (alt_m with alt_ref), never a third coordinate: the
//     points of one file have different references.
//   - "tracks": the aircraft's positions as LineStrings (a Point when a track holds one
//     position). One track per input, channel, decoder and transmitter, altitude reference and
//     time reference (UTC or a device's clock; and zone, with InZone), so that the third coordinate of a track is always
//     of the one reference its alt_ref property names ("none": two coordinates). Each has
//     coordTimes, one time per coordinate (null for a position without one), as togeojson
//     writes from GPX and KML. With InZone a track is broken where it leaves the zones. A
//     track is written once its input is done (when a fix of another input comes, or at Close),
//     so memory holds one input's tracks.
type geojsonFixes struct {
	w       io.Writer
	zones   *geo.Zones
	started bool
	n       int // features written
	buf     bytes.Buffer
	enc     *json.Encoder
	err     error

	input  string // of the tracks held
	tracks map[trackKey]*track
	order  []*track
	seg    map[pathKey]int  // with InZone: bumped where a path leaves the zones
	clock  map[pathKey]bool // whether the path's last timed position was device-local
}

// pathKey is one path of positions before it is split by reference.
type pathKey struct {
	input, sha256, decoder, transmitter string
	role                                geo.Role
	channel                             geo.Channel
}

type trackKey struct {
	pathKey
	altRef, zone string
	deviceLocal  bool // a device's clock in an unknown zone is never mixed with UTC
	seg          int
}

type track struct {
	key     trackKey
	timeRef string // of its timed positions
	coords  [][]float64
	times   []any // RFC 3339 strings, nil for a position without a time

	first, last time.Time
}

func newGeoJSONFixes(w io.Writer, zones *geo.Zones) *geojsonFixes {
	g := &geojsonFixes{w: w, zones: zones, tracks: map[trackKey]*track{}, seg: map[pathKey]int{}, clock: map[pathKey]bool{}}
	g.enc = json.NewEncoder(&g.buf)
	g.enc.SetEscapeHTML(false)
	return g
}

// isPath reports whether the positions of a role form a path drawn as a line. Only the
// aircraft's do: the others are places (home, take-off, a waypoint) or events (a photo), and a
// pilot's or controller's positions are where the team stood, each worth a point.
func isPath(r geo.Role) bool { return r == geo.RoleAircraft }

func pathOf(f *geo.Fix) pathKey {
	ev := &f.Evidence
	k := pathKey{input: ev.Input, sha256: ev.SHA256, decoder: ev.Decoder, role: f.Role, channel: ev.Channel}
	if ev.Broadcast != nil {
		k.transmitter = ev.Broadcast.Transmitter
	}
	return k
}

func (g *geojsonFixes) Write(f *geo.Fix) error { return g.write(f, nil) }

func (g *geojsonFixes) write(f *geo.Fix, z *ZoneMatch) error {
	if g.err != nil {
		return g.err
	}
	g.start()
	g.nextInput(f.Evidence.Input)
	if !isPath(f.Role) {
		g.feature(pointFeature(f, z))
		return g.err
	}
	k := trackKey{pathKey: pathOf(f), altRef: "none"}
	// A position without a time stays on the track of the path's last time reference.
	if !f.Time.IsZero() {
		g.clock[k.pathKey] = decoders.IsDeviceClock(f.Time)
	}
	k.deviceLocal = g.clock[k.pathKey]
	alt := f.HasAlt && finite(f.AltM)
	if alt {
		k.altRef = altRefOf(f.AltRef)
	}
	if z != nil {
		k.zone = z.Name
		k.seg = g.seg[k.pathKey]
	}
	t, ok := g.tracks[k]
	if !ok {
		t = &track{key: k}
		g.tracks[k] = t
		g.order = append(g.order, t)
	}
	c := []float64{f.Lon, f.Lat}
	if alt {
		c = append(c, round(f.AltM, 3))
	}
	t.coords = append(t.coords, c)
	if f.Time.IsZero() {
		t.times = append(t.times, nil)
	} else {
		t.times = append(t.times, timeRFC3339(f.Time))
		t.timeRef = decoders.TimeRef(f.Time)
		if t.first.IsZero() || f.Time.Before(t.first) {
			t.first = f.Time
		}
		if f.Time.After(t.last) {
			t.last = f.Time
		}
	}
	return g.err
}

// gap is a position InZone left out: the tracks of its path end there.
func (g *geojsonFixes) gap(f *geo.Fix) {
	if isPath(f.Role) {
		g.nextInput(f.Evidence.Input)
		g.seg[pathOf(f)]++
	}
}

// altRefOf names an altitude's reference; "unknown" when the decoder could not say.
func altRefOf(ref string) string {
	if ref == "" {
		return "unknown"
	}
	return ref
}

// nextInput writes the tracks held when the fixes of another input begin.
func (g *geojsonFixes) nextInput(in string) {
	if in != g.input {
		g.flushTracks()
		g.input = in
	}
}

func (g *geojsonFixes) Close() error {
	g.start()
	g.flushTracks()
	if g.err == nil {
		_, g.err = io.WriteString(g.w, "\n]}\n")
	}
	return g.err
}

type geoFeature struct {
	Type       string      `json:"type"`
	Properties any         `json:"properties"`
	Geometry   geoGeometry `json:"geometry"`
}

type geoGeometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

// start writes the head of the collection and the zones.
func (g *geojsonFixes) start() {
	if g.started {
		return
	}
	g.started = true
	_, g.err = io.WriteString(g.w, `{"type":"FeatureCollection","features":[`)
	if g.zones == nil {
		return
	}
	for i := range g.zones.Zones {
		g.feature(zoneFeature(g.zones, &g.zones.Zones[i]))
	}
}

// feature writes one feature on a line of its own.
func (g *geojsonFixes) feature(f geoFeature) {
	if g.err != nil {
		return
	}
	g.buf.Reset()
	if g.n > 0 {
		g.buf.WriteByte(',')
	}
	g.buf.WriteByte('\n')
	if g.err = g.enc.Encode(f); g.err != nil {
		return
	}
	g.buf.Truncate(g.buf.Len() - 1) // the encoder's newline
	g.n++
	_, g.err = g.w.Write(g.buf.Bytes())
}

type trackProps struct {
	Layer       string      `json:"layer"`
	Role        geo.Role    `json:"role"`
	Input       string      `json:"input"`
	SHA256      string      `json:"sha256"`
	Decoder     string      `json:"decoder"`
	Channel     geo.Channel `json:"channel"`
	Transmitter string      `json:"transmitter,omitempty"`
	AltRef      string      `json:"alt_ref"`
	TimeRef     string      `json:"time_ref,omitempty"`
	Fixes       int         `json:"fixes"`
	FirstTime   string      `json:"first_time,omitempty"`
	LastTime    string      `json:"last_time,omitempty"`
	Zone        string      `json:"zone,omitempty"`
	CoordTimes  []any       `json:"coordTimes"`
}

func (g *geojsonFixes) flushTracks() {
	for _, t := range g.order {
		k := t.key
		p := trackProps{Layer: "tracks", Role: k.role, Input: k.input, SHA256: k.sha256, Decoder: k.decoder, Channel: k.channel,
			Transmitter: k.transmitter, AltRef: k.altRef, TimeRef: t.timeRef, Fixes: len(t.coords), Zone: k.zone, CoordTimes: t.times}
		if !t.first.IsZero() {
			p.FirstTime, p.LastTime = timeRFC3339(t.first), timeRFC3339(t.last)
		}
		geom := geoGeometry{Type: "LineString", Coordinates: t.coords}
		if len(t.coords) == 1 {
			geom = geoGeometry{Type: "Point", Coordinates: t.coords[0]}
		}
		g.feature(geoFeature{Type: "Feature", Properties: p, Geometry: geom})
	}
	clear(g.tracks)
	clear(g.seg)
	clear(g.clock)
	g.order = g.order[:0]
}

type pointProps struct {
	Layer         string      `json:"layer"`
	Role          geo.Role    `json:"role"`
	Time          string      `json:"time,omitempty"`
	TimeRef       string      `json:"time_ref,omitempty"`
	AltM          *float64    `json:"alt_m,omitempty"`
	AltRef        string      `json:"alt_ref,omitempty"`
	PrecisionM    float64     `json:"precision_m"`
	Input         string      `json:"input"`
	SHA256        string      `json:"sha256"`
	Decoder       string      `json:"decoder"`
	Message       string      `json:"message,omitempty"`
	Encoding      string      `json:"encoding,omitempty"`
	Locator       string      `json:"locator"`
	Offset        int64       `json:"offset"`
	Channel       geo.Channel `json:"channel"`
	Destination   string      `json:"destination,omitempty"`
	Note          string      `json:"note,omitempty"`
	Zone          string      `json:"zone,omitempty"`
	ZoneDistanceM *float64    `json:"zone_distance_m,omitempty"`
}

func pointFeature(f *geo.Fix, z *ZoneMatch) geoFeature {
	ev := &f.Evidence
	p := pointProps{Layer: "points", Role: f.Role, Time: timeRFC3339(f.Time), TimeRef: decoders.TimeRef(f.Time), PrecisionM: finiteOr0(round(f.PrecisionM, 3)),
		Input: ev.Input, SHA256: ev.SHA256, Decoder: ev.Decoder, Message: ev.Message, Encoding: ev.Encoding, Locator: ev.Locator,
		Offset: ev.Offset, Channel: ev.Channel, Destination: csvDestination(*ev), Note: ev.Note}
	if f.HasAlt && finite(f.AltM) {
		a := round(f.AltM, 3)
		p.AltM, p.AltRef = &a, altRefOf(f.AltRef)
	}
	if z != nil {
		d := z.DistanceM
		p.Zone, p.ZoneDistanceM = z.Name, &d
	}
	return geoFeature{Type: "Feature", Properties: p, Geometry: geoGeometry{Type: "Point", Coordinates: []float64{f.Lon, f.Lat}}}
}

func finiteOr0(v float64) float64 {
	if finite(v) {
		return v
	}
	return 0
}

type zoneProps struct {
	Layer       string          `json:"layer"`
	Name        string          `json:"name"`
	Sensitivity geo.Sensitivity `json:"sensitivity"`
	Kind        string          `json:"kind"`
	RadiusM     float64         `json:"radius_m,omitempty"`
	Centre      []float64       `json:"centre,omitempty"`
	Index       int             `json:"zone_index"`
	File        string          `json:"zones_file"`
	FileSHA256  string          `json:"zones_sha256,omitempty"`
}

// circleSides is how many sides the polygon drawn for a point zone has. The polygon is drawn
// around the circle (its sides touch it), so that no position matched to the zone lies outside
// what the map shows: 1/cos(π/64) makes it at most 0.12 % wider than the circle.
const circleSides = 64

func zoneFeature(zs *geo.Zones, z *geo.Zone) geoFeature {
	p := zoneProps{Layer: "zones", Name: z.Name, Sensitivity: z.Sensitivity, Kind: z.Kind, Index: z.Index, File: zs.Source, FileSHA256: zs.SHA256}
	var geom geoGeometry
	switch g := z.Geometry.(type) {
	case orb.Point:
		p.RadiusM, p.Centre = z.RadiusM, []float64{g[0], g[1]}
		geom = geoGeometry{Type: "Polygon", Coordinates: [][][]float64{circleRing(g, z.RadiusM/math.Cos(math.Pi/circleSides))}}
	case orb.Polygon:
		geom = geoGeometry{Type: "Polygon", Coordinates: rightHand(g)}
	case orb.MultiPolygon:
		ps := make([][][][]float64, len(g))
		for i, pg := range g {
			ps[i] = rightHand(pg)
		}
		geom = geoGeometry{Type: "MultiPolygon", Coordinates: ps}
	}
	return geoFeature{Type: "Feature", Properties: p, Geometry: geom}
}

// circleRing is a counterclockwise ring of circleSides points at r metres from c.
func circleRing(c orb.Point, r float64) [][]float64 {
	ring := make([][]float64, 0, circleSides+1)
	for i := range circleSides {
		// Bearings run clockwise from north: decreasing ones go round counterclockwise.
		q := orbgeo.PointAtBearingAndDistance(c, 360-float64(i)*360/circleSides, r)
		ring = append(ring, []float64{wrapLon(q[0]), q[1]})
	}
	return append(ring, ring[0])
}

func wrapLon(lon float64) float64 {
	for lon > 180 {
		lon -= 360
	}
	for lon < -180 {
		lon += 360
	}
	return lon
}

// rightHand returns a polygon's rings as RFC 7946 §3.1.6 wants them: the exterior
// counterclockwise, holes clockwise. Positions are kept as the zone file gave them.
func rightHand(p orb.Polygon) [][][]float64 {
	out := make([][][]float64, len(p))
	for i, r := range p {
		ring := make([][]float64, len(r))
		for j, q := range r {
			ring[j] = []float64{q[0], q[1]}
		}
		if ccw := signedArea(r) > 0; ccw != (i == 0) {
			slices.Reverse(ring)
		}
		out[i] = ring
	}
	return out
}

// signedArea is twice the planar area of a ring in degrees, positive when counterclockwise. An
// edge longer than 180° of longitude crosses the antimeridian (as zone files may write it), so
// longitudes are unwrapped along the ring first.
func signedArea(r orb.Ring) float64 {
	if len(r) < 3 {
		return 0
	}
	var a float64
	px, py := r[0][0], r[0][1]
	x0 := px
	for _, q := range r[1:] {
		x := q[0]
		for x-px > 180 {
			x -= 360
		}
		for x-px < -180 {
			x += 360
		}
		a += px*q[1] - x*py
		px, py = x, q[1]
	}
	// Close the ring back to the first position, unwrapped as the last one was.
	x := x0
	for x-px > 180 {
		x -= 360
	}
	for x-px < -180 {
		x += 360
	}
	return a + px*r[0][1] - x*py
}
