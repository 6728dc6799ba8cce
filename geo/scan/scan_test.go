package scan_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"droneaudit/geo"
	"droneaudit/geo/scan"
	"droneaudit/geo/scan/scantest"
	"droneaudit/internal/demo"
)

// demoTargets are the zones of the demo's Belgian zone file.
func demoTargets(t testing.TB) *scan.Targets {
	t.Helper()
	zs, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	return scan.NewTargets(zs, nil, 0)
}

// kleineBrogel is a point inside the Kleine-Brogel zone.
const kbLat, kbLon = 51.1693, 5.4712

// southWest has a zone where both coordinates are negative: signs, two's complement and
// zig-zag are exercised.
const southWest = `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Buenos Aires port","sensitivity":"secret","radius_m":800},"geometry":{"type":"Point","coordinates":[-58.3651,-34.6033]}}]}`

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func scanAll(p *scan.Pattern, b []byte) []scan.Hit {
	var hits []scan.Hit
	scan.NewScanner(p).Scan(b, func(h scan.Hit) { hits = append(hits, h) })
	return hits
}

func find(hits []scan.Hit, enc scan.Encoding, off int, ord scan.Order, w scan.Wrapping) *scan.Hit {
	for i := range hits {
		h := &hits[i]
		if h.Encoding == enc && h.Offset == off && (h.Order == ord || enc == scan.Geohash) && h.Wrap == w {
			return h
		}
	}
	return nil
}

// TestPlantedEveryEncoding plants a zone coordinate in every encoding, both pair orders, in
// random bytes, and finds it with its encoding, offset and order.
func TestPlantedEveryEncoding(t *testing.T) {
	zsw, err := geo.ParseZones("sw.geojson", []byte(southWest))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		p        *scan.Pattern
		lat, lon float64
		zone     string
	}{
		{"kleine-brogel", scan.Compile(demoTargets(t)), kbLat, kbLon, "Kleine-Brogel Air Base"},
		{"south-west", scan.Compile(scan.NewTargets(zsw, nil, 0)), -34.6031, -58.3655, "Buenos Aires port"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		for _, enc := range scan.Encodings() {
			for _, ord := range []scan.Order{scan.LatLon, scan.LonLat} {
				if enc == scan.Geohash && ord == scan.LonLat {
					continue // one token holds both
				}
				t.Run(fmt.Sprintf("%s/%s/%s", c.name, enc, ord), func(t *testing.T) {
					plant, at := scantest.Plant(enc, c.lat, c.lon, ord)
					// Under distinctMin (128) bytes of random context: longer random stretches hold back
					// the int32 forms (TestRandomGate).
					pre := randBytes(r, 17+r.IntN(30))
					if enc == scan.DecimalText || enc == scan.Geohash {
						pre = append(pre, ' ') // text starts after a delimiter
					}
					b := append(append(append([]byte{}, pre...), plant...), randBytes(r, 29)...)
					h := find(scanAll(c.p, b), enc, len(pre)+at, ord, scan.Plain)
					if h == nil {
						t.Fatalf("%s %s not found at %d in %x", enc, ord, len(pre)+at, b)
					}
					if h.Target != c.zone {
						t.Errorf("target %q, want %q", h.Target, c.zone)
					}
					if d := geo.DistanceM(geo.Fix{Lat: h.Lat, Lon: h.Lon}, geo.Fix{Lat: c.lat, Lon: c.lon}); d > h.PrecisionM+1e-6 {
						t.Errorf("decoded %.7f,%.7f is %.3f m from the planted point, precision %.3f m", h.Lat, h.Lon, d, h.PrecisionM)
					}
					if !(h.PrecisionM > 0) {
						t.Errorf("precision %v", h.PrecisionM)
					}
				})
			}
		}
	}
}

// TestDecimalText covers decimals 2–9, both decimal marks and separators.
func TestDecimalText(t *testing.T) {
	p := scan.Compile(demoTargets(t))
	for dec := 2; dec <= 9; dec++ {
		for _, f := range []struct{ mark, sep string }{{".", ","}, {".", ", "}, {".", "%2C"}, {".", `","lng":`}, {",", ";"}, {",", " "}, {",", ","}, {".", "\x04"}} {
			for _, ord := range []scan.Order{scan.LatLon, scan.LonLat} {
				a, b := kbLat, kbLon
				if ord == scan.LonLat {
					a, b = b, a
				}
				pair := scantest.DecimalPair(a, b, dec, f.mark, f.sep)
				in := append([]byte(`x=`), pair...)
				in = append(in, '&')
				if dec == 2 && f.mark == "," && f.sep == "," {
					// "51,17,5,47" reads either way; it is found as long as one reading pairs.
				}
				if find(scanAll(p, in), scan.DecimalText, 2, ord, scan.Plain) == nil {
					t.Errorf("%q: no %s hit at 2", in, ord)
				}
			}
		}
	}
}

// TestWrapped finds binary pairs inside hex, base64 (standard, URL, unpadded) and
// percent-encoded runs, with offsets of the encoded form.
func TestWrapped(t *testing.T) {
	p := scan.Compile(demoTargets(t))
	r := rand.New(rand.NewPCG(3, 4))
	pair, _ := scantest.Plant(scan.Float64DegLE, kbLat, kbLon, scan.LatLon)
	inner := append(append(randBytes(r, 3), pair...), randBytes(r, 5)...)
	var pct strings.Builder
	for _, c := range inner {
		fmt.Fprintf(&pct, "%%%02X", c)
	}
	for _, c := range []struct {
		w    scan.Wrapping
		text string
		off  int // of the pair's first encoded character in text
	}{
		{scan.Hex, hex.EncodeToString(inner), 6},
		{scan.Hex, strings.ToUpper(hex.EncodeToString(inner)), 6},
		{scan.Base64, base64.StdEncoding.EncodeToString(inner), 4},
		{scan.Base64, base64.RawURLEncoding.EncodeToString(inner), 4},
		{scan.Percent, pct.String(), 9},
	} {
		pre := "GET /up?d="
		b := []byte(pre + c.text + " HTTP/1.1\r\n")
		h := find(scanAll(p, b), scan.Float64DegLE, len(pre)+c.off, scan.LatLon, c.w)
		if h == nil {
			t.Errorf("%s: not found in %q: %+v", c.w, b, scanAll(p, b))
		}
	}
	// Decimal text found in the plain bytes is not reported again from its percent-decoding.
	b := []byte("q=51.16931%2C5.47120%20x%3Dy")
	if hits := scanAll(p, b); len(hits) != 1 || hits[0].Wrap != scan.Plain {
		t.Errorf("%q: %+v, want one plain hit", b, hits)
	}
}

// TestTrack finds a pair near the flown track and not one farther than the set distance.
func TestTrack(t *testing.T) {
	track := []geo.Fix{{Lat: 50.8503, Lon: 4.3517}, {Lat: 50.8510, Lon: 4.3530}}
	p := scan.Compile(scan.NewTargets(nil, track, 100))
	near, _ := scantest.Plant(scan.Int32E7LE, 50.8507, 4.3525, scan.LatLon) // about 40 m away
	hits := scanAll(p, near)
	if len(hits) != 1 || hits[0].Target != scan.TargetTrack {
		t.Fatalf("near: %+v", hits)
	}
	far, _ := scantest.Plant(scan.Int32E7LE, 50.8550, 4.3525, scan.LatLon) // about 450 m away
	if hits := scanAll(p, far); len(hits) != 0 {
		t.Fatalf("far: %+v", hits)
	}
}

// TestRandomGate: a weak-form pair inside a long stretch of random bytes is held back and
// counted; the same pair in a short payload, or in structured bytes, is reported.
func TestRandomGate(t *testing.T) {
	p := scan.Compile(demoTargets(t))
	r := rand.New(rand.NewPCG(5, 6))
	pair, _ := scantest.Plant(scan.Int32E7LE, kbLat, kbLon, scan.LatLon)
	b := append(append(randBytes(r, 2000), pair...), randBytes(r, 2000)...)
	s := scan.NewScanner(p)
	var hits []scan.Hit
	s.Scan(b, func(h scan.Hit) { hits = append(hits, h) })
	if find(hits, scan.Int32E7LE, 2000, scan.LatLon, scan.Plain) != nil || s.Stats.HeldRandom == 0 {
		t.Errorf("in random bytes: hits %+v, held %d", hits, s.Stats.HeldRandom)
	}
	// A short random payload (a small TLS record) is judged by its distinct byte values.
	short := append(append(randBytes(r, 100), pair...), randBytes(r, 100)...)
	s = scan.NewScanner(p)
	s.Scan(short, func(h scan.Hit) { t.Errorf("in 208 random bytes: %+v", h) })
	if s.Stats.HeldRandom == 0 {
		t.Error("in 208 random bytes: not held back")
	}
	structured := append(append(bytes.Repeat([]byte{0, 0, 1, 0}, 500), pair...), bytes.Repeat([]byte{0, 2, 0, 0}, 500)...)
	if find(scanAll(p, structured), scan.Int32E7LE, 2000, scan.LatLon, scan.Plain) == nil {
		t.Error("in structured bytes: not found")
	}
	// A float64 pair is never held back.
	pair, _ = scantest.Plant(scan.Float64RadLE, kbLat, kbLon, scan.LatLon)
	b = append(append(randBytes(r, 2000), pair...), randBytes(r, 2000)...)
	if find(scanAll(p, b), scan.Float64RadLE, 2000, scan.LatLon, scan.Plain) == nil {
		t.Error("float64 radians in random bytes: not found")
	}
}

// TestNoTargets: an empty target set finds nothing and costs nothing.
func TestNoTargets(t *testing.T) {
	p := scan.Compile(scan.NewTargets(nil, nil, 0))
	pair, _ := scantest.Plant(scan.Int32E7LE, kbLat, kbLon, scan.LatLon)
	if hits := scanAll(p, pair); len(hits) != 0 {
		t.Fatal(hits)
	}
}

// TestFalseHits streams random bytes and generated non-location traffic (16 MiB of each here;
// scripts/coordfp streams 1 GB) through the search with the demo zones: fewer than one false hit
// per 100 MB, that is none at this size.
func TestFalseHits(t *testing.T) {
	p := scan.Compile(demoTargets(t))
	const size = 16 << 20
	g := scantest.NewTraffic(1)
	for _, kind := range []string{"random", "traffic"} {
		s := scan.NewScanner(p)
		var hits []scan.Hit
		buf := make([]byte, 64<<10)
		for n := 0; n < size; {
			b := buf
			if kind == "random" {
				g.Random(b)
			} else {
				b = g.Next()
			}
			s.Scan(b, func(h scan.Hit) { hits = append(hits, h) })
			n += len(b)
		}
		if len(hits) > 0 {
			t.Errorf("%s: %d false hits in %d MiB: %+v", kind, len(hits), size>>20, hits)
		}
		if s.Stats.Pairs == 0 {
			t.Errorf("%s: no pair was even checked: the search did not run", kind)
		}
	}
}

// Integers printed as text count only as whole numbers: not inside a word, a hex string or the
// fraction of a decimal, and not with fewer than 6 digits.
func TestIntegerTextBounds(t *testing.T) {
	p := scan.Compile(demoTargets(t))
	for _, c := range []struct {
		in   string
		want bool
	}{
		{`lat=511693000&lon=54712000`, true},
		{`[5116930, 547120]`, true},
		{`{"lat":51169300,"lon":5471200}`, true},
		{`id=a511693000,b54712000`, false},  // inside words
		{`0.511693000,0.54712000`, false},   // fractions of decimals
		{`511693000.5,54712000.5`, false},   // decimals, not integers
		{`51169,5471`, false},               // too few digits
		{`511693000000,54712000000`, false}, // too many digits
	} {
		hits := scanAll(p, []byte(c.in))
		var got bool
		for _, h := range hits {
			if h.Encoding >= scan.TextE5 && h.Encoding <= scan.TextE7 {
				got = true
			}
		}
		if got != c.want {
			t.Errorf("%q: integer hit %v, want %v (%+v)", c.in, got, c.want, hits)
		}
	}
}
