package djilog

import (
	"encoding/binary"
	"fmt"
	"math"

	"droneaudit/geo"
)

// appGPS is the APP_GPS record (type 14): the pilot's phone. Formats §9.3, from DJI's
// `DJIFlightRecordAppLocation {double latitude; double longitude; float horizontalAccuracy;}`:
// degrees, latitude first (lvauvillier's app_gps.rs has the order wrong).
type appGPS struct {
	Lat, Lon  float64
	AccuracyM float32 // as the phone reported it; negative values occur
}

const appGPSMinLen = 20

func parseAppGPS(c []byte) appGPS {
	le := binary.LittleEndian
	return appGPS{Lat: math.Float64frombits(le.Uint64(c[0:])), Lon: math.Float64frombits(le.Uint64(c[8:])),
		AccuracyM: math.Float32frombits(le.Uint32(c[16:]))}
}

func (r *run) appGPS(rec record, c []byte) {
	if len(c) < appGPSMinLen {
		r.short(rec, "APP_GPS", len(c), appGPSMinLen)
		return
	}
	a := parseAppGPS(c)
	if noFix(a.Lat, a.Lon) {
		r.noFix.app.add(rec)
		return
	}
	if r.pilot.same(a.Lat, a.Lon, 0) {
		return
	}
	f := geo.Fix{Lat: a.Lat, Lon: a.Lon, Role: geo.RolePilot, PrecisionM: precisionF64,
		Evidence: r.in.Evidence(Name, r.locator(rec), rec.Offset, geo.ChannelOnDevice)}
	if !f.Valid() {
		r.noFix.app.add(rec)
		return
	}
	f.Evidence.Message = "APP_GPS"
	f.Evidence.Encoding = "f64 degrees, lat first"
	f.Evidence.Note = fmt.Sprintf("pilot phone position, accuracy %g m as reported", a.AccuracyM)
	if r.firstP == nil {
		fp := f
		r.firstP = &fp
	}
	r.add(f)
}

// rcGPS is the RC_GPS record (type 11): DJI's packed `dji_rc_gps_info_push` (formats §9.4). The
// coordinate units are undocumented and only all-zero records have been seen; degE7 is assumed
// and the raw integers travel with the fix.
type rcGPS struct {
	LatRaw, LonRaw int32
	GPSNum         int
	Valid          uint16
}

const rcGPSMinLen = 30

func parseRCGPS(c []byte) rcGPS {
	le := binary.LittleEndian
	return rcGPS{LatRaw: int32(le.Uint32(c[7:])), LonRaw: int32(le.Uint32(c[11:])), GPSNum: int(c[23]),
		Valid: le.Uint16(c[28:])}
}

func (r *run) rcGPS(rec record, c []byte) {
	if len(c) < rcGPSMinLen {
		r.short(rec, "RC_GPS", len(c), rcGPSMinLen)
		return
	}
	g := parseRCGPS(c)
	lat, lon := float64(g.LatRaw)/1e7, float64(g.LonRaw)/1e7
	if noFix(lat, lon) {
		r.noFix.rc.add(rec)
		return
	}
	if r.rc.same(lat, lon, 0) {
		return
	}
	f := geo.Fix{Lat: lat, Lon: lon, Role: geo.RoleController, PrecisionM: geo.PrecisionDegE7,
		Evidence: r.in.Evidence(Name, r.locator(rec), rec.Offset, geo.ChannelOnDevice)}
	if !f.Valid() {
		r.noFix.rc.add(rec)
		return
	}
	f.Evidence.Message = "RC_GPS"
	f.Evidence.Encoding = "i32 degE7 (assumed)"
	f.Evidence.Note = fmt.Sprintf("units unverified: raw lat %d, lon %d, valid flag %d, %d satellites", g.LatRaw, g.LonRaw, g.Valid, g.GPSNum)
	r.add(f)
}
