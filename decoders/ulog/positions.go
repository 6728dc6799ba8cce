package ulog

import (
	"math"
	"time"

	"droneaudit/geo"
)

// Position topics and their schemas: ../shared/formats/mavlink-dataflash-ulog.md §7.6, from
// PX4/PX4-Autopilot@07336199:msg/SensorGps.msg, @26cbb2e7:msg/VehicleGlobalPosition.msg and
// @2c528778:msg/HomePosition.msg. The decoding is chosen from the field names and types of the
// file's own F message, never from the PX4 version (§7.6 "Schema rule").

// point is one lat/lon/alt triple inside a topic's struct.
type point struct {
	lat, lon Field
	alt      *Field
	altScale float64 // multiplies the raw altitude to metres (1e-3 for int32 mm)
	altRef   string
	valid    *Field // a bool that must be true (lat_lon_valid, valid_hpos, .valid)
	role     geo.Role
	note     string
	degE7    bool
	encoding string
	// dedupe: emit only when the point changed (setpoints, home, EKF origin are re-sent at rate).
	dedupe   bool
	lastLat  float64
	lastLon  float64
	relative *Field // navigator_mission_item.altitude_is_relative
}

// extractor reads the positions of one subscription.
type extractor struct {
	topic   string
	points  []*point
	fixType *Field // GPS fix_type: fixes need ≥ 2 (2D)
	utc     *Field // GPS time_utc_usec
	isGPS   bool
}

func field(l *Layout, path string) (Field, bool) {
	f, ok := l.Lookup(path)
	if !ok || f.Kind == KindNested || f.ArrayLen > 0 {
		return Field{}, false
	}
	return f, true
}

func optional(l *Layout, path string) *Field {
	if f, ok := field(l, path); ok {
		return &f
	}
	return nil
}

// newPoint builds a point from named fields; nil when the names are absent or not numeric.
func newPoint(l *Layout, latName, lonName, altName string, role geo.Role) *point {
	lat, ok1 := field(l, latName)
	lon, ok2 := field(l, lonName)
	if !ok1 || !ok2 || lat.Kind != lon.Kind {
		return nil
	}
	p := &point{lat: lat, lon: lon, role: role, altScale: 1, altRef: "msl", lastLat: math.NaN()}
	switch lat.Kind {
	case KindInt32:
		p.degE7, p.encoding = true, "int32 degE7"
	case KindDouble:
		p.encoding = "float64 degrees"
	case KindFloat:
		p.encoding = "float32 degrees"
	default:
		return nil
	}
	if altName != "" {
		p.alt = optional(l, altName)
		if p.alt != nil && p.alt.Kind == KindInt32 && p.degE7 {
			p.altScale = 1e-3 // the old GPS schema stores millimetres
		}
	}
	return p
}

// newExtractor returns the extractor of a topic, or nil when it holds no position.
func newExtractor(topic string, l *Layout) *extractor {
	if l == nil {
		return nil
	}
	x := &extractor{topic: topic}
	add := func(p *point) {
		if p != nil {
			x.points = append(x.points, p)
		}
	}
	switch topic {
	case "vehicle_gps_position", "sensor_gps":
		x.isGPS = true
		p := newPoint(l, "latitude_deg", "longitude_deg", "altitude_msl_m", geo.RoleAircraft)
		if p == nil {
			p = newPoint(l, "lat", "lon", "alt", geo.RoleAircraft)
		}
		add(p)
		x.fixType = optional(l, "fix_type")
		x.utc = optional(l, "time_utc_usec")
	case "vehicle_global_position", "estimator_global_position", "vehicle_global_position_groundtruth":
		p := newPoint(l, "lat", "lon", "alt", geo.RoleAircraft)
		if p != nil {
			p.valid = optional(l, "lat_lon_valid")
			if topic == "vehicle_global_position_groundtruth" {
				p.note = "simulator ground truth"
			}
		}
		add(p)
	case "home_position":
		p := newPoint(l, "lat", "lon", "alt", geo.RoleHome)
		if p != nil {
			p.valid = optional(l, "valid_hpos")
			p.dedupe = true
		}
		add(p)
	case "vehicle_local_position":
		// The local frame's reference is the EKF origin: where the estimator started, normally
		// the take-off site. Only meaningful when xy_global is set.
		p := newPoint(l, "ref_lat", "ref_lon", "ref_alt", geo.RoleTakeoff)
		if p != nil {
			p.valid = optional(l, "xy_global")
			p.dedupe = true
			p.note = "EKF origin (vehicle_local_position reference)"
		}
		add(p)
	case "navigator_mission_item":
		p := newPoint(l, "latitude", "longitude", "altitude", geo.RoleWaypoint)
		if p != nil {
			p.dedupe = true
			p.relative = optional(l, "altitude_is_relative")
			p.note = "mission item"
		}
		add(p)
	case "position_setpoint_triplet":
		for _, which := range []string{"previous", "current", "next"} {
			p := newPoint(l, which+".lat", which+".lon", which+".alt", geo.RoleWaypoint)
			if p != nil {
				p.valid = optional(l, which+".valid")
				p.dedupe = true
				p.note = "position setpoint (" + which + ")"
			}
			add(p)
		}
	case "follow_target":
		p := newPoint(l, "lat", "lon", "alt", geo.RolePilot)
		if p != nil {
			p.note = "follow-me target: normally the operator's device"
		}
		add(p)
	case "transponder_report":
		p := newPoint(l, "lat", "lon", "altitude", geo.RoleOther)
		if p != nil {
			p.note = "other aircraft (ADS-B)"
		}
		add(p)
	}
	if len(x.points) == 0 {
		return nil
	}
	return x
}

// read returns a point's coordinates in degrees.
func (p *point) read(data []byte) (lat, lon float64, ok bool) {
	lat, ok1 := p.lat.Float(data, 0)
	lon, ok2 := p.lon.Float(data, 0)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	if p.degE7 {
		lat, lon = lat/1e7, lon/1e7 // the double nearest to the stored degE7 value
	}
	return lat, lon, true
}

func (p *point) precision(lat float64) float64 {
	switch {
	case p.degE7:
		return geo.PrecisionDegE7
	case p.lat.Kind == KindFloat:
		return geo.PrecisionFloat32Deg(lat)
	}
	return 0
}

// absoluteThreshold: a timestamp at or above 1e15 µs (≈ 2001) is Unix time, not boot time
// (§7.5, verified on a real SITL sample).
const absoluteThreshold = 1e15

// clock maps boot-time µs to UTC once a GPS message with time_utc_usec has anchored it.
type clock struct {
	ok   bool
	boot uint64
	utc  time.Time
}

func (c *clock) at(ts uint64) time.Time {
	if ts >= absoluteThreshold {
		return time.UnixMicro(int64(ts)).UTC()
	}
	if !c.ok || ts == 0 {
		return time.Time{}
	}
	return c.utc.Add(time.Duration(int64(ts)-int64(c.boot)) * time.Microsecond)
}
