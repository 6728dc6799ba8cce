package djilog

import (
	"encoding/binary"
	"math"
	"time"

	"droneaudit/geo"
)

// Records are interleaved in ~100 ms frames, each begun by an OSD record (formats §4,
// lvauvillier `records_to_frames`). The only per-frame wall clock is the CUSTOM record (§9.5),
// which follows the OSD of its frame, so the fixes of a frame are held until the frame ends and
// then stamped with its time.

const (
	framePeriod = 100 * time.Millisecond // OSD rate: 10 Hz (formats §3.2 totalTime note)
	maxPending  = 16                     // fixes held per frame; more are emitted at once
)

// precisionF64 is the half-cell, in metres, of an f64 coordinate: far below a millimetre, so a
// nominal millimetre is used.
const precisionF64 = 0.001

type frameState struct {
	pending    []geo.Fix
	osd        int // OSD frames begun
	hasCustom  bool
	custom     time.Time
	lastCustom time.Time // time of the last frame that had a CUSTOM record
	since      int       // frames since that one
	shooting   bool      // CUSTOM cameraShoot of the previous CUSTOM record
	photo      bool      // a photo was taken in this frame (cameraShoot rose)
	aircraft   bool      // pending[0] is this frame's aircraft fix
}

// add holds a fix until its frame ends.
func (r *run) add(f geo.Fix) {
	if len(r.frame.pending) >= maxPending {
		r.flushFrame()
	}
	r.frame.pending = append(r.frame.pending, f)
}

// frameTime is the best time of the current frame: its CUSTOM time, else the last CUSTOM time
// plus 100 ms per frame, else the details start plus 100 ms per OSD frame (formats §9.5).
func (r *run) frameTime() time.Time {
	fs := &r.frame
	switch {
	case fs.hasCustom:
		return fs.custom
	case !fs.lastCustom.IsZero():
		return fs.lastCustom.Add(time.Duration(fs.since+1) * framePeriod)
	case r.det != nil:
		return r.det.Start().Add(time.Duration(max(fs.osd-1, 0)) * framePeriod)
	}
	return time.Time{}
}

// flushFrame emits the held fixes with the frame's time and starts the next frame.
func (r *run) flushFrame() {
	fs := &r.frame
	if fs.photo && fs.aircraft && len(fs.pending) > 0 && fs.pending[0].Role == geo.RoleAircraft {
		// CUSTOM cameraShoot marks the frame in which a photo was taken (one record per photo:
		// their number equals the details' captureNum in the corpus), so the photo was taken at
		// this frame's aircraft position.
		p := fs.pending[0]
		p.Role = geo.RolePhoto
		p.Evidence.Message = "OSD + CUSTOM cameraShoot"
		p.Evidence.Note = "photo taken at the aircraft position of this frame"
		fs.pending = append(fs.pending, p)
		r.sink.Count("photos_taken", 1)
	}
	fs.photo, fs.aircraft = false, false
	if len(fs.pending) > 0 {
		t := r.frameTime()
		for i := range fs.pending {
			f := fs.pending[i]
			if f.Time.IsZero() {
				f.Time = t
			}
			r.sink.Fix(f)
		}
		fs.pending = fs.pending[:0]
	}
	if fs.hasCustom {
		fs.lastCustom, fs.since, fs.hasCustom = fs.custom, 0, false
	} else if !fs.lastCustom.IsZero() {
		fs.since++
	}
}

// custom reads the CUSTOM record's UTC time (formats §9.5: u64 ms at content offset 10).
func (r *run) custom(c []byte) {
	if len(c) < 18 {
		return
	}
	ms := binary.LittleEndian.Uint64(c[10:])
	if ms > math.MaxInt64 {
		return
	}
	t := time.UnixMilli(int64(ms)).UTC()
	if t.Before(earliestStart) || t.After(r.now.Add(24*time.Hour)) {
		return
	}
	r.frame.hasCustom, r.frame.custom = true, t
	shoot := c[0] != 0
	if shoot && !r.frame.shooting {
		r.frame.photo = true
	}
	r.frame.shooting = shoot
}

// radDeg converts radians to degrees.
const radDeg = 180 / math.Pi

// noFix reports the receivers' "no fix" values: both coordinates within 1e-6 of zero (formats
// §9.1: 1e-10 to 1e-9 rad occur before a fix).
func noFix(lat, lon float64) bool { return math.Abs(lat) < 1e-6 && math.Abs(lon) < 1e-6 }

// tally counts records that held no usable position, for one note per kind.
type tally struct {
	n        int64
	firstOff int64
	firstRec int
}

func (t *tally) add(rec record) {
	if t.n == 0 {
		t.firstOff, t.firstRec = rec.Offset, rec.Index
	}
	t.n++
}

type noFixTally struct {
	osd, osdBad, home, homeUnset, app, rc tally
}

// lastPos remembers the last emitted position of a slowly changing role, so that a home point
// repeated in thousands of records is reported once per change.
type lastPos struct {
	set           bool
	lat, lon, alt float64
}

func (l *lastPos) same(lat, lon, alt float64) bool {
	if l.set && l.lat == lat && l.lon == lon && l.alt == alt {
		return true
	}
	*l = lastPos{set: true, lat: lat, lon: lon, alt: alt}
	return false
}
