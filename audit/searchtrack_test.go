package audit

import (
	"testing"

	"github.com/paulmach/orb"

	"droneaudit/geo"
)

// Logs of flights far apart give a small region around each (its 0.05° cells widened by 2 km), not one box spanning both; points
// at null island make no track.
func TestTrackRegionAndCells(t *testing.T) {
	track := []geo.Fix{{Lat: 51.17, Lon: 5.47}, {Lat: 51.171, Lon: 5.471}, {Lat: 37.77, Lon: -122.42}}
	boxes := regionBoxes(track)
	if len(boxes) != 2 {
		t.Fatalf("boxes %v", boxes)
	}
	in := func(lat, lon float64) bool {
		for _, b := range boxes {
			if b.Contains(orb.Point{lon, lat}) {
				return true
			}
		}
		return false
	}
	if !in(51.17, 5.47) || !in(37.77, -122.42) || !in(51.21, 5.47) || in(45, -60) || in(51.23, 5.47) {
		t.Errorf("region %v", boxes)
	}
	var c trackCells
	for _, f := range []geo.Fix{{Lat: 0.001, Lon: -0.001}, {Lat: 51.17, Lon: 5.47}, {Lat: 51.17001, Lon: 5.47001}, {Lat: 51.18, Lon: 5.47}} {
		c.add(&f)
	}
	if got := c.fixes(); len(got) != 2 || got[0].Lat != 51.17 || got[1].Lat != 51.18 {
		t.Errorf("cells %+v", got)
	}
}
