package decoders

import (
	"time"

	"droneaudit/geo"
)

// HeldFixes passes a log's fixes to a sink, holding back those logged before the log's clock was
// anchored: autopilot logs stamp messages with time since boot and learn UTC only from their
// first GPS time, so earlier positions get their UTC once it arrives. It also keeps the first
// and last UTC time of what it passed on, for the log's summary.
type HeldFixes struct {
	Sink        Sink
	First, Last time.Time
	held        []heldFix
}

type heldFix struct {
	fix  geo.Fix
	boot time.Duration
}

// maxHeld bounds the fixes held back while waiting for the clock (about 2 MB); later ones go
// on without a time.
const maxHeld = 8192

// Hold keeps f, logged at boot time boot, until Release; it reports false (and keeps nothing)
// when the buffer is full.
func (h *HeldFixes) Hold(f geo.Fix, boot time.Duration) bool {
	if len(h.held) >= maxHeld {
		return false
	}
	h.held = append(h.held, heldFix{f, boot})
	return true
}

// Release passes on the held fixes, timing the untimed ones with utc (nil when the clock never
// became known: they go on without a time).
func (h *HeldFixes) Release(utc func(boot time.Duration) time.Time) {
	for _, p := range h.held {
		if p.fix.Time.IsZero() && utc != nil {
			p.fix.Time = utc(p.boot)
		}
		h.Emit(p.fix)
	}
	h.held = h.held[:0]
}

// Emit passes f on now.
func (h *HeldFixes) Emit(f geo.Fix) {
	if !f.Time.IsZero() {
		if h.First.IsZero() || f.Time.Before(h.First) {
			h.First = f.Time
		}
		if f.Time.After(h.Last) {
			h.Last = f.Time
		}
	}
	h.Sink.Fix(f)
}
