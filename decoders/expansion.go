package decoders

import "sync/atomic"

// ExpansionBudget bounds the bytes that decoders may decompress (KMZ entries, say) over a whole
// run, however many inputs share it: a folder of small archives that each inflate to their own
// bound would otherwise cost as much CPU as one huge one. It is safe for concurrent use, so the
// decoders of all inputs of a run can draw on one budget.
type ExpansionBudget struct {
	limit int64
	used  atomic.Int64
}

// NewExpansionBudget returns a budget of limit decompressed bytes.
func NewExpansionBudget(limit int64) *ExpansionBudget {
	return &ExpansionBudget{limit: limit}
}

// DefaultExpansionBudget is the budget of decoders that are not handed one: 1 GiB per process,
// which a droneaudit run is. A caller that decodes several runs in one process passes each its
// own budget (gpx.Decoder.Budget).
var DefaultExpansionBudget = NewExpansionBudget(1 << 30)

// Take draws n decompressed bytes from the budget and reports whether they fit. Bytes that do
// not fit are still counted, so that once the budget is spent every later Take fails.
func (b *ExpansionBudget) Take(n int64) bool {
	return b.used.Add(n) <= b.limit
}

// Limit returns the budget's size in bytes.
func (b *ExpansionBudget) Limit() int64 { return b.limit }

// Used returns the bytes drawn so far, including those that did not fit.
func (b *ExpansionBudget) Used() int64 { return b.used.Load() }
