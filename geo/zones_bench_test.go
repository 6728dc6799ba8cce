package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// benchRing writes the coordinates of a simple ring of n vertices: a wobbly star around
// Kleine-Brogel, about 40 km across, its radius a function of the angle so that it never
// crosses itself.
func benchRing(b []byte, n int, lon0, lat0, r float64) []byte {
	b = append(b, '[')
	for i := 0; i <= n; i++ {
		k := i % n
		t := 2 * math.Pi * float64(k) / float64(n)
		rr := r * (1 + 0.3*math.Sin(7*t) + 0.05*math.Sin(997*t))
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendFloat(b, lon0+rr*math.Cos(t)/math.Cos(lat0*math.Pi/180), 'f', 9, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, lat0+rr*math.Sin(t), 'f', 9, 64)
		b = append(b, ']')
	}
	return append(b, ']')
}

// benchZoneFile is a zone file of `zones` polygons of `vertices` vertices each, laid out on a grid.
func benchZoneFile(zones, vertices int) []byte {
	b := []byte(`{"type":"FeatureCollection","features":[`)
	side := int(math.Ceil(math.Sqrt(float64(zones))))
	r := 0.2 / float64(side)
	for z := 0; z < zones; z++ {
		if z > 0 {
			b = append(b, ',')
		}
		lon := 5.27 + 0.4*float64(z%side)/float64(side)
		lat := 50.96 + 0.4*float64(z/side)/float64(side)
		b = fmt.Appendf(b, `{"type":"Feature","properties":{"name":"zone %d","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":[`, z)
		b = benchRing(b, vertices, lon+r, lat+r, r*0.9)
		b = append(b, "]}}"...)
	}
	return append(b, "]}"...)
}

// benchFixes are n positions over the zones' area, a quarter of them printed with 3 decimals.
func benchFixes(n int) []Fix {
	rng := rand.New(rand.NewPCG(1, 2))
	fs := make([]Fix, n)
	for i := range fs {
		prec := PrecisionDegE7
		switch i % 4 {
		case 1:
			prec = PrecisionFromDecimals(3)
		case 2:
			prec = PrecisionFromDecimals(5)
		}
		fs[i] = Fix{Lat: 50.9 + 0.5*rng.Float64(), Lon: 5.2 + 0.6*rng.Float64(), PrecisionM: prec, Role: RoleAircraft}
	}
	return fs
}

var benchSink int

func benchZones(b *testing.B, zones, vertices, fixes int) {
	doc := benchZoneFile(zones, vertices)
	fs := benchFixes(fixes)
	b.SetBytes(int64(len(doc)))
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		zs, err := ParseZones("bench.geojson", doc)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range fs {
			benchSink += len(zs.Match(f))
		}
	}
	if cpu > 0 {
		b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkZones1M is the hostile-input issue's case: one zone of 1,000,000 vertices (a 30 MB
// file) and 20,000 positions, prepare and match in one op. BENCH_FIXES shortens it to run the
// old linear matcher.
func BenchmarkZones1M(b *testing.B) { benchZones(b, 1, 1_000_000, benchFixCount(20_000)) }

// BenchmarkZones10kx100 is the same number of vertices spread over 10,000 zones.
func BenchmarkZones10kx100(b *testing.B) { benchZones(b, 10_000, 100, benchFixCount(20_000)) }

// BenchmarkZonesParse1M is the load alone.
func BenchmarkZonesParse1M(b *testing.B) { benchZones(b, 1, 1_000_000, 0) }

// BenchmarkZonesMatchDemo is one fix against a handful of small zones: the audit's hot path.
func BenchmarkZonesMatchDemo(b *testing.B) {
	zs, err := ParseZones("z", []byte(validZones))
	if err != nil {
		b.Fatal(err)
	}
	fs := benchFixes(1024)
	for i := range fs {
		fs[i].Lat, fs[i].Lon = 50+fs[i].Lat-50.9, 3+fs[i].Lon-5.2
	}
	i := 0
	for b.Loop() {
		benchSink += len(zs.Match(fs[i&1023]))
		i++
	}
}

func benchFixCount(def int) int {
	if s := os.Getenv("BENCH_FIXES"); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil {
			return n
		}
	}
	return def
}
