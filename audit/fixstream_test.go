package audit

import (
	"sync"
	"testing"

	"droneaudit/geo"
)

// The stream hands over the fixes in full batches of FixBatch, filled in what the consumer gave
// back, and the rest at flush; two lanes may add at once: each fix arrives whole, with its
// report, and each lane's fixes in their order (run with -race).
func TestFixStreamBatchesConcurrentLanes(t *testing.T) {
	var got []StreamedFix
	var sizes []int
	var spare []StreamedFix
	s := newFixStream(func(b []StreamedFix) []StreamedFix {
		sizes = append(sizes, len(b))
		got = append(got, b...)
		next := spare
		spare = b[:0]
		return next // nil the first time: the stream makes a new batch
	})
	const perLane = 2*FixBatch + 100
	reps := [2]*InputReport{{Path: "a"}, {Path: "b"}}
	var wg sync.WaitGroup
	for lane := range 2 {
		wg.Go(func() {
			for i := range perLane {
				f := geo.Fix{Lat: 1, Lon: 2, Evidence: geo.Evidence{Input: reps[lane].Path, Offset: int64(lane*perLane + i)}}
				s.add(reps[lane], &f)
			}
		})
	}
	wg.Wait()
	s.flush()
	s.flush() // nothing held: no empty batch
	if len(got) != 2*perLane {
		t.Fatalf("%d fixes handed over, want %d", len(got), 2*perLane)
	}
	for i, n := range sizes {
		if last := i == len(sizes)-1; n != FixBatch && !last || n == 0 {
			t.Fatalf("batch %d of %d has %d fixes", i, len(sizes), n)
		}
	}
	next := [2]int64{0, perLane}
	for _, q := range got {
		off := q.Fix.Evidence.Offset
		lane := off / perLane
		if off != next[lane] || q.Input != reps[lane] || q.Fix.Evidence.Input != reps[lane].Path {
			t.Fatalf("lane %d: got offset %d of %s, want %d", lane, off, q.Input.Path, next[lane])
		}
		next[lane]++
	}
	if next != [2]int64{perLane, 2 * perLane} {
		t.Fatalf("handed over up to %v", next)
	}
}
