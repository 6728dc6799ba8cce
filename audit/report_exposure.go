package audit

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"droneaudit/decoders"
)

// The facts a reader of an on-device file learns are written in words: each value of an
// exposure under a plain label, positions as "latitude, longitude", UTC times in the report's
// time zone and device clocks said to be so, instead of the decoders' key=value pairs.

// exposureLabels names the values decoders report. A key not listed is shown with its words.
var exposureLabels = map[string]string{
	"positions":           "positions in the file",
	"recorded_local_time": "recorded at (the camera's clock, time zone unknown)",
	"start_time_utc":      "flight start",
	"start_utc":           "flight start",
	"start_time_local":    "flight start (the device's clock, time zone unknown)",
	"start_time_unstated": "flight start (time zone not stated)",
	"first_utc":           "first position at",
	"last_utc":            "last position at",
	"local_time":          "local time in the file name",
	"utc_offset":          "the pilot's UTC offset",
	"utc_offset_s":        "UTC offset of the log (s)",
	"file_name":           "file name",
	"account_hash_field":  "DJI account identifier (hashed)",
	"aircraft_name":       "aircraft name",
	"aircraft_serial":     "aircraft serial number",
	"app_family":          "app",
	"app_platform":        "phone platform",
	"app_version":         "app version",
	"battery_serial":      "battery serial number",
	"camera_serial":       "camera serial number",
	"rc_serial":           "remote-controller serial number",
	"product":             "product",
	"product_type":        "product type code",
	"uuid":                "flight identifier",
	"locality":            "locality",
	"region":              "region",
	"names":               "place names",
	"max_height_m":        "maximum height (m)",
	"total_distance_m":    "distance flown (m)",
	"total_time_s":        "flight time (s)",
	"photos":              "photos taken",
	"record_line_count":   "position records",
	"images":              "embedded pictures",
	"board":               "flight-controller board",
	"board_uid":           "board serial number (UID)",
	"board_id":            "board type id",
	"firmware":            "firmware",
	"firmware_git":        "firmware commit",
	"firmware_branch":     "firmware branch",
	"mcu":                 "processor",
	"sys_uuid":            "system UUID",
	"px4_guid":            "PX4 hardware GUID",
	"mavlink_sysid":       "MAVLink system id",
	"system":              "autopilot",
	"creator":             "written by",
	"ssid":                "Wi-Fi network name",
	"source":              "read from",
	"locator":             "where in the file",
	"device_serial":       "device serial number",
}

// Position values: a key holding "lat,lon", or a pair of keys ending in _lat and _lon.
var positionLabels = map[string]string{
	"first_position": "first position", "first_waypoint": "first waypoint", "home_point": "home point", "home": "home point",
	"take_off_point": "take-off point", "pilot_point": "pilot position", "photo_point": "first photo position",
	"remote_controller_point": "remote-controller position", "aircraft_point": "first aircraft position",
	"": "position", "exif": "photo position (EXIF)", "aircraft": "aircraft position", "latitude/longitude": "position",
}

var slotKey = regexp.MustCompile(`^slot(\d+)$`)

// exposure writes one exposure: its sentence, then its values one per line.
func (t *textOut) exposure(n decoders.Note, path string) {
	t.line("      - %s", trimPath(n.Message, path))
	type item struct{ label, value string }
	var pos, rest []item
	used := map[string]bool{"fact": true}
	// Pairs of keys: lat/lon, slot0_lat/slot0_lon, exif_lat/exif_lon, latitude/longitude.
	for k := range n.Attrs {
		base, ok := strings.CutSuffix(k, "lat")
		if !ok {
			continue
		}
		lonKey := base + "lon"
		if _, ok := n.Attrs[lonKey]; !ok {
			continue
		}
		name := strings.TrimSuffix(base, "_")
		label := positionLabels[name]
		if m := slotKey.FindStringSubmatch(name); m != nil {
			i, _ := strconv.Atoi(m[1])
			label = fmt.Sprintf("picture %d position", i+1)
		}
		if label == "" {
			label = words(name) + " position"
		}
		pos = append(pos, item{label, latLonText(n.Attrs[k] + "," + n.Attrs[lonKey])})
		used[k], used[lonKey] = true, true
	}
	if lat, ok := n.Attrs["latitude"]; ok {
		if lon, ok := n.Attrs["longitude"]; ok {
			pos = append(pos, item{"position", latLonText(lat + "," + lon)})
			used["latitude"], used["longitude"] = true, true
		}
	}
	for k, v := range n.Attrs {
		if used[k] {
			continue
		}
		if label, ok := positionLabels[k]; ok && k != "" && strings.Contains(v, ",") {
			pos = append(pos, item{label, latLonText(v)})
			continue
		}
		label, ok := exposureLabels[k]
		if !ok {
			label = words(k)
		}
		rest = append(rest, item{label, t.valueText(k, v)})
	}
	byLabel := func(a, b item) int { return cmp.Or(cmp.Compare(a.label, b.label), cmp.Compare(a.value, b.value)) }
	slices.SortFunc(pos, byLabel)
	slices.SortFunc(rest, byLabel)
	for _, it := range append(pos, rest...) {
		t.line("          %s: %s", it.label, it.value)
	}
}

// valueText shows a value: UTC times in the report's zone, the details block named.
func (t *textOut) valueText(k, v string) string {
	if strings.Contains(k, "utc") && !strings.Contains(k, "offset") {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05"} {
			if ts, err := time.Parse(layout, v); err == nil {
				return t.instant(ts)
			}
		}
	}
	if k == "source" && v == "details" {
		return "the file's details block"
	}
	return v
}

// latLonText shows "lat,lon" as "lat, lon" with 7 decimals when it parses.
func latLonText(v string) string {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return v
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil {
		return v
	}
	return fmt.Sprintf("%.7f, %.7f", lat, lon)
}

// words turns a snake_case key into words.
func words(k string) string { return strings.ReplaceAll(k, "_", " ") }
