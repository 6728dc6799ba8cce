package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// checkRFC7946 fails t unless data is one valid RFC 7946 FeatureCollection: every feature a
// Feature with a properties object naming its layer and a geometry of a known type; positions of
// two or three numbers, longitude first and in range; every position of one geometry of the same
// dimension; a LineString of two positions or more; polygon rings closed, of four positions or
// more, the exterior counterclockwise and holes clockwise (§3.1.6); no "crs" member (§4).
func checkRFC7946(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var fc map[string]any
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if fc["type"] != "FeatureCollection" {
		t.Fatalf("type %v, want FeatureCollection", fc["type"])
	}
	if _, ok := fc["crs"]; ok {
		t.Fatal("a crs member: RFC 7946 coordinates are WGS84 always")
	}
	feats, ok := fc["features"].([]any)
	if !ok {
		t.Fatalf("features is %T", fc["features"])
	}
	var props []map[string]any
	for i, x := range feats {
		f, ok := x.(map[string]any)
		if !ok || f["type"] != "Feature" {
			t.Fatalf("feature %d: %v", i, x)
		}
		p, ok := f["properties"].(map[string]any)
		if !ok {
			t.Fatalf("feature %d: properties %v", i, f["properties"])
		}
		switch p["layer"] {
		case "zones", "tracks", "points":
		default:
			t.Fatalf("feature %d: layer %v", i, p["layer"])
		}
		g, ok := f["geometry"].(map[string]any)
		if !ok {
			t.Fatalf("feature %d: geometry %v", i, f["geometry"])
		}
		dim := 0
		pos := func(v any) []float64 {
			a, ok := v.([]any)
			if !ok || len(a) < 2 || len(a) > 3 {
				t.Fatalf("feature %d: position %v", i, v)
			}
			if dim == 0 {
				dim = len(a)
			} else if len(a) != dim {
				t.Fatalf("feature %d: positions of %d and %d coordinates in one geometry", i, dim, len(a))
			}
			c := make([]float64, len(a))
			for j, n := range a {
				if c[j], ok = n.(float64); !ok {
					t.Fatalf("feature %d: coordinate %v", i, n)
				}
			}
			if c[0] < -180 || c[0] > 180 || c[1] < -90 || c[1] > 90 {
				t.Fatalf("feature %d: position %v out of range (lon, lat)", i, c)
			}
			return c
		}
		list := func(v any) [][]float64 {
			a, ok := v.([]any)
			if !ok {
				t.Fatalf("feature %d: %v is no array of positions", i, v)
			}
			var out [][]float64
			for _, q := range a {
				out = append(out, pos(q))
			}
			return out
		}
		polygon := func(v any) {
			rings, ok := v.([]any)
			if !ok || len(rings) == 0 {
				t.Fatalf("feature %d: polygon %v", i, v)
			}
			for k, rv := range rings {
				r := list(rv)
				if len(r) < 4 || r[0][0] != r[len(r)-1][0] || r[0][1] != r[len(r)-1][1] {
					t.Fatalf("feature %d: ring %d not closed or short: %v", i, k, r)
				}
				a := 0.0
				for j := 0; j+1 < len(r); j++ {
					a += r[j][0]*r[j+1][1] - r[j+1][0]*r[j][1]
				}
				if (a > 0) != (k == 0) {
					t.Fatalf("feature %d: ring %d breaks the right-hand rule (signed area %v)", i, k, a)
				}
			}
		}
		c := g["coordinates"]
		switch g["type"] {
		case "Point":
			pos(c)
		case "LineString":
			if len(list(c)) < 2 {
				t.Fatalf("feature %d: a LineString of fewer than 2 positions", i)
			}
		case "Polygon":
			polygon(c)
		case "MultiPolygon":
			ps, ok := c.([]any)
			if !ok {
				t.Fatalf("feature %d: multipolygon %v", i, c)
			}
			for _, p := range ps {
				dim = 0
				polygon(p)
			}
		default:
			t.Fatalf("feature %d: geometry type %v", i, g["type"])
		}
		p["_geometry"] = g
		props = append(props, p)
	}
	return props
}

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 123456789, time.UTC)

func testFix(role geo.Role, i int) geo.Fix {
	return geo.Fix{Lat: 51.15 + float64(i)*1e-4, Lon: 5.45 + float64(i)*1e-4, Role: role, Time: t0.Add(time.Duration(i) * time.Second),
		PrecisionM: 0.01, Evidence: geo.Evidence{Input: "flight.txt", SHA256: "ab", Decoder: "djilog", Message: "OSD",
			Locator: fmt.Sprintf("record %d", i), Offset: int64(100 * i), Channel: geo.ChannelOnDevice}}
}

func writeFixes(t *testing.T, format string, o FixOptions, fixes ...geo.Fix) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := NewFixWriterWith(format, &b, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixes {
		if err := fw.Write(&f); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func layer(props []map[string]any, name string) []map[string]any {
	var out []map[string]any
	for _, p := range props {
		if p["layer"] == name {
			out = append(out, p)
		}
	}
	return out
}

func geomOf(p map[string]any) (string, any) {
	g := p["_geometry"].(map[string]any)
	return g["type"].(string), g["coordinates"]
}

// Photos (and home, take-off, pilot, waypoint positions) are places, not a path: each is a Point
// of its own with its role, time and evidence. (They were drawn as one LineString per file.)
func TestFixesGeoJSONPhotosArePoints(t *testing.T) {
	var fixes []geo.Fix
	for i := range 5 {
		fixes = append(fixes, testFix(geo.RoleAircraft, i))
	}
	for i := range 3 {
		f := testFix(geo.RolePhoto, 10+i)
		f.HasAlt, f.AltM, f.AltRef = true, 30+float64(i), "take-off"
		fixes = append(fixes, f)
	}
	fixes = append(fixes, testFix(geo.RoleHome, 20), testFix(geo.RolePilot, 21), testFix(geo.RolePilot, 22), testFix(geo.RoleWaypoint, 23))
	props := checkRFC7946(t, writeFixes(t, "geojson", FixOptions{}, fixes...))
	points := layer(props, "points")
	if len(points) != 7 {
		t.Fatalf("%d point features, want 7 (3 photos, home, 2 pilot, waypoint): %v", len(points), props)
	}
	photos := 0
	for _, p := range points {
		typ, c := geomOf(p)
		if typ != "Point" || len(c.([]any)) != 2 {
			t.Fatalf("point %v: geometry %s %v, want a 2D Point (the altitude is a property)", p, typ, c)
		}
		if p["time"] == nil || p["time_ref"] != "utc" || p["input"] != "flight.txt" || p["sha256"] != "ab" || p["locator"] == nil || p["decoder"] != "djilog" {
			t.Fatalf("point without its time or evidence: %v", p)
		}
		if p["role"] == "photo" {
			i := 10 + photos
			photos++
			if p["time"] != t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano) || p["alt_m"] != 30+float64(i-10) || p["alt_ref"] != "take-off" {
				t.Fatalf("photo %d: %v", i, p)
			}
			if lon := c.([]any)[0].(float64); lon != fixes[5+i-10].Lon {
				t.Fatalf("photo %d: coordinates %v, want longitude first", i, c)
			}
		}
	}
	if photos != 3 {
		t.Fatalf("%d photos", photos)
	}
	tracks := layer(props, "tracks")
	if len(tracks) != 1 || tracks[0]["role"] != "aircraft" || tracks[0]["fixes"] != 5.0 {
		t.Fatalf("tracks %v, want the aircraft's", tracks)
	}
	if typ, _ := geomOf(tracks[0]); typ != "LineString" {
		t.Fatalf("track geometry %s", typ)
	}
}

// A track carries one time per coordinate (coordTimes, as togeojson writes from GPX), null for a
// position without one, and a device's clock written without an offset, named by time_ref.
func TestFixesGeoJSONTrackTimes(t *testing.T) {
	var fixes []geo.Fix
	for i := range 4 {
		fixes = append(fixes, testFix(geo.RoleAircraft, i))
	}
	fixes[2].Time = time.Time{}
	var srt []geo.Fix
	for i := range 2 {
		f := testFix(geo.RoleAircraft, i)
		f.Evidence.Input, f.Evidence.Decoder = "DJI_0001.SRT", "srt"
		f.Time = time.Date(2017, 8, 5, 14, 11, 51+i, 0, decoders.DeviceClock)
		srt = append(srt, f)
	}
	props := checkRFC7946(t, writeFixes(t, "geojson", FixOptions{}, append(fixes, srt...)...))
	tracks := layer(props, "tracks")
	if len(tracks) != 2 {
		t.Fatalf("tracks %v", tracks)
	}
	_, c := geomOf(tracks[0])
	times, _ := tracks[0]["coordTimes"].([]any)
	if len(times) != len(c.([]any)) || len(times) != 4 {
		t.Fatalf("coordTimes %v for %d coordinates", tracks[0]["coordTimes"], len(c.([]any)))
	}
	for i, tm := range times {
		want := any(fixes[i].Time.Format(time.RFC3339Nano))
		if i == 2 {
			want = nil
		}
		if tm != want {
			t.Fatalf("coordTimes[%d] = %v, want %v", i, tm, want)
		}
	}
	if tracks[0]["first_time"] != fixes[0].Time.Format(time.RFC3339Nano) || tracks[0]["last_time"] != fixes[3].Time.Format(time.RFC3339Nano) ||
		tracks[0]["time_ref"] != "utc" {
		t.Fatalf("track times %v", tracks[0])
	}
	if got := tracks[1]["coordTimes"]; fmt.Sprint(got) != "[2017-08-05T14:11:51 2017-08-05T14:11:52]" || tracks[1]["time_ref"] != "device-local" {
		t.Fatalf("device-local track: coordTimes %v, time_ref %v", got, tracks[1]["time_ref"])
	}
}

// The third coordinate of a track is of one altitude reference, named by alt_ref: a track whose
// positions change reference is split, and positions without an altitude make a 2D track.
func TestFixesGeoJSONAltRefNotMixed(t *testing.T) {
	refs := []string{"take-off", "take-off", "msl", "", "take-off", "msl", "-", "unknown-to-us"}
	var fixes []geo.Fix
	for i, ref := range refs {
		f := testFix(geo.RoleAircraft, i)
		switch ref {
		case "-":
			f.AltRef = "msl" // no altitude: the reference means nothing
		case "unknown-to-us":
			f.HasAlt, f.AltM = true, 7
		default:
			f.HasAlt, f.AltM, f.AltRef = true, float64(100*i), ref
		}
		fixes = append(fixes, f)
	}
	fixes[3].HasAlt = false
	props := checkRFC7946(t, writeFixes(t, "geojson", FixOptions{}, fixes...))
	got := map[string]string{}
	for _, p := range layer(props, "tracks") {
		ref, _ := p["alt_ref"].(string)
		typ, c := geomOf(p)
		var cs [][]any
		if typ == "Point" {
			cs = [][]any{c.([]any)}
		} else {
			for _, q := range c.([]any) {
				cs = append(cs, q.([]any))
			}
		}
		var zs []string
		for _, q := range cs {
			if ref == "none" {
				if len(q) != 2 {
					t.Fatalf("alt_ref none with a third coordinate: %v", q)
				}
				zs = append(zs, "-")
				continue
			}
			if len(q) != 3 {
				t.Fatalf("alt_ref %q without a third coordinate: %v", ref, q)
			}
			zs = append(zs, fmt.Sprint(q[2]))
		}
		if _, dup := got[ref]; dup {
			t.Fatalf("two tracks of reference %q", ref)
		}
		got[ref] = strings.Join(zs, " ")
	}
	want := map[string]string{"take-off": "0 100 400", "msl": "200 500", "none": "- -", "unknown": "7"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("altitudes by alt_ref %v, want %v", got, want)
	}
}

const fixZonesDoc = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"Base","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":[[[5.44985,51.14985],[5.44985,51.15035],[5.45035,51.15035],[5.45035,51.14985],[5.44985,51.14985]]]}},
{"type":"Feature","properties":{"name":"Staging","sensitivity":"restricted","radius_m":30},"geometry":{"type":"Point","coordinates":[5.4515,51.1515]}}]}`

func fixZones(t *testing.T) *geo.Zones {
	t.Helper()
	zs, err := geo.ParseZones("sites.geojson", []byte(fixZonesDoc))
	if err != nil {
		t.Fatal(err)
	}
	return zs
}

// The zones go into the GeoJSON as a layer of their own: polygons turned to the right-hand rule
// (the file gives the exterior clockwise), a point zone as a polygon round its circle.
func TestFixesGeoJSONZonesLayer(t *testing.T) {
	props := checkRFC7946(t, writeFixes(t, "geojson", FixOptions{Zones: fixZones(t)}, testFix(geo.RolePhoto, 1)))
	zones := layer(props, "zones")
	if len(zones) != 2 || zones[0]["name"] != "Base" || zones[0]["sensitivity"] != "secret" || zones[1]["name"] != "Staging" ||
		zones[1]["radius_m"] != 30.0 || zones[0]["zones_file"] != "sites.geojson" {
		t.Fatalf("zones layer %v", zones)
	}
	_, c := geomOf(zones[1])
	ring := c.([]any)[0].([]any)
	for _, q := range ring {
		p := q.([]any)
		d := geo.DistanceM(geo.Fix{Lat: 51.1515, Lon: 5.4515}, geo.Fix{Lat: p[1].(float64), Lon: p[0].(float64)})
		if d < 30 || d > 30.1 {
			t.Fatalf("circle vertex %v at %.3f m from the centre, want just over 30", p, d)
		}
	}
	if len(layer(props, "points")) != 1 {
		t.Fatal("the point is missing")
	}
	// No fix at all: still a valid collection, with the zones.
	if props := checkRFC7946(t, writeFixes(t, "geojson", FixOptions{Zones: fixZones(t)})); len(props) != 2 {
		t.Fatalf("%d features without fixes", len(props))
	}
}

// --in-zone: only the positions inside a zone or within their precision of one, each with the
// zone's name, in every format; NDJSON lines gain "zone" and "zone_distance_m" only then.
func TestFixesInZone(t *testing.T) {
	zs := fixZones(t)
	var fixes []geo.Fix
	for i := range 20 {
		fixes = append(fixes, testFix(geo.RoleAircraft, i)) // 0..3 in Base, 13..17 in Staging (15 at its centre)
	}
	near := testFix(geo.RolePhoto, 0)
	near.Lat, near.Lon, near.PrecisionM = 51.1497, 5.4500, 55 // 17 m south of Base, ±55 m
	far := testFix(geo.RolePhoto, 0)
	far.Lat, far.PrecisionM = 51.1497, 0.01
	fixes = append(fixes, near, far)
	in := map[int]string{0: "Base", 1: "Base", 2: "Base", 3: "Base", 13: "Staging", 14: "Staging", 15: "Staging", 16: "Staging", 17: "Staging", 20: "Base"}

	var lines []map[string]any
	out := writeFixes(t, "ndjson", FixOptions{Zones: zs, InZone: true}, fixes...)
	for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != len(in) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(in), out)
	}
	for _, m := range lines {
		i := int(m["offset"].(float64) / 100)
		if m["role"] == "photo" {
			i = 20
			if d := m["zone_distance_m"].(float64); d < 5 || d > 20 {
				t.Errorf("near photo: zone_distance_m %v", d)
			}
		} else if m["zone_distance_m"] != 0.0 {
			t.Errorf("fix %d inside: zone_distance_m %v", i, m["zone_distance_m"])
		}
		if m["zone"] != in[i] {
			t.Errorf("fix %d: zone %v, want %q", i, m["zone"], in[i])
		}
	}
	// The zone fields follow every other field, as encoding/json writes them.
	var want bytes.Buffer
	for _, f := range fixes {
		if m, ok := MatchZone(zs, f); ok {
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.Encode(newZonedRecord(f, &m))
		}
	}
	if want.String() != string(out) {
		t.Fatalf("got\n%s\nwant\n%s", out, want.String())
	}
	// Without --in-zone, nothing changes: every fix, no zone field, even with zones given.
	plain := writeFixes(t, "ndjson", FixOptions{Zones: zs}, fixes...)
	var ref bytes.Buffer
	for _, f := range fixes {
		referenceNDJSON(&ref, f)
	}
	if string(plain) != ref.String() || strings.Contains(string(plain), `"zone"`) {
		t.Fatal("ndjson without --in-zone changed")
	}

	rows, err := csv.NewReader(bytes.NewReader(writeFixes(t, "csv", FixOptions{Zones: zs, InZone: true}, fixes...))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	h := rows[0]
	if len(rows) != len(in)+1 || h[len(h)-2] != "zone" || h[len(h)-1] != "zone_distance_m" || rows[1][len(h)-2] != "Base" {
		t.Fatalf("csv %v", rows)
	}
	text := string(writeFixes(t, "text", FixOptions{Zones: zs, InZone: true}, fixes...))
	if strings.Count(text, "\n") != len(in) || strings.Count(text, `zone "Staging"`) != 5 || !strings.Contains(text, "m outside, within precision") {
		t.Fatalf("text\n%s", text)
	}

	// GeoJSON: the track is broken where it leaves the zones, not drawn across.
	props := checkRFC7946(t, writeFixes(t, "geojson", FixOptions{Zones: zs, InZone: true}, fixes...))
	var tracks []string
	for _, p := range layer(props, "tracks") {
		tracks = append(tracks, fmt.Sprintf("%v:%v", p["zone"], p["fixes"]))
	}
	if fmt.Sprint(tracks) != "[Base:4 Staging:5]" || len(layer(props, "points")) != 1 || layer(props, "points")[0]["zone"] != "Base" {
		t.Fatalf("tracks %v, points %v", tracks, layer(props, "points"))
	}
	leave := append(append([]geo.Fix{}, fixes[:3]...), fixes[10], fixes[3])
	props = checkRFC7946(t, writeFixes(t, "geojson", FixOptions{Zones: zs, InZone: true}, leave...))
	if tr := layer(props, "tracks"); len(tr) != 2 || tr[0]["fixes"] != 3.0 || tr[1]["fixes"] != 1.0 {
		t.Fatalf("a track that leaves the zone and comes back: %v", tr)
	}

	if _, err := NewFixWriterWith("ndjson", &bytes.Buffer{}, FixOptions{InZone: true}); err == nil {
		t.Fatal("InZone without zones accepted")
	}
}

// CSV times are what LibreOffice and Excel read as a date and time: "YYYY-MM-DD HH:MM:SS.sss" in
// UTC under time_utc, RFC 3339 beside; a device's clock goes under time_device_local, never under
// time_utc. (The time column was RFC 3339 with nanoseconds and Z, read as text.)
func TestFixesCSVSpreadsheetTimes(t *testing.T) {
	utc := testFix(geo.RoleAircraft, 0)
	utc.Time = time.Date(2021, 9, 6, 2, 23, 48, 987654321, time.FixedZone("CEST", 7200))
	local := testFix(geo.RoleAircraft, 1)
	local.Time = time.Date(2017, 8, 5, 14, 11, 51, 5e6, decoders.DeviceClock)
	none := testFix(geo.RoleHome, 2)
	none.Time = time.Time{}
	rows, err := csv.NewReader(bytes.NewReader(writeFixes(t, "csv", FixOptions{}, utc, local, none))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0][:5], ","); got != "time_utc,time_device_local,time_rfc3339,time_ref,lat" {
		t.Fatalf("header %s", got)
	}
	want := [][]string{
		{"2021-09-06 00:23:48.987", "", "2021-09-06T00:23:48.987654321Z", "utc"},
		{"", "2017-08-05 14:11:51.005", "2017-08-05T14:11:51.005", "device-local"},
		{"", "", "", ""},
	}
	for i, w := range want {
		if got := rows[i+1][:4]; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("row %d: %q, want %q", i+1, got, w)
		}
	}
	for _, r := range rows[1:2] {
		if _, err := time.Parse("2006-01-02 15:04:05.000", r[0]); err != nil || len(r[0]) != len("2006-01-02 15:04:05.000") {
			t.Errorf("time_utc %q is not YYYY-MM-DD HH:MM:SS.sss", r[0])
		}
	}
}

// fixes --format text passes every text from an input through safetext: no control or bidi
// character reaches the terminal, and a newline in a name cannot forge a line.
func TestFixesTextSanitised(t *testing.T) {
	f := testFix(geo.RoleAircraft, 0)
	f.Evidence.Input = "evil\x1b]0;pwned\x07\u202egpj.bin"
	f.Evidence.Message = "OSD\nVERDICT: PASS"
	f.Evidence.Locator = "record\r1"
	f.Evidence.Note = "note \u2066hidden\u2069 \x9b31m"
	f.HasAlt, f.AltM, f.AltRef = true, 12, "msl\x1b[2J"
	zs, err := geo.ParseZones("z.geojson", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Z\u202eone\u0007","sensitivity":"secret","radius_m":100},"geometry":{"type":"Point","coordinates":[5.45,51.15]}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []FixOptions{{}, {Zones: zs, InZone: true}} {
		out := string(writeFixes(t, "text", o, f))
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Fatalf("one fix, %d lines: %q", strings.Count(out, "\n"), out)
		}
		for _, r := range strings.TrimSuffix(out, "\n") {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x2066 && r <= 0x2069 || r >= 0x202a && r <= 0x202e {
				t.Fatalf("control or bidi character %U in %q", r, out)
			}
		}
		for _, want := range []string{`evil\x1b]0;pwned\x07\u202egpj.bin`, `OSD\nVERDICT: PASS`, `note \u2066hidden\u2069`, "msl"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q lacks %q", out, want)
			}
		}
		if o.InZone && !strings.Contains(out, `Z\u202eone\x07`) {
			t.Errorf("zone name not shown escaped: %q", out)
		}
	}
}

// The zoned NDJSON line is encoding/json's, on the fast path and the reference path alike.
func TestNDJSONFixesZoneFieldsMatchEncodingJSON(t *testing.T) {
	f := testFix(geo.RoleAircraft, 0)
	for _, z := range []ZoneMatch{{Name: "Base"}, {Name: "q\"uo\u2028te <&>", DistanceM: 12.34}} {
		for _, lat := range []float64{51.15, math.NaN()} {
			f.Lat = lat
			var got, want bytes.Buffer
			n := &ndjsonFixes{w: &got}
			gerr := n.write(&f, &z)
			if gerr == nil {
				gerr = n.Close()
			}
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			werr := enc.Encode(newZonedRecord(f, &z))
			if fmt.Sprint(gerr) != fmt.Sprint(werr) || got.String() != want.String() {
				t.Errorf("got %q %v, want %q %v", got.String(), gerr, want.String(), werr)
			}
		}
	}
}
