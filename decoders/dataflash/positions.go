package dataflash

import (
	"time"

	"droneaudit/geo"
)

// Position-bearing messages and their units: ../shared/formats/mavlink-dataflash-ulog.md §6.6,
// from ArduPilot/ardupilot@04befe71:libraries/AP_GPS/LogStructure.h (GPS),
// @17582314:libraries/AP_AHRS/LogStructure.h (POS, ORGN, AHR2), @001064f4:libraries/AP_Logger/
// LogStructure.h (CMD, RALY), @1977005b:libraries/AP_Camera/LogStructure.h (CAM, TRIG).

// kind says what a position message is.
type kind uint8

const (
	kindNone kind = iota
	kindGPS       // GPS, GPS2: receiver fixes, gated by Status ≥ 3
	kindPOS       // POS: the fused position
	kindAHR2      // AHR2: backup AHRS position
	kindORGN      // ORGN: EKF origin (Type 0) or AHRS home (Type 1)
	kindHOME      // HOME: home point where a build logs one under that name
	kindCMD       // CMD: mission items
	kindCAM       // CAM, TRIG: per-photo positions
	kindRALY      // RALY: rally points, the alternative landing places
)

func kindOf(name string) kind {
	switch name {
	case "GPS", "GPS2":
		return kindGPS
	case "POS":
		return kindPOS
	case "AHR2":
		return kindAHR2
	case "ORGN":
		return kindORGN
	case "HOME":
		return kindHOME
	case "CMD":
		return kindCMD
	case "CAM", "TRIG":
		return kindCAM
	case "RALY":
		return kindRALY
	}
	return kindNone
}

// extractor holds the column indices of one position layout, computed once per FMT.
type extractor struct {
	f                      *Format
	kind                   kind
	lat, lon, alt          int
	timeUS, timeMS, bootMS int // boot-time columns (TimeUS µs; TimeMS or T ms)
	gms, gwk               int // GPS time of week (ms) and week
	status                 int // GPS Status
	orgnType               int // ORGN Type
	cnum, cid              int // CMD item number and MAV_CMD
	// latIsDegE7 is true when Lat/Lng are stored as int32 degE7 (format L or i); false when they
	// are float degrees (CMD in 3.3/3.8 logs, format f).
	latIsDegE7 bool
	encoding   string
}

func newExtractor(f *Format) *extractor {
	k := kindOf(f.Name)
	if k == kindNone || !f.Known {
		return nil
	}
	x := &extractor{f: f, kind: k,
		lat: f.Column("Lat"), lon: f.Column("Lng"), alt: f.Column("Alt"),
		timeUS: f.Column("TimeUS"), timeMS: -1, bootMS: -1,
		gms: f.Column("GMS"), gwk: f.Column("GWk"), status: f.Column("Status"),
		orgnType: f.Column("Type"), cnum: f.Column("CNum"), cid: f.Column("CId")}
	if x.lon < 0 {
		x.lon = f.Column("Lon")
	}
	if x.lat < 0 || x.lon < 0 {
		return nil
	}
	// 3.3-era logs: GPS has TimeMS = GPS ms of week, Week, and T = boot ms; every other message
	// has TimeMS = boot ms (§6.6, verified on the corpus 3.3 flight).
	if x.timeUS < 0 {
		if k == kindGPS && f.Column("Week") >= 0 {
			x.gms, x.gwk = f.Column("TimeMS"), f.Column("Week")
			x.bootMS = f.Column("T")
		} else {
			x.timeMS = f.Column("TimeMS")
		}
	}
	switch f.Format[x.lat] {
	case 'L', 'i':
		x.latIsDegE7 = true
		x.encoding = "int32 degE7"
	case 'f':
		x.encoding = "float32 degrees"
	case 'd':
		x.encoding = "float64 degrees"
	default:
		return nil
	}
	return x
}

// degrees reads a latitude or longitude column. degE7 columns are scaled here rather than by
// Value so that a log whose FMTU omits the multiplier still yields degrees; dividing by 1e7
// gives the double nearest to the stored value (×1e-7 would print 149.16585329999998).
func (x *extractor) degrees(m Message, i int) float64 {
	v := x.f.raw(m.Body, i)
	if x.latIsDegE7 {
		return v / 1e7
	}
	return v
}

// precision is the half-cell of the coordinate encoding in metres.
func (x *extractor) precision(lat float64) float64 {
	if x.latIsDegE7 {
		return geo.PrecisionDegE7
	}
	if x.f.Format[x.lat] == 'f' {
		return geo.PrecisionFloat32Deg(lat)
	}
	return 0
}

// bootTime returns the message's time since boot, if the layout has one.
func (x *extractor) bootTime(m Message) (time.Duration, bool) {
	switch {
	case x.timeUS >= 0:
		v := x.f.raw(m.Body, x.timeUS)
		return time.Duration(v) * time.Microsecond, true
	case x.timeMS >= 0:
		v := x.f.raw(m.Body, x.timeMS)
		return time.Duration(v) * time.Millisecond, true
	case x.bootMS >= 0:
		v := x.f.raw(m.Body, x.bootMS)
		return time.Duration(v) * time.Millisecond, true
	}
	return 0, false
}

// gpsEpoch is the start of GPS time, 1980-01-06T00:00:00Z.
var gpsEpoch = time.Date(1980, 1, 6, 0, 0, 0, 0, time.UTC)

// leapSeconds lists when GPS−UTC grew by one second (IERS Bulletin C; 18 s since 2017-01-01).
var leapSeconds = []time.Time{
	time.Date(1981, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(1982, 7, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1983, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(1985, 7, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1988, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1991, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1992, 7, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1993, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(1994, 7, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1997, 7, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2009, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2012, 7, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC),
}

// gpsEpochUnix is gpsEpoch in Unix seconds.
const gpsEpochUnix = 315964800

// leapGPS holds, for each entry of leapSeconds, the GPS-time second (since gpsEpoch) from which
// it applies; integer comparisons keep GPSTime cheap on the per-fix path.
var leapGPS = func() []int64 {
	out := make([]int64, len(leapSeconds))
	for i, l := range leapSeconds {
		out[i] = l.Unix() - gpsEpochUnix + int64(i+1)
	}
	return out
}()

// GPSTime converts a GPS week and millisecond of week to UTC (§6.7). ok is false for week 0 or
// values no receiver produces.
func GPSTime(week, ms float64) (time.Time, bool) {
	if week <= 0 || week > 10000 || ms < 0 || ms >= 604800e3 {
		return time.Time{}, false
	}
	msi := int64(ms)
	sec := int64(week)*604800 + msi/1000
	leap := int64(0)
	for _, l := range leapGPS {
		if sec < l {
			break
		}
		leap++
	}
	return time.Unix(gpsEpochUnix+sec-leap, (msi%1000)*1e6).UTC(), true
}

// clock turns boot times into UTC once a GPS message with a 3D fix has anchored it.
type clock struct {
	ok       bool
	boot     time.Duration
	utc      time.Time
	anchorAt int64
}

func (c *clock) at(boot time.Duration) time.Time {
	if !c.ok {
		return time.Time{}
	}
	return c.utc.Add(boot - c.boot)
}
