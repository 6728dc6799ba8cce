package decoders

import "droneaudit/geo"

// Discard is a Sink that drops everything: for runs that only observe (the destination inventory
// on its own).
var Discard Sink = discard{}

type discard struct{}

func (discard) Fix(geo.Fix)         {}
func (discard) Note(Note)           {}
func (discard) Count(string, int64) {}
func (discard) Exposure(Exposure)   {}
