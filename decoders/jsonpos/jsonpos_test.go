package jsonpos

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"droneaudit/geo"
)

// doc builds JSON with encoding/json in the shape of DJI Cloud API messages (dji-network.md
// §4.4; values from the fixture example there: 22.907809968 N, 113.703482143 E).
func doc(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFindCloudAPIShapes(t *testing.T) {
	osd := doc(t, map[string]any{"tid": "x", "gateway": "4TADKAQ000002J", "data": map[string]any{
		"latitude": json.Number("22.907809968"), "longitude": json.Number("113.703482143"), "height": 120.5,
		"home_latitude": json.Number("22.9071"), "home_longitude": json.Number("113.7031"),
		"points": []any{map[string]any{"latitude": json.Number("22.91"), "longitude": json.Number("113.71")}},
		"file":   map[string]any{"metadata": map[string]any{"shoot_position": map[string]any{"lat": "22.5", "lng": "113.5"}}},
	}})
	pos, err := Find(osd, geo.RoleAircraft, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[geo.Role][3]float64{
		geo.RoleAircraft: {22.907809968, 113.703482143, 9},
		geo.RoleHome:     {22.9071, 113.7031, 4},
		geo.RoleWaypoint: {22.91, 113.71, 2},
		geo.RolePhoto:    {22.5, 113.5, 1},
	}
	if len(pos) != len(want) {
		t.Fatalf("%+v", pos)
	}
	for _, p := range pos {
		w, ok := want[p.Role]
		if !ok || p.Lat != w[0] || p.Lon != w[1] || p.Decimals != int(w[2]) {
			t.Errorf("%+v, want %v", p, w)
		}
		if p.Role == geo.RoleAircraft && (!p.HasAlt || p.Alt != 120.5) {
			t.Errorf("altitude %+v", p)
		}
	}
	f, _ := pos[0].Fix(geo.Evidence{})
	if math.Abs(f.PrecisionM-geo.PrecisionFromDecimals(pos[0].Decimals)) > 1e-9 {
		t.Errorf("precision %v", f.PrecisionM)
	}
}

func TestSwappedAndForm(t *testing.T) {
	// The DJI WebSocket example has latitude 113.44 and longitude 23.46 (dji-network.md §4.4).
	pos, err := Find([]byte(`{"host":{"latitude":113.44,"longitude":23.46}}`), geo.RoleAircraft, 4)
	if err != nil || len(pos) != 1 {
		t.Fatal(pos, err)
	}
	f, swapped := pos[0].Fix(geo.Evidence{})
	if !swapped || f.Lat != 23.46 || f.Lon != 113.44 || f.Evidence.Note == "" || !f.Valid() {
		t.Fatalf("%+v %v", f, swapped)
	}
	fp := FindForm("sn=1581F&lat=51.4783&lng=-2.5922&x=1", geo.RoleOther, 4)
	if len(fp) != 1 || fp[0].Lat != 51.4783 || fp[0].Lon != -2.5922 || fp[0].Decimals != 4 {
		t.Fatalf("%+v", fp)
	}
	if _, err := Find([]byte(`{"a":`), geo.RoleOther, 4); err == nil {
		t.Fatal("broken JSON accepted")
	}
}

func TestDepthAndCountBounded(t *testing.T) {
	deep := []byte{}
	for i := 0; i < 5000; i++ {
		deep = append(deep, `{"a":`...)
	}
	deep = append(deep, `{"lat":1,"lng":2}`...)
	for i := 0; i < 5000; i++ {
		deep = append(deep, '}')
	}
	if pos, _ := Find(deep, geo.RoleOther, 10); len(pos) != 0 {
		t.Fatalf("found %d positions below the depth limit", len(pos))
	}
	many := []any{}
	for i := 0; i < 500; i++ {
		many = append(many, map[string]any{"lat": 1.5, "lng": 2.5})
	}
	if pos, _ := Find(doc(t, many), geo.RoleOther, 10); len(pos) != 10 {
		t.Fatalf("%d positions, want the limit 10", len(pos))
	}
}

func FuzzJSONPositions(f *testing.F) {
	f.Add([]byte(`{"data":{"latitude":22.9,"longitude":113.7,"home_latitude":"1","home_longitude":"2"}}`))
	f.Add([]byte(`[{"lat":1e3,"lng":-0.5}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pos, _ := Find(b, geo.RoleOther, 8)
		if len(pos) > 8 {
			t.Fatal("over the limit")
		}
		for _, p := range pos {
			p.Fix(geo.Evidence{})
		}
		FindForm(string(b), geo.RoleOther, 8)
	})
}

func BenchmarkFind(b *testing.B) {
	d := doc(b, map[string]any{"data": map[string]any{"latitude": 22.907809968, "longitude": 113.703482143, "height": 100}})
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		Find(d, geo.RoleAircraft, 8)
	}
}

// TestLabel checks Label against the expression it replaces on the paths the scanner makes and
// on odd ones.
func TestLabel(t *testing.T) {
	for _, p := range []Position{{Key: "lat"}, {Path: "data", Key: "lat"}, {Path: "data.points[2]", Key: "latitude"},
		{Path: ".x", Key: "lat"}, {Path: "..", Key: ""}, {Path: ".", Key: "k"}, {}} {
		want := "GET /x json body " + strings.TrimPrefix(p.Path+"."+p.Key, ".")
		if got := p.Label("GET /x json body "); got != want {
			t.Errorf("%+v: Label = %q, want %q", p, got, want)
		}
	}
}
