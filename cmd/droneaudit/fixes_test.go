package main

import (
	"errors"
	"sync"
	"testing"

	"droneaudit/audit"
	"droneaudit/geo"
)

// recordingWriter is a FixWriter that keeps the offsets of the fixes it is given and fails at
// the failAt-th one (never when failAt is 0).
type recordingWriter struct {
	offsets []int64
	failAt  int
}

var errWrite = errors.New("disk full")

func (w *recordingWriter) Write(f geo.Fix) error {
	if len(w.offsets)+1 == w.failAt {
		return errWrite
	}
	w.offsets = append(w.offsets, f.Evidence.Offset)
	return nil
}

func (w *recordingWriter) Close() error { return nil }

// testRep stands for the input report of the fixes: its hash is known.
var testRep = &audit.InputReport{SHA256: "00"}

func fixAt(off int64) geo.Fix { return geo.Fix{Lat: 1, Lon: 2, Evidence: geo.Evidence{Offset: off}} }

// The pipe hands every fix to the writer in the order given, across batch boundaries and for a
// last, partial batch.
func TestFixPipeOrder(t *testing.T) {
	w := &recordingWriter{}
	p := newFixPipe(w)
	n := 3*fixBatch + 7
	for i := range n {
		f := fixAt(int64(i))
		p.add(testRep, &f)
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if len(w.offsets) != n {
		t.Fatalf("%d fixes written, want %d", len(w.offsets), n)
	}
	for i, off := range w.offsets {
		if off != int64(i) {
			t.Fatalf("fix %d has offset %d", i, off)
		}
	}
}

// Two lanes of a capture may report fixes at the same time: each fix arrives whole, each lane's
// fixes in their order (run with -race).
func TestFixPipeConcurrentLanes(t *testing.T) {
	w := &recordingWriter{}
	p := newFixPipe(w)
	const perLane = 2*fixBatch + 100
	var wg sync.WaitGroup
	for lane := range 2 {
		wg.Go(func() {
			for i := range perLane {
				f := fixAt(int64(lane*perLane + i))
				p.add(testRep, &f)
			}
		})
	}
	wg.Wait()
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	next := [2]int64{0, perLane}
	for _, off := range w.offsets {
		lane := off / perLane
		if off != next[lane] {
			t.Fatalf("lane %d: got offset %d, want %d", lane, off, next[lane])
		}
		next[lane]++
	}
	if next != [2]int64{perLane, 2 * perLane} {
		t.Fatalf("written up to %v", next)
	}
}

// After a write error the pipe drops what follows without blocking the decoder, and close
// returns the error.
func TestFixPipeWriteError(t *testing.T) {
	w := &recordingWriter{failAt: fixBatch + 3}
	p := newFixPipe(w)
	for i := range 20 * fixBatch {
		f := fixAt(int64(i))
		p.add(testRep, &f)
	}
	if err := p.close(); !errors.Is(err, errWrite) {
		t.Fatalf("close: %v, want %v", err, errWrite)
	}
	if len(w.offsets) != fixBatch+2 {
		t.Fatalf("%d fixes written before the error, want %d", len(w.offsets), fixBatch+2)
	}
}
