package audit

import (
	"sync"

	"droneaudit/geo"
)

// StreamedFix is one fix as Options.OnFixes hands it over, with the report of its input.
type StreamedFix struct {
	Input *InputReport
	Fix   geo.Fix
}

// FixBatch is the number of fixes Options.OnFixes gets per call, but for the last call of a run:
// handing a batch to another goroutine (and waking it) is rare, and the batches in flight (about
// 128 KB each, full of pointers the garbage collector scans) stay few.
const FixBatch = 512

// fixStream gathers the valid fixes of a run in one batch, in the order the sinks report them,
// and hands the batch over when it is full and at the end of the run. A fix is copied once, into
// its slot in the batch; the consumer takes the batch as it is and gives an empty one back, so
// that nothing is copied per fix on its side either. The engine may report fixes of one capture
// from two lanes (its link lane and a flow shard): mu keeps them whole and in one sequence.
type fixStream struct {
	mu    sync.Mutex
	batch []StreamedFix
	hand  func([]StreamedFix) []StreamedFix
}

func newFixStream(hand func([]StreamedFix) []StreamedFix) *fixStream {
	return &fixStream{hand: hand, batch: make([]StreamedFix, 0, FixBatch)}
}

// add copies f into the batch.
func (s *fixStream) add(r *InputReport, f *geo.Fix) {
	s.mu.Lock()
	n := len(s.batch)
	s.batch = s.batch[:n+1]
	q := &s.batch[n]
	q.Input = r
	q.Fix = *f // one assignment each: a pair would be copied through a temporary
	if n+1 == cap(s.batch) {
		s.handOver()
	}
	s.mu.Unlock()
}

// handOver passes the batch on and starts the next one in what the consumer gave back.
func (s *fixStream) handOver() {
	next := s.hand(s.batch)
	if cap(next) == 0 {
		next = make([]StreamedFix, 0, FixBatch)
	}
	s.batch = next[:0]
}

// flush hands over the fixes still held.
func (s *fixStream) flush() {
	s.mu.Lock()
	if len(s.batch) > 0 {
		s.handOver()
	}
	s.mu.Unlock()
}
