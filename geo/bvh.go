package geo

import (
	"cmp"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// bvh is a packed bounding-box hierarchy over items kept in a fixed order: leaf j covers items
// [j·bvhFanout, (j+1)·bvhFanout), and each level above boxes bvhFanout boxes of the level below.
// A search descends only into boxes that meet the query: O(log n) plus what it finds when the
// items are small and packed by place. For a ring's edges the ring's own order is that packing;
// zones are sorted into it (sortTiles).
type bvh struct {
	levels [][]orb.Bound // levels[0] are the leaves; the last level has one box
}

const bvhFanout = 16

// newBVH builds the hierarchy over n items from the box of each leaf.
func newBVH(n int, leaf func(j int) orb.Bound) *bvh {
	t := &bvh{}
	lv := make([]orb.Bound, (n+bvhFanout-1)/bvhFanout)
	for j := range lv {
		lv[j] = leaf(j)
	}
	t.levels = append(t.levels, lv)
	for len(lv) > 1 {
		up := make([]orb.Bound, (len(lv)+bvhFanout-1)/bvhFanout)
		for j := range up {
			b := lv[j*bvhFanout]
			for _, c := range lv[j*bvhFanout+1 : min(len(lv), j*bvhFanout+bvhFanout)] {
				b = b.Union(c)
			}
			up[j] = b
		}
		t.levels = append(t.levels, up)
		lv = up
	}
	return t
}

// newEdgeBVH builds the hierarchy over the edges of a ring, in the ring's order.
func newEdgeBVH(p orb.Ring) *bvh {
	n := len(p) - 1
	return newBVH(n, func(j int) orb.Bound {
		b := orb.Bound{Min: p[j*bvhFanout], Max: p[j*bvhFanout]}
		for _, v := range p[j*bvhFanout+1 : min(n, j*bvhFanout+bvhFanout)+1] {
			b = b.Extend(v)
		}
		return b
	})
}

// search calls fn with each leaf whose box meets q, until fn returns false.
func (t *bvh) search(q orb.Bound, fn func(leaf int) bool) {
	if t == nil || len(t.levels) == 0 {
		return
	}
	// An explicit stack: at most bvhFanout entries per level are pending.
	var stack [8 * bvhFanout]int32
	top := len(t.levels) - 1
	levelOf := func(x int32) int { return int(x >> 27) }
	mk := func(l, j int) int32 { return int32(l)<<27 | int32(j) }
	sp := 0
	if !meets(t.levels[top][0], q) {
		return
	}
	stack[sp] = mk(top, 0)
	sp++
	for sp > 0 {
		sp--
		x := stack[sp]
		l, j := levelOf(x), int(x&(1<<27-1))
		if l == 0 {
			if !fn(j) {
				return
			}
			continue
		}
		below := t.levels[l-1]
		// Push children in reverse so that they come off the stack in order.
		for c := min(len(below), j*bvhFanout+bvhFanout) - 1; c >= j*bvhFanout; c-- {
			if meets(below[c], q) {
				stack[sp] = mk(l-1, c)
				sp++
			}
		}
	}
}

func meets(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && b.Min[0] <= a.Max[0] && a.Min[1] <= b.Max[1] && b.Min[1] <= a.Max[1]
}

// sortTiles orders boxes for packing (sort-tile-recursive): into vertical strips by the centre's
// longitude, each strip by latitude. It returns the permutation.
func sortTiles(bs []orb.Bound) []int32 {
	idx := make([]int32, len(bs))
	for i := range idx {
		idx[i] = int32(i)
	}
	cx := func(i int32) float64 { return bs[i].Min[0] + bs[i].Max[0] }
	cy := func(i int32) float64 { return bs[i].Min[1] + bs[i].Max[1] }
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Or(cmp.Compare(cx(a), cx(b)), cmp.Compare(a, b)) })
	leaves := (len(bs) + bvhFanout - 1) / bvhFanout
	strip := int(math.Ceil(math.Sqrt(float64(leaves)))) * bvhFanout
	for s := 0; s < len(idx); s += strip {
		slices.SortFunc(idx[s:min(len(idx), s+strip)], func(a, b int32) int { return cmp.Or(cmp.Compare(cy(a), cy(b)), cmp.Compare(a, b)) })
	}
	return idx
}
