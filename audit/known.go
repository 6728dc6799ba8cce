package audit

import (
	"droneaudit/audit/search"
	"droneaudit/geo"
)

// The memory the known-value search asks (search.Known): the off-device positions the
// structural decoders of a lane reported, per flow uid or transmitter, so that the search does
// not report again what a decoder understood. A lane's flows are all in that lane, so the memory
// is the lane's own and needs no lock.

// knownPerKey bounds the positions remembered per flow: the search asks right after the decoder
// of the same bytes, or when the flow ends.
const knownPerKey = 32

// knownSlackM widens the match of a search hit with a decoder's position: both read the same
// bytes, but a decoder applies the format's own scale where the search applies the exact one.
// DJI DroneID divides radians×1e7 by 174533 (Bender, "Drone Security and the Mysterious Case of
// DJI's DroneID", NDSS 2023) where the exact divisor is 174532.925: 0.43 ppm, about 2.4 m at
// 51° N. Two positions of one flow or transmitter 5 m apart are the same report.
const knownSlackM = 5

// maxKnownKeys bounds the flows remembered at once in a lane; flows are forgotten as they end.
const maxKnownKeys = 1 << 14

type knownRing struct {
	// pts grows to knownPerKey points (lat, lon, precision), then the oldest is overwritten: most
	// flows carry a few positions, and a ring of its full size for each cost more than the rest
	// of the remembering.
	pts [][3]float64
	n   int
	// first holds the first points, so that a flow with few costs one allocation.
	first [2][3]float64
}

// remember keeps a structural off-device fix.
func (s *inputSink) remember(f geo.Fix) {
	if f.Evidence.Decoder == search.Decoder || !f.Evidence.Channel.OffDevice() {
		return
	}
	key := knownKey(f)
	if key == "" {
		return
	}
	r := s.known[key]
	if r == nil {
		if len(s.known) >= maxKnownKeys {
			return
		}
		if s.known == nil {
			s.known = map[string]*knownRing{}
		}
		r = &knownRing{}
		r.pts = r.first[:0]
		s.known[key] = r
	}
	if p := [3]float64{f.Lat, f.Lon, f.PrecisionM}; len(r.pts) < knownPerKey {
		r.pts = append(r.pts, p)
	} else {
		r.pts[r.n%knownPerKey] = p
	}
	r.n++
}

func knownKey(f geo.Fix) string {
	switch {
	case f.Evidence.Network != nil:
		return f.Evidence.Network.FlowUID
	case f.Evidence.Broadcast != nil:
		return f.Evidence.Broadcast.Transmitter
	}
	return ""
}

// Known implements search.Known.
func (s *inputSink) Known(key string, lat, lon, tolM float64) bool {
	r := s.known[key]
	if r == nil {
		return false
	}
	for i := range min(r.n, knownPerKey) {
		p := r.pts[i]
		if geo.DistanceM(geo.Fix{Lat: lat, Lon: lon}, geo.Fix{Lat: p[0], Lon: p[1]}) <= tolM+p[2]+knownSlackM {
			return true
		}
	}
	return false
}

// Forget implements search.Known.
func (s *inputSink) Forget(key string) { delete(s.known, key) }

// SearchDecoded implements bodies.Searcher: bytes a decoder of the lane decoded out of a payload
// (an HTTP body with its content coding undone) go to the known-value search, which the wire
// bytes alone never showed them to.
func (s *inputSink) SearchDecoded(ev geo.Evidence, b []byte) {
	if s.search != nil {
		s.search.SearchDecoded(s.lane, s, ev, b)
	}
}
