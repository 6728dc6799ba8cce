package csvlog

import (
	"bytes"
	"strings"

	"droneaudit/geo"
)

// column is one header cell, split into its group ("OSD" in "OSD.latitude"), field and unit
// ("feet" in "height_above_takeoff(feet)", "ft" in "OSD.height [ft]").
type column struct {
	raw   string
	group string // lower case, "" when the name has no group
	field string // lower case
	unit  string // lower case, "" when none
}

// splitName parses a header cell. Airdata writes "name(unit)" with some names led by a space
// (formats §14.1); PhantomHelp writes "GROUP.field [unit]" (formats §14.2).
func splitName(raw []byte) column {
	name := strings.TrimSpace(string(bytes.Trim(bytes.TrimSpace(raw), `"`)))
	c := column{raw: name}
	s := strings.ToLower(name)
	for _, br := range [...][2]byte{{'(', ')'}, {'[', ']'}} {
		if strings.HasSuffix(s, string(br[1])) {
			if i := strings.LastIndexByte(s, br[0]); i >= 0 {
				c.unit = strings.TrimSpace(s[i+1 : len(s)-1])
				s = strings.TrimSpace(s[:i])
				break
			}
		}
	}
	if i := strings.IndexByte(s, '.'); i > 0 {
		c.group, s = s[:i], s[i+1:]
	}
	c.field = strings.TrimSpace(s)
	return c
}

// roleOfGroup maps a column group to the role of the positions it holds. TxtlogToCsv,
// node-djiparsetxt and dji-log-parser name their groups after the flight-record records
// (formats §14.2, §14.3): OSD is the aircraft, HOME the home point, APP_GPS the pilot's phone,
// RC_GPS the remote controller, DETAILS the take-off point of the summary.
func roleOfGroup(g string) (geo.Role, bool) {
	switch g {
	case "", "osd", "gps", "position", "aircraft", "drone":
		return geo.RoleAircraft, true
	case "home":
		return geo.RoleHome, true
	case "app_gps", "appgps", "app", "pilot", "phone":
		return geo.RolePilot, true
	case "rc_gps", "rcgps", "rc":
		return geo.RoleController, true
	case "details":
		return geo.RoleTakeoff, true
	}
	return "", false
}

func isLatName(f string) bool {
	switch f {
	case "latitude", "lat", "gps_lat", "gps_latitude", "gps latitude", "latitude_deg", "lat_deg":
		return true
	}
	return false
}

func isLonName(f string) bool {
	switch f {
	case "longitude", "longtitude", "lon", "lng", "long", "gps_lon", "gps_lng", "gps_long", "gps_longitude", "gps longitude", "longitude_deg", "lon_deg":
		return true
	}
	return false
}

// angleScale converts a latitude/longitude column's unit to degrees.
func angleScale(unit string) (float64, bool) {
	switch unit {
	case "", "deg", "degree", "degrees", "°", "dd", "wgs84":
		return 1, true
	case "rad", "radian", "radians":
		return 180 / 3.141592653589793, true
	case "dege7", "1e-7 deg", "deg*1e7", "e7":
		return 1e-7, true
	}
	return 0, false
}

// lengthScale converts a length unit to metres; an empty unit is taken as metres.
func lengthScale(unit string) (float64, bool) {
	switch unit {
	case "", "m", "meter", "meters", "metre", "metres":
		return 1, true
	case "ft", "feet", "foot":
		return 0.3048, true
	}
	return 0, false
}

// altitudeKind says what a column's height is measured from, by name; msl columns are
// preferred over heights above take-off because they compare with terrain.
func altitudeKind(f string) (ref string, rank int) {
	switch f {
	case "altitude_above_sealevel", "altitude_msl", "alt_msl", "altitude_amsl", "gps_altitude", "ele", "elevation", "altitude", "alt", "abs_alt":
		return "msl", 2
	case "height_above_takeoff", "height", "rel_alt", "relative_altitude", "height_above_home":
		return "take-off", 1
	}
	return "", 0
}

// isTimeName recognises the columns that may hold an absolute date and/or time.
func isTimeName(f string) bool {
	switch f {
	case "datetime", "date_time", "date time", "timestamp", "time", "gps_time", "utc_time", "time_utc", "date",
		"updatetime", "update_time", "datetimeutc", "datetime_utc", "utc", "localtime", "local_time":
		return true
	}
	return false
}

// isIdentityName picks the columns whose values tell a reader who flew: serial numbers, the
// aircraft's name and the reverse-geocoded place names of the summary (formats §12).
func isIdentityName(f string) bool {
	return strings.HasSuffix(f, "sn") || strings.Contains(f, "serial") || f == "aircraftname" || f == "aircraft_name" ||
		f == "street" || f == "citypart" || f == "city" || f == "area" || f == "country"
}

// identityKey names an identity column in exposures: "aircraftSn" becomes
// "aircraft_serial", as the other decoders name serials. The first non-empty value wins, so the
// summary's (DETAILS) serial is kept over RECOVER's, which node-djiparsetxt splits (formats §9.6).
func identityKey(f string) string {
	if f == "aircraftname" {
		return "aircraft_name"
	}
	if strings.HasSuffix(f, "sn") && len(f) > 2 {
		return strings.TrimSuffix(strings.TrimSuffix(f, "sn"), "_") + "_serial"
	}
	return f
}
