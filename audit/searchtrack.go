package audit

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"droneaudit/audit/search"
	"droneaudit/geo"
	"droneaudit/geo/scan"
)

// The flown track as a target of the known-value search. The log files of the run (flight
// records, telemetry logs: positions on the on-device channel) are decoded before the captures
// (engine.Config.BeforeCaptures); their aircraft, home, take-off, pilot and controller positions
// become track targets, so that a payload carrying a point of the flight outside every zone is
// found too. The positions are kept as grid cells, so that memory and the compile of the
// search stay bounded however long the flight.

// DefaultSearchTrackM is how near the flown track a pair must lie to count when
// Options.SearchTrackM is 0.
const DefaultSearchTrackM = 50

// trackCellDeg is the side of a cell of the kept track (about 55 m of latitude); the first
// position in a cell stands for it, so the search's reach is widened by a cell diagonal.
const trackCellDeg = 0.0005

// trackCellWidenM bounds the distance from any position of a cell to its kept one: the cell's
// diagonal (78 m at the equator, less elsewhere).
const trackCellWidenM = 80

// maxTrackCells bounds the cells kept over the run; positions in further cells are counted in
// trackCells.dropped.
const maxTrackCells = 20000

type cellKey struct{ lat, lon int32 }

// trackCells collects the track of one lane: consecutive positions mostly fall in one cell,
// so a map operation is paid only when the cell changes.
type trackCells struct {
	cells   map[cellKey]geo.Fix
	last    cellKey
	has     bool
	dropped int64
}

// isTrackRole says which positions make the flown track: where the aircraft was, and where its
// team stood.
func isTrackRole(r geo.Role) bool { return r == geo.RoleAircraft || isTeamPosition(r) }

// addFix keeps a position of the track in its cell: an on-device one in logs, one that a
// structural decoder read from the capture's telemetry (network or broadcast) in tele.
func (s *inputSink) addTrack(f *geo.Fix) {
	if !isTrackRole(f.Role) || f.Evidence.Decoder == search.Decoder {
		return
	}
	if f.Evidence.Channel == geo.ChannelOnDevice {
		s.track.add(f)
	} else {
		s.tele.add(f)
	}
}

func (t *trackCells) add(f *geo.Fix) {
	if math.Abs(f.Lat) < nullIslandDeg && math.Abs(f.Lon) < nullIslandDeg {
		return
	}
	k := cellKey{int32(math.Floor(f.Lat / trackCellDeg)), int32(math.Floor(f.Lon / trackCellDeg))}
	if t.has && k == t.last {
		return
	}
	t.last, t.has = k, true
	if _, ok := t.cells[k]; ok {
		return
	}
	if len(t.cells) >= maxTrackCells {
		t.dropped++
		return
	}
	if t.cells == nil {
		t.cells = map[cellKey]geo.Fix{}
	}
	t.cells[k] = geo.Fix{Lat: f.Lat, Lon: f.Lon}
}

// merge adds another lane's cells, up to the bound.
func (t *trackCells) merge(o *trackCells) {
	t.dropped += o.dropped
	for k, f := range o.cells {
		if _, ok := t.cells[k]; ok {
			continue
		}
		if len(t.cells) >= maxTrackCells {
			t.dropped++
			continue
		}
		if t.cells == nil {
			t.cells = map[cellKey]geo.Fix{}
		}
		t.cells[k] = f
	}
}

// fixes returns the kept positions in cell order: the same targets whatever order the logs were
// decoded in.
func (t *trackCells) fixes() []geo.Fix {
	keys := make([]cellKey, 0, len(t.cells))
	for k := range t.cells {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b cellKey) int { return cmp.Or(cmp.Compare(a.lat, b.lat), cmp.Compare(a.lon, b.lon)) })
	out := make([]geo.Fix, len(keys))
	for i, k := range keys {
		out[i] = t.cells[k]
	}
	return out
}

// regionM widens the track region: how far from the zones and the logged flight the telemetry
// of a capture is looked for. A lab flight in sight of its pilot stays within a kilometre or
// two of its site; every kilometre more widens the search's bands (2 km costs the all-clear
// worst case of BenchmarkAuditSearch about 30 % more CPU, 5 km about 40 %).
const regionM = 2000

// maxHeldTrack bounds the track-region hits a lane holds until its input is done; further ones
// are counted (search_track_region_dropped) and left out.
const maxHeldTrack = 4096

// searchTrack wires the flown track into the search: it returns the hook the engine calls once
// the logs are decoded. The search then looks for the zones, the logged track, and the region
// around both (scan.TargetRegion), whose hits wait in the sinks until their input is done and
// are then checked against the track the input's own telemetry drew (resolveTrack).
func searchTrack(o *Options, out *output, obs *search.Observer) func() {
	return func() {
		out.mu.Lock()
		logs := out.track.fixes()
		out.mu.Unlock()
		track := append(slices.Clip(o.SearchTrack), logs...)
		t := scan.NewTargets(o.Zones, track, o.searchTrackM()+trackCellWidenM)
		if o.Zones != nil {
			for i := range o.Zones.Zones {
				if b := o.Zones.Zones[i].Bound(); b.Max[0] <= 180 {
					t.AddRegion(scan.Widen(b, regionM))
				}
			}
		}
		for _, b := range regionBoxes(logs) {
			t.AddRegion(b)
		}
		if !t.Empty() {
			obs.SetPattern(scan.Compile(t))
		}
	}
}

// regionCellDeg is the side of the coarse cells the logged track's region is made of (about
// 5.5 km of latitude), maxRegionBoxes how many of them are kept: logs of flights far apart
// (a corpus from several countries) give several small regions, not one box spanning them.
const (
	regionCellDeg  = 0.05
	maxRegionBoxes = 256
)

// regionBoxes returns the region around the logged track: each coarse cell it crosses, widened
// by regionM, in cell order.
func regionBoxes(track []geo.Fix) []orb.Bound {
	seen := map[cellKey]bool{}
	var out []orb.Bound
	for _, f := range track {
		k := cellKey{int32(math.Floor(f.Lat / regionCellDeg)), int32(math.Floor(f.Lon / regionCellDeg))}
		if seen[k] || len(seen) >= maxRegionBoxes {
			continue
		}
		seen[k] = true
		lo := orb.Point{float64(k.lon) * regionCellDeg, float64(k.lat) * regionCellDeg}
		out = append(out, scan.Widen(orb.Bound{Min: lo, Max: orb.Point{lo[0] + regionCellDeg, lo[1] + regionCellDeg}}, regionM))
	}
	return out
}

// nullIslandDeg: positions this close to (0, 0) are receivers without a fix and test
// transmitters, no flight; near-zero floats in any payload read as such positions.
const nullIslandDeg = 0.01

// HoldTrack implements search.TrackHolder.
func (s *inputSink) HoldTrack(f geo.Fix) {
	if len(s.heldTrack) >= maxHeldTrack {
		s.Count("search_track_region_dropped", 1)
		return
	}
	s.heldTrack = append(s.heldTrack, f)
}

// resolveTrack checks the track-region hits of an input's lanes against the flown track known
// when the input is done: the log files' and the telemetry the decoders read from this input.
// Those near it become fixes of their lane (track-leak findings); the others are left out. It
// runs in Output.Done, when every lane of the input is complete: the result does not depend on
// how the lanes interleaved.
func (out *output) resolveTrack(lanes []*inputSink) {
	n := 0
	for _, l := range lanes {
		n += len(l.heldTrack)
	}
	if n == 0 {
		return
	}
	var cells trackCells
	out.mu.Lock()
	cells.merge(&out.track)
	out.mu.Unlock()
	for _, l := range lanes {
		cells.merge(&l.tele)
	}
	t := scan.NewTargets(nil, append(slices.Clip(out.o.SearchTrack), cells.fixes()...), out.o.searchTrackM()+trackCellWidenM)
	for _, l := range lanes {
		held := l.heldTrack
		l.heldTrack = nil
		for _, f := range held {
			if _, ok := t.Match(f.Lat, f.Lon, f.PrecisionM); !ok {
				continue
			}
			f.Evidence.Message = search.MessageTrack
			f.Evidence.Note = strings.Replace(f.Evidence.Note, scan.TargetRegion, scan.TargetTrack+" (telemetry of this input)", 1)
			l.SearchCounts(search.Counts{Fixes: 1, TrackResolved: 1})
			l.Fix(f)
		}
	}
}

// searchTrackM is the track distance of the search.
func (o *Options) searchTrackM() float64 {
	if o.SearchTrackM > 0 {
		return o.SearchTrackM
	}
	return DefaultSearchTrackM
}
