package djilog

import (
	"encoding/binary"
	"math"

	"droneaudit/geo"
)

// homeRecord is the HOME record (type 2): formats §9.2, from lvauvillier home.rs and DJI's
// `dji_fc_fc_osd_lowfreq_push`. Longitude comes first, in radians; the altitude is in 0.1 m.
type homeRecord struct {
	Lon, Lat float64 // degrees
	AltM     float64
	unset    bool // lon = lat = 800000.0 rad: the home point is not recorded yet
}

const homeMinLen = 20

// homeUnset is the value HOME records carry before the home point is set (formats §9.2).
const homeUnset = 800000.0

func parseHome(c []byte) homeRecord {
	le := binary.LittleEndian
	lonR := math.Float64frombits(le.Uint64(c[0:]))
	latR := math.Float64frombits(le.Uint64(c[8:]))
	return homeRecord{Lon: lonR * radDeg, Lat: latR * radDeg,
		AltM:  float64(math.Float32frombits(le.Uint32(c[16:]))) / 10,
		unset: lonR == homeUnset && latR == homeUnset}
}

func (r *run) homeRecord(rec record, c []byte) {
	if len(c) < homeMinLen {
		r.short(rec, "HOME", len(c), homeMinLen)
		return
	}
	h := parseHome(c)
	switch {
	case h.unset:
		r.noFix.homeUnset.add(rec)
		return
	case noFix(h.Lat, h.Lon):
		r.noFix.home.add(rec)
		return
	}
	if r.home.same(h.Lat, h.Lon, h.AltM) {
		return
	}
	f := geo.Fix{Lat: h.Lat, Lon: h.Lon, HasAlt: !math.IsNaN(h.AltM) && !math.IsInf(h.AltM, 0), AltM: h.AltM, AltRef: "msl",
		Role: geo.RoleHome, PrecisionM: precisionF64,
		Evidence: r.in.Evidence(Name, r.locator(rec), rec.Offset, geo.ChannelOnDevice)}
	if !f.HasAlt {
		f.AltM = 0
	}
	if !f.Valid() {
		r.noFix.home.add(rec)
		return
	}
	f.Evidence.Message = "HOME"
	f.Evidence.Encoding = "f64 radians, lon first"
	f.Evidence.Note = "barometric altitude, stored in 0.1 m"
	r.add(f)
}
