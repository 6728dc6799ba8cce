package scan

import (
	"math"
	"sort"

	"github.com/paulmach/orb"

	"droneaudit/geo"
)

// Targets are the places the search looks for: the zones of a zone file (each widened by the
// precision of the encoding a candidate was found in) and the points of the flown track, within
// a set distance. A Targets is read-only once made and may be shared between goroutines.
type Targets struct {
	zones  *geo.Zones
	track  []orb.Point // lon, lat; sorted by latitude
	trackM float64
	region []orb.Bound // where the track may yet turn out to be (AddRegion)
}

// TargetTrack is the name Match gives a candidate that is near the track rather than in a zone.
const TargetTrack = "flown track"

// TargetRegion is the name Match gives a candidate that lies in a region of AddRegion and near no
// other target: the caller holds it until it knows the track it may lie near.
const TargetRegion = "track region"

// NewTargets makes the targets of a search: zones may be nil, track may be empty; a track point
// counts within trackM metres (plus the candidate's precision). Invalid track points are left out.
func NewTargets(zones *geo.Zones, track []geo.Fix, trackM float64) *Targets {
	t := &Targets{zones: zones, trackM: max(trackM, 0)}
	for _, f := range track {
		if f.Valid() {
			t.track = append(t.track, orb.Point{f.Lon, f.Lat})
		}
	}
	sort.Slice(t.track, func(i, j int) bool { return t.track[i][1] < t.track[j][1] })
	return t
}

// AddRegion adds a box where the flown track may lie though it is not known yet (the telemetry
// of a capture being read): a pair inside it matches as TargetRegion. Call it before Compile.
func (t *Targets) AddRegion(b orb.Bound) { t.region = append(t.region, b) }

// Empty reports whether there is nothing to look for.
func (t *Targets) Empty() bool {
	return t == nil || (t.zones == nil || len(t.zones.Zones) == 0) && len(t.track) == 0 && len(t.region) == 0
}

// Boxes returns the box of each target widened by m metres: one per zone, one per track point.
func (t *Targets) Boxes(m float64) []orb.Bound {
	if t.Empty() {
		return nil
	}
	var out []orb.Bound
	if t.zones != nil {
		for i := range t.zones.Zones {
			b := t.zones.Zones[i].Bound()
			if b.Max[0] > 180 {
				b.Min[0], b.Max[0] = -180, 180
			}
			out = append(out, widen(b, m))
		}
	}
	for _, p := range t.track {
		out = append(out, widen(orb.Bound{Min: p, Max: p}, t.trackM+m))
	}
	for _, b := range t.region {
		out = append(out, widen(b, m))
	}
	return out
}

// Widen grows a box by m metres on every side, clamped to the earth's range.
func Widen(b orb.Bound, m float64) orb.Bound { return widen(b, m) }

// widen grows a box by m metres on every side, clamped to the earth's range.
func widen(b orb.Bound, m float64) orb.Bound {
	dLat := m / metresPerDegree
	c := math.Max(math.Cos(math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))*math.Pi/180), 1e-3)
	dLon := dLat / c
	return orb.Bound{
		Min: orb.Point{math.Max(b.Min[0]-dLon, -180), math.Max(b.Min[1]-dLat, -90)},
		Max: orb.Point{math.Min(b.Max[0]+dLon, 180), math.Min(b.Max[1]+dLat, 90)},
	}
}

// Match says which target a position with the given precision (metres) falls in: the name of
// the first zone of the file it lies in or within precM of, else TargetTrack when it lies within
// the track distance plus precM of a track point. The (0,0) of receivers without a fix and
// out-of-range values never match.
func (t *Targets) Match(lat, lon, precM float64) (string, bool) {
	if t.Empty() {
		return "", false
	}
	f := geo.Fix{Lat: lat, Lon: lon, PrecisionM: precM}
	if !f.Valid() {
		return "", false
	}
	if t.zones != nil {
		if hits := t.zones.Match(f); len(hits) > 0 {
			return hits[0].Zone.Name, true
		}
	}
	if t.nearTrack(f, precM) {
		return TargetTrack, true
	}
	for _, b := range t.region {
		if widen(b, precM).Contains(orb.Point{lon, lat}) {
			return TargetRegion, true
		}
	}
	return "", false
}

// nearTrack reports whether f lies within the track distance plus precM of a track point.
func (t *Targets) nearTrack(f geo.Fix, precM float64) bool {
	reach := t.trackM + precM
	dLat := reach / metresPerDegree
	i := sort.Search(len(t.track), func(i int) bool { return t.track[i][1] >= f.Lat-dLat })
	for ; i < len(t.track) && t.track[i][1] <= f.Lat+dLat; i++ {
		p := t.track[i]
		if geo.DistanceM(f, geo.Fix{Lat: p[1], Lon: p[0]}) <= reach {
			return true
		}
	}
	return false
}
