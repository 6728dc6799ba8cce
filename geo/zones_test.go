package geo

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

const validZones = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"name":"Base","sensitivity":"secret"},
  "geometry":{"type":"Polygon","coordinates":[[[5.44,51.15],[5.50,51.15],[5.50,51.18],[5.44,51.18],[5.44,51.15]]]}},
 {"type":"Feature","properties":{"name":"Camp","sensitivity":"restricted","radius_m":500},
  "geometry":{"type":"Point","coordinates":[4.0,50.0]}},
 {"type":"Feature","properties":{"name":"Two fields","sensitivity":"public"},
  "geometry":{"type":"MultiPolygon","coordinates":[[[[3,50],[3.01,50],[3.01,50.01],[3,50.01],[3,50]]],[[[3.1,50],[3.11,50],[3.11,50.01],[3.1,50.01],[3.1,50]]]]}}
]}`

func TestParseZonesValid(t *testing.T) {
	zs, err := ParseZones("z.geojson", []byte(validZones))
	if err != nil {
		t.Fatal(err)
	}
	if len(zs.Zones) != 3 || zs.Zones[1].RadiusM != 500 || zs.Zones[2].Kind != "MultiPolygon" || zs.Zones[0].Sensitivity != Secret {
		t.Fatalf("%+v", zs.Zones)
	}
}

func TestParseZonesErrorsNameFeature(t *testing.T) {
	feature := func(props, geom string) string {
		return `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"ok","sensitivity":"public","radius_m":5},"geometry":{"type":"Point","coordinates":[1,1]}},
		{"type":"Feature","properties":` + props + `,"geometry":` + geom + `}]}`
	}
	pt := `{"type":"Point","coordinates":[4,50]}`
	for _, tc := range []struct{ doc, want string }{
		{`[]`, "not JSON"},
		{`{"type":"Feature"}`, `want "FeatureCollection"`},
		{`{"type":"FeatureCollection","features":[]}`, "no features"},
		{feature(`{"sensitivity":"secret","radius_m":5}`, pt), `feature 1: property "name"`},
		{feature(`{"name":"x","sensitivity":"TOP","radius_m":5}`, pt), "feature 1: property \"sensitivity\""},
		{feature(`{"name":"x","sensitivity":"secret"}`, pt), "feature 1: a Point zone needs"},
		{feature(`{"name":"x","sensitivity":"secret","radius_m":-3}`, pt), "feature 1: radius_m -3"},
		{feature(`{"name":"x","sensitivity":"secret","radius_m":5}`, `{"type":"Point","coordinates":[200,50]}`), "feature 1: point"},
		{feature(`{"name":"x","sensitivity":"secret"}`, `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`), "feature 1: ring 0 is not closed"},
		{feature(`{"name":"x","sensitivity":"secret"}`, `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`), "feature 1: ring 0 has 3 positions"},
		{feature(`{"name":"x","sensitivity":"secret"}`, `{"type":"LineString","coordinates":[[0,0],[1,0]]}`), "feature 1: geometry LineString is not supported"},
	} {
		_, err := ParseZones("z.geojson", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "z.geojson: ") {
			t.Errorf("%.60s: error %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func fix(lat, lon, prec float64) Fix {
	return Fix{Lat: lat, Lon: lon, PrecisionM: prec, Role: RoleAircraft}
}

func TestMatch(t *testing.T) {
	zs, err := ParseZones("z", []byte(validZones))
	if err != nil {
		t.Fatal(err)
	}
	names := func(hs []Hit) string {
		var s []string
		for _, h := range hs {
			s = append(s, h.Zone.Name)
		}
		return strings.Join(s, ",")
	}
	if got := names(zs.Match(fix(51.16, 5.47, 0))); got != "Base" {
		t.Errorf("inside polygon: %q", got)
	}
	// 0.001° of latitude north of the edge is ~111 m: outside exactly, inside with ±55 m? no; ±120 m yes.
	out := fix(51.181, 5.47, PrecisionFromDecimals(3))
	if got := zs.Match(out); len(got) != 0 {
		t.Errorf("111 m outside with ±55.6 m precision matched %v", names(got))
	}
	out.PrecisionM = 120
	hs := zs.Match(out)
	if len(hs) != 1 || hs[0].Inside || math.Abs(hs[0].DistanceM-111.2) > 0.5 {
		t.Errorf("widened match %+v", hs)
	}
	// Radius zones use geodesic distance: 499 m north is in, 501 m is out.
	dLat := 1 / metresPerDegree
	if len(zs.Match(fix(50+499*dLat, 4.0, 0))) != 1 || len(zs.Match(fix(50+501*dLat, 4.0, 0))) != 0 {
		t.Error("radius boundary")
	}
	if got := names(zs.Match(fix(50.005, 3.105, 0))); got != "Two fields" {
		t.Errorf("multipolygon: %q", got)
	}
	// No fix is never a match, even where a zone covers 0,0.
	zero, _ := ParseZones("z", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Gulf","sensitivity":"secret","radius_m":1000},"geometry":{"type":"Point","coordinates":[0,0]}}]}`))
	if len(zero.Match(fix(0, 0, 0))) != 0 {
		t.Error("0,0 matched")
	}
}

func TestPrecision(t *testing.T) {
	if p := PrecisionFromDecimals(3); math.Abs(p-55.6) > 0.1 {
		t.Errorf("3 decimals: %.2f m, want about 55.6", p)
	}
	if PrecisionDegE7 > 0.006 || PrecisionDegE7 < 0.005 {
		t.Errorf("degE7 half-cell %v m", PrecisionDegE7)
	}
	if p := PrecisionFloat32Deg(51.17); p < 0.1 || p > 0.3 {
		t.Errorf("float32 at 51°: %v m", p)
	}
}

func FuzzParseZones(f *testing.F) {
	f.Add([]byte(validZones))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"a","sensitivity":"secret","radius_m":1e300},"geometry":{"type":"Point","coordinates":[1,1]}}]}`))
	f.Add(zoneDoc(polygonFeature("bow", `[[[0,0],[1,1],[1,0],[0,1],[0,0]]]`)))
	f.Add(zoneDoc(polygonFeature("am", `[[[179,-17],[-179,-17],[-179,-16],[179,-16],[179,-17]]]`)))
	f.Add(zoneDoc(polygonFeature("hole", `[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]`)))
	f.Add(benchZoneFile(2, 70))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return // zone files may be large, but the fuzzer learns nothing more from size
		}
		zs, err := ParseZones("fuzz", b)
		if err != nil {
			if ze, ok := err.(*ZoneError); ok && (ze.Line < 0 || ze.Column < 0) {
				t.Fatalf("error at line %d column %d", ze.Line, ze.Column)
			}
			return
		}
		names := map[string]bool{}
		for i := range zs.Zones {
			z := &zs.Zones[i]
			if z.Name == "" || names[z.Name] {
				t.Fatalf("zone name %q empty or repeated", z.Name)
			}
			names[z.Name] = true
			c := z.Centre()
			if math.IsNaN(c[0]) || math.IsNaN(c[1]) || math.IsNaN(z.AreaM2()) {
				t.Fatalf("zone %q: centre %v, area %v", z.Name, c, z.AreaM2())
			}
			// Its own centre and vertices match without panicking; hits come in file order.
			for _, p := range []orb.Point{c, z.Bound().Min, z.Bound().Max} {
				hs := zs.Match(Fix{Lat: p[1], Lon: p[0], PrecisionM: 10})
				for k := 1; k < len(hs); k++ {
					if hs[k].Zone.Index <= hs[k-1].Zone.Index {
						t.Fatal("hits out of order")
					}
				}
			}
		}
		zs.Match(fix(51, 5, 10))
	})
}

// zoneDoc is a FeatureCollection of the given features.
func zoneDoc(features ...string) []byte {
	return []byte(`{"type":"FeatureCollection","features":[` + strings.Join(features, ",\n") + `]}`)
}

func polygonFeature(name, coords string) string {
	return `{"type":"Feature","properties":{"name":"` + name + `","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":` + coords + `}}`
}

const squareCoords = `[[[5.44,51.15],[5.50,51.15],[5.50,51.18],[5.44,51.18],[5.44,51.15]]]`

func wantZoneError(t *testing.T, doc []byte, opts []ZoneOption, want ...string) *ZoneError {
	t.Helper()
	_, err := ParseZones("z.geojson", doc, opts...)
	if err == nil {
		t.Fatalf("%.80s: accepted", doc)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\n  does not say %q", err, w)
		}
	}
	ze, ok := err.(*ZoneError)
	if !ok {
		t.Fatalf("error %T, want *ZoneError", err)
	}
	return ze
}

// Defect 1: a zone file may not hold more positions than maxZoneVertices.
func TestZonesVertexCap(t *testing.T) {
	defer func(n int) { maxZoneVertices = n }(maxZoneVertices)
	maxZoneVertices = 1000
	doc := benchZoneFile(3, 400)
	ze := wantZoneError(t, doc, nil, "z.geojson: line 1, column ", "more than 1000 positions (reached in feature 2)")
	if ze.Feature != -1 {
		t.Errorf("feature %d", ze.Feature)
	}
	maxZoneVertices = 1203 // 3 rings of 400 vertices and their closing positions
	if _, err := ParseZones("z.geojson", doc); err != nil {
		t.Fatal(err)
	}
}

// Defect 1: matching costs the logarithm of the vertices, not the vertices. The old matcher took
// 11 ms a fix on a 200,000-vertex zone (220 s for these 20,000 fixes); the bound leaves room for
// the race detector and a loaded machine.
func TestZonesMatchScales(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a 200,000-vertex zone")
	}
	doc := benchZoneFile(1, 200_000)
	fixes := benchFixes(20_000)
	start := time.Now()
	zs, err := ParseZones("big.geojson", doc)
	if err != nil {
		t.Fatal(err)
	}
	in := 0
	for i, f := range fixes {
		for _, h := range zs.Match(f) {
			if h.Inside {
				in++
			}
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Fatalf("200,000 vertices: %d of 20,000 fixes matched in %v", i+1, d)
		}
	}
	if in < 5000 || in > 15000 {
		t.Fatalf("%d of 20,000 fixes inside the star: the fixture is not what the test thinks", in)
	}
}

// Defect 2: a ring whose edges cross is refused, naming the feature, its zone and both edges.
func TestZonesSelfIntersecting(t *testing.T) {
	bowtie := `[[[5.44,51.15],[5.50,51.18],[5.50,51.15],[5.44,51.18],[5.44,51.15]]]`
	ze := wantZoneError(t, zoneDoc(polygonFeature("ok", squareCoords), polygonFeature("Bow tie", bowtie)), nil,
		"feature 1: ring 0 crosses itself: edge 0 [5.44, 51.15]–[5.5, 51.18] crosses edge 2 [5.5, 51.15]–[5.44, 51.18]", `(zone "Bow tie")`)
	if ze.Feature != 1 || ze.Name != "Bow tie" || ze.Line != 2 {
		t.Errorf("%+v", ze)
	}
	// Touching is refused too: a ring through the same point twice, and a spike.
	for _, c := range []struct{ coords, want string }{
		{`[[[0,0],[2,0],[1,1],[2,2],[0,2],[1,1],[0,0]]]`, "touches"},
		{`[[[0,0],[2,0],[2,2],[2,1],[0,2],[0,0]]]`, "ring 0 crosses itself: edge 1 [2, 0]–[2, 2] overlaps edge 2 [2, 2]–[2, 1]"},
		{`[[[5.44,51.15],[5.50,51.15],[5.50,51.18],[5.44,51.18],[5.44,51.15]],[[5.45,51.16],[5.46,51.17],[5.46,51.16],[5.45,51.17],[5.45,51.16]]]`, "ring 1 crosses itself"},
	} {
		wantZoneError(t, zoneDoc(polygonFeature("x", c.coords)), nil, c.want)
	}
	// A large ring: the sweep finds the one crossing among 100,000 edges, and names it.
	doc := benchZoneFile(1, 100_000)
	i := bytes.Index(doc, []byte("[[[")) + 2
	j := i
	for range 50_000 {
		j += bytes.IndexByte(doc[j+1:], '[') + 1
	}
	end := j + bytes.IndexByte(doc[j:], ']') + 1
	// Vertex 50,000, on the west side of the star, moved beyond its east side: its two edges cut
	// the star's east edge.
	moved := append(append(append([]byte{}, doc[:j]...), []byte("[5.9,51.16]")...), doc[end:]...)
	start := time.Now()
	wantZoneError(t, moved, nil, "ring 0 crosses itself: edge ", "[5.9, 51.16]", " crosses edge ")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("finding the crossing took %v", d)
	}
}

// Defect 3: rings are closed (all of the first and last positions, altitude included), have at
// least 4 positions and 3 distinct ones; a position has at least a longitude and a latitude.
func TestZonesUnclosedRings(t *testing.T) {
	for _, c := range []struct{ coords, want string }{
		{`[[[0,0],[1,0],[1,1],[0,1]]]`, "ring 0 is not closed (first and last positions differ: [0, 0] and [0, 1]; RFC 7946 §3.1.6)"},
		{`[[[0,0,10],[1,0],[1,1],[0,1],[0,0,12]]]`, "ring 0 is not closed (first and last positions differ: [0, 0, 10] and [0, 0, 12]"},
		{`[[[0,0],[1,0],[0,0]]]`, "ring 0 has 3 positions, a closed ring needs at least 4"},
		{`[[[0,0],[1,0],[1,0],[0,0]]]`, "ring 0 has only 2 distinct positions, a ring needs at least 3"},
		{`[[[0],[1,0],[1,1],[0]]]`, "ring 0 position 0 [0] has 1 number(s), want [longitude, latitude]"},
		{`[[[0,0],[1,0],[1,"1"],[0,0]]]`, "ring 0 position 2 holds a string, want numbers"},
		{`[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[5,5],[6,5],[6,6],[5,5]]]`, "ring 1 is a hole but its position 0 [5, 5] lies outside ring 0"},
		{`[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0.2,0.2],[0.4,0.2],[0.4,0.4],[0.2,0.2]],[]]`, "ring 2 has 0 positions"},
	} {
		ze := wantZoneError(t, zoneDoc(polygonFeature("x", c.coords)), nil, c.want, `(zone "x")`)
		if ze.Line != 1 || ze.Column < 60 {
			t.Errorf("%s: at line %d column %d", c.coords, ze.Line, ze.Column)
		}
	}
}

// Defect 4: swapped axes. Out of range is refused with the hint; in range but outside the
// configured region is refused, saying that the swapped zone would be inside.
func TestZonesSwappedAxes(t *testing.T) {
	belgium := orb.Bound{Min: orb.Point{2.5, 49.4}, Max: orb.Point{6.5, 51.6}}
	wantZoneError(t, zoneDoc(polygonFeature("Far", `[[[51.1,120.4],[51.2,120.4],[51.2,120.5],[51.1,120.4]]]`)), nil,
		"latitude 120.4 is outside ±90; as [120.4, 51.1] it would be in range: are longitude and latitude swapped?")
	swapped := zoneDoc(polygonFeature("Right", squareCoords),
		`{"type":"Feature","properties":{"name":"Kleine-Brogel","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":[[[51.15,5.44],[51.15,5.50],[51.18,5.50],[51.18,5.44],[51.15,5.44]]]}}`,
		`{"type":"Feature","properties":{"name":"Peer","sensitivity":"public","radius_m":800},"geometry":{"type":"Point","coordinates":[51.131,5.459]}}`)
	// Without a region the file is valid: [51.15, 5.44] is a place in the Indian Ocean.
	zs, err := ParseZones("z.geojson", swapped)
	if err != nil {
		t.Fatal(err)
	}
	err = zs.CheckRegion(belgium)
	if err == nil || !strings.Contains(err.Error(), `feature 1: lies outside the zones region [2.5, 49.4, 6.5, 51.6]: its bounding box is [51.15, 5.44, 51.18, 5.5]; with longitude and latitude swapped it would lie inside`) ||
		!strings.Contains(err.Error(), `(zone "Kleine-Brogel")`) {
		t.Errorf("CheckRegion: %v", err)
	}
	wantZoneError(t, swapped, []ZoneOption{WithRegion(belgium)}, "feature 1: lies outside", "swapped it would lie inside")
	// The point zone alone.
	peer := zoneDoc(`{"type":"Feature","properties":{"name":"Peer","sensitivity":"public","radius_m":800},"geometry":{"type":"Point","coordinates":[51.131,5.459]}}`)
	wantZoneError(t, peer, []ZoneOption{WithRegion(belgium)}, "feature 0: lies outside", "swapped it would lie inside", `(zone "Peer")`)
	// Outside, and not inside swapped either.
	ze := wantZoneError(t, zoneDoc(polygonFeature("Paris", `[[[2.3,48.8],[2.4,48.8],[2.4,48.9],[2.3,48.8]]]`)), []ZoneOption{WithRegion(belgium)}, "lies outside the zones region")
	if strings.Contains(ze.Error(), "swapped") {
		t.Error(ze)
	}
	if _, err := ParseZones("z.geojson", []byte(validZones), WithRegion(orb.Bound{Min: orb.Point{2.5, 49.4}, Max: orb.Point{6.5, 51.6}})); err != nil {
		t.Errorf("valid Belgian zones refused: %v", err)
	}
	// A region across the antimeridian.
	fiji := zoneDoc(polygonFeature("Fiji", `[[[179.5,-17],[-179.5,-17],[-179.5,-16],[179.5,-16],[179.5,-17]]]`))
	if _, err := ParseZones("z.geojson", fiji, WithRegion(orb.Bound{Min: orb.Point{177, -20}, Max: orb.Point{-178, -15}})); err != nil {
		t.Error(err)
	}
	if err := (&Zones{}).CheckRegion(orb.Bound{Min: orb.Point{5, 95}, Max: orb.Point{6, 96}}); err == nil {
		t.Error("a region beyond the pole accepted")
	}
}

// Defect 5: a box across the antimeridian is the 2° across the date line, not the 358° round
// Greenwich.
func TestZonesAntimeridian(t *testing.T) {
	zs, err := ParseZones("z.geojson", zoneDoc(polygonFeature("Date line", `[[[179,-17],[-179,-17],[-179,-16],[179,-16],[179,-17]]]`),
		`{"type":"Feature","properties":{"name":"Split","sensitivity":"restricted"},"geometry":{"type":"MultiPolygon","coordinates":[[[[170,10],[180,10],[180,11],[170,11],[170,10]]],[[[-180,10],[-175,10],[-175,11],[-180,11],[-180,10]]]]}}`,
		`{"type":"Feature","properties":{"name":"Circle","sensitivity":"public","radius_m":5000},"geometry":{"type":"Point","coordinates":[179.99,30]}}`))
	if err != nil {
		t.Fatal(err)
	}
	names := func(f Fix) string {
		var s []string
		for _, h := range zs.Match(f) {
			s = append(s, fmt.Sprintf("%s/%v", h.Zone.Name, h.Inside))
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct {
		f    Fix
		want string
	}{
		{fix(-16.5, 179.5, 0), "Date line/true"},
		{fix(-16.5, -179.5, 0), "Date line/true"},
		{fix(-16.5, 180, 0), "Date line/true"},
		{fix(-16.5, 0.5, 0), ""},
		{fix(-16.5, 178.9, 0), ""},
		{fix(-16.5, 178.999, 200), "Date line/false"}, // 107 m west of the edge
		{fix(10.5, 179.9, 0), "Split/true"},
		{fix(10.5, -179.9, 0), "Split/true"},
		{fix(10.5, 0, 0), ""},
		{fix(30, -179.98, 0), "Circle/true"}, // 1.9 km from the centre, across the line
		{fix(30, 179.95, 0), "Circle/true"},
	} {
		if got := names(c.f); got != c.want {
			t.Errorf("%.3f,%.3f: %q, want %q", c.f.Lat, c.f.Lon, got, c.want)
		}
	}
	z := &zs.Zones[0]
	if b := z.Bound(); b.Min[0] != 179 || b.Max[0] != 181 {
		t.Errorf("bound %v", b)
	}
	if c := z.Centre(); math.Abs(math.Abs(c[0])-180) > 1e-9 || math.Abs(c[1]+16.5) > 1e-9 {
		t.Errorf("centre %v", c)
	}
	if a := z.AreaM2() / 1e6; a < 23500 || a > 24000 { // 2° × 1° at 16.5° S: about 213 × 111 km
		t.Errorf("area %.0f km²", a)
	}
	wantZoneError(t, zoneDoc(polygonFeature("Cap", `[[[0,80],[120,80],[-120,80],[0,80]]]`)), nil, "ring 0 goes round a pole")
}

// Defect 6: zone names are unique; the error names both features.
func TestZonesDuplicateNames(t *testing.T) {
	ze := wantZoneError(t, zoneDoc(polygonFeature("Base", squareCoords), polygonFeature("Other", squareCoords), polygonFeature("Base", squareCoords)), nil,
		`feature 2: name "Base" is already used by feature 0: zone names must be unique (zone "Base")`)
	if ze.Feature != 2 || ze.Line != 3 {
		t.Errorf("%+v", ze)
	}
}

// Defect 7: JSON syntax and type errors name line and column.
func TestZonesJSONErrorLineColumn(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"{\"type\":\"FeatureCollection\",\n \"features\":[\n  {\"type\":\"Feature\" \"properties\":{}}]}", "z.geojson: line 3, column 21: not JSON: invalid character '\"' after object key:value pair"},
		{"{\"type\":\"FeatureCollection\",\n \"features\":[", "z.geojson: line 2, column 14: not JSON: unexpected end of JSON input"},
		{"{\"type\":\"FeatureCollection\",\n\t\"features\": \"none\"}", `z.geojson: line 2, column 14: "features" is "none", want an array of Features`},
		{"{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"properties\":{\"name\":\"é\",\"sensitivity\":\"secret\",\"radius_m\":\"5\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[4,50]}}]}",
			`z.geojson: line 2, column 78: feature 0: a Point zone needs a numeric "radius_m" property (zone "é")`},
		{"\xef\xbb\xbf{\"type\":\"FeatureCollection\",\"features\":[\n  {\"type\":\"Feature\",\"properties\":{\"name\":\"a\",\"sensitivity\":\"secret\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":{}}}]}",
			`z.geojson: line 2, column 113: feature 0: coordinates are an object, want an array (zone "a")`},
	} {
		_, err := ParseZones("z.geojson", []byte(c.doc))
		if err == nil || err.Error() != c.want {
			t.Errorf("error\n  %v\nwant\n  %s", err, c.want)
		}
	}
}

func TestZoneBoundCentreArea(t *testing.T) {
	zs, err := ParseZones("z", []byte(validZones))
	if err != nil {
		t.Fatal(err)
	}
	base := &zs.Zones[0]
	if b := base.Bound(); b != (orb.Bound{Min: orb.Point{5.44, 51.15}, Max: orb.Point{5.50, 51.18}}) {
		t.Errorf("bound %v", b)
	}
	if c := base.Centre(); math.Abs(c[0]-5.47) > 1e-9 || math.Abs(c[1]-51.165) > 1e-9 {
		t.Errorf("centre %v", c)
	}
	// 0.06° × 0.03° at 51.165° N: 4.19 km × 3.34 km.
	if a := base.AreaM2() / 1e6; math.Abs(a-13.98) > 0.05 {
		t.Errorf("area %.3f km²", a)
	}
	camp := &zs.Zones[1]
	if a := camp.AreaM2(); math.Abs(a-math.Pi*500*500) > 1 {
		t.Errorf("point area %.1f m²", a)
	}
	if c := camp.Centre(); c != (orb.Point{4, 50}) {
		t.Errorf("point centre %v", c)
	}
	// A hand-built zone answers too.
	hand := Zone{Kind: "Polygon", Geometry: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}}
	if c := hand.Centre(); c != (orb.Point{0.5, 0.5}) || hand.AreaM2() < 1.2e10 || hand.Bound().Max != (orb.Point{1, 1}) {
		t.Errorf("hand-built: %v %v %v", hand.Centre(), hand.AreaM2(), hand.Bound())
	}
}
