package geo

import (
	"slices"
	"sort"

	"github.com/paulmach/orb"
)

// slabIndex answers point-in-ring for a large simple ring in O(log n). The ring's longitudes are
// cut into slabs at vertex longitudes, each slab holding few vertices strictly inside it. In a
// slab, an edge either crosses it from side to side or ends inside it. The crossing edges of a
// simple ring never meet inside the slab, so they keep one south-to-north order across it and a
// binary search counts those above a point; the few edges ending inside are tested one by one.
// Together that is the number of edges above the point, whose parity is containment: the same
// count as planar.RingContains's, which tests every edge.
//
// An edge that crosses many slabs is stored in each, so slabs are widened (more vertices in
// each) until the index holds at most a few entries per edge: memory stays O(n) even for a star
// of long spokes, at the price of longer scans in such pathological rings.
type slabIndex struct {
	xs     []float64 // slab k is [xs[k], xs[k+1])
	span   []int32   // edges crossing slab k, south to north: span[spanAt[k]:spanAt[k+1]]
	spanAt []int32
	part   []int32 // edges ending inside slab k: part[partAt[k]:partAt[k+1]]
	partAt []int32
}

// slabBudget bounds the entries of a slab index: per edge, plus a constant.
const slabBudget = 6

// newSlabIndex builds the index of ring p; order is its vertices sorted west to east
// (sortVertices).
func newSlabIndex(p orb.Ring, order []int32) *slabIndex {
	n := len(p) - 1
	sorted := make([]float64, n)
	for i, v := range order {
		sorted[i] = p[v][0]
	}
	vslab := make([]int32, n+1)
	for inside := 8; ; inside *= 2 {
		xs := slabBounds(sorted, inside)
		k := 0
		for i, v := range order {
			for k+1 < len(xs) && xs[k+1] <= sorted[i] {
				k++
			}
			vslab[v] = int32(k)
		}
		vslab[n] = vslab[0]
		total := 0
		for e := range n {
			if k0, k1, ok := edgeSlabs(p, xs, vslab, e); ok {
				total += k1 - k0 + 1
			}
		}
		if total <= slabBudget*n+1024 || len(xs) <= 2 {
			return buildSlabs(p, xs, vslab)
		}
	}
}

// slabBounds picks slab edges among the sorted vertex longitudes so that at most `inside`
// vertices lie strictly inside a slab. A longitude shared by many vertices becomes an edge.
func slabBounds(sorted []float64, inside int) []float64 {
	xs := []float64{sorted[0]}
	acc := 0
	for i := 0; i < len(sorted); {
		v := sorted[i]
		j := i
		for j < len(sorted) && sorted[j] == v {
			j++
		}
		if v != xs[len(xs)-1] {
			if acc+j-i > inside {
				xs = append(xs, v)
				acc = 0
			} else {
				acc += j - i
			}
		}
		i = j
	}
	if last := sorted[len(sorted)-1]; xs[len(xs)-1] != last {
		xs = append(xs, last)
	}
	if len(xs) == 1 {
		xs = append(xs, xs[0]) // every vertex on one meridian: no edge but vertical ones
	}
	return xs
}

// edgeSlabs is the range of slabs edge e has a part of; false for a vertical edge, which never
// counts (planar.RingContains takes longitudes half-open).
func edgeSlabs(p orb.Ring, xs []float64, vslab []int32, e int) (int, int, bool) {
	a, b := e, e+1
	if p[a][0] == p[b][0] {
		return 0, 0, false
	}
	if p[a][0] > p[b][0] {
		a, b = b, a
	}
	k0 := int(vslab[a])
	k1 := int(vslab[b])
	if xs[k1] == p[b][0] {
		k1-- // ends on a slab edge: the slab east of it is not touched
	}
	return k0, k1, true
}

func buildSlabs(p orb.Ring, xs []float64, vslab []int32) *slabIndex {
	n := len(p) - 1
	s := &slabIndex{xs: xs, spanAt: make([]int32, len(xs)), partAt: make([]int32, len(xs))}
	spans := func(e, k int) bool {
		w, east := min(p[e][0], p[e+1][0]), max(p[e][0], p[e+1][0])
		return w <= xs[k] && east >= xs[k+1]
	}
	// Count, then place: one array each for crossing and ending edges, slab by slab.
	for e := range n {
		k0, k1, ok := edgeSlabs(p, xs, vslab, e)
		for k := k0; ok && k <= k1; k++ {
			if spans(e, k) {
				s.spanAt[k+1]++
			} else {
				s.partAt[k+1]++
			}
		}
	}
	for k := 1; k < len(xs); k++ {
		s.spanAt[k] += s.spanAt[k-1]
		s.partAt[k] += s.partAt[k-1]
	}
	s.span = make([]int32, s.spanAt[len(xs)-1])
	s.part = make([]int32, s.partAt[len(xs)-1])
	fillSpan := slices.Clone(s.spanAt)
	fillPart := slices.Clone(s.partAt)
	for e := range n {
		k0, k1, ok := edgeSlabs(p, xs, vslab, e)
		for k := k0; ok && k <= k1; k++ {
			if spans(e, k) {
				s.span[fillSpan[k]] = int32(e)
				fillSpan[k]++
			} else {
				s.part[fillPart[k]] = int32(e)
				fillPart[k]++
			}
		}
	}
	// Sort each slab's crossing edges by their latitude at its middle. Crossing edges of a
	// simple ring do not meet inside the slab, so that is their order all across it.
	var buf []keyed
	for k := 0; k+1 < len(xs); k++ {
		xm := (xs[k] + xs[k+1]) / 2
		es := s.span[s.spanAt[k]:s.spanAt[k+1]]
		buf = buf[:0]
		for _, e := range es {
			buf = append(buf, keyed{latAt(p[e], p[e+1], xm), e})
		}
		slices.SortFunc(buf, func(a, b keyed) int {
			switch {
			case a.k < b.k:
				return -1
			case a.k > b.k:
				return 1
			}
			return int(a.e - b.e)
		})
		for i, b := range buf {
			es[i] = b.e
		}
	}
	return s
}

// latAt is the latitude of the non-vertical edge a–b at longitude x.
func latAt(a, b orb.Point, x float64) float64 {
	return a[1] + (x-a[0])*(b[1]-a[1])/(b[0]-a[0])
}

// parity reports whether an odd number of the ring's edges lie above pt (by crossUp's test).
func (s *slabIndex) parity(p orb.Ring, pt orb.Point) bool {
	last := len(s.xs) - 1
	if pt[0] < s.xs[0] || pt[0] >= s.xs[last] {
		return false
	}
	k := sort.Search(last, func(k int) bool { return s.xs[k] > pt[0] }) - 1
	odd := false
	for _, e := range s.part[s.partAt[k]:s.partAt[k+1]] {
		if in, _ := crossUp(pt, p[e], p[e+1]); in {
			odd = !odd
		}
	}
	sp := s.span[s.spanAt[k]:s.spanAt[k+1]]
	below := sort.Search(len(sp), func(j int) bool {
		in, on := crossUp(pt, p[sp[j]], p[sp[j]+1])
		return in || on
	})
	return odd != ((len(sp)-below)%2 == 1)
}

type keyed struct {
	k float64
	e int32
}
