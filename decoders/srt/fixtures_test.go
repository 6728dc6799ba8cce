package srt

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// pt is one generated position.
type pt struct{ lat, lon, alt float64 }

// style writes the text lines of block i (0-based) for one DJI SRT style of formats §13.
type style func(i int, p pt) string

var start = time.Date(2023, 4, 5, 6, 7, 8, 0, time.UTC)

func styleOld(i int, p pt) string { // A: Phantom 3/4, date not zero-padded
	t := start.Add(time.Duration(i) * time.Second)
	return fmt.Sprintf("HOME(%.4f,%.4f) %d.%d.%d %02d:%02d:%02d\nGPS(%.4f,%.4f,16) Hb:%.1f Hs:%.1f\nISO:100 TV:60 EV: 0 IR:F2.8\n",
		home.lon, home.lat, t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), p.lon, p.lat, p.alt, p.alt)
}

func styleMavicPro(i int, p pt) string { // B
	t := start.Add(time.Duration(i) * time.Second)
	return fmt.Sprintf("HOME(%.4f,%.4f) %s\nGPS(%.4f,%.4f,16) BAROMETER:%.1f\nISO:100 Shutter:60 EV: Fnum:2.2\n",
		home.lon, home.lat, t.Format("2006.01.02 15:04:05"), p.lon, p.lat, p.alt)
}

func styleOneLine(i int, p pt) string { // C: P4 Pro, Mavic Mini
	return fmt.Sprintf("F/3.2, SS 160, ISO 100, EV 0, GPS (%.4f, %.4f, 18), D 49.21m, H %.2fm, H.S 0.00m/s, V.S n/a \n", p.lon, p.lat, p.alt)
}

func styleRTK(i int, p pt) string { // C, P4 RTK variant
	return fmt.Sprintf("F/5.6, SS 500, ISO 100, EV 0, RTK (%.6f, %.6f, 30), HOME (%.6f, %.6f, 120.50m), D 10.0m, H %.2fm, F.PRY (-1.2°, 0.3°, 90.1°), G.PRY (-90.0°, 0.0°, 90.1°)\n",
		p.lon, p.lat, home.lon, home.lat, p.alt)
}

func styleMavic2(i int, p pt) string { // E: misspelt key, ms,µs date
	t := start.Add(time.Duration(i) * 40 * time.Millisecond)
	return fmt.Sprintf("<font size=\"36\">FrameCnt : %d, DiffTime : 40ms\n%s,%03d,%03d\n[iso : 100] [shutter : 1/4000.0] [fnum : 280] [ev : 0] [ct : 5575] [color_md : default] [focal_len : 280] [latitude : %.6f] [longtitude : %.6f] [altitude: %.6f] </font>\n",
		i+1, t.Format("2006-01-02 15:04:05"), t.Nanosecond()/1e6, 123, p.lat, p.lon, p.alt)
}

func styleAir2(i int, p pt) string { // F
	t := start.Add(time.Duration(i) * 33 * time.Millisecond)
	return fmt.Sprintf("<font size=\"36\">SrtCnt : %d, DiffTime : 33ms\n%s,%03d,%03d\n[iso : 100] [shutter : 1/80.0] [fnum : 280] [ev : 0] [ct : 5744] [color_md : default] [focal_len : 240] [latitude: %.6f] [longitude: %.6f] [altitude: %.6f] </font>\n",
		i+1, t.Format("2006-01-02 15:04:05"), t.Nanosecond()/1e6, 456, p.lat, p.lon, p.alt)
}

func styleMavic3(i int, p pt) string { // G: two pairs in one bracket, ".mmm" date
	t := start.Add(time.Duration(i) * 20 * time.Millisecond)
	return fmt.Sprintf("<font size=\"28\">FrameCnt: %d, DiffTime: 20ms\n%s\n[iso: 220] [shutter: 1/8000.0] [fnum: 3.2] [ev: 0] [ct: 5115] [color_md : default] [focal_len: 24.00] [latitude: %.5f] [longitude: %.5f] [rel_alt: %.3f abs_alt: %.3f] </font>\n",
		i+1, t.Format("2006-01-02 15:04:05.000"), p.lat, p.lon, p.alt, p.alt+100)
}

func styleFPV(i int, p pt) string { // DJI FPV: altitude written divided by ten
	t := start.Add(time.Duration(i) * 33 * time.Millisecond)
	return fmt.Sprintf("<font size=\"28\">FrameCnt: %d, DiffTime: 33ms\n%s\n[iso: 100] [shutter: 1/500.0] [fnum: 2.8] [ev: 0] [latitude: %.6f] [longitude: %.6f] [altitude: %.3f] </font>\n",
		i+1, t.Format("2006-01-02 15:04:05.000"), p.lat, p.lon, p.alt/10)
}

func styleM300(i int, p pt) string { // H: latitude first, capital M
	t := start.Add(time.Duration(i) * time.Second)
	return fmt.Sprintf("%s\nGPS(%.4f,%.4f,0.0M) BAROMETER:%.1fM\n", t.Format("2006.01.02 15:04:05"), p.lat, p.lon, p.alt)
}

func styleMavicAir(i int, p pt) string { // D: no position at all
	t := start.Add(time.Duration(i) * 39 * time.Millisecond)
	return fmt.Sprintf("<font size=\"36\">FrameCnt : %d, DiffTime : 39ms\n%s,%03d,%03d\n[iso : 100] [shutter : 1/240.0] [fnum : 280] [ev : 0] [ct : 5627] </font>\n",
		i+1, t.Format("2006-01-02 15:04:05"), t.Nanosecond()/1e6, 847)
}

var home = pt{lat: -33.8568, lon: 151.2153}

// track returns n positions near Sydney, 1e-4° apart.
func track(n int) []pt {
	out := make([]pt, n)
	for i := range out {
		out[i] = pt{lat: -33.8568 + float64(i)*1e-4, lon: 151.2153 - float64(i)*1e-4, alt: 10 + float64(i)}
	}
	return out
}

// writeSRT renders blocks with SubRip numbering and time ranges; styles[i%len(styles)] writes
// block i, so two styles alternate in one file.
func writeSRT(pts []pt, styles ...style) []byte {
	var b strings.Builder
	for i, p := range pts {
		fmt.Fprintf(&b, "%d\n%s --> %s\n", i+1, timecode(i), timecode(i+1))
		b.WriteString(styles[i%len(styles)](i, p))
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func timecode(s int) string { return fmt.Sprintf("%02d:%02d:%02d,000", s/3600, s/60%60, s%60) }

func TestFixtureStyles(t *testing.T) {
	cases := []struct {
		name     string
		st       style
		dec      int
		altRef   string
		altScale float64 // fix altitude = alt*scale + offset
		altOff   float64
		home     bool
		timed    bool
		message  string
	}{
		{"A old format", styleOld, 4, "take-off", 1, 0, true, true, "GPS(lon,lat,sats)"},
		{"B Mavic Pro", styleMavicPro, 4, "take-off", 1, 0, true, true, "GPS(lon,lat,sats)"},
		{"C one line", styleOneLine, 4, "take-off", 1, 0, false, false, "GPS(lon,lat,sats)"},
		{"C P4 RTK", styleRTK, 6, "take-off", 1, 0, true, false, "RTK(lon,lat,sats)"},
		{"E Mavic 2", styleMavic2, 6, "msl", 1, 0, false, true, "[latitude] [longtitude]"},
		{"F Air 2", styleAir2, 6, "msl", 1, 0, false, true, "[latitude] [longitude]"},
		{"G Mavic 3", styleMavic3, 5, "msl", 1, 100, false, true, "[latitude] [longitude]"},
		{"FPV altitude bug", styleFPV, 6, "msl", 1, 0, false, true, "[latitude] [longitude]"},
		{"H M300", styleM300, 4, "take-off", 1, 0, false, true, "GPS(lat,lon,alt M)"},
	}
	pts := track(12)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := writeSRT(pts, c.st)
			if !New().Sniff(data) {
				t.Fatal("Sniff refused the fixture")
			}
			s := decodeBytes(t, "fixture.srt", data)
			air := fixesOf(s, geo.RoleAircraft)
			if len(air) != len(pts) {
				t.Fatalf("%d aircraft fixes, want %d; notes %+v", len(air), len(pts), s.Notes)
			}
			tol := 0.51 * math.Pow10(-c.dec)
			for i, f := range air {
				p := pts[i]
				if math.Abs(f.Lat-p.lat) > tol || math.Abs(f.Lon-p.lon) > tol {
					t.Fatalf("fix %d = %v,%v, want %v,%v", i, f.Lat, f.Lon, p.lat, p.lon)
				}
				if f.PrecisionM != geo.PrecisionFromDecimals(c.dec) {
					t.Errorf("fix %d precision %v, want %d decimals", i, f.PrecisionM, c.dec)
				}
				wantAlt := p.alt*c.altScale + c.altOff
				if !f.HasAlt || f.AltRef != c.altRef || math.Abs(f.AltM-wantAlt) > 0.006 {
					t.Errorf("fix %d altitude %v (%v, %q), want %v %q", i, f.AltM, f.HasAlt, f.AltRef, wantAlt, c.altRef)
				}
				if c.timed == f.Time.IsZero() {
					t.Errorf("fix %d time %v, timed=%v", i, f.Time, c.timed)
				}
				if f.Evidence.Message != c.message {
					t.Errorf("fix %d message %q, want %q", i, f.Evidence.Message, c.message)
				}
				if want := fmt.Sprintf("block %d @ line ", i+1); !strings.HasPrefix(f.Evidence.Locator, want) {
					t.Errorf("locator %q, want %q…", f.Evidence.Locator, want)
				}
			}
			homes := fixesOf(s, geo.RoleHome)
			if c.home != (len(homes) == 1) {
				t.Fatalf("home fixes %v, want home=%v (once: repeats are folded)", homes, c.home)
			}
			if c.home && (math.Abs(homes[0].Lat-home.lat) > 1e-9 || math.Abs(homes[0].Lon-home.lon) > 1e-9) {
				t.Errorf("home %v, want %v,%v", homes[0], home.lat, home.lon)
			}
			if s.Counts["blocks"] != int64(len(pts)) || len(s.NotesWithCode("truncated")) != 0 {
				t.Errorf("counts %v notes %+v", s.Counts, s.Notes)
			}
		})
	}
}

func TestFixtureTimes(t *testing.T) {
	s := decodeBytes(t, "mavic2.srt", writeSRT(track(3), styleMavic2))
	f := fixesOf(s, geo.RoleAircraft)[2]
	want := start.Add(80*time.Millisecond + 123*time.Microsecond)
	if !f.Time.Equal(want) {
		t.Errorf("time %v, want %v (ms,µs groups)", f.Time, want)
	}
	s = decodeBytes(t, "old.srt", writeSRT(track(3), styleOld))
	if f := fixesOf(s, geo.RoleAircraft)[2]; !f.Time.Equal(start.Add(2 * time.Second)) {
		t.Errorf("old format time %v, want %v (date without zero padding)", f.Time, start.Add(2*time.Second))
	}
}

func TestFixtureFPVAltitudeNote(t *testing.T) {
	s := decodeBytes(t, "fpv.srt", writeSRT(track(2), styleFPV))
	for _, f := range fixesOf(s, geo.RoleAircraft) {
		if !strings.Contains(f.Evidence.Note, "multiplied by 10") {
			t.Errorf("FPV fix without correction note: %+v", f.Evidence)
		}
	}
	// The same [altitude] without the FPV markers (Air 2) is taken as written.
	s = decodeBytes(t, "air2.srt", writeSRT(track(2), styleAir2))
	for _, f := range fixesOf(s, geo.RoleAircraft) {
		if f.Evidence.Note != "" {
			t.Errorf("Air 2 fix with a correction note: %+v", f.Evidence)
		}
	}
}

func TestFixtureRadiansBug(t *testing.T) {
	deg := track(20)
	rad := make([]pt, len(deg))
	for i, p := range deg {
		rad[i] = pt{lat: p.lat * math.Pi / 180, lon: p.lon * math.Pi / 180, alt: p.alt}
	}
	for _, st := range []style{styleMavic2, styleAir2} {
		s := decodeBytes(t, "radians.srt", writeSRT(rad, st))
		air := fixesOf(s, geo.RoleAircraft)
		if len(air) != len(deg) {
			t.Fatalf("%d fixes", len(air))
		}
		for i, f := range air {
			// Six decimals of radians hold about 6e-5 degrees.
			if math.Abs(f.Lat-deg[i].lat) > 6e-5 || math.Abs(f.Lon-deg[i].lon) > 6e-5 {
				t.Fatalf("fix %d = %v,%v, want %v,%v", i, f.Lat, f.Lon, deg[i].lat, deg[i].lon)
			}
			if !strings.Contains(f.Evidence.Note, "radians suspected") || f.PrecisionM < 3 {
				t.Fatalf("fix %d evidence %+v precision %v", i, f.Evidence, f.PrecisionM)
			}
		}
	}
	if n := decodeBytes(t, "radians.srt", writeSRT(rad, styleAir2)).NotesWithCode("radians-suspected"); len(n) != 1 || n[0].Severity != decoders.Warning {
		t.Errorf("radians notes %+v", n)
	}
	// A real flight in degrees near (0,0) but with a span over 0.001 is left alone.
	wide := []pt{{0.5, 0.5, 1}, {0.5, 0.51, 1}}
	s := decodeBytes(t, "gulf.srt", writeSRT(wide, styleAir2))
	if f := fixesOf(s, geo.RoleAircraft); len(f) != 2 || f[1].Lon != 0.51 || f[1].Evidence.Note != "" {
		t.Fatalf("wide near-zero flight changed: %+v", f)
	}
}

func TestFixtureMixedStyles(t *testing.T) {
	pts := track(10)
	s := decodeBytes(t, "mixed.srt", writeSRT(pts, styleMavicPro, styleAir2))
	air := fixesOf(s, geo.RoleAircraft)
	if len(air) != len(pts) {
		t.Fatalf("%d fixes, want %d", len(air), len(pts))
	}
	for i, f := range air {
		if math.Abs(f.Lat-pts[i].lat) > 1e-4 || math.Abs(f.Lon-pts[i].lon) > 1e-4 {
			t.Fatalf("fix %d = %v, want %v", i, f, pts[i])
		}
	}
	if air[0].Evidence.Message == air[1].Evidence.Message {
		t.Errorf("styles not told apart per block: %q", air[0].Evidence.Message)
	}
	// A last block in a shorter style (M300: two lines after Mavic Pro's three) is not a cut.
	s = decodeBytes(t, "mixed2.srt", writeSRT(track(2), styleMavicPro, styleM300))
	if len(fixesOf(s, geo.RoleAircraft)) != 2 || len(s.NotesWithCode("truncated")) != 0 {
		t.Fatalf("fixes %v notes %+v", s.Fixes, s.Notes)
	}
	// M300 order: the second fix is lat,lon as written.
	if f := fixesOf(s, geo.RoleAircraft)[1]; math.Abs(f.Lat-pts[1].lat) > 1e-4 || math.Abs(f.Lon-pts[1].lon) > 1e-4 {
		t.Fatalf("M300 fix %v, want %v", f, pts[1])
	}
}

func TestFixtureBOMCRLFBlankLines(t *testing.T) {
	pts := track(4)
	data := writeSRT(pts, styleOneLine)
	text := strings.ReplaceAll(string(data), "\n", "  \r\n")
	text = strings.ReplaceAll(text, "  \r\n  \r\n", "\r\n\r\n\r\n")
	data = append(append([]byte{}, bom...), text...)
	if !New().Sniff(data) {
		t.Fatal("Sniff refused BOM+CRLF")
	}
	s := decodeBytes(t, "crlf.srt", data)
	if got := len(fixesOf(s, geo.RoleAircraft)); got != len(pts) || s.Counts["blocks"] != 4 {
		t.Fatalf("%d fixes, counts %v, notes %+v", got, s.Counts, s.Notes)
	}
}

func TestFixtureNoFix(t *testing.T) {
	data := writeSRT([]pt{{0, 0, 1}, {0, 0, 1}}, styleAir2)
	data = append(data, writeSRT(track(1), styleMavicAir)...)
	s := decodeBytes(t, "nofix.srt", data)
	if len(s.Fixes) != 0 || s.Counts["no_fix_blocks"] != 2 || len(s.Exposures) != 0 {
		t.Fatalf("fixes %v counts %v", s.Fixes, s.Counts)
	}
	na := []byte("1\n00:00:01,000 --> 00:00:02,000\nHOME(N/A,N/A) 2018.08.19 08:00:36\nGPS(N/A,N/A,3) BAROMETER:0.0\n")
	s = decodeBytes(t, "na.srt", na)
	if len(s.Fixes) != 0 || s.Counts["no_fix_blocks"] != 1 {
		t.Fatalf("N/A: fixes %v counts %v", s.Fixes, s.Counts)
	}
}

func TestFixtureAutel(t *testing.T) {
	data := []byte("1\n00:00:00,000 --> 00:00:01,000\nGPS(W:3.7038,N:40.4168,650.2m)\n")
	s := decodeBytes(t, "autel.srt", data)
	f := fixesOf(s, geo.RoleAircraft)
	if len(f) != 1 || f[0].Lat != 40.4168 || f[0].Lon != -3.7038 {
		t.Fatalf("Autel fixes %v", f)
	}
}

// TestFixtureTruncations cuts a generated file at many points: every cut yields the positions of
// the blocks before it and, when a block was cut, one error note naming file, line and byte.
func TestFixtureTruncations(t *testing.T) {
	for _, st := range []style{styleMavicPro, styleMavic2, styleOneLine} {
		full := writeSRT(track(6), st)
		whole := decodeBytes(t, "cut.srt", full)
		nWhole := len(fixesOf(whole, geo.RoleAircraft))
		for cut := 1; cut < len(full); cut++ {
			data := full[:cut]
			s := decodeBytes(t, "cut.srt", data)
			air := fixesOf(s, geo.RoleAircraft)
			if len(air) > nWhole {
				t.Fatalf("cut %d: %d fixes > %d", cut, len(air), nWhole)
			}
			for i, f := range air {
				if f != fixesOf(whole, geo.RoleAircraft)[i] {
					if !strings.Contains(string(data[f.Evidence.Offset:]), "\n") {
						continue // the last, cut line may still parse to a shorter number
					}
					t.Fatalf("cut %d: fix %d = %#v, want %#v", cut, i, f, fixesOf(whole, geo.RoleAircraft)[i])
				}
			}
			for _, n := range s.NotesWithCode("truncated") {
				// The note names the offset where the cut block starts: its counter line.
				var num, line int
				fmt.Sscanf(n.Locator, "block %d @ line %d", &num, &line)
				if n.Severity != decoders.Error || n.Offset != lineOffset(full, line) || n.Offset > int64(cut) ||
					!strings.HasPrefix(string(full[n.Offset:]), fmt.Sprintf("%d\n", num)) || !strings.Contains(n.Message, "cut.srt") {
					t.Fatalf("cut %d: note %+v", cut, n)
				}
			}
		}
		// A cut right after a block's number line, and one inside a position token, are always
		// reported. (A cut that only shortens the last number of a camera line cannot be seen.)
		idx := strings.Index(string(full), "\n3\n")
		tok := max(strings.LastIndex(string(full[:idx]), "GPS"), strings.LastIndex(string(full[:idx]), "[longt"))
		for _, cut := range []int{idx + 3, tok + 8} {
			s := decodeBytes(t, "cut.srt", full[:cut])
			if len(s.NotesWithCode("truncated")) != 1 {
				t.Errorf("cut at %d (%q…): notes %+v", cut, full[cut-10:cut], s.Notes)
			}
		}
	}
}

func TestFixtureHostile(t *testing.T) {
	long := "1\n00:00:00,000 --> 00:00:01,000\n" + strings.Repeat("[latitude: 1", maxLine/4) + "\nGPS(151.2,-33.8,9)\n"
	s := decodeBytes(t, "long.srt", []byte(long))
	if len(s.NotesWithCode("junk")) != 1 || len(fixesOf(s, geo.RoleAircraft)) != 1 {
		t.Fatalf("long line: notes %+v fixes %v", s.Notes, s.Fixes)
	}
	odd := "1\n00:00:00,000 --> 00:00:01,000\nGPS(1e400,0x1p4,9) [latitude: NaN] [longitude: Inf] HOME(999,999)\n"
	s = decodeBytes(t, "odd.srt", []byte(odd))
	if len(s.Fixes) != 0 {
		t.Fatalf("odd numbers gave fixes %v", s.Fixes)
	}
	if New().Sniff([]byte("1\n00:00:00,000 --> 00:00:01,000\x00")) {
		t.Error("Sniff claimed data with a NUL byte")
	}
	for _, h := range []string{"", "time,lat,lon\n1,2,3\n", "<gpx>", "1\nhello\n", "\xff\xd8\xff\xe0"} {
		if New().Sniff([]byte(h)) {
			t.Errorf("Sniff claimed %q", h)
		}
	}
}

// lineOffset returns the byte offset of 1-based line n of data.
func lineOffset(data []byte, n int) int64 {
	off := 0
	for i := 1; i < n; i++ {
		j := strings.IndexByte(string(data[off:]), '\n')
		if j < 0 {
			return -1
		}
		off += j + 1
	}
	return int64(off)
}
