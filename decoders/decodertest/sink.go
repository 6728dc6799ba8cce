// Package decodertest provides a Sink that records everything a decoder reports, for tests.
package decodertest

import (
	"droneaudit/decoders"
	"droneaudit/geo"
)

// Sink records fixes, notes and counters in the order they arrive.
type Sink struct {
	Fixes     []geo.Fix
	Notes     []decoders.Note
	Exposures []decoders.Exposure
	Counts    map[string]int64
}

// Fix implements decoders.Sink.
func (s *Sink) Fix(f geo.Fix) { s.Fixes = append(s.Fixes, f) }

// Note implements decoders.Sink.
func (s *Sink) Note(n decoders.Note) { s.Notes = append(s.Notes, n) }

// Exposure implements decoders.Sink.
func (s *Sink) Exposure(e decoders.Exposure) { s.Exposures = append(s.Exposures, e) }

// Count implements decoders.Sink.
func (s *Sink) Count(name string, n int64) {
	if s.Counts == nil {
		s.Counts = map[string]int64{}
	}
	s.Counts[name] += n
}

// NotesWithCode returns the notes of one code.
func (s *Sink) NotesWithCode(code decoders.Code) []decoders.Note {
	var out []decoders.Note
	for _, n := range s.Notes {
		if n.Code == code {
			out = append(out, n)
		}
	}
	return out
}

// Counter only counts what a decoder reports: for benchmarks, where keeping every fix would
// measure the sink instead of the decoder.
type Counter struct{ Fixes, Notes, Exposures int }

// Fix implements decoders.Sink.
func (c *Counter) Fix(geo.Fix) { c.Fixes++ }

// Note implements decoders.Sink.
func (c *Counter) Note(decoders.Note) { c.Notes++ }

// Exposure implements decoders.Sink.
func (c *Counter) Exposure(decoders.Exposure) { c.Exposures++ }

// Count implements decoders.Sink.
func (c *Counter) Count(string, int64) {}
