package geo

import (
	"math"
	"strings"
	"testing"
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
	f.Fuzz(func(t *testing.T, b []byte) {
		zs, err := ParseZones("fuzz", b)
		if err != nil {
			return
		}
		for _, z := range zs.Zones {
			if z.Name == "" {
				t.Fatal("zone without a name accepted")
			}
		}
		zs.Match(fix(51, 5, 10))
	})
}
