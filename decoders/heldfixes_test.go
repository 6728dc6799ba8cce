package decoders_test

import (
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
)

func TestHeldFixes(t *testing.T) {
	sink := &decodertest.Sink{}
	h := decoders.HeldFixes{Sink: sink}
	anchor := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= 3; i++ {
		if !h.Hold(geo.Fix{Lat: float64(i), Lon: 1}, time.Duration(i)*time.Second) {
			t.Fatal("hold refused")
		}
	}
	if len(sink.Fixes) != 0 {
		t.Fatal("held fixes passed on before Release")
	}
	h.Emit(geo.Fix{Lat: 9, Lon: 1, Time: anchor.Add(time.Minute)})
	h.Release(func(boot time.Duration) time.Time { return anchor.Add(boot) })
	if len(sink.Fixes) != 4 || sink.Fixes[1].Lat != 1 || !sink.Fixes[3].Time.Equal(anchor.Add(3*time.Second)) {
		t.Fatalf("fixes %v", sink.Fixes)
	}
	if !h.First.Equal(anchor.Add(time.Second)) || !h.Last.Equal(anchor.Add(time.Minute)) {
		t.Fatalf("first %v last %v", h.First, h.Last)
	}
	// Without a clock the held fixes go on untimed, and the buffer is bounded.
	n := 0
	for h.Hold(geo.Fix{Lat: 2, Lon: 2}, 0) {
		n++
	}
	h.Release(nil)
	if n == 0 || n > 1<<16 || !sink.Fixes[len(sink.Fixes)-1].Time.IsZero() {
		t.Fatalf("held %d", n)
	}
}
