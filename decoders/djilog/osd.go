package djilog

import (
	"encoding/binary"
	"math"

	"droneaudit/geo"
)

// osdRecord is the part of the OSD record (type 1) the audit uses. Layout: formats §9.1, from
// lvauvillier/dji-log-parser@88fcfc96:src/record/osd.rs and DJI's `dji_fc_osd_push`
// (fr_protocol.h); offsets 0–43 verified against the corpus truth CSV.
type osdRecord struct {
	Lon, Lat   float64 // degrees (stored as radians, longitude first)
	HeightM    float64 // barometric height above take-off, 0.1 m units
	VX, VY, VZ float64 // m/s, 0.1 m/s units
	GPSNum     int
	FlyTimeS   float64 // 0.1 s units
}

// osdMinLen covers every field read: up to flyTime at 42–43.
const osdMinLen = 44

func parseOSD(c []byte) osdRecord {
	le := binary.LittleEndian
	return osdRecord{
		Lon:      math.Float64frombits(le.Uint64(c[0:])) * radDeg,
		Lat:      math.Float64frombits(le.Uint64(c[8:])) * radDeg,
		HeightM:  float64(int16(le.Uint16(c[16:]))) / 10,
		VX:       float64(int16(le.Uint16(c[18:]))) / 10,
		VY:       float64(int16(le.Uint16(c[20:]))) / 10,
		VZ:       float64(int16(le.Uint16(c[22:]))) / 10,
		GPSNum:   int(c[36]),
		FlyTimeS: float64(le.Uint16(c[42:])) / 10,
	}
}

func (r *run) osd(rec record, c []byte) {
	r.flushFrame()
	r.frame.osd++
	if len(c) < osdMinLen {
		r.short(rec, "OSD", len(c), osdMinLen)
		return
	}
	o := parseOSD(c)
	if noFix(o.Lat, o.Lon) {
		r.noFix.osd.add(rec)
		return
	}
	f := geo.Fix{Lat: o.Lat, Lon: o.Lon, HasAlt: true, AltM: o.HeightM, AltRef: "take-off",
		Role: geo.RoleAircraft, PrecisionM: precisionF64,
		Evidence: r.in.Evidence(Name, r.locator(rec), rec.Offset, geo.ChannelOnDevice)}
	if !f.Valid() {
		r.noFix.osdBad.add(rec)
		return
	}
	f.Evidence.Message = "OSD"
	f.Evidence.Encoding = "f64 radians, lon first"
	if r.firstA == nil {
		fa := f
		r.firstA = &fa
	}
	r.add(f)
	r.frame.aircraft = len(r.frame.pending) == 1
}
