package audit

import (
	"cmp"
	"slices"
)

// The findings of one input may be found by several lanes at once (a capture's link lane and its
// flow shards). Each lane aggregates its own; these methods join them so that the result is the
// same whatever the number of lanes: counts add up, extents join, and the first and last
// observation are the earliest and latest in the input.

// merge adds the findings of another lane's aggregator for the same input.
func (a *aggregator) merge(b *aggregator) {
	a.settle()
	b.settle()
	for _, fb := range b.order {
		fa, ok := a.byKey[fb.key]
		if !ok {
			a.byKey[fb.key] = fb
			a.order = append(a.order, fb)
			continue
		}
		fa.Count += fb.Count
		fa.Inside += fb.Inside
		if earlier(fb.First, fa.First) {
			fa.First = fb.First
		}
		if earlier(fa.Last, fb.Last) {
			fa.Last = fb.Last
		}
		fa.Extent.merge(fb.Extent)
	}
}

// sortByFirst orders the findings by their first observation in the input, as one lane would
// have met them.
func (a *aggregator) sortByFirst() {
	slices.SortStableFunc(a.order, func(x, y *Finding) int {
		return cmp.Compare(x.First.Evidence.Offset, y.First.Evidence.Offset)
	})
}

// setSHA256 fills the input's hash into the evidence of every observation kept.
func (a *aggregator) setSHA256(sum string) {
	a.settle()
	for _, f := range a.order {
		for _, o := range []*Observation{f.First, f.Last} {
			if o != nil && o.Evidence.Input == a.input {
				o.Evidence.SHA256 = sum
			}
		}
	}
}
