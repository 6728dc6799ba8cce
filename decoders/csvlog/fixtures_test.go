package csvlog

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// airdataHeader is the exact Airdata header of formats §14.1 (46 columns, some led by a space).
const airdataHeader = "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),height_above_ground_at_drone_location(feet),ground_elevation_at_drone_location(feet),altitude_above_seaLevel(feet),height_sonar(feet),speed(mph),distance(feet),satellites,gpslevel,voltage(v),max_altitude(feet),max_ascent(feet),max_speed(mph),max_distance(feet), xSpeed(mph), ySpeed(mph), zSpeed(mph), compass_heading(degrees), pitch(degrees), roll(degrees),isPhoto,isVideo,rc_elevator,rc_aileron,rc_throttle,rc_rudder,gimbal_heading(degrees),gimbal_pitch(degrees),battery_percent,voltageCell1,voltageCell2,voltageCell3,voltageCell4,voltageCell5,voltageCell6,current(A),battery_temperature(f),altitude(feet),ascent(feet),flycStateRaw,flycState,message"

type row struct {
	lat, lon, altM float64
	t              time.Time
}

var t0 = time.Date(2024, 3, 2, 14, 5, 6, 0, time.UTC)

// rows returns n positions near Oslo; the first two have no fix (0,0), as real exports do.
func rows(n int) []row {
	out := make([]row, n)
	for i := range out {
		out[i] = row{lat: 59.9139 + float64(i)*1e-5, lon: 10.7522 + float64(i)*2e-5, altM: 100 + float64(i), t: t0.Add(time.Duration(i) * time.Second)}
	}
	out[0].lat, out[0].lon, out[1].lat, out[1].lon = 0, 0, 0, 0
	return out
}

func writeAirdata(rs []row) []byte {
	var b strings.Builder
	b.WriteString(airdataHeader + "\n")
	for i, r := range rs {
		cells := make([]string, 46)
		for j := range cells {
			cells[j] = "0"
		}
		cells[0] = fmt.Sprint(i * 100)
		cells[1] = r.t.Format("2006-01-02 15:04:05")
		cells[2], cells[3] = fmt.Sprintf("%.13f", r.lat), fmt.Sprintf("%.13f", r.lon)
		cells[4] = fmt.Sprintf("%.6f", (r.altM-90)/0.3048)
		cells[7] = fmt.Sprintf("%.6f", r.altM/0.3048)
		cells[18], cells[19] = " 3.3", " 1.9"
		cells[44], cells[45] = "P-GPS", ""
		b.WriteString(strings.Join(cells, ",") + "\n")
	}
	return []byte(b.String())
}

func TestFixtureAirdata(t *testing.T) {
	rs := rows(30)
	data := writeAirdata(rs)
	if !New().Sniff(data) {
		t.Fatal("Sniff refused Airdata")
	}
	s := decodeBytes(t, "airdata.csv", data)
	air := fixesOf(s, geo.RoleAircraft)
	if len(air) != len(rs)-2 || s.Counts["no_fix_rows"] != 2 || s.Counts["rows"] != int64(len(rs)) {
		t.Fatalf("fixes %d counts %v", len(air), s.Counts)
	}
	for i, f := range air {
		r := rs[i+2]
		if math.Abs(f.Lat-r.lat) > 1e-12 || math.Abs(f.Lon-r.lon) > 1e-12 || !f.Time.Equal(r.t) {
			t.Fatalf("fix %d %v %v, want %v", i, f, f.Time, r)
		}
		if !f.HasAlt || f.AltRef != "msl" || math.Abs(f.AltM-r.altM) > 1e-5 {
			t.Fatalf("fix %d altitude %v %q, want %v msl (converted from feet)", i, f.AltM, f.AltRef, r.altM)
		}
		if f.PrecisionM != geo.PrecisionFromDecimals(13) {
			t.Fatalf("precision %v", f.PrecisionM)
		}
		if want := fmt.Sprintf("row %d @ line %d", i+3, i+4); f.Evidence.Locator != want || f.Evidence.Message != "Airdata CSV" {
			t.Fatalf("evidence %+v, want locator %q", f.Evidence, want)
		}
	}
	tk := fixesOf(s, geo.RoleTakeoff)
	if len(tk) != 1 || tk[0].Lat != air[0].Lat || tk[0].Lon != air[0].Lon {
		t.Fatalf("take-off %v", tk)
	}
	ex := s.Exposures
	if len(ex) != 1 || ex[0].Values["start_time_utc"] != rs[2].t.Format("2006-01-02 15:04:05") || ex[0].Values["positions"] != "28" {
		t.Fatalf("exposure %+v", ex)
	}
}

func TestFixtureDialects(t *testing.T) {
	rs := rows(6)[2:]
	type want struct {
		role   geo.Role
		n      int
		timed  bool
		altRef string
		dec    int
	}
	cases := []struct {
		name string
		text string
		want []want
	}{
		{"generic lat/lon/time", func() string {
			var b strings.Builder
			b.WriteString("time,lat,lon,alt\n")
			for _, r := range rs {
				fmt.Fprintf(&b, "%s,%.6f,%.6f,%.1f\n", r.t.Format(time.RFC3339), r.lat, r.lon, r.altM)
			}
			return b.String()
		}(), []want{{geo.RoleAircraft, 4, true, "msl", 6}}},
		{"semicolon decimal comma, BOM, CRLF", func() string {
			var b strings.Builder
			b.WriteString("\ufeffTimestamp;Latitude;Longitude;Height (m)\r\n")
			for _, r := range rs {
				fmt.Fprintf(&b, "%d;%s;%s;%s\r\n", r.t.UnixMilli(), strings.Replace(fmt.Sprintf("%.5f", r.lat), ".", ",", 1),
					strings.Replace(fmt.Sprintf("%.5f", r.lon), ".", ",", 1), strings.Replace(fmt.Sprintf("%.1f", r.altM-90), ".", ",", 1))
			}
			return b.String()
		}(), []want{{geo.RoleAircraft, 4, true, "take-off", 5}}},
		{"tab separated, lng, radians", func() string {
			var b strings.Builder
			b.WriteString("datetime\tlat (rad)\tlng (rad)\n")
			for _, r := range rs {
				fmt.Fprintf(&b, "%s\t%.10f\t%.10f\n", r.t.Format("2006-01-02 15:04:05"), r.lat*math.Pi/180, r.lon*math.Pi/180)
			}
			return b.String()
		}(), []want{{geo.RoleAircraft, 4, true, "", 10}}},
		{"PhantomHelp sep= line, local date and clock apart", func() string {
			var b strings.Builder
			b.WriteString("sep=,\nCUSTOM.date [local],CUSTOM.updateTime [local],OSD.flyTime [s],OSD.latitude,OSD.longitude,OSD.height [ft],HOME.latitude,HOME.longitude,APPGPS.latitude,APPGPS.longitude,APP.tip,DETAILS.aircraftSn\n")
			for _, r := range rs {
				fmt.Fprintf(&b, "%s,%s,1.0,%.7f,%.7f,%.1f,59.9,10.7,59.91,10.71,\"Take off, then climb\",1ABCDE2\n",
					r.t.Format("1/2/2006"), r.t.Format("3:04:05.00 PM"), r.lat, r.lon, (r.altM-90)/0.3048)
			}
			return b.String()
		}(), []want{{geo.RoleAircraft, 4, true, "take-off", 7}, {geo.RoleHome, 1, true, "", 1}, {geo.RolePilot, 1, true, "", 2}}},
		{"dji-log-parser ISO UTC", func() string {
			var b strings.Builder
			b.WriteString("CUSTOM.dateTime,OSD.latitude,OSD.longitude,OSD.altitude,HOME.latitude,HOME.longitude,RC_GPS.latitude,RC_GPS.longitude\n")
			for _, r := range rs {
				fmt.Fprintf(&b, "%s,%.8f,%.8f,%.2f,59.91390000,10.75220000,59.9,10.8\n", r.t.Format("2006-01-02T15:04:05.000Z"), r.lat, r.lon, r.altM)
			}
			return b.String()
		}(), []want{{geo.RoleAircraft, 4, true, "msl", 8}, {geo.RoleHome, 1, true, "", 8}, {geo.RoleController, 1, true, "", 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.text)
			if !New().Sniff(data) {
				t.Fatal("Sniff refused it")
			}
			s := decodeBytes(t, "dialect.csv", data)
			for _, w := range c.want {
				fs := fixesOf(s, w.role)
				if len(fs) != w.n {
					t.Fatalf("%s: %d fixes, want %d; notes %+v", w.role, len(fs), w.n, s.Notes)
				}
				for i, f := range fs {
					if w.timed == f.Time.IsZero() {
						t.Errorf("%s fix %d time %v", w.role, i, f.Time)
					}
					if w.timed && w.role == geo.RoleAircraft {
						if d := f.Time.Sub(rs[i].t); d < 0 || d >= time.Second {
							t.Errorf("fix %d time %v, want %v", i, f.Time, rs[i].t)
						}
					}
					if w.role != geo.RoleAircraft {
						continue
					}
					tol := 0.51 * math.Pow10(-w.dec)
					if math.Abs(f.Lat-rs[i].lat) > tol*60 || math.Abs(f.Lon-rs[i].lon) > tol*60 {
						t.Errorf("fix %d %v, want %v,%v", i, f, rs[i].lat, rs[i].lon)
					}
					if f.AltRef != w.altRef {
						t.Errorf("fix %d altitude ref %q, want %q", i, f.AltRef, w.altRef)
					}
					if w.altRef == "take-off" && math.Abs(f.AltM-(rs[i].altM-90)) > 0.05 {
						t.Errorf("fix %d height %v, want %v", i, f.AltM, rs[i].altM-90)
					}
				}
			}
		})
	}
}

func TestFixtureQuotedNewline(t *testing.T) {
	data := []byte("time,latitude,longitude,message\n" +
		"2024-01-01 10:00:00,10.5,20.5,\"first line\nsecond, line\"\n" +
		"2024-01-01 10:00:01,10.6,20.6,plain\n")
	s := decodeBytes(t, "quoted.csv", data)
	f := fixesOf(s, geo.RoleAircraft)
	if len(f) != 2 || f[1].Lat != 10.6 || f[1].Evidence.Locator != "row 2 @ line 4" {
		t.Fatalf("fixes %v", f)
	}
}

// TestFixtureTruncations cuts a generated Airdata file at every byte of its last rows: no cut
// yields a wrong position, and a cut inside a row gives one error note at the cut.
func TestFixtureTruncations(t *testing.T) {
	full := writeAirdata(rows(5))
	whole := fixesOf(decodeBytes(t, "cut.csv", full), geo.RoleAircraft)
	for cut := len(airdataHeader) + 1; cut < len(full); cut++ {
		s := decodeBytes(t, "cut.csv", full[:cut])
		air := fixesOf(s, geo.RoleAircraft)
		for i, f := range air {
			w := whole[i]
			if f.HasAlt == false && i == len(air)-1 {
				// The cut row lost its altitude cell: the position stands without it.
				w.HasAlt, w.AltM, w.AltRef, w.Evidence.Note = false, 0, "", ""
			}
			if f != w {
				t.Fatalf("cut %d: fix %d = %#v, want %#v", cut, i, f, whole[i])
			}
		}
		tr := s.NotesWithCode("truncated")
		partial := full[cut-1] != '\n'
		if partial && len(tr) != 1 {
			// The last row was cut; only a cut that leaves every cell can go unseen.
			if strings.Count(string(full[strings.LastIndexByte(string(full[:cut]), '\n')+1:cut]), ",") != 45 {
				t.Fatalf("cut %d: notes %+v", cut, s.Notes)
			}
		}
		for _, n := range tr {
			// The note names the offset where the cut row starts.
			rowStart := int64(strings.LastIndexByte(string(full[:cut]), '\n') + 1)
			if n.Severity != decoders.Error || n.Offset != rowStart || !strings.Contains(n.Message, "cut.csv") {
				t.Fatalf("cut %d: %+v", cut, n)
			}
		}
	}
}

func TestFixtureEmptyAndHostile(t *testing.T) {
	s := decodeBytes(t, "empty.csv", nil)
	if e := s.NotesWithCode("empty"); len(e) != 1 || e[0].Severity != decoders.Error || !strings.Contains(e[0].Message, "empty.csv") {
		t.Fatalf("empty: %+v", s.Notes)
	}
	s = decodeBytes(t, "header.csv", []byte("latitude,longitude\n"))
	if len(s.Fixes) != 0 || s.Counts["rows"] != 0 {
		t.Fatalf("header only: %+v", s)
	}
	s = decodeBytes(t, "nopos.csv", []byte("a,b\n1,2\n"))
	if len(s.NotesWithCode("no-position-columns")) != 1 {
		t.Fatalf("no position columns: %+v", s.Notes)
	}
	bad := "lat,lon\nNaN,Inf\n0x1p4,1e999\n91,10\n45,181\n45.5,9.5\n" + strings.Repeat("9", maxRecord+10) + "\n46,10\n"
	s = decodeBytes(t, "bad.csv", []byte(bad))
	if f := fixesOf(s, geo.RoleAircraft); len(f) != 2 || f[0].Lat != 45.5 || f[1].Lat != 46 {
		t.Fatalf("hostile rows gave %v; notes %+v", f, s.Notes)
	}
	if len(s.NotesWithCode("bad-value")) != 1 || len(s.NotesWithCode("junk")) != 1 {
		t.Fatalf("notes %+v", s.Notes)
	}
	for _, h := range []string{"", "1\n00:00:00,000 --> 00:00:01,000\n", "<?xml version=\"1.0\"?><gpx>", "lat,lon\x00", "\x89PNG\r\n"} {
		if New().Sniff([]byte(h)) {
			t.Errorf("Sniff claimed %q", h)
		}
	}
}

// TestFixtureDegE7: unitless integer lat/lon beyond degree range are degrees × 1e7 (PX4 and
// MAVLink CSV exports); their "alt" is in millimetres there, so no altitude is taken.
func TestFixtureDegE7(t *testing.T) {
	s := decodeBytes(t, "gps.csv", []byte("timestamp,lat,lon,alt\n206633453293,473977418,85455939,488070\n206633553293,0,0,0\n"))
	f := fixesOf(s, geo.RoleAircraft)
	if len(f) != 1 || f[0].Lat != 47.3977418 || f[0].Lon != 8.5455939 || f[0].HasAlt || !f[0].Time.IsZero() || math.Abs(f[0].PrecisionM-geo.PrecisionDegE7) > 1e-12 {
		t.Fatalf("fixes %v (alt %v, time %v, precision %v)", f, f[0].HasAlt, f[0].Time, f[0].PrecisionM)
	}
}

// A time column the header marks local ("CUSTOM.date [local]", "local_time") is the phone's or
// controller's clock in a zone the file does not give: its times carry decoders.DeviceClock,
// wall clock as written, as SRT's do, so that no report calls them UTC. A UTC column, a cell
// with its own offset and an epoch number stay instants.
func TestFixtureLocalTimesAreDeviceClock(t *testing.T) {
	cases := []struct {
		name, text string
		local      bool
		wall       string
	}{
		{"PhantomHelp local date and clock", "CUSTOM.date [local],CUSTOM.updateTime [local],OSD.latitude,OSD.longitude\n8/29/2017,3:04:05.12 PM,59.9,10.7\n", true, "2017-08-29 15:04:05.12"},
		{"local_time field", "local_time,lat,lon\n2019/02/22 10:11:12.345,59.9,10.7\n", true, "2019-02-22 10:11:12.345"},
		{"local with its own offset", "time [local],lat,lon\n2019-02-22T10:11:12-05:00,59.9,10.7\n", false, "2019-02-22 15:11:12"},
		{"local epoch", "timestamp [local],lat,lon\n1550830272,59.9,10.7\n", false, "2019-02-22 10:11:12"},
		{"Airdata utc", "datetime(utc),latitude,longitude\n2021-09-06 02:23:48,59.9,10.7\n", false, "2021-09-06 02:23:48"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := decodeBytes(t, "local.csv", []byte(c.text))
			fs := fixesOf(s, geo.RoleAircraft)
			if len(fs) != 1 {
				t.Fatalf("%d fixes; notes %+v", len(fs), s.Notes)
			}
			tm := fs[0].Time
			if decoders.IsDeviceClock(tm) != c.local {
				t.Fatalf("time %v: device-local %v, want %v", tm, decoders.IsDeviceClock(tm), c.local)
			}
			if !c.local {
				tm = tm.UTC()
			}
			if got := tm.Format("2006-01-02 15:04:05.999"); got != c.wall {
				t.Fatalf("time %s, want %s", got, c.wall)
			}
		})
	}
}
