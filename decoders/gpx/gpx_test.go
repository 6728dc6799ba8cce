package gpx

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
)

func decodeBytes(t testing.TB, name string, data []byte) *decodertest.Sink {
	t.Helper()
	s := &decodertest.Sink{}
	in := decoders.Input{Path: name, SHA256: "test", Size: int64(len(data)), R: bytes.NewReader(data)}
	if err := New().Decode(context.Background(), in, s); err != nil {
		t.Fatalf("%s: Decode: %v", name, err)
	}
	return s
}

func fixesOf(s *decodertest.Sink, role geo.Role) []geo.Fix {
	var out []geo.Fix
	for _, f := range s.Fixes {
		if f.Role == role {
			out = append(out, f)
		}
	}
	return out
}

type pt struct {
	lat, lon, ele float64
	t             time.Time
}

var t0 = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

// track returns n positions near Vienna, one second apart.
func track(n int) []pt {
	out := make([]pt, n)
	for i := range out {
		out[i] = pt{lat: 48.2082 + float64(i)*1e-5, lon: 16.3738 - float64(i)*1e-5, ele: 180 + float64(i)/2, t: t0.Add(time.Duration(i) * time.Second)}
	}
	return out
}

// writeGPX renders GPX 1.1 (or 1.0, which differs only in its namespace here) with a track,
// a route and two waypoints, one named as the home point.
func writeGPX(version string, pts []pt) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gpx version=%q creator=\"DroneApp 1.2\" xmlns=\"http://www.topografix.com/GPX/%s\">\n",
		version, strings.ReplaceAll(version, ".", "/"))
	b.WriteString("<metadata><name>Mission &amp; more</name><time>2025-06-07T08:00:00Z</time></metadata>\n")
	b.WriteString("<wpt lat=\"48.2000\" lon=\"16.3700\"><ele>170.5</ele><name>Home point</name></wpt>\n")
	b.WriteString("<wpt lat=\"48.2100\" lon=\"16.3800\"><name>Police station</name></wpt>\n")
	b.WriteString("<trk><name>Flight</name><trkseg>\n")
	for _, p := range pts {
		fmt.Fprintf(&b, "  <trkpt lat=\"%.7f\" lon=\"%.7f\">\n    <ele>%.1f</ele>\n    <time>%s</time>\n  </trkpt>\n", p.lat, p.lon, p.ele, p.t.Format(time.RFC3339))
	}
	b.WriteString("</trkseg></trk>\n<rte><rtept lat=\"48.3\" lon=\"16.4\"/><rtept lat=\"48.31\" lon=\"16.41\"/></rte>\n</gpx>\n")
	return []byte(b.String())
}

func TestFixtureGPX(t *testing.T) {
	pts := track(25)
	for _, v := range []string{"1.0", "1.1"} {
		t.Run(v, func(t *testing.T) {
			data := writeGPX(v, pts)
			if !New().Sniff(data) {
				t.Fatal("Sniff refused GPX")
			}
			s := decodeBytes(t, "track.gpx", data)
			air := fixesOf(s, geo.RoleAircraft)
			if len(air) != len(pts) {
				t.Fatalf("%d track fixes, want %d; notes %+v", len(air), len(pts), s.Notes)
			}
			for i, f := range air {
				p := pts[i]
				if math.Abs(f.Lat-p.lat) > 5e-8 || math.Abs(f.Lon-p.lon) > 5e-8 || !f.Time.Equal(p.t) || !f.HasAlt || f.AltM != math.Round(p.ele*10)/10 || f.AltRef != "msl" {
					t.Fatalf("fix %d %v %v alt %v, want %+v", i, f, f.Time, f.AltM, p)
				}
				if f.PrecisionM != geo.PrecisionFromDecimals(7) || f.Evidence.Message != "trkpt" || f.Evidence.Offset <= 0 {
					t.Fatalf("fix %d evidence %+v precision %v", i, f.Evidence, f.PrecisionM)
				}
				if want := fmt.Sprintf("line %d", 7+4*i); f.Evidence.Locator != want {
					t.Fatalf("fix %d locator %q, want %q", i, f.Evidence.Locator, want)
				}
				if !bytes.HasPrefix(data[f.Evidence.Offset:], []byte("<trkpt")) {
					t.Fatalf("fix %d offset %d points at %q", i, f.Evidence.Offset, data[f.Evidence.Offset:f.Evidence.Offset+10])
				}
			}
			if h := fixesOf(s, geo.RoleHome); len(h) != 1 || h[0].Lat != 48.2 || h[0].AltM != 170.5 {
				t.Errorf("home %v", h)
			}
			if w := fixesOf(s, geo.RoleWaypoint); len(w) != 3 {
				t.Errorf("waypoints %v", w)
			}
			ex := s.Exposures
			if len(ex) != 1 || ex[0].Values["creator"] != "DroneApp 1.2" || ex[0].Values["home_point"] != "48.2,16.37" || !strings.Contains(ex[0].Values["names"], "Police station") {
				t.Errorf("exposure %+v", ex)
			}
		})
	}
}

// writeKML renders a Placemark Point named take-off, a LineString (tuples over several lines,
// one split by a comment), a gx:Track and a Polygon.
func writeKML(pts []pt) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><name>Export</name>
<Placemark><name>Take-off</name><description><![CDATA[<b>start</b>]]> &nbsp;</description><TimeStamp><when>2025-06-07T08:09:00Z</when></TimeStamp><Point><altitudeMode>absolute</altitudeMode><coordinates>16.3700,48.2000,171.0</coordinates></Point></Placemark>
<Placemark><name>Path</name><LineString><altitudeMode>relativeToGround</altitudeMode><coordinates>
`)
	for i, p := range pts {
		fmt.Fprintf(&b, "%.6f,%.6f,%.1f", p.lon, p.lat, p.ele)
		if i == 1 {
			b.WriteString("<!-- split -->")
		}
		b.WriteString("\n")
	}
	b.WriteString("</coordinates></LineString></Placemark>\n<Placemark><name>Track</name><gx:Track><altitudeMode>absolute</altitudeMode>\n")
	for _, p := range pts {
		fmt.Fprintf(&b, "<when>%s</when>\n", p.t.Format(time.RFC3339))
	}
	for _, p := range pts {
		fmt.Fprintf(&b, "<gx:coord>%.6f %.6f %.1f</gx:coord>\n", p.lon, p.lat, p.ele)
	}
	b.WriteString("</gx:Track></Placemark>\n<Placemark><name>Area</name><Polygon><outerBoundaryIs><LinearRing><coordinates>16.1,48.1 16.2,48.1 16.2,48.2 16.1,48.1</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>\n</Document></kml>\n")
	return []byte(b.String())
}

func TestFixtureKML(t *testing.T) {
	pts := track(10)
	data := writeKML(pts)
	if !New().Sniff(data) {
		t.Fatal("Sniff refused KML")
	}
	s := decodeBytes(t, "export.kml", data)
	checkKML(t, s, pts, true)
}

func checkKML(t *testing.T, s *decodertest.Sink, pts []pt, withOffsets bool) {
	t.Helper()
	tk := fixesOf(s, geo.RoleTakeoff)
	if len(tk) != 1 || tk[0].Lat != 48.2 || tk[0].Lon != 16.37 || tk[0].AltM != 171 || tk[0].AltRef != "msl" || !tk[0].Time.Equal(time.Date(2025, 6, 7, 8, 9, 0, 0, time.UTC)) {
		t.Fatalf("take-off %v; notes %+v", tk, s.Notes)
	}
	air := fixesOf(s, geo.RoleAircraft)
	if len(air) != 2*len(pts) {
		t.Fatalf("%d aircraft fixes, want %d", len(air), 2*len(pts))
	}
	for i, p := range pts {
		line, tr := air[i], air[len(pts)+i]
		for _, f := range []geo.Fix{line, tr} {
			if math.Abs(f.Lat-p.lat) > 5e-7 || math.Abs(f.Lon-p.lon) > 5e-7 || f.AltM != math.Round(p.ele*10)/10 {
				t.Fatalf("point %d: %v alt %v, want %+v", i, f, f.AltM, p)
			}
		}
		if line.Evidence.Message != "LineString" || line.AltRef != "ground" || !line.Time.IsZero() {
			t.Fatalf("LineString fix %d: %+v", i, line)
		}
		if tr.Evidence.Message != "gx:Track" || tr.AltRef != "msl" || !tr.Time.Equal(p.t) {
			t.Fatalf("gx:Track fix %d: %+v %v", i, tr.Evidence, tr.Time)
		}
		if withOffsets && line.Evidence.Offset < 0 {
			t.Fatalf("no offset: %+v", line.Evidence)
		}
	}
	if w := fixesOf(s, geo.RoleWaypoint); len(w) != 4 || w[0].Evidence.Message != "Polygon vertex" {
		t.Fatalf("polygon vertices %v", w)
	}
}

func writeKMZ(t testing.TB, entries map[string][]byte, order []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(entries[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFixtureKMZ(t *testing.T) {
	pts := track(10)
	data := writeKMZ(t, map[string][]byte{"doc.kml": writeKML(pts), "files/icon.png": {0x89, 'P', 'N', 'G'}}, []string{"doc.kml", "files/icon.png"})
	if !New().Sniff(data) {
		t.Fatal("Sniff refused KMZ")
	}
	s := decodeBytes(t, "export.kmz", data)
	checkKML(t, s, pts, false)
	if f := s.Fixes[0]; !strings.HasPrefix(f.Evidence.Locator, "doc.kml line ") || f.Evidence.Offset != -1 {
		t.Errorf("KMZ evidence %+v", f.Evidence)
	}
	// A zip whose first entry is not KML: found through the central directory all the same.
	data = writeKMZ(t, map[string][]byte{"a.txt": []byte("x"), "wpmz/waylines.wpml": writeKML(pts)}, []string{"a.txt", "wpmz/waylines.wpml"})
	if !New().Sniff(data) {
		t.Fatal("Sniff refused a KMZ with a .wpml second entry")
	}
	if s := decodeBytes(t, "mission.kmz", data); len(s.Fixes) == 0 {
		t.Fatal("no fixes from the .wpml entry")
	}
	// A plain zip is not claimed.
	if New().Sniff(writeKMZ(t, map[string][]byte{"a.txt": []byte("x")}, []string{"a.txt"})) {
		t.Error("Sniff claimed a zip without KML")
	}
}

// TestFixtureZipBomb: an entry that inflates past the bound is cut with a note, whatever its
// header claims; the positions before the cut stand.
func TestFixtureZipBomb(t *testing.T) {
	old := maxEntry
	maxEntry = 64 << 10
	defer func() { maxEntry = old }()
	kml := writeKML(track(3))
	pad := bytes.Repeat([]byte("<!-- padding padding padding -->\n"), 8192) // 270 kB, compresses to little
	bomb := append(append(kml[:len(kml)-len("</Document></kml>\n")], pad...), "</Document></kml>\n"...)
	// Declared size honest: skipped before inflating.
	s := decodeBytes(t, "bomb.kmz", writeKMZ(t, map[string][]byte{"doc.kml": bomb}, []string{"doc.kml"}))
	if n := s.NotesWithCode("too-large"); len(n) != 1 || len(s.Fixes) != 0 {
		t.Fatalf("honest bomb: notes %+v fixes %d", s.Notes, len(s.Fixes))
	}
	// Declared size forged small (local and central headers patched to 100 bytes, APPNOTE
	// 4.3.7 offset 22 and 4.3.12 offset 24): archive/zip stops at the declared size, which is
	// within the bound; the entry is reported as a bad zip.
	raw := writeKMZ(t, map[string][]byte{"doc.kml": bomb}, []string{"doc.kml"})
	for _, sig := range []struct {
		magic string
		at    int
	}{{"PK\x03\x04", 22}, {"PK\x01\x02", 24}} {
		i := bytes.Index(raw, []byte(sig.magic))
		if i < 0 {
			t.Fatalf("no %q header", sig.magic)
		}
		copy(raw[i+sig.at:], []byte{100, 0, 0, 0})
	}
	s = decodeBytes(t, "forged.kmz", raw)
	if n := s.NotesWithCode("bad-zip"); len(n) != 1 || !strings.Contains(n[0].Message, "doc.kml") {
		t.Fatalf("forged bomb: notes %+v fixes %d", s.Notes, len(s.Fixes))
	}
	// An entry that inflates past the bound while its header claims a size within it is cut by
	// our own limit as well: shown with the bound lowered below an honest declared size.
	maxEntry = 1 << 20
	limited := &limitReader{r: bytes.NewReader(bomb), left: 64 << 10}
	p := newParser(decoders.Input{Path: "x.kml"}, &decodertest.Sink{}, "doc.kml", -1, newExposure(decoders.Input{Path: "x.kml"}))
	sink := p.sink.(*decodertest.Sink)
	if err := p.run(context.Background(), limited); err != nil {
		t.Fatal(err)
	}
	if n := sink.NotesWithCode("too-large"); len(n) != 1 || len(fixesOf(sink, geo.RoleAircraft)) != 6 {
		t.Fatalf("limit: notes %+v fixes %d", sink.Notes, len(sink.Fixes))
	}
}

// TestFixtureTruncations cuts a GPX at every byte: fixes are a prefix of the whole file's, and
// a cut inside the document gives one error note naming the file.
func TestFixtureTruncations(t *testing.T) {
	full := writeGPX("1.1", track(4))
	whole := decodeBytes(t, "cut.gpx", full).Fixes
	for cut := 1; cut < len(full)-1; cut++ {
		s := decodeBytes(t, "cut.gpx", full[:cut])
		for i, f := range s.Fixes {
			if f != whole[i] {
				t.Fatalf("cut %d: fix %d = %#v, want %#v", cut, i, f, whole[i])
			}
		}
		var errs []decoders.Note
		for _, n := range s.Notes {
			if n.Severity == decoders.Error {
				errs = append(errs, n)
			}
		}
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "cut.gpx") || errs[0].Offset < 0 || errs[0].Offset > int64(cut) {
			t.Fatalf("cut %d: error notes %+v", cut, errs)
		}
	}
	// A KMZ cut short loses its central directory: one clear error.
	kmz := writeKMZ(t, map[string][]byte{"doc.kml": writeKML(track(3))}, []string{"doc.kml"})
	s := decodeBytes(t, "cut.kmz", kmz[:len(kmz)/2])
	if n := s.NotesWithCode("truncated"); len(n) != 1 || !strings.Contains(n[0].Message, "cut.kmz") {
		t.Fatalf("cut KMZ: %+v", s.Notes)
	}
}

func TestFixtureHostile(t *testing.T) {
	s := decodeBytes(t, "empty.gpx", nil)
	if n := s.NotesWithCode("empty"); len(n) != 1 || n[0].Severity != decoders.Error {
		t.Fatalf("empty: %+v", s.Notes)
	}
	deep := "<gpx>" + strings.Repeat("<a>", maxDepth+5) + "<wpt lat=\"1\" lon=\"1\"/>"
	s = decodeBytes(t, "deep.gpx", []byte(deep))
	if n := s.NotesWithCode("bad-xml"); len(n) != 1 || len(s.Fixes) != 0 {
		t.Fatalf("deep: %+v", s.Notes)
	}
	attrs := "<gpx><wpt" + strings.Repeat(" a=\"\"", maxAttrs+5000) /* the budget is counted per token ± one 4 KiB read-ahead */ + "/></gpx>"
	s = decodeBytes(t, "attrs.gpx", []byte(attrs))
	if n := s.NotesWithCode("too-large"); len(n) != 1 {
		t.Fatalf("attribute flood: %+v", s.Notes)
	}
	odd := `<gpx><wpt lat="NaN" lon="Inf"/><wpt lat="0x1p4" lon="1"/><wpt lat="0" lon="0"/><wpt lat="95" lon="1"/><wpt lat="45.5" lon="9.25"/></gpx>`
	s = decodeBytes(t, "odd.gpx", []byte(odd))
	if len(s.Fixes) != 1 || s.Fixes[0].Lat != 45.5 || s.Counts["no_fix"] != 1 || s.Counts["bad_values"] != 3 {
		t.Fatalf("odd values: fixes %v counts %v", s.Fixes, s.Counts)
	}
	latin := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><gpx><wpt lat=\"1.5\" lon=\"2.5\"><name>Caf\xe9</name></wpt></gpx>"
	s = decodeBytes(t, "latin1.gpx", []byte(latin))
	if ex := s.Exposures; len(s.Fixes) != 1 || len(ex) != 1 || ex[0].Values["names"] != "Café" {
		t.Fatalf("latin-1: fixes %v notes %+v", s.Fixes, s.Notes)
	}
	for _, h := range []string{"", "<html><body>", "<?xml version=\"1.0\"?>\n<!-- gpx -->\n<svg/>", "lat,lon\n1,2\n", "1\n00:00:00,000 --> 00:00:01,000\n", "PK\x03\x04"} {
		if New().Sniff([]byte(h)) {
			t.Errorf("Sniff claimed %q", h)
		}
	}
	for _, h := range []string{"\ufeff<?xml version=\"1.0\"?>\n<!-- c -->\n<gpx version=\"1.1\">", "<kml:kml xmlns:kml=\"http://www.opengis.net/kml/2.2\">"} {
		if !New().Sniff([]byte(h)) {
			t.Errorf("Sniff refused %q", h)
		}
	}
}
