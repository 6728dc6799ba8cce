package djilog

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// What a reader of the file learns without any key (formats §12): the take-off point, the pilot
// position, serials and names, the time zone implied by the file name, the place names and the
// moment-picture positions. Each kind is one decoders.Exposure whose Fact names the kind.

// Exposure fact kinds, the value of decoders.Exposure.Fact.
const (
	FactTakeoff  = "take-off"
	FactPilot    = "pilot-position"
	FactIdentity = "identity"
	FactTimeZone = "time-zone"
	FactPlaces   = "place-names"
	FactPictures = "moment-pictures"
	FactFlight   = "flight-summary"
)

// emitDetails reports the details block's positions: the take-off point and the moment-picture
// coordinates, both readable in every version.
func (r *run) emitDetails() {
	d := r.det
	if d == nil {
		return
	}
	ev := func(loc, enc string) geo.Evidence {
		e := r.in.Evidence(Name, loc, r.detOff, geo.ChannelOnDevice)
		e.Message, e.Encoding = "details", enc
		return e
	}
	if !noFix(d.Lat, d.Lon) {
		f := geo.Fix{Lat: d.Lat, Lon: d.Lon, Role: geo.RoleTakeoff, PrecisionM: precisionF64, Time: d.Start(),
			Evidence: ev("details", "f64 degrees, lon first")}
		f.Evidence.Note = "first GPS fix of the flight; altitude is the barometric take-off altitude, stored in 0.1 m"
		alt := float64(d.TakeOffAltRaw) / 10
		if alt != 0 && !math.IsNaN(alt) && !math.IsInf(alt, 0) {
			f.HasAlt, f.AltM, f.AltRef = true, alt, "msl"
		}
		if f.Valid() {
			r.sink.Fix(f)
		}
	} else {
		r.note(decoders.Info, decoders.CodeNoTakeoffFix, r.detOff, "details",
			"the details block has no take-off fix (the flight started without GPS); no position is reported for it", nil)
	}
	for i := range imageSlots {
		lat, lon := d.PicLat[i]*radDeg, d.PicLon[i]*radDeg
		if noFix(lat, lon) {
			continue
		}
		f := geo.Fix{Lat: lat, Lon: lon, Role: geo.RolePhoto, PrecisionM: precisionF64, Time: d.Start(),
			Evidence: ev("details picture slot "+strconv.Itoa(i), "f64 radians")}
		f.Evidence.Note = "moment-picture position; the time is the flight start, the picture's own time is not recorded"
		if f.Valid() { // a slot can hold garbage (formats §3.2)
			r.sink.Fix(f)
		}
	}
}

// exposure reports one fact, located at the details block like the notes of this decoder.
func (r *run) exposure(fact, msg string, values map[string]string) {
	r.sink.Exposure(decoders.Exposure{Fact: fact, Message: r.in.Path + ": " + msg, Values: values, Locator: "details", Offset: r.detOff})
}

func ff(v float64) string { return strconv.FormatFloat(v, 'f', 9, 64) }

// finish reports the exposures, the positions that were missing and, for v13+, the keys.
func (r *run) finish() {
	d := r.det
	if d != nil && !noFix(d.Lat, d.Lon) {
		r.exposure(FactTakeoff, "take-off point (first GPS fix) readable without keys",
			map[string]string{"lat": ff(d.Lat), "lon": ff(d.Lon), "start_utc": d.Start().Format(time.RFC3339Nano), "source": "details"})
	} else if r.firstA != nil {
		r.exposure(FactTakeoff, "first aircraft position readable from the records",
			map[string]string{"lat": ff(r.firstA.Lat), "lon": ff(r.firstA.Lon), "source": "first OSD fix", "locator": r.firstA.Evidence.Locator})
	}
	if r.firstP != nil {
		r.exposure(FactPilot, "pilot phone position (APP_GPS) readable without keys",
			map[string]string{"lat": ff(r.firstP.Lat), "lon": ff(r.firstP.Lon), "locator": r.firstP.Evidence.Locator})
	}
	if a := r.identityAttrs(); len(a) > 0 {
		r.exposure(FactIdentity, "aircraft identity and serial numbers readable without keys", a)
	}
	if d != nil {
		if a := r.timeZone(d.Start()); a != nil {
			r.exposure(FactTimeZone, "the file name's local time against the UTC start gives the pilot's time zone", a)
		}
		if d.Locality != "" || d.Region != "" {
			r.exposure(FactPlaces, "place names from the app's reverse geocoding", map[string]string{"locality": d.Locality, "region": d.Region})
		}
		r.exposure(FactFlight, "flight summary", map[string]string{
			"start_utc": d.Start().Format(time.RFC3339Nano), "total_time_s": strconv.FormatFloat(float64(d.TotalTimeMS)/1000, 'f', 1, 64),
			"total_distance_m": strconv.FormatFloat(float64(d.TotalDistanceM), 'f', 1, 32),
			"max_height_m":     strconv.FormatFloat(float64(d.MaxHeightM), 'f', 1, 32),
			"photos":           strconv.Itoa(int(d.CaptureNum)), "record_line_count": strconv.Itoa(int(d.LineCount))})
		if a := r.pictureAttrs(); a != nil {
			r.exposure(FactPictures, "moment pictures (camera frames) and their positions readable without keys", a)
		}
	}
	r.missingNotes()
	if r.p.version >= firstAuxVersion {
		r.keysNotes()
	}
}

func (r *run) pictureAttrs() map[string]string {
	pics := r.pictures()
	a := map[string]string{}
	for i := range imageSlots {
		lat, lon := r.det.PicLat[i]*radDeg, r.det.PicLon[i]*radDeg
		if !noFix(lat, lon) && math.Abs(lat) <= 90 && math.Abs(lon) <= 180 {
			a["slot"+strconv.Itoa(i)+"_lat"] = ff(lat)
			a["slot"+strconv.Itoa(i)+"_lon"] = ff(lon)
		}
	}
	if len(pics) == 0 && len(a) == 0 {
		return nil
	}
	a["images"] = strconv.Itoa(len(pics))
	return a
}

// fileTime matches the device-local start time in a flight record's file name (formats §1).
var fileTime = regexp.MustCompile(`DJIFlightRecord_(\d{4}-\d{2}-\d{2})_\[(\d{2})-(\d{2})-(\d{2})\]`)

// timeZone derives the UTC offset of the pilot's device from the file name's local time and the
// UTC start (formats §12), rounded to 15 minutes. The name is only a hint: it may be renamed.
func (r *run) timeZone(start time.Time) map[string]string {
	m := fileTime.FindStringSubmatch(filepath.Base(r.in.Path))
	if m == nil {
		return nil
	}
	local, err := time.Parse("2006-01-02 15 04 05", m[1]+" "+m[2]+" "+m[3]+" "+m[4])
	if err != nil {
		return nil
	}
	diff := local.Sub(start.Truncate(time.Second))
	q := 15 * time.Minute
	off := diff.Round(q)
	if off < -12*time.Hour || off > 14*time.Hour || (diff-off).Abs() > 2*time.Minute {
		return nil
	}
	sign, abs := "+", off
	if off < 0 {
		sign, abs = "-", -off
	}
	return map[string]string{"utc_offset": fmt.Sprintf("%s%02d:%02d", sign, int(abs.Hours()), int(abs.Minutes())%60),
		"local_time": local.Format("2006-01-02T15:04:05"), "start_utc": start.Format(time.RFC3339Nano),
		"file_name": filepath.Base(r.in.Path)}
}

// missingNotes reports, once per kind, the records that held no position.
func (r *run) missingNotes() {
	one := func(t tally, code decoders.Code, what string) {
		if t.n == 0 {
			return
		}
		r.sink.Count(string(code), t.n)
		r.note(decoders.Info, code, t.firstOff, "record "+strconv.Itoa(t.firstRec)+" @ 0x"+strconv.FormatInt(t.firstOff, 16),
			fmt.Sprintf("%d %s (first at offset %d); no position reported for them", t.n, what, t.firstOff), nil)
	}
	one(r.noFix.osd, decoders.CodeOSDNoFix, "OSD records carry no GPS fix")
	one(r.noFix.osdBad, decoders.CodeOSDBadPosition, "OSD records carry an out-of-range position")
	one(r.noFix.homeUnset, decoders.CodeHomeNotSet, "HOME records say the home point is not set yet")
	one(r.noFix.home, decoders.CodeHomeNoFix, "HOME records carry no usable position")
	one(r.noFix.app, decoders.CodeAppGPSNoFix, "APP_GPS records carry no usable phone position")
	one(r.noFix.rc, decoders.CodeRCGPSNoFix, "RC_GPS records carry no usable position")
}

// keysNotes says once that the v13+ track needs DJI's keys, and what the key blobs are.
func (r *run) keysNotes() {
	k := &r.keys
	attrs := map[string]string{
		"encrypted_records": strconv.FormatInt(k.encrypted, 10),
		"osd_records":       strconv.FormatInt(r.counts[typeOSD], 10),
		"key_blobs":         strconv.FormatInt(k.blobs, 10),
		"feature_points":    k.featureList(),
		"keychains":         strconv.FormatInt(r.counts[typeKeychainSwitch]+1, 10),
		"version_category":  strconv.Itoa(r.aux.versionCategory),
		"app_family":        departmentName(r.aux.department),
	}
	r.note(decoders.Warning, decoders.CodeNeedsKeys, r.recStart, "records",
		fmt.Sprintf("format v%d: %d records (%d OSD) are AES-encrypted with keys only DJI's keychain API hands out; the aircraft track, home point and pilot position cannot be read offline (details, record skeleton, key blobs and pictures were decoded)",
			r.p.version, k.encrypted, r.counts[typeOSD]), attrs)
}
