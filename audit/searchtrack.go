package audit

import (
	"cmp"
	"math"
	"slices"

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

func (t *trackCells) add(f *geo.Fix) {
	if f.Evidence.Channel != geo.ChannelOnDevice || !isTrackRole(f.Role) {
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

// searchTrack wires the flown track of the log files into the search: it returns the hook the
// engine calls once the logs are decoded.
func searchTrack(o *Options, out *output, obs *search.Observer) func() {
	return func() {
		out.mu.Lock()
		logs := out.track.fixes()
		out.mu.Unlock()
		if len(logs) == 0 {
			return
		}
		track := append(slices.Clip(o.SearchTrack), logs...)
		obs.SetPattern(scan.Compile(scan.NewTargets(o.Zones, track, o.searchTrackM()+trackCellWidenM)))
	}
}

// searchTrackM is the track distance of the search.
func (o *Options) searchTrackM() float64 {
	if o.SearchTrackM > 0 {
		return o.SearchTrackM
	}
	return DefaultSearchTrackM
}
