// Package jsonpos finds positions in JSON documents sent over the network: objects holding a
// latitude and a longitude under the key names DJI's Cloud API and common web APIs use
// (dji-network.md §4.4: latitude/longitude, lat/lng, home_latitude/home_longitude,
// target_latitude/target_longitude, measure_target_latitude/…, shoot_position{lat,lng}), with a
// role taken from the key prefix and the enclosing key, and the precision the printed number
// carries.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"droneaudit/geo"
)

// MaxDocument bounds the JSON bytes decoded at once.
const MaxDocument = 1 << 20

// maxDepth bounds nesting so a hostile document cannot make the walk deep.
const maxDepth = 32

// Position is one latitude/longitude pair found in a document.
type Position struct {
	Lat, Lon float64
	Decimals int    // the fewer decimals of the two numbers as printed
	Path     string // JSON path of the object, e.g. "data.points[2]"
	Key      string // the latitude key, e.g. "home_latitude"
	Role     geo.Role
	Alt      float64
	HasAlt   bool
}

// Label is prefix followed by where the position is in its document: its path and latitude key
// joined by a dot, or the key alone at the top level (strings.TrimPrefix(Path+"."+Key, ".")).
// It is the tail of a fix's message, made in one allocation.
func (p Position) Label(prefix string) string {
	if p.Path == "" {
		return prefix + p.Key
	}
	return prefix + strings.TrimPrefix(p.Path, ".") + "." + p.Key
}

// Find decodes doc and returns the positions it holds, at most max of them. defaultRole is the
// role of a plain latitude/longitude pair (e.g. the aircraft on an OSD topic).
func Find(doc []byte, defaultRole geo.Role, max int) ([]Position, error) {
	if len(doc) > MaxDocument {
		doc = doc[:MaxDocument]
	}
	pos, err := findFast(doc, defaultRole, max)
	if err != nil {
		// Whatever the scanner rejects, the Decoder is asked too: it has the last word on what is
		// JSON (the differential fuzz target finds no document they disagree on).
		return findDecoded(doc, defaultRole, max)
	}
	return pos, nil
}

// findDecoded is Find through encoding/json's Decoder and a walk of the decoded values.
func findDecoded(doc []byte, defaultRole geo.Role, max int) ([]Position, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var out []Position
	walk(v, "", "", defaultRole, 0, &out, max)
	return out, nil
}

// Looks reports whether a payload plausibly starts a JSON object or array.
func Looks(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

var latKeys = []struct{ lat, lon string }{{"latitude", "longitude"}, {"lat", "lng"}, {"lat", "lon"}, {"lat", "long"}}

func walk(v any, path, parent string, def geo.Role, depth int, out *[]Position, max int) {
	if depth > maxDepth || len(*out) >= max {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // map order is random; positions come out in key order
		for _, k := range keys {
			val := x[k]
			lk := strings.ToLower(k)
			for _, pk := range latKeys {
				prefix, ok := strings.CutSuffix(lk, pk.lat)
				if !ok {
					continue
				}
				lonv, ok := lookup(x, prefix+pk.lon)
				if !ok {
					continue
				}
				lat, ld, ok1 := number(val)
				lon, od, ok2 := number(lonv)
				if !ok1 || !ok2 {
					continue
				}
				p := Position{Lat: lat, Lon: lon, Decimals: min(ld, od), Path: path, Key: k, Role: role(prefix, parent, def)}
				for _, ak := range []string{prefix + "height", prefix + "altitude", prefix + "alt"} {
					if av, ok := lookup(x, ak); ok {
						if a, _, ok := number(av); ok {
							p.Alt, p.HasAlt = a, true
							break
						}
					}
				}
				if len(*out) < max {
					*out = append(*out, p)
				}
				break
			}
		}
		for _, k := range keys {
			val := x[k]
			switch val.(type) {
			case map[string]any, []any:
				walk(val, join(path, k), strings.ToLower(k), def, depth+1, out, max)
			}
		}
	case []any:
		for i, val := range x {
			walk(val, path+"["+itoa(i)+"]", parent, def, depth+1, out, max)
		}
	}
}

func lookup(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// number reads a JSON number (or a numeric string) and counts its printed decimals.
func number(v any) (float64, int, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	default:
		return 0, 0, false
	}
	return geo.ParseDecimal([]byte(s), geo.DecimalExponent)
}

// role maps a key prefix and the enclosing key to a role (dji-network.md §4.4).
func role(prefix, parent string, def geo.Role) geo.Role {
	switch {
	case strings.HasPrefix(prefix, "home"):
		return geo.RoleHome
	case strings.Contains(prefix, "takeoff") || strings.Contains(parent, "takeoff"):
		return geo.RoleTakeoff
	case strings.Contains(parent, "shoot_position"):
		return geo.RolePhoto
	case strings.Contains(parent, "point") || strings.HasPrefix(prefix, "target") || strings.Contains(parent, "land_point"):
		return geo.RoleWaypoint
	case prefix != "" || parent != "" && parent != "data" && parent != "host":
		return geo.RoleOther
	}
	return def
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// FindForm returns the positions in URL-encoded form values or a query string
// ("lat=22.9&lng=113.7"), for HTTP requests that send coordinates outside JSON.
func FindForm(q string, defaultRole geo.Role, max int) []Position {
	vals, err := url.ParseQuery(q)
	if err != nil && len(vals) == 0 {
		return nil
	}
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		if len(v) > 0 {
			m[k] = v[0]
		}
	}
	var out []Position
	walk(m, "", "", defaultRole, 0, &out, max)
	return out
}

// Fix turns a position into a Fix with the precision of its printed decimals. A pair whose
// latitude is out of range but whose longitude would be a valid latitude is taken as swapped
// (DJI's own WebSocket example swaps them, dji-network.md §4.4); swapped reports it.
func (p Position) Fix(ev geo.Evidence) (f geo.Fix, swapped bool) {
	lat, lon := p.Lat, p.Lon
	if (lat < -90 || lat > 90) && lon >= -90 && lon <= 90 && lat >= -180 && lat <= 180 {
		lat, lon, swapped = lon, lat, true
	}
	f = geo.Fix{Lat: lat, Lon: lon, Role: p.Role, PrecisionM: geo.PrecisionFromDecimals(p.Decimals), HasAlt: p.HasAlt, AltM: p.Alt, Evidence: ev}
	f.Evidence.Encoding = encoding(p.Decimals)
	if swapped {
		f.Evidence.Note = "latitude and longitude swapped in the source"
	}
	return f, swapped
}

// encodings are the Encoding of a fix by its decimals, made once: every fix of a JSON document
// names one.
var encodings = func() (e [24]string) {
	for i := range e {
		e[i] = "decimal degrees, " + itoa(i) + " decimals"
	}
	return e
}()

func encoding(decimals int) string {
	if decimals >= 0 && decimals < len(encodings) {
		return encodings[decimals]
	}
	return "decimal degrees, " + itoa(decimals) + " decimals"
}
