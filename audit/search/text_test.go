package search

import (
	"fmt"
	"testing"

	"droneaudit/geo"
	"droneaudit/geo/scan"
	"droneaudit/netflow"
)

// The texts of a search fix, made without fmt, read as fmt made them.
func TestFixTextsAsFmt(t *testing.T) {
	for _, c := range []struct {
		frame int
		dir   netflow.Direction
		off   int64
	}{{1, netflow.ClientToServer, 0}, {123456789, netflow.ServerToClient, -3}, {-1, 7, 1 << 62}} {
		if got, want := streamLocator(c.frame, c.dir, c.off), fmt.Sprintf("frame %d, %s byte %d", c.frame, c.dir, c.off); got != want {
			t.Errorf("locator %q, want %q", got, want)
		}
	}
	for _, h := range []scan.Hit{
		{Encoding: scan.Geohash, Len: 9, Target: "Lab zone"},
		{Encoding: scan.Encoding(0), Order: scan.Order(0), Len: 16, Target: scan.TargetTrack},
		{Encoding: scan.Encoding(1), Order: scan.Order(1), Len: 8, Target: "zone \"x\"", Wrap: scan.Wrapping(1)},
		{Encoding: scan.Encoding(200), Order: scan.Order(9), Len: -1},
	} {
		f := hitFix(h, geo.Evidence{})
		want := fmt.Sprintf("known-value search: %s order, %d bytes, in %s", h.Order, h.Len, h.Target)
		if h.Encoding == scan.Geohash {
			want = fmt.Sprintf("known-value search: %d-character geohash, in %s", h.Len, h.Target)
		}
		if f.Evidence.Note != want {
			t.Errorf("note %q, want %q", f.Evidence.Note, want)
		}
	}
}
