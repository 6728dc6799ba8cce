package geo

import (
	"fmt"
	"math"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// zring is a ring prepared for matching: consecutive repeated positions dropped, longitudes made
// continuous across the antimeridian, and for a large ring an index of its edges.
type zring struct {
	pts   orb.Ring
	orig  []int32 // index in the file's ring of each vertex of pts; nil when they are the same
	bound orb.Bound
	slabs *slabIndex // containment; nil for a small ring
	edges *bvh       // edges near a point; nil for a small ring
	order []int32    // vertices west to east, while the ring is prepared
}

// zpoly is a prepared polygon: its exterior ring, then its holes.
type zpoly struct{ rings []zring }

// indexedRing is the number of edges from which a ring gets an index: below it a linear scan is
// as fast and needs no memory.
const indexedRing = 64

// ringErr says what is wrong with a ring; vertex is the position in the file's ring it is about,
// or -1.
type ringErr struct {
	vertex int
	msg    string
}

// prepRing checks a ring read from the file and prepares it, all but its index and the check
// that it does not cross itself.
func prepRing(raw orb.Ring) (zring, *ringErr) {
	var zr zring
	// Drop repeated consecutive positions: they make zero-length edges that match nothing.
	pts := raw
	for i := 1; i < len(raw); i++ {
		if raw[i] == raw[i-1] {
			pts = make(orb.Ring, 0, len(raw))
			zr.orig = make([]int32, 0, len(raw))
			for j, p := range raw {
				if j == 0 || p != raw[j-1] {
					pts = append(pts, p)
					zr.orig = append(zr.orig, int32(j))
				}
			}
			break
		}
	}
	if len(pts) < 4 {
		return zr, &ringErr{-1, fmt.Sprintf("has only %d distinct positions, a ring needs at least 3", len(pts)-1)}
	}
	pts, err := unwrapRing(pts)
	if err != nil {
		return zr, err
	}
	zr.pts = pts
	zr.bound = pts.Bound()
	if len(pts)-1 > 32 {
		zr.order = sortVertices(pts)
	}
	return zr, nil
}

// crossing checks that the ring does not cross, touch or overlap itself.
func (zr *zring) crossing(raw orb.Ring) *ringErr {
	i, j, kind := ringCrossing(zr.pts, zr.order)
	if kind == "" {
		return nil
	}
	a, b := zr.origIndex(i), zr.origIndex(j)
	return &ringErr{a, fmt.Sprintf("crosses itself: edge %d %s–%s %s edge %d %s–%s",
		a, fmtPoint(raw[a]), fmtPoint(raw[zr.origIndex(i+1)]), kind, b, fmtPoint(raw[b]), fmtPoint(raw[zr.origIndex(j+1)]))}
}

func (zr *zring) origIndex(i int) int {
	if zr.orig == nil {
		return i
	}
	return int(zr.orig[i])
}

func fmtPoint(p orb.Point) string { return fmtPosition(p[0], p[1]) }

// unwrapRing makes a ring's longitudes continuous. An edge whose longitudes differ by more than
// 180° is taken to cross the antimeridian the short way (RFC 7946 §3.1.9 asks writers to split
// such rings; a hand-made box from 179° to -179° means the 2° across the date line, not the
// 358° round the other side). The result's westernmost longitude is in [-180, 180); its
// easternmost may pass 180. A ring that goes round a pole is refused: it has no inside on a
// plane.
func unwrapRing(pts orb.Ring) (orb.Ring, *ringErr) {
	shift := 0.0
	var out orb.Ring
	for i := 1; i < len(pts); i++ {
		d := pts[i][0] - pts[i-1][0] // of the file's longitudes
		switch {
		case d > 180:
			shift -= 360
		case d < -180:
			shift += 360
		}
		if shift != 0 && out == nil {
			out = make(orb.Ring, len(pts))
			copy(out, pts)
		}
		if out != nil {
			out[i][0] = pts[i][0] + shift
		}
	}
	if out == nil {
		return pts, nil
	}
	if shift != 0 {
		return nil, &ringErr{-1, "goes round a pole (its edges cross the antimeridian more often eastwards than westwards): split it into parts that do not contain a pole"}
	}
	b := out.Bound()
	if b.Max[0]-b.Min[0] >= 360 {
		return nil, &ringErr{-1, "spans 360° of longitude or more after crossing the antimeridian: split it"}
	}
	if b.Min[0] < -180 {
		for i := range out {
			out[i][0] += 360
		}
	}
	return out, nil
}

// prepPolygon prepares a polygon's rings. A hole is moved by 360° when that puts it beside its
// exterior ring across the antimeridian, and it must lie inside that ring: a hole outside it is
// usually two rings given in the wrong order, which would leave a zone that matches nothing.
func prepPolygon(raw []orb.Ring) (zpoly, int, *ringErr) {
	p := zpoly{rings: make([]zring, len(raw))}
	for k, r := range raw {
		zr, err := prepRing(r)
		if err != nil {
			return p, k, err
		}
		if k > 0 {
			if s := alignShift(zr.bound, p.rings[0].bound); s != 0 {
				zr.pts = shiftRing(zr.pts, s)
				zr.bound = zr.pts.Bound()
				if zr.order != nil {
					zr.order = sortVertices(zr.pts) // rounding may have made longitudes equal
				}
			}
		}
		// A large ring's index is built on another core while the ring is checked.
		var wg sync.WaitGroup
		index := func() {
			zr.slabs = newSlabIndex(zr.pts, zr.order)
			zr.edges = newEdgeBVH(zr.pts)
		}
		switch {
		case len(zr.pts) > 1<<14:
			wg.Go(index)
		case len(zr.pts)-1 >= indexedRing:
			index()
		}
		err = zr.crossing(r)
		wg.Wait()
		if err != nil {
			return p, k, err
		}
		zr.order = nil
		p.rings[k] = zr
	}
	shell := &p.rings[0]
	for k := 1; k < len(p.rings); k++ {
		h := &p.rings[k]
		for i, v := range h.pts[:len(h.pts)-1] {
			if shell.onBoundary(v) {
				continue
			}
			if !shell.contains(v) {
				j := h.origIndex(i)
				return p, k, &ringErr{j, fmt.Sprintf("is a hole but its position %d %s lies outside ring 0, the exterior ring: are the rings in the wrong order?", j, fmtPoint(raw[k][j]))}
			}
			break
		}
	}
	return p, 0, nil
}

// alignShift is the multiple of 360° to add to the longitudes of r to bring it nearest to b.
func alignShift(r, b orb.Bound) float64 {
	d := (r.Min[0]+r.Max[0])/2 - (b.Min[0]+b.Max[0])/2
	switch {
	case d > 180:
		return -360
	case d < -180:
		return 360
	}
	return 0
}

func shiftRing(r orb.Ring, s float64) orb.Ring {
	out := make(orb.Ring, len(r))
	for i, p := range r {
		out[i] = orb.Point{p[0] + s, p[1]}
	}
	return out
}

// contains reports whether pt is inside the ring or on its edge, as planar.RingContains does.
func (r *zring) contains(pt orb.Point) bool {
	if !r.bound.Contains(pt) {
		return false
	}
	if r.slabs == nil {
		return planar.RingContains(r.pts, pt)
	}
	return r.onBoundary(pt) || r.slabs.parity(r.pts, pt)
}

// onBoundary reports whether pt lies on an edge of the ring.
func (r *zring) onBoundary(pt orb.Point) bool {
	if !r.bound.Contains(pt) {
		return false
	}
	q := orb.Bound{Min: pt, Max: pt}
	if r.edges == nil {
		for i := 0; i+1 < len(r.pts); i++ {
			if _, on := crossUp(pt, r.pts[i], r.pts[i+1]); on {
				return true
			}
		}
		return false
	}
	on := false
	r.edges.search(q, func(leaf int) bool {
		for i := leaf * bvhFanout; i < min(leaf*bvhFanout+bvhFanout, len(r.pts)-1); i++ {
			if _, on = crossUp(pt, r.pts[i], r.pts[i+1]); on {
				return false
			}
		}
		return true
	})
	return on
}

// distanceM is the distance in metres from pt to the ring's nearest edge, looking only at edges
// within box q; +Inf when there is none.
func (r *zring) distanceM(pt orb.Point, q orb.Bound) float64 {
	if r.edges == nil {
		return ringDistanceM(r.pts, pt)
	}
	kx := metresPerDegree * math.Cos(pt[1]*math.Pi/180)
	ky := metresPerDegree
	best := math.Inf(1)
	r.edges.search(q, func(leaf int) bool {
		for i := leaf * bvhFanout; i < min(leaf*bvhFanout+bvhFanout, len(r.pts)-1); i++ {
			a, b := r.pts[i], r.pts[i+1]
			if max(a[0], b[0]) < q.Min[0] || min(a[0], b[0]) > q.Max[0] || max(a[1], b[1]) < q.Min[1] || min(a[1], b[1]) > q.Max[1] {
				continue
			}
			best = math.Min(best, segmentOriginDistance((a[0]-pt[0])*kx, (a[1]-pt[1])*ky, (b[0]-pt[0])*kx, (b[1]-pt[1])*ky))
		}
		return best > 0
	})
	return best
}

// crossUp is planar.RingContains's test of one edge: whether the edge s–e lies above pt (a ray
// from pt upwards crosses it; the edge's longitudes count half-open, [west, east)), and whether
// pt is on it. Both containment paths use it, so that an indexed ring answers as a small one.
func crossUp(p, s, e orb.Point) (intersects, on bool) {
	if s[0] > e[0] {
		s, e = e, s
	}
	switch p[0] {
	case s[0]:
		if p[1] == s[1] {
			return false, true
		} else if s[0] == e[0] {
			if s[1] > e[1] && s[1] >= p[1] && p[1] >= e[1] {
				return false, true
			}
			if e[1] > s[1] && e[1] >= p[1] && p[1] >= s[1] {
				return false, true
			}
		}
		p[0] = math.Nextafter(p[0], math.Inf(1))
	case e[0]:
		if p[1] == e[1] {
			return false, true
		}
		p[0] = math.Nextafter(p[0], math.Inf(1))
	}
	if p[0] < s[0] || p[0] > e[0] {
		return false, false
	}
	if s[1] > e[1] {
		if p[1] > s[1] {
			return false, false
		} else if p[1] < e[1] {
			return true, false
		}
	} else {
		if p[1] > e[1] {
			return false, false
		} else if p[1] < s[1] {
			return true, false
		}
	}
	rs := (p[1] - s[1]) / (p[0] - s[0])
	ds := (e[1] - s[1]) / (e[0] - s[0])
	if rs == ds {
		return false, true
	}
	return rs <= ds, false
}

// polysBound is the bound of the exterior rings, the parts brought beside the first across the
// antimeridian; its west edge is in [-180, 180).
func polysBound(ps []zpoly) orb.Bound {
	b := ps[0].rings[0].bound
	for _, p := range ps[1:] {
		r := p.rings[0].bound
		s := alignShift(r, b)
		b = b.Union(orb.Bound{Min: orb.Point{r.Min[0] + s, r.Min[1]}, Max: orb.Point{r.Max[0] + s, r.Max[1]}})
	}
	return wrapBound(b)
}

// polysCentreArea is the centroid and the area in square metres of prepared polygons: the area
// on the sphere, the centroid in degrees (close enough at the size of a site).
func polysCentreArea(ps []zpoly) (orb.Point, float64) {
	mp := make(orb.MultiPolygon, len(ps))
	b := ps[0].rings[0].bound
	for i, p := range ps {
		s := alignShift(p.rings[0].bound, b)
		poly := make(orb.Polygon, len(p.rings))
		for k, r := range p.rings {
			poly[k] = r.pts
			if s != 0 {
				poly[k] = shiftRing(r.pts, s)
			}
		}
		mp[i] = poly
	}
	c, _ := planar.CentroidArea(mp)
	for c[0] > 180 {
		c[0] -= 360
	}
	for c[0] < -180 {
		c[0] += 360
	}
	return c, geo.Area(mp)
}

// planarCentroid is the centroid and the area in square metres of a geometry given by hand.
func planarCentroid(g orb.Geometry) (orb.Point, float64) {
	c, _ := planar.CentroidArea(g)
	return c, geo.Area(g)
}
