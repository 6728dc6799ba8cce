package audit

import (
	"cmp"
	"slices"

	"droneaudit/geo"
)

// Track is one flown path of the aircraft, thinned for the map of the reports: the positions of
// one input, decoder, channel and flow (or transmitter), in the order they were decoded.
type Track struct {
	Input   string      `json:"input"`
	Decoder string      `json:"decoder"`
	Channel geo.Channel `json:"channel"`
	// Source is the flow uid of a network track or the transmitter of a broadcast one.
	Source string `json:"source,omitempty"`
	// Fixes counts the positions behind the track; Points holds at most maxTrackPoints of them
	// ([longitude, latitude], rounded to 1e-6°, about 0.1 m), evenly thinned.
	Fixes  int64        `json:"fixes"`
	Points [][2]float64 `json:"points"`

	stride int64
}

// maxTrackPoints bounds the points kept per track, maxTracks the tracks kept per input: a map
// needs no more, and memory stays flat however long the flight.
const (
	maxTrackPoints = 1000
	maxTracks      = 64
)

// trackSet collects the tracks of one lane of an input. A flow is decoded by one lane, so the
// same key never comes from two lanes, and each track is thinned by its own count alone: the
// result does not depend on the number of shards (beyond maxTracks tracks in one input, which
// are counted in dropped).
type trackSet struct {
	tracks  []*Track
	last    int
	dropped int64
	// index finds a track by its key without comparing it with every track (flows by the
	// thousand, each its own source); rebuilt when nil.
	index map[trackID]int
}

type trackID struct {
	decoder string
	channel geo.Channel
	source  string
}

func trackSource(ev *geo.Evidence) string {
	switch {
	case ev.Network != nil:
		return ev.Network.FlowUID
	case ev.Broadcast != nil:
		return ev.Broadcast.Transmitter
	}
	return ""
}

// add keeps an aircraft position: every stride-th one, halving the points kept when the track is
// full.
func (s *trackSet) add(f *geo.Fix) {
	if f.Role != geo.RoleAircraft {
		return
	}
	ev := &f.Evidence
	src := trackSource(ev)
	var t *Track
	if s.last < len(s.tracks) {
		if c := s.tracks[s.last]; c.Decoder == ev.Decoder && c.Channel == ev.Channel && c.Source == src {
			t = c
		}
	}
	if t == nil {
		if s.index == nil {
			s.index = make(map[trackID]int, len(s.tracks))
			for j, c := range s.tracks {
				if _, dup := s.index[trackID{c.Decoder, c.Channel, c.Source}]; !dup {
					s.index[trackID{c.Decoder, c.Channel, c.Source}] = j // the first, as a search finds it
				}
			}
		}
		k := trackID{ev.Decoder, ev.Channel, src}
		i, ok := s.index[k]
		if !ok {
			if len(s.tracks) >= maxTracks {
				s.dropped++
				return
			}
			i = len(s.tracks)
			s.tracks = append(s.tracks, &Track{Input: ev.Input, Decoder: ev.Decoder, Channel: ev.Channel, Source: src, Points: [][2]float64{}, stride: 1})
			s.index[k] = i
		}
		s.last, t = i, s.tracks[i]
	}
	if t.Fixes%t.stride == 0 {
		if len(t.Points) == maxTrackPoints {
			for i := 0; i < maxTrackPoints/2; i++ {
				t.Points[i] = t.Points[2*i]
			}
			t.Points = t.Points[:maxTrackPoints/2]
			t.stride *= 2
		}
		if t.Fixes%t.stride == 0 {
			t.Points = append(t.Points, [2]float64{round(f.Lon, 6), round(f.Lat, 6)})
		}
	}
	t.Fixes++
}

// merge adds another lane's tracks, and orders them by decoder, channel and source.
func (s *trackSet) merge(o *trackSet) {
	s.tracks = append(s.tracks, o.tracks...)
	s.index = nil
	s.dropped += o.dropped
	slices.SortStableFunc(s.tracks, func(a, b *Track) int {
		return cmp.Or(cmp.Compare(a.Decoder, b.Decoder), cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Source, b.Source))
	})
	if len(s.tracks) > maxTracks {
		s.dropped += int64(len(s.tracks) - maxTracks)
		s.tracks = s.tracks[:maxTracks]
	}
}
