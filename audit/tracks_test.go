package audit

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"droneaudit/geo"
	"droneaudit/netflow"
)

// A long track keeps at most maxTrackPoints points, every stride-th position from the first, and
// counts every position; positions that are no aircraft make no track; tracks beyond maxTracks
// are counted, not kept; merging lanes orders the tracks by their key.
func TestTrackThinning(t *testing.T) {
	var s trackSet
	const n = 5000
	for i := range n {
		s.add(&geo.Fix{Lat: 51 + float64(i)*1e-5, Lon: 5, Role: geo.RoleAircraft, Evidence: geo.Evidence{Input: "a", Decoder: "mavlink", Channel: geo.ChannelOnDevice}})
		s.add(&geo.Fix{Lat: 1, Lon: 1, Role: geo.RolePilot, Evidence: geo.Evidence{Input: "a", Decoder: "mavlink", Channel: geo.ChannelOnDevice}})
	}
	if len(s.tracks) != 1 {
		t.Fatalf("%d tracks", len(s.tracks))
	}
	tr := s.tracks[0]
	if tr.Fixes != n || len(tr.Points) > maxTrackPoints || len(tr.Points) < maxTrackPoints/2 || tr.stride != 8 {
		t.Fatalf("%d fixes, %d points, stride %d", tr.Fixes, len(tr.Points), tr.stride)
	}
	for i, p := range tr.Points {
		if want := round(51+float64(int64(i)*tr.stride)*1e-5, 6); p[1] != want {
			t.Fatalf("point %d at %v, want latitude %v (position %d)", i, p, want, int64(i)*tr.stride)
		}
	}
	var lanes [2]trackSet
	for i := range maxTracks + 6 {
		lanes[i%2].add(&geo.Fix{Lat: 1, Lon: 1, Role: geo.RoleAircraft, Evidence: geo.Evidence{Input: "c", Decoder: "mavlink", Channel: geo.ChannelNetwork,
			Network: &geo.Network{FlowUID: fmt.Sprintf("C%03d", i), Proto: netflow.UDP}}})
	}
	lanes[0].merge(&lanes[1])
	if len(lanes[0].tracks) != maxTracks || lanes[0].dropped != 6 {
		t.Fatalf("%d tracks kept, %d dropped", len(lanes[0].tracks), lanes[0].dropped)
	}
	for i, tr := range lanes[0].tracks {
		if tr.Source != "C"+fmt.Sprintf("%03d", i) {
			t.Fatalf("track %d is %s", i, tr.Source)
		}
	}
}

// The map is drawn in Web Mercator with north up, fitted inside its frame: every point of the
// demo lies in it, a position further north is drawn higher, and the scale bar says a round
// length.
func TestMapFitsAndNorthUp(t *testing.T) {
	d := demoDocument(t, 0, ReportMeta{})
	m := d.buildMap()
	if m == nil || len(m.Zones) != 5 || len(m.Tracks) == 0 || len(m.Points) == 0 {
		t.Fatalf("map %+v", m)
	}
	for _, p := range m.Points {
		x, _ := strconv.ParseFloat(p.X, 64)
		y, _ := strconv.ParseFloat(p.Y, 64)
		if x < 0 || x > mapW || y < 0 || y > mapH {
			t.Errorf("point %s outside the frame at %v,%v", p.Title, x, y)
		}
	}
	for _, z := range m.Zones {
		if !strings.HasPrefix(z.D, "M") || !strings.HasSuffix(z.D, "Z") {
			t.Errorf("zone %s: path %.40s", z.Title, z.D)
		}
	}
	p := &projector{k: 1000}
	_, ySouth := p.xy(5, 51)
	_, yNorth := p.xy(5, 51.1)
	if yNorth >= ySouth {
		t.Fatal("north is not up")
	}
	if !strings.HasSuffix(m.Scale.Label, " m") && !strings.HasSuffix(m.Scale.Label, " km") {
		t.Fatalf("scale %q", m.Scale.Label)
	}
}
