package geo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// Hit is a fix that falls in a zone, exactly or within the precision of its encoding.
type Hit struct {
	Zone *Zone
	// DistanceM is 0 when the point is inside; otherwise its distance in metres to the zone's
	// edge, which is at most the fix's precision.
	DistanceM float64
	Inside    bool
}

// Match returns the zones a fix falls in. A fix outside a zone still matches when it lies
// within its own precision of the zone: a coordinate printed with 3 decimals could be anywhere in
// a cell of ±55 m, and the true position may be inside.
func (zs *Zones) Match(f Fix) []Hit {
	if zs == nil || !f.Valid() {
		return nil
	}
	var hits []Hit
	pt := orb.Point{f.Lon, f.Lat}
	tol := math.Max(f.PrecisionM, 0)
	dLat := tol / metresPerDegree
	dLon := dLat / math.Max(math.Cos(f.Lat*math.Pi/180), 1e-6)
	for i := range zs.Zones {
		z := &zs.Zones[i]
		b := z.bound
		if f.Lon < b.Min[0]-dLon || f.Lon > b.Max[0]+dLon || f.Lat < b.Min[1]-dLat || f.Lat > b.Max[1]+dLat {
			continue
		}
		if h, ok := z.hit(pt, tol); ok {
			hits = append(hits, h)
		}
	}
	return hits
}

func (z *Zone) hit(pt orb.Point, tol float64) (Hit, bool) {
	switch g := z.Geometry.(type) {
	case orb.Point:
		d := geo.Distance(pt, g) - z.RadiusM
		if d <= 0 {
			return Hit{Zone: z, Inside: true}, true
		}
		return Hit{Zone: z, DistanceM: d}, d <= tol
	case orb.Polygon:
		return polygonsHit(z, []orb.Polygon{g}, pt, tol)
	case orb.MultiPolygon:
		return polygonsHit(z, g, pt, tol)
	}
	return Hit{}, false
}

func polygonsHit(z *Zone, ps []orb.Polygon, pt orb.Point, tol float64) (Hit, bool) {
	best := math.Inf(1)
	for _, p := range ps {
		if planar.PolygonContains(p, pt) {
			return Hit{Zone: z, Inside: true}, true
		}
		if tol > 0 {
			for _, r := range p {
				best = math.Min(best, ringDistanceM(r, pt))
			}
		}
	}
	return Hit{Zone: z, DistanceM: best}, best <= tol
}

// ringDistanceM is the distance in metres from pt to the nearest edge of r, computed in a local
// equirectangular projection around pt: exact enough at the metre scale of precision widening.
func ringDistanceM(r orb.Ring, pt orb.Point) float64 {
	kx := metresPerDegree * math.Cos(pt[1]*math.Pi/180)
	ky := metresPerDegree
	best := math.Inf(1)
	for i := 0; i+1 < len(r); i++ {
		ax, ay := (r[i][0]-pt[0])*kx, (r[i][1]-pt[1])*ky
		bx, by := (r[i+1][0]-pt[0])*kx, (r[i+1][1]-pt[1])*ky
		best = math.Min(best, segmentOriginDistance(ax, ay, bx, by))
	}
	return best
}

// segmentOriginDistance is the distance from the origin to the segment a–b.
func segmentOriginDistance(ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Hypot(x, y)
}

// DistanceM is the great-circle distance in metres between two fixes.
func DistanceM(a, b Fix) float64 {
	return geo.Distance(orb.Point{a.Lon, a.Lat}, orb.Point{b.Lon, b.Lat})
}
