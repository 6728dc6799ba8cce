package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
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
}

// Zones is a parsed zone file.
type Zones struct {
	Source string // file name
	SHA256 string // of the file's bytes, filled by LoadZones
	Zones  []Zone
}

// ZoneError names the feature of a zone file that is wrong and why.
type ZoneError struct {
	File    string
	Feature int // -1 when the file as a whole is wrong
	Reason  string
}

func (e *ZoneError) Error() string {
	if e.Feature < 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("%s: feature %d: %s", e.File, e.Feature, e.Reason)
}

// maxZoneFile bounds what we read: zone files are hand-made lists of sites, not map layers.
const maxZoneFile = 64 << 20

// maxRadiusM bounds point zones; a larger "zone" is a typo, not a site.
const maxRadiusM = 1_000_000

// LoadZones reads and validates a GeoJSON zone file.
func LoadZones(path string) (*Zones, error) {
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
	z, err := ParseZones(path, data)
	if err != nil {
		return nil, err
	}
	z.SHA256 = sha256Hex(data)
	return z, nil
}

// ParseZones validates a GeoJSON FeatureCollection of Polygon, MultiPolygon, or Point features
// with a radius_m property; every feature needs a name and a sensitivity.
func ParseZones(name string, data []byte) (*Zones, error) {
	var top struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&top); err != nil {
		return nil, &ZoneError{File: name, Feature: -1, Reason: "not JSON: " + err.Error()}
	}
	if top.Type != "FeatureCollection" {
		return nil, &ZoneError{File: name, Feature: -1, Reason: fmt.Sprintf("type is %q, want \"FeatureCollection\"", top.Type)}
	}
	if len(top.Features) == 0 {
		return nil, &ZoneError{File: name, Feature: -1, Reason: "no features"}
	}
	zs := &Zones{Source: name}
	for i, raw := range top.Features {
		z, reason := parseZone(raw)
		if reason != "" {
			return nil, &ZoneError{File: name, Feature: i, Reason: reason}
		}
		z.Index = i
		zs.Zones = append(zs.Zones, z)
	}
	return zs, nil
}

func parseZone(raw json.RawMessage) (Zone, string) {
	f, err := geojson.UnmarshalFeature(raw)
	if err != nil {
		return Zone{}, "not a GeoJSON feature: " + err.Error()
	}
	if f.Geometry == nil {
		return Zone{}, "no geometry"
	}
	z := Zone{Geometry: f.Geometry}
	name, ok := f.Properties["name"].(string)
	if !ok || name == "" {
		return Zone{}, "property \"name\" missing or not a string"
	}
	z.Name = name
	s, _ := f.Properties["sensitivity"].(string)
	switch Sensitivity(s) {
	case Secret, Restricted, Public:
		z.Sensitivity = Sensitivity(s)
	default:
		return Zone{}, fmt.Sprintf("property \"sensitivity\" is %q, want secret, restricted or public", s)
	}
	switch g := f.Geometry.(type) {
	case orb.Point:
		z.Kind = "Point"
		if !validLonLat(g) {
			return Zone{}, fmt.Sprintf("point %v is not a longitude,latitude pair in range", g)
		}
		r, ok := f.Properties["radius_m"].(float64)
		if !ok {
			return Zone{}, "a Point zone needs a numeric \"radius_m\" property"
		}
		if !(r > 0 && r <= maxRadiusM) {
			return Zone{}, fmt.Sprintf("radius_m %v is not in (0, %d]", r, maxRadiusM)
		}
		z.RadiusM = r
	case orb.Polygon:
		z.Kind = "Polygon"
		if reason := validPolygon(g); reason != "" {
			return Zone{}, reason
		}
	case orb.MultiPolygon:
		z.Kind = "MultiPolygon"
		if len(g) == 0 {
			return Zone{}, "empty MultiPolygon"
		}
		for i, p := range g {
			if reason := validPolygon(p); reason != "" {
				return Zone{}, fmt.Sprintf("polygon %d: %s", i, reason)
			}
		}
	default:
		return Zone{}, fmt.Sprintf("geometry %s is not supported (Polygon, MultiPolygon or Point with radius_m)", f.Geometry.GeoJSONType())
	}
	z.bound = zoneBound(z)
	return z, ""
}

func validLonLat(p orb.Point) bool {
	lon, lat := p[0], p[1]
	return !math.IsNaN(lon) && !math.IsNaN(lat) && lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90
}

func validPolygon(p orb.Polygon) string {
	if len(p) == 0 {
		return "polygon has no rings"
	}
	for i, r := range p {
		if len(r) < 4 {
			return fmt.Sprintf("ring %d has %d positions, a closed ring needs at least 4", i, len(r))
		}
		if r[0] != r[len(r)-1] {
			return fmt.Sprintf("ring %d is not closed (first and last positions differ)", i)
		}
		for j, pt := range r {
			if !validLonLat(pt) {
				return fmt.Sprintf("ring %d position %d %v is not a longitude,latitude pair in range", i, j, pt)
			}
		}
	}
	return ""
}

// zoneBound is the zone's bounding box in degrees, before any tolerance.
func zoneBound(z Zone) orb.Bound {
	if p, ok := z.Geometry.(orb.Point); ok {
		dLat := z.RadiusM / metresPerDegree
		dLon := dLat / math.Max(math.Cos(p[1]*math.Pi/180), 1e-6)
		return orb.Bound{Min: orb.Point{p[0] - dLon, p[1] - dLat}, Max: orb.Point{p[0] + dLon, p[1] + dLat}}
	}
	return z.Geometry.Bound()
}
