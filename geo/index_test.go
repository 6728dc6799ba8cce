package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// randomRing is a closed ring of n vertices, no two consecutive ones equal. A star-shaped ring
// (vertices by angle round a centre) is simple before rounding; snapped to a coarse grid it
// often touches or folds on itself, which is what the sweep must get right.
func randomRing(rng *rand.Rand, n int, star bool, grid float64) orb.Ring {
	var r orb.Ring
	if star {
		angles := make([]float64, n)
		for i := range angles {
			angles[i] = rng.Float64() * 2 * math.Pi
		}
		slices.Sort(angles)
		for _, a := range angles {
			rad := 2 + 8*rng.Float64()
			r = append(r, orb.Point{math.Round(rad*math.Cos(a)*grid) / grid, math.Round(rad*math.Sin(a)*grid) / grid})
		}
	} else {
		for range n {
			r = append(r, orb.Point{math.Round(rng.Float64()*6*grid) / grid, math.Round(rng.Float64()*6*grid) / grid})
		}
	}
	r = append(r, r[0])
	out := orb.Ring{r[0]}
	for _, p := range r[1:] {
		if p != out[len(out)-1] {
			out = append(out, p)
		}
	}
	return out
}

// staircase is a simple ring on a half-degree grid: a flat south side and a north side of steps,
// with many vertical edges, many vertices on one meridian and collinear edges in a row.
func staircase(rng *rand.Rand, n int) orb.Ring {
	r := orb.Ring{{0, 0}, {float64(n) / 2, 0}}
	for i := n - 1; i >= 0; i-- {
		h := float64(1+rng.IntN(5)) / 2
		r = append(r, orb.Point{float64(i+1) / 2, h}, orb.Point{float64(i) / 2, h})
	}
	r = append(r, r[0])
	out := orb.Ring{r[0]}
	for _, p := range r[1:] {
		if p != out[len(out)-1] {
			out = append(out, p)
		}
	}
	return out
}

func bruteCrossing(p orb.Ring) bool {
	n := len(p) - 1
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if badPair(p, i, j) != "" {
				return true
			}
		}
	}
	return false
}

// TestSweepMatchesBruteForce compares the Shamos–Hoey sweep with the test of every pair of edges
// on rings built to be nearly simple, snapped to grids coarse enough to make them touch.
func TestSweepMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	simple, bad := 0, 0
	for iter := range 20000 {
		n := 3 + rng.IntN(60)
		grid := []float64{1, 2, 10, 1e6}[iter%4]
		r := randomRing(rng, n, iter%5 != 0, grid)
		if len(r) < 4 {
			continue
		}
		want := bruteCrossing(r)
		i, j, kind := newSweep(r).run(sortVertices(r))
		if got := kind != ""; got != want {
			t.Fatalf("ring %v: sweep found %v (%d %d %s), brute force %v", r, got, i, j, kind, want)
		}
		if want {
			bad++
		} else {
			simple++
		}
	}
	if simple < 2000 || bad < 2000 {
		t.Fatalf("unbalanced sample: %d simple, %d not", simple, bad)
	}
}

// TestIndexedRingMatchesLinear checks the slab index and the edge hierarchy against
// planar.RingContains and the linear distance, on simple rings and on points chosen to be
// awkward: vertices, points on edges, points on the meridians of vertices.
func TestIndexedRingMatchesLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	tested := map[float64]int{}
	for iter := range 300 {
		n := indexedRing + rng.IntN(300)
		grid := []float64{2, 10, 1e6}[iter%3]
		raw := randomRing(rng, n, true, grid)
		if grid == 2 {
			raw = staircase(rng, n/2)
		}
		if len(raw) < 4 || bruteCrossing(raw) || len(raw)-1 < indexedRing {
			continue
		}
		zr, err := prepRing(raw)
		if err != nil {
			t.Fatal(err.msg)
		}
		zr.slabs = newSlabIndex(zr.pts, zr.order)
		zr.edges = newEdgeBVH(zr.pts)
		tested[grid]++
		var pts []orb.Point
		for range 200 {
			pts = append(pts, orb.Point{-11 + 22*rng.Float64(), -11 + 22*rng.Float64()})
		}
		for k := range 100 {
			a, b := raw[k%(len(raw)-1)], raw[k%(len(raw)-1)+1]
			f := rng.Float64()
			pts = append(pts, a, orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])},
				orb.Point{a[0], a[1] + rng.Float64() - 0.5}, orb.Point{math.Round(a[0]*grid) / grid, math.Round(b[1]*grid) / grid})
		}
		for _, pt := range pts {
			if got, want := zr.contains(pt), planar.RingContains(raw, pt); got != want {
				t.Fatalf("ring %d (%d vertices) point %v: indexed %v, linear %v", iter, n, pt, got, want)
			}
			q := orb.Bound{Min: orb.Point{pt[0] - 0.3, pt[1] - 0.3}, Max: orb.Point{pt[0] + 0.3, pt[1] + 0.3}}
			want := ringDistanceM(raw, pt)
			if want > 0.3*metresPerDegree*math.Cos(pt[1]*math.Pi/180) {
				continue // beyond the box: the index need not find it
			}
			if got := zr.distanceM(pt, q); got != want {
				t.Fatalf("ring %d point %v: indexed distance %v, linear %v", iter, pt, got, want)
			}
		}
	}
	if tested[2] < 80 || tested[10] < 5 || tested[1e6] < 80 {
		t.Fatalf("too few simple rings tested, by grid: %v", tested)
	}
}

// TestMatchIndexedMatchesLinear matches random fixes against a file of many random zones with the
// index and with the linear scan of every zone that hand-built Zones use.
func TestMatchIndexedMatchesLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	doc := []byte(`{"type":"FeatureCollection","features":[`)
	for z := range 300 {
		if z > 0 {
			doc = append(doc, ',')
		}
		lon, lat := 3+3*rng.Float64(), 50+1.5*rng.Float64()
		if z%3 == 0 {
			doc = fmt.Appendf(doc, `{"type":"Feature","properties":{"name":"p%d","sensitivity":"secret","radius_m":%g},"geometry":{"type":"Point","coordinates":[%g,%g]}}`, z, 100+3000*rng.Float64(), lon, lat)
			continue
		}
		n := 5 + rng.IntN(200)
		doc = fmt.Appendf(doc, `{"type":"Feature","properties":{"name":"z%d","sensitivity":"public"},"geometry":{"type":"Polygon","coordinates":[`, z)
		doc = benchRing(doc, n, lon, lat, 0.01+0.1*rng.Float64())
		doc = append(doc, "]}}"...)
	}
	doc = append(doc, "]}"...)
	zs, err := ParseZones("many.geojson", doc)
	if err != nil {
		t.Fatal(err)
	}
	linear := &Zones{Zones: zs.Zones}
	matched := 0
	for i := range 20000 {
		f := Fix{Lat: 49.8 + 2*rng.Float64(), Lon: 2.8 + 3.4*rng.Float64(), PrecisionM: []float64{0, 0.01, 55.6, 1000}[i%4]}
		got, want := zs.Match(f), linear.Match(f)
		if len(got) != len(want) {
			t.Fatalf("fix %v: indexed %d hits, linear %d", f, len(got), len(want))
		}
		for k := range got {
			if got[k].Zone != want[k].Zone || got[k].Inside != want[k].Inside || math.Abs(got[k].DistanceM-want[k].DistanceM) > 1e-9 {
				t.Fatalf("fix %v: indexed %+v, linear %+v", f, got[k], want[k])
			}
		}
		matched += len(got)
	}
	if matched < 1000 {
		t.Fatalf("only %d hits: the test does not test much", matched)
	}
}
