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

// zoneIndex finds the zones near a point: one entry per ring of every polygon and one per
// point zone, in a bounding-box hierarchy.
type zoneIndex struct {
	entries []entry     // in the hierarchy's order
	bounds  []orb.Bound // of each entry; a point zone's is its circle's box
	tree    *bvh
	all     orb.Bound
}

type entry struct {
	zone, poly, ring int32 // ring -1: a point zone
	shift            float64
}

func newZoneIndex(zs []Zone) *zoneIndex {
	var es []entry
	var bs []orb.Bound
	for zi := range zs {
		z := &zs[zi]
		if z.Kind == "Point" {
			es = append(es, entry{zone: int32(zi), ring: -1})
			bs = append(bs, wrapBound(z.bound))
			continue
		}
		for pi, p := range z.polys {
			for ri, r := range p.rings {
				es = append(es, entry{zone: int32(zi), poly: int32(pi), ring: int32(ri)})
				bs = append(bs, r.bound)
			}
		}
	}
	order := sortTiles(bs)
	ix := &zoneIndex{entries: make([]entry, len(es)), bounds: make([]orb.Bound, len(es))}
	for i, o := range order {
		ix.entries[i], ix.bounds[i] = es[o], bs[o]
	}
	ix.tree = newBVH(len(es), func(j int) orb.Bound {
		b := ix.bounds[j*bvhFanout]
		for _, c := range ix.bounds[j*bvhFanout+1 : min(len(es), j*bvhFanout+bvhFanout)] {
			b = b.Union(c)
		}
		return b
	})
	ix.all = ix.tree.levels[len(ix.tree.levels)-1][0]
	return ix
}

// wrapBound puts a box's west edge in [-180, 180), and makes a box wider than the earth the
// whole band of its latitudes.
func wrapBound(b orb.Bound) orb.Bound {
	if b.Max[0]-b.Min[0] >= 360 {
		return orb.Bound{Min: orb.Point{-180, b.Min[1]}, Max: orb.Point{180, b.Max[1]}}
	}
	for b.Min[0] < -180 {
		b.Min[0] += 360
		b.Max[0] += 360
	}
	for b.Min[0] >= 180 {
		b.Min[0] -= 360
		b.Max[0] -= 360
	}
	return b
}

// Match returns the zones a fix falls in, in the order of the file. A fix outside a zone still
// matches when it lies within its own precision of the zone: a coordinate printed with 3
// decimals could be anywhere in a cell of ±55 m, and the true position may be inside.
//
// Zones from ParseZones are matched through their index: the cost grows with the logarithm of
// the number of vertices, not with it.
func (zs *Zones) Match(f Fix) []Hit {
	if zs == nil || !f.Valid() {
		return nil
	}
	if zs.ix == nil {
		return zs.matchLinear(f)
	}
	tol := f.PrecisionM
	if !(tol > 0) {
		tol = 0
	}
	dLat, dLon := 0.0, 0.0
	if tol > 0 {
		dLat = tol / metresPerDegree
		dLon = min(dLat/max(math.Cos(f.Lat*math.Pi/180), 1e-6), 360)
	}
	var buf [32]entry
	cands := buf[:0]
	// Zones across the antimeridian reach past 180°: look there too, and for a fix near 180°
	// east, at zones just past -180°.
	for _, shift := range [3]float64{0, 360, -360} {
		q := orb.Bound{Min: orb.Point{f.Lon + shift - dLon, f.Lat - dLat}, Max: orb.Point{f.Lon + shift + dLon, f.Lat + dLat}}
		if meets(q, zs.ix.all) {
			cands = zs.ix.query(q, shift, cands)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	// Group by zone, then by shift and polygon, exterior ring first, as the file orders them.
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && entryLess(cands[j], cands[j-1]); j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	var hits []Hit
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && cands[j].zone == cands[i].zone {
			j++
		}
		z := &zs.Zones[cands[i].zone]
		if h, ok := z.hitIndexed(cands[i:j], f, tol, dLon, dLat); ok {
			hits = append(hits, h)
		}
		i = j
	}
	return hits
}

func entryLess(a, b entry) bool {
	if a.zone != b.zone {
		return a.zone < b.zone
	}
	if a.shift != b.shift {
		return a.shift < b.shift
	}
	if a.poly != b.poly {
		return a.poly < b.poly
	}
	return a.ring < b.ring
}

// query appends to dst the entries whose box meets q, marked with the longitude shift of q.
func (ix *zoneIndex) query(q orb.Bound, shift float64, dst []entry) []entry {
	if len(ix.entries) <= bvhFanout {
		for k := range ix.entries {
			if meets(ix.bounds[k], q) {
				e := ix.entries[k]
				e.shift = shift
				dst = append(dst, e)
			}
		}
		return dst
	}
	ix.tree.search(q, func(leaf int) bool {
		for k := leaf * bvhFanout; k < min(len(ix.entries), leaf*bvhFanout+bvhFanout); k++ {
			if meets(ix.bounds[k], q) {
				e := ix.entries[k]
				e.shift = shift
				dst = append(dst, e)
			}
		}
		return true
	})
	return dst
}

// hitIndexed decides a zone from the entries of its rings that lie near the fix. A ring whose box
// does not meet the fix's box can neither contain the fix nor be within its precision.
func (z *Zone) hitIndexed(cands []entry, f Fix, tol, dLon, dLat float64) (Hit, bool) {
	if z.Kind == "Point" {
		return z.hit(orb.Point{f.Lon, f.Lat}, tol)
	}
	best := math.Inf(1)
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && cands[j].shift == cands[i].shift && cands[j].poly == cands[i].poly {
			j++
		}
		pt := orb.Point{f.Lon + cands[i].shift, f.Lat}
		rings := z.polys[cands[i].poly].rings
		inside := cands[i].ring == 0 && rings[0].contains(pt)
		for _, c := range cands[i+1 : j] {
			if !inside {
				break
			}
			inside = !rings[c.ring].contains(pt)
		}
		if inside {
			return Hit{Zone: z, Inside: true}, true
		}
		if tol > 0 {
			q := orb.Bound{Min: orb.Point{pt[0] - dLon, pt[1] - dLat}, Max: orb.Point{pt[0] + dLon, pt[1] + dLat}}
			for _, c := range cands[i:j] {
				best = math.Min(best, rings[c.ring].distanceM(pt, q))
			}
		}
		i = j
	}
	return Hit{Zone: z, DistanceM: best}, best <= tol
}

// matchLinear matches a fix against every zone in turn: for a Zones built by hand rather than by
// ParseZones.
func (zs *Zones) matchLinear(f Fix) []Hit {
	var hits []Hit
	pt := orb.Point{f.Lon, f.Lat}
	tol := math.Max(f.PrecisionM, 0)
	dLat := tol / metresPerDegree
	dLon := dLat / math.Max(math.Cos(f.Lat*math.Pi/180), 1e-6)
	for i := range zs.Zones {
		z := &zs.Zones[i]
		b := z.bound
		if b == (orb.Bound{}) {
			b = zoneBound(*z)
		}
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
