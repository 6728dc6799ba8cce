package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/paulmach/orb"
)

// Sensitivity grades a zone. Secret and restricted zones make an audit fail when a position inside
// them leaves the device; public zones are reported only.
type Sensitivity string

// The sensitivities a zone file may give.
const (
	Secret     Sensitivity = "secret"
	Restricted Sensitivity = "restricted"
	Public     Sensitivity = "public"
)

// Zone is one sensitive place: a polygon, a multipolygon, or a point with a radius.
type Zone struct {
	Index       int         // feature index in the file
	Name        string      //
	Sensitivity Sensitivity //
	Kind        string      // "Polygon", "MultiPolygon" or "Point"
	Geometry    orb.Geometry
	RadiusM     float64 // for points
	bound       orb.Bound
	polys       []zpoly // prepared by ParseZones; nil for a point
	centre      orb.Point
	areaM2      float64
}

// Zones is a parsed zone file.
type Zones struct {
	Source string // file name
	SHA256 string // of the file's bytes, filled by LoadZones
	Zones  []Zone
	ix     *zoneIndex // nil when built by hand: Match then tries every zone
}

// ZoneError names the feature of a zone file that is wrong and why, and where in the file.
type ZoneError struct {
	File    string
	Feature int    // -1 when the file as a whole is wrong
	Name    string // of the feature's zone, when it has one
	Line    int    // 1-based line of the offending JSON, 0 when not known
	Column  int    // 1-based column, in characters
	Reason  string
}

func (e *ZoneError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteString(": ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	if e.Feature >= 0 {
		fmt.Fprintf(&b, "feature %d: ", e.Feature)
	}
	b.WriteString(e.Reason)
	if e.Name != "" {
		fmt.Fprintf(&b, " (zone %q)", e.Name)
	}
	return b.String()
}

// maxZoneFile bounds what we read: zone files are hand-made lists of sites, not map layers.
const maxZoneFile = 64 << 20

// maxZoneVertices bounds the positions of a zone file, for the same reason: a file of 5 million
// positions loads in a few seconds and some hundreds of MB; beyond that it is a map layer.
var maxZoneVertices = 5_000_000

// maxRadiusM bounds point zones; a larger "zone" is a typo, not a site.
const maxRadiusM = 1_000_000

// ZoneOption changes how a zone file is read.
type ZoneOption func(*zoneOptions)

type zoneOptions struct {
	region    orb.Bound
	hasRegion bool
}

// WithRegion requires every zone to lie inside region, a box [west, south] to [east, north] in
// degrees (west > east crosses the antimeridian): the place the zones are known to be in, such
// as a country. A zone outside it is an error, which says so when swapping longitude and
// latitude would put it inside — the usual mistake of a file written as [lat, lon].
func WithRegion(region orb.Bound) ZoneOption {
	return func(o *zoneOptions) { o.region, o.hasRegion = region, true }
}

// LoadZones reads and validates a GeoJSON zone file.
func LoadZones(path string, opts ...ZoneOption) (*Zones, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxZoneFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxZoneFile {
		return nil, &ZoneError{File: path, Feature: -1, Reason: fmt.Sprintf("larger than %d bytes", maxZoneFile)}
	}
	z, err := ParseZones(path, data, opts...)
	if err != nil {
		return nil, err
	}
	z.SHA256 = sha256Hex(data)
	return z, nil
}

var utf8BOM = []byte("\xef\xbb\xbf")

// ParseZones validates a GeoJSON FeatureCollection of Polygon, MultiPolygon, or Point features
// with a radius_m property; every feature needs a name, unique in the file, and a sensitivity.
// Rings must be closed, have at least 4 positions and not cross or touch themselves; a hole must
// lie inside its exterior ring; an edge longer than 180° of longitude crosses the antimeridian.
// Errors name the feature, its zone, and the line and column in the file.
func ParseZones(name string, data []byte, opts ...ZoneOption) (*Zones, error) {
	var o zoneOptions
	for _, opt := range opts {
		opt(&o)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	fileErr := func(off int, format string, args ...any) error {
		line, col := lineCol(data, off)
		return &ZoneError{File: name, Feature: -1, Line: line, Column: col, Reason: fmt.Sprintf(format, args...)}
	}
	// encoding/json checks the syntax on another core while the walk reads the document. The
	// walk trusts the syntax, so on a broken document it may stop early or fail: its result
	// counts only when the document is valid.
	valid := make(chan bool, 1)
	go func() { valid <- json.Valid(data) }()
	failure, zs, err := walkZones(name, data, fileErr)
	if !<-valid {
		err := json.Unmarshal(data, new(struct{}))
		off, _ := jsonErrorOffset(err)
		return nil, fileErr(off, "not JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if failure != nil {
		panic(failure) // a bug: the walk of a valid document failed
	}
	if err != nil {
		return nil, err
	}
	if o.hasRegion {
		if err := zs.CheckRegion(o.region); err != nil {
			return nil, err
		}
	}
	zs.ix = newZoneIndex(zs.Zones)
	return zs, nil
}

// walkZones reads the zones of a document; failure is what stopped the walk if it failed, which
// only a document that is not JSON should make it do.
func walkZones(name string, data []byte, fileErr func(off int, format string, args ...any) error) (failure any, zs *Zones, err error) {
	defer func() {
		if r := recover(); r != nil {
			failure, zs, err = r, nil, nil
		}
	}()
	zs, err = readZones(name, data, fileErr)
	return nil, zs, err
}

func readZones(name string, data []byte, fileErr func(off int, format string, args ...any) error) (*Zones, error) {
	d := jsonDoc{b: data, ends: map[int]int{}}
	top := d.ws(0)
	if data[top] != '{' {
		return nil, fileErr(top, "not JSON of a FeatureCollection: the file holds %s, want an object", d.kind(top))
	}
	typ, feats := -1, -1
	d.members(top, func(k string, v int) bool {
		switch k {
		case "type":
			typ = v
		case "features":
			feats = v
		}
		return true
	})
	if t, _ := d.stringAt(max(typ, top)); typ < 0 || t != "FeatureCollection" {
		return nil, fileErr(max(typ, top), "type is %s, want \"FeatureCollection\"", d.describe(typ))
	}
	if feats < 0 || data[feats] != '[' {
		return nil, fileErr(max(feats, top), "\"features\" is %s, want an array of Features", d.describe(feats))
	}
	zs := &Zones{Source: name}
	budget := maxZoneVertices
	names := map[string]int{}
	var err error
	d.elements(feats, func(off int) int {
		i := len(zs.Zones)
		z, fe := parseFeature(d, off, &budget)
		if fe == nil {
			if prev, dup := names[z.Name]; dup {
				fe = &featureErr{at: at{off: off, msg: fmt.Sprintf("name %q is already used by feature %d: zone names must be unique", z.Name, prev)}, name: z.Name}
			}
		}
		if fe != nil {
			line, col := lineCol(data, fe.off)
			if fe.msg == errTooMany {
				err = &ZoneError{File: name, Feature: -1, Line: line, Column: col,
					Reason: fmt.Sprintf("more than %d positions (reached in feature %d): a zone file lists sites, not map layers; simplify or split it", maxZoneVertices, i)}
			} else {
				err = &ZoneError{File: name, Feature: i, Name: fe.name, Line: line, Column: col, Reason: fe.msg}
			}
			return -1
		}
		names[z.Name] = i
		z.Index = i
		zs.Zones = append(zs.Zones, z)
		return 0
	})
	if err != nil {
		return nil, err
	}
	if len(zs.Zones) == 0 {
		return nil, fileErr(feats, "no features")
	}
	return zs, nil
}

// describe names the value at i for a message: a string's text, otherwise its JSON type.
func (d jsonDoc) describe(i int) string {
	if i < 0 {
		return "missing"
	}
	if s, ok := d.stringAt(i); ok {
		return fmt.Sprintf("%q", s)
	}
	return d.kind(i)
}

type featureErr struct {
	at
	name string
}

// parseFeature reads and checks the feature at off.
func parseFeature(d jsonDoc, off int, budget *int) (Zone, *featureErr) {
	var z Zone
	fail := func(o int, format string, args ...any) (Zone, *featureErr) {
		return Zone{}, &featureErr{at: at{off: o, msg: fmt.Sprintf(format, args...)}, name: z.Name}
	}
	if d.b[off] != '{' {
		return fail(off, "not a GeoJSON feature: it is %s, want an object", d.kind(off))
	}
	typ, props, geom := -1, -1, -1
	d.members(off, func(k string, v int) bool {
		switch k {
		case "type":
			typ = v
		case "properties":
			props = v
		case "geometry":
			geom = v
		}
		return true
	})
	// The name first, so that every later error can name the zone.
	nameAt, sensAt, radiusAt := -1, -1, -1
	if props >= 0 && d.b[props] == '{' {
		d.members(props, func(k string, v int) bool {
			switch k {
			case "name":
				nameAt = v
			case "sensitivity":
				sensAt = v
			case "radius_m":
				radiusAt = v
			}
			return true
		})
	}
	if nameAt >= 0 {
		if s, ok := d.stringAt(nameAt); ok && strings.TrimSpace(s) != "" {
			z.Name = s
		}
	}
	if t, _ := d.stringAt(max(typ, off)); typ < 0 || t != "Feature" {
		return fail(max(typ, off), "not a GeoJSON feature: type is %s, want \"Feature\"", d.describe(typ))
	}
	if geom < 0 || d.b[geom] == 'n' {
		return fail(max(geom, off), "no geometry")
	}
	if d.b[geom] != '{' {
		return fail(geom, "geometry is %s, want an object", d.kind(geom))
	}
	if props >= 0 && d.b[props] != '{' && d.b[props] != 'n' {
		return fail(props, "properties is %s, want an object", d.kind(props))
	}
	if z.Name == "" {
		return fail(max(nameAt, props, off), "property \"name\" missing or not a string")
	}
	s, _ := d.stringAt(max(sensAt, 0))
	if sensAt < 0 {
		s = ""
	}
	switch Sensitivity(s) {
	case Secret, Restricted, Public:
		z.Sensitivity = Sensitivity(s)
	default:
		return fail(max(sensAt, props), "property \"sensitivity\" is %q, want secret, restricted or public", s)
	}
	gtyp, coords := -1, -1
	d.members(geom, func(k string, v int) bool {
		switch k {
		case "type":
			gtyp = v
		case "coordinates":
			coords = v
		}
		return true
	})
	gt, _ := d.stringAt(max(gtyp, geom))
	switch gt {
	case "Point", "Polygon", "MultiPolygon":
	case "":
		return fail(max(gtyp, geom), "geometry has no type (Polygon, MultiPolygon or Point with radius_m)")
	default:
		return fail(max(gtyp, geom), "geometry %s is not supported (Polygon, MultiPolygon or Point with radius_m)", strings.Trim(d.describe(gtyp), `"`))
	}
	z.Kind = gt
	if coords < 0 || d.b[coords] != '[' {
		return fail(max(coords, geom), "coordinates are %s, want an array", d.describe(coords))
	}
	switch gt {
	case "Point":
		if *budget--; *budget < 0 {
			return fail(coords, errTooMany)
		}
		p, _, err := d.position(coords)
		if err != nil {
			return fail(err.off, "point %s", err.msg)
		}
		if reason := lonLatReason(p.point()); reason != "" {
			return fail(coords, "point %s is not a longitude,latitude pair in range: %s", p, reason)
		}
		r, isNum := math.NaN(), false
		if radiusAt >= 0 {
			r, _, isNum = d.numberAt(radiusAt)
		}
		if !isNum {
			return fail(max(radiusAt, props), "a Point zone needs a numeric \"radius_m\" property")
		}
		if !(r > 0 && r <= maxRadiusM) {
			return fail(radiusAt, "radius_m %v is not in (0, %d]", r, maxRadiusM)
		}
		z.Geometry = p.point()
		z.RadiusM = r
		z.bound = zoneBound(z)
		z.centre = p.point()
		// The area of a spherical cap of that radius.
		const earth = metresPerDegree * 180 / math.Pi
		z.areaM2 = 2 * math.Pi * earth * earth * (1 - math.Cos(r/earth))
		return z, nil
	case "Polygon":
		rings, p, err := d.polygon(coords, budget)
		if err != nil {
			return Zone{}, &featureErr{at: *err, name: z.Name}
		}
		z.Geometry = orb.Polygon(rings)
		z.polys = []zpoly{p}
	case "MultiPolygon":
		var mp orb.MultiPolygon
		var bad *at
		d.elements(coords, func(v int) int {
			rings, p, err := d.polygon(v, budget)
			if err != nil {
				if err.msg != errTooMany {
					err.msg = fmt.Sprintf("polygon %d: %s", len(mp), err.msg)
				}
				bad = err
				return -1
			}
			mp = append(mp, orb.Polygon(rings))
			z.polys = append(z.polys, p)
			return 0
		})
		if bad != nil {
			return Zone{}, &featureErr{at: *bad, name: z.Name}
		}
		if len(mp) == 0 {
			return fail(coords, "empty MultiPolygon")
		}
		z.Geometry = mp
	}
	z.bound = polysBound(z.polys)
	z.centre, z.areaM2 = polysCentreArea(z.polys)
	return z, nil
}

// polygon reads and prepares the polygon at i.
func (d jsonDoc) polygon(i int, budget *int) ([]orb.Ring, zpoly, *at) {
	if d.b[i] != '[' {
		return nil, zpoly{}, errAt(i, "polygon is %s, want an array of rings", d.kind(i))
	}
	var raws []rawRing
	var bad *at
	d.elements(i, func(v int) int {
		r, err := d.ring(v, budget)
		if err != nil {
			if err.msg != errTooMany {
				err.msg = fmt.Sprintf("ring %d %s", len(raws), err.msg)
			}
			bad = err
			return -1
		}
		raws = append(raws, r)
		return 0
	})
	if bad != nil {
		return nil, zpoly{}, bad
	}
	if len(raws) == 0 {
		return nil, zpoly{}, errAt(i, "polygon has no rings")
	}
	rings := make([]orb.Ring, len(raws))
	for k, r := range raws {
		rings[k] = r.pts
	}
	p, k, err := prepPolygon(rings)
	if err != nil {
		off := raws[k].off
		if err.vertex >= 0 {
			off = d.nth(off, err.vertex)
		}
		return nil, zpoly{}, errAt(off, "ring %d %s", k, err.msg)
	}
	return rings, p, nil
}

// zoneBound is the zone's bounding box in degrees, before any tolerance. For a polygon across
// the antimeridian its east edge passes 180.
func zoneBound(z Zone) orb.Bound {
	if p, ok := z.Geometry.(orb.Point); ok {
		dLat := z.RadiusM / metresPerDegree
		dLon := dLat / math.Max(math.Cos(p[1]*math.Pi/180), 1e-6)
		return orb.Bound{Min: orb.Point{p[0] - dLon, p[1] - dLat}, Max: orb.Point{p[0] + dLon, p[1] + dLat}}
	}
	if z.polys != nil {
		return polysBound(z.polys)
	}
	return z.Geometry.Bound()
}

// Bound is the zone's bounding box in degrees: for a point zone the box of its circle. A zone
// across the antimeridian has an east edge beyond 180.
func (z *Zone) Bound() orb.Bound {
	if z.bound == (orb.Bound{}) {
		return zoneBound(*z)
	}
	return z.bound
}

// Centre is the zone's centroid (for a point zone, the point), longitude in [-180, 180].
func (z *Zone) Centre() orb.Point {
	if z.polys == nil && z.Kind != "Point" && z.Geometry != nil {
		c, _ := planarCentroid(z.Geometry)
		return c
	}
	return z.centre
}

// AreaM2 is the zone's area in square metres on the WGS84 mean sphere.
func (z *Zone) AreaM2() float64 {
	if z.polys == nil && z.Kind != "Point" && z.Geometry != nil {
		_, a := planarCentroid(z.Geometry)
		return a
	}
	return z.areaM2
}

// CheckRegion reports the first zone that does not lie wholly inside region, a box [west, south]
// to [east, north] in degrees (west > east: across the antimeridian). When the zone would lie
// inside with longitude and latitude swapped, the error says so: the file probably gives
// [latitude, longitude] where GeoJSON wants [longitude, latitude].
func (zs *Zones) CheckRegion(region orb.Bound) error {
	if !(region.Min[1] >= -90 && region.Max[1] <= 90 && region.Min[1] <= region.Max[1] &&
		region.Min[0] >= -180 && region.Max[0] <= 180) {
		return fmt.Errorf("zones region %s is not [west, south, east, north] in degrees", fmtBound(region))
	}
	for i := range zs.Zones {
		z := &zs.Zones[i]
		b := z.Bound()
		if p, ok := z.Geometry.(orb.Point); ok {
			b = orb.Bound{Min: p, Max: p} // the site itself; its circle may reach past a border
		}
		if inRegion(b, region) {
			continue
		}
		reason := fmt.Sprintf("lies outside the zones region %s: its bounding box is %s", fmtBound(region), fmtBound(b))
		sw := orb.Bound{Min: orb.Point{b.Min[1], b.Min[0]}, Max: orb.Point{b.Max[1], b.Max[0]}}
		if b.Max[0] <= 90 && inRegion(sw, region) {
			reason += "; with longitude and latitude swapped it would lie inside: the file gives [latitude, longitude], GeoJSON wants [longitude, latitude]"
		}
		return &ZoneError{File: zs.Source, Feature: z.Index, Name: z.Name, Reason: reason}
	}
	return nil
}

// inRegion reports whether box b lies inside region, either taken across the antimeridian when
// its west edge is east of its east edge.
func inRegion(b, region orb.Bound) bool {
	if b.Min[1] < region.Min[1] || b.Max[1] > region.Max[1] {
		return false
	}
	w, e := region.Min[0], region.Max[0]
	if w > e {
		e += 360
	}
	for _, s := range []float64{0, 360, -360} {
		if b.Min[0]+s >= w && b.Max[0]+s <= e {
			return true
		}
	}
	return false
}

func fmtBound(b orb.Bound) string {
	return fmtPosition(b.Min[0], b.Min[1], b.Max[0], b.Max[1])
}
