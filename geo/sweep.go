package geo

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/paulmach/orb"
)

// ringCrossing finds two edges of a closed ring (p[n] == p[0], no repeated consecutive
// positions) that meet anywhere but at the vertex two neighbouring edges share: edges that
// cross, touch, or overlap. It returns their indices (edge i runs from p[i] to p[i+1]) and how
// they meet ("crosses", "touches", "overlaps"), or kind "" when the ring is simple.
//
// A ring that crosses itself has no single inside: even-odd matching then misses part of what
// the author drew. The search is the Shamos–Hoey sweep, O(n log n): a vertical line moves west
// to east over the edge ends, keeps the edges it cuts ordered south to north, and tests only
// edges that become neighbours in that order; the first pair that meets is found before the
// line passes the westernmost meeting point. Every pair it reports is checked exactly, so it
// never refuses a simple ring.
//
// order is the ring's vertices sorted west to east (sortVertices), or nil for a small ring.
func ringCrossing(p orb.Ring, order []int32) (i, j int, kind string) {
	n := len(p) - 1
	if order == nil {
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if k := badPair(p, i, j); k != "" {
					return i, j, k
				}
			}
		}
		return 0, 0, ""
	}
	s := newSweep(p)
	return s.run(order)
}

// sortVertices returns the indices of the vertices of a closed ring (its last position left
// out), sorted by longitude, then latitude, then index.
func sortVertices(p orb.Ring) []int32 {
	n := len(p) - 1
	a := make([]vkey, n)
	for v := range a {
		a[v] = vkey{sortableFloat(p[v][0]), int32(v)}
	}
	if n < 1024 {
		// Few keys: a radix pass's 2048 counters would cost more than a comparison sort.
		slices.SortFunc(a, func(u, w vkey) int { return cmp.Or(cmp.Compare(u.x, w.x), cmp.Compare(u.v, w.v)) })
	} else {
		a = radixSort(a)
	}
	// By longitude, then runs of one longitude by latitude.
	order := make([]int32, n)
	for i := range a {
		order[i] = a[i].v
	}
	for i := 0; i < n; {
		j := i + 1
		for j < n && a[j].x == a[i].x {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(order[i:j], func(u, w int32) int {
				return cmp.Or(cmp.Compare(p[u][1], p[w][1]), cmp.Compare(u, w))
			})
		}
		i = j
	}
	return order
}

type vkey struct {
	x uint64
	v int32
}

// radixSort sorts keys by x, stably, 11 bits a pass, least significant first; digits that all
// keys share, like the high bits of coordinates in one region, cost no pass.
func radixSort(a []vkey) []vkey {
	n := len(a)
	b := make([]vkey, n)
	var count [1 << 11]int
	for shift := uint(0); shift < 64; shift += 11 {
		clear(count[:])
		for i := range a {
			count[a[i].x>>shift&(1<<11-1)]++
		}
		if count[a[0].x>>shift&(1<<11-1)] == n {
			continue
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for i := range a {
			k := a[i].x >> shift & (1<<11 - 1)
			b[count[k]] = a[i]
			count[k]++
		}
		a, b = b, a
	}
	return a
}

// sortableFloat maps a float64 to a uint64 in the same order.
func sortableFloat(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 sorts as 0
	}
	u := math.Float64bits(f)
	if u>>63 != 0 {
		return ^u
	}
	return u | 1<<63
}

// edgeEnds returns the west end (the lesser by longitude, then latitude) and the east end of an
// edge.
func edgeEnds(p orb.Ring, e int) (orb.Point, orb.Point) {
	a, b := p[e], p[e+1]
	if less(b, a) {
		return b, a
	}
	return a, b
}

func less(a, b orb.Point) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }

// badPair says how edges i and j meet, "" when they do not or when they are neighbours that
// share only their common vertex.
func badPair(p orb.Ring, i, j int) string {
	n := len(p) - 1
	k := segmentsMeet(p[i], p[i+1], p[j], p[j+1])
	if k == "" {
		return ""
	}
	if (j-i+n)%n == 1 || (i-j+n)%n == 1 {
		// Neighbours share a vertex; they are wrong only when they fold back over each other.
		if k == "overlaps" {
			return k
		}
		if n == 2 {
			return "overlaps"
		}
		return ""
	}
	return k
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// onSegment reports whether c, collinear with a–b, lies within the segment's box.
func onSegment(a, b, c orb.Point) bool {
	return min(a[0], b[0]) <= c[0] && c[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= c[1] && c[1] <= max(a[1], b[1])
}

// segmentsMeet says how segments a–b and c–d meet: "crosses" (in one point inside both),
// "overlaps" (collinear along a stretch), "touches" (in one point at an end), or "".
func segmentsMeet(a, b, c, d orb.Point) string {
	if max(a[0], b[0]) < min(c[0], d[0]) || max(c[0], d[0]) < min(a[0], b[0]) ||
		max(a[1], b[1]) < min(c[1], d[1]) || max(c[1], d[1]) < min(a[1], b[1]) {
		return ""
	}
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	if o1 == 0 && o2 == 0 && o3 == 0 && o4 == 0 {
		// Collinear: compare the stretches along the longer axis.
		ax, bx, cx, dx := a[0], b[0], c[0], d[0]
		if max(a[0], b[0], c[0], d[0])-min(a[0], b[0], c[0], d[0]) < max(a[1], b[1], c[1], d[1])-min(a[1], b[1], c[1], d[1]) {
			ax, bx, cx, dx = a[1], b[1], c[1], d[1]
		}
		lo := max(min(ax, bx), min(cx, dx))
		hi := min(max(ax, bx), max(cx, dx))
		switch {
		case lo < hi:
			return "overlaps"
		case lo == hi:
			return "touches"
		}
		return ""
	}
	if (o1 > 0 && o2 < 0 || o1 < 0 && o2 > 0) && (o3 > 0 && o4 < 0 || o3 < 0 && o4 > 0) {
		return "crosses"
	}
	if o1 == 0 && onSegment(a, b, c) || o2 == 0 && onSegment(a, b, d) || o3 == 0 && onSegment(c, d, a) || o4 == 0 && onSegment(c, d, b) {
		return "touches"
	}
	return ""
}

// sweep is the state of ringCrossing's sweep: the edges cut by the sweep line, south to north,
// in a skip list whose nodes are the edges themselves, so that an edge is unlinked without a
// search.
type sweep struct {
	p          orb.Ring
	next, prev []int32 // links of node x at level l: [off[x]+l]; -1 is none
	off        []int32
	lvl        []uint8
	head       int32 // node len(p)-1, the list's start, with every level
	top        int
	rnd        uint64 // xorshift state for the levels
}

const sweepLevels = 24

func newSweep(p orb.Ring) *sweep {
	n := len(p) - 1
	s := &sweep{
		p:    p,
		off:  make([]int32, n+1),
		lvl:  make([]uint8, n+1),
		head: int32(n),
		top:  1,
		rnd:  rand.Uint64() | 1,
	}
	s.next = make([]int32, sweepLevels, n*4/3+sweepLevels+8)
	s.prev = make([]int32, sweepLevels, n*4/3+sweepLevels+8)
	for l := range sweepLevels {
		s.next[l], s.prev[l] = -1, -1
	}
	s.off[n] = 0
	s.lvl[n] = sweepLevels
	return s
}

// run sweeps over the vertices in order, west to east: at each, the edges that start there go
// into the list and the edges that end there come out.
func (s *sweep) run(order []int32) (int, int, string) {
	p := s.p
	n := len(p) - 1
	test := func(a, b int32) (int, int, string) {
		if a < 0 || b < 0 || a == s.head || b == s.head {
			return 0, 0, ""
		}
		i, j := int(min(a, b)), int(max(a, b))
		return i, j, badPair(p, i, j)
	}
	// starts reports whether edge e starts (has its west end) at vertex v.
	starts := func(e, v int32) bool {
		w := e
		if less(p[e+1], p[e]) {
			w = e + 1
		}
		return w%int32(n) == v
	}
	in := make([]bool, n) // edges in the list
	for g := 0; g < n; {
		h := g + 1
		for h < n && p[order[h]] == p[order[g]] {
			h++
		}
		// At one point, edges start before others end, so that edges meeting there are in the
		// list together and are tested.
		for _, v := range order[g:h] {
			pair := [2]int32{(v + int32(n) - 1) % int32(n), v}
			for k, e := range pair {
				if !starts(e, v) {
					continue
				}
				finger := pair[1-k]
				if !in[finger] {
					finger = -1
				}
				s.insert(e, finger)
				in[e] = true
				if i, j, k := test(s.prev[s.off[e]], e); k != "" {
					return i, j, k
				}
				if i, j, k := test(e, s.next[s.off[e]]); k != "" {
					return i, j, k
				}
			}
		}
		for _, v := range order[g:h] {
			for _, e := range [2]int32{(v + int32(n) - 1) % int32(n), v} {
				if starts(e, v) {
					continue
				}
				if i, j, k := test(s.prev[s.off[e]], s.next[s.off[e]]); k != "" {
					return i, j, k
				}
				s.remove(e)
				in[e] = false
			}
		}
		g = h
	}
	return 0, 0, ""
}

// below reports whether edge a, in the list, lies south of edge e, which starts at its west end
// w on the sweep line: by latitude where a cuts the line, then by slope, a vertical edge last.
func (s *sweep) below(a, e int32, w orb.Point) bool {
	a0, a1 := edgeEnds(s.p, int(a))
	var y float64
	switch {
	case a0[0] == a1[0]:
		y = max(a0[1], min(w[1], a1[1]))
	case w[0] == a0[0]:
		y = a0[1]
	case w[0] == a1[0]:
		y = a1[1]
	default:
		y = a0[1] + (w[0]-a0[0])*(a1[1]-a0[1])/(a1[0]-a0[0])
	}
	if y != w[1] {
		return y < w[1]
	}
	_, e1 := edgeEnds(s.p, int(e))
	// Same latitude at the line: the one that climbs less eastwards is south.
	return orient(a0, a1, orb.Point{a0[0] + (e1[0] - w[0]), a0[1] + (e1[1] - w[1])}) > 0
}

// insert puts edge e into the list. finger is an edge in the list that meets e's west end (the
// ring's other edge there), or -1: the search then starts there and usually ends at once.
func (s *sweep) insert(e, finger int32) {
	w := s.westEnd(e)
	x := s.head
	if finger < 0 {
		for l := s.top - 1; l >= 0; l-- {
			for {
				nx := s.next[s.off[x]+int32(l)]
				if nx < 0 || !s.below(nx, e, w) {
					break
				}
				x = nx
			}
		}
	} else if x = finger; s.below(x, e, w) {
		for {
			nx := s.next[s.off[x]]
			if nx < 0 || !s.below(nx, e, w) {
				break
			}
			x = nx
		}
	} else {
		for {
			x = s.prev[s.off[x]]
			if x == s.head || s.below(x, e, w) {
				break
			}
		}
	}
	s.link(e, x)
}

// link puts e into the list after pred.
func (s *sweep) link(e, pred int32) {
	s.rnd ^= s.rnd << 13
	s.rnd ^= s.rnd >> 7
	s.rnd ^= s.rnd << 17
	lv := 1
	for r := s.rnd; lv < sweepLevels && r&3 == 0; r >>= 2 {
		lv++
	}
	var update [sweepLevels]int32
	update[0] = pred
	for l := 1; l < lv; l++ {
		u := update[l-1]
		// Walk back along level l-1 to the nearest node that also has level l.
		for u != s.head && int(s.lvl[u]) <= l {
			u = s.prev[s.off[u]+int32(l-1)]
		}
		update[l] = u
	}
	s.top = max(s.top, lv)
	s.off[e] = int32(len(s.next))
	s.lvl[e] = uint8(lv)
	for l := range lv {
		u := update[l]
		nx := s.next[s.off[u]+int32(l)]
		s.next = append(s.next, nx)
		s.prev = append(s.prev, u)
		s.next[s.off[u]+int32(l)] = e
		if nx >= 0 {
			s.prev[s.off[nx]+int32(l)] = e
		}
	}
}

func (s *sweep) westEnd(e int32) orb.Point { a, _ := edgeEnds(s.p, int(e)); return a }

func (s *sweep) remove(e int32) {
	for l := range int32(s.lvl[e]) {
		pv, nx := s.prev[s.off[e]+l], s.next[s.off[e]+l]
		s.next[s.off[pv]+l] = nx
		if nx >= 0 {
			s.prev[s.off[nx]+l] = pv
		}
	}
}
