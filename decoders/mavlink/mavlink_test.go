package mavlink

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"droneaudit/capture"
	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
	"droneaudit/netflow"
)

// The X.25 check value of mavlink-dataflash-ulog.md §1.2, computed without CRC_EXTRA.
func TestX25CheckValue(t *testing.T) {
	c := uint16(0xffff)
	for _, x := range []byte("123456789") {
		c = c>>8 ^ x25Table[byte(c)^x]
	}
	if c != 0x6f91 {
		t.Fatalf("X.25 check = %#x, want 0x6f91", c)
	}
}

func TestMessageName(t *testing.T) {
	for id, want := range map[uint32]string{24: "GPS_RAW_INT", 33: "GLOBAL_POSITION_INT", 124: "GPS2_RAW", 12904: "OPEN_DRONE_ID_SYSTEM"} {
		if got := MessageName(id); got != want {
			t.Errorf("MessageName(%d) = %q, want %q", id, got, want)
		}
	}
}

func mustEncode(t testing.TB, m message.Message, v2 bool, seq uint8) []byte {
	t.Helper()
	b, err := Encode(m, v2, seq, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeFile(t testing.TB, path string, data []byte) *decodertest.Sink {
	t.Helper()
	var r io.ReaderAt
	var size int64
	if data != nil {
		r, size = bytes.NewReader(data), int64(len(data))
	} else {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		fi, _ := f.Stat()
		r, size = f, fi.Size()
	}
	sink := &decodertest.Sink{}
	if err := (File{}).Decode(t.Context(), decoders.Input{Path: path, Size: size, R: r}, sink); err != nil {
		t.Fatal(err)
	}
	return sink
}

// Every position message decodes with the right unit and role.
func TestPositionsUnitsAndRoles(t *testing.T) {
	cases := []struct {
		msg      message.Message
		role     geo.Role
		lat, lon float64
		alt      float64
	}{
		{&ardupilotmega.MessageGlobalPositionInt{Lat: 511680000, Lon: 54700000, Alt: 45000}, geo.RoleAircraft, 51.168, 5.47, 45},
		{&ardupilotmega.MessageGpsRawInt{FixType: 3, Lat: 511680000, Lon: 54700000, Alt: 45000}, geo.RoleAircraft, 51.168, 5.47, 45},
		{&ardupilotmega.MessageGps2Raw{FixType: 3, Lat: -353629847, Lon: 1491649392, Alt: 587850}, geo.RoleAircraft, -35.3629847, 149.1649392, 587.85},
		{&ardupilotmega.MessageHomePosition{Latitude: 511700000, Longitude: 54600000, Altitude: -180}, geo.RoleHome, 51.17, 5.46, -0.18},
		{&ardupilotmega.MessageSetHomePosition{Latitude: 511700000, Longitude: 54600000, Altitude: 1000}, geo.RoleHome, 51.17, 5.46, 1},
		{&ardupilotmega.MessageGpsGlobalOrigin{Latitude: 511710000, Longitude: 54610000, Altitude: 2000}, geo.RoleTakeoff, 51.171, 5.461, 2},
		{&ardupilotmega.MessageMissionItemInt{Frame: 3, X: 511720000, Y: 54620000, Z: 30}, geo.RoleWaypoint, 51.172, 5.462, 30},
		{&ardupilotmega.MessageMissionItem{Frame: 0, X: 51.173, Y: 5.463, Z: 40}, geo.RoleWaypoint, float64(float32(51.173)), float64(float32(5.463)), 40},
		{&ardupilotmega.MessageFencePoint{Lat: 51.174, Lng: 5.464, Count: 4}, geo.RoleWaypoint, float64(float32(51.174)), float64(float32(5.464)), math.NaN()},
		{&ardupilotmega.MessageRallyPoint{Lat: 511750000, Lng: 54650000, Alt: 50}, geo.RoleWaypoint, 51.175, 5.465, 50},
		{&ardupilotmega.MessageOpenDroneIdLocation{Latitude: 511760000, Longitude: 54660000, AltitudeGeodetic: 120}, geo.RoleAircraft, 51.176, 5.466, 120},
		{&ardupilotmega.MessageOpenDroneIdSystem{OperatorLatitude: 511770000, OperatorLongitude: 54670000, OperatorAltitudeGeo: -1000}, geo.RolePilot, 51.177, 5.467, math.NaN()},
	}
	for _, tc := range cases {
		for _, v2 := range []bool{false, true} {
			if !v2 && tc.msg.GetID() > 255 {
				continue
			}
			b := mustEncode(t, tc.msg, v2, 7)
			f, st := candidate(b)
			if st != stOK {
				t.Fatalf("%T v2=%v: candidate status %d", tc.msg, v2, st)
			}
			fixes, err := Positions(&f, geo.Evidence{})
			if err != nil || len(fixes) != 1 {
				t.Fatalf("%T v2=%v: %v %v", tc.msg, v2, fixes, err)
			}
			fx := fixes[0]
			if fx.Role != tc.role || math.Abs(fx.Lat-tc.lat) > 1e-9 || math.Abs(fx.Lon-tc.lon) > 1e-9 {
				t.Errorf("%T: got %v %.9f,%.9f want %v %.9f,%.9f", tc.msg, fx.Role, fx.Lat, fx.Lon, tc.role, tc.lat, tc.lon)
			}
			if math.IsNaN(tc.alt) != !fx.HasAlt || fx.HasAlt && math.Abs(fx.AltM-tc.alt) > 1e-6 {
				t.Errorf("%T: altitude %v/%v, want %v", tc.msg, fx.HasAlt, fx.AltM, tc.alt)
			}
		}
	}
	// No fix values and local frames are not positions.
	for _, m := range []message.Message{
		&ardupilotmega.MessageGlobalPositionInt{},
		&ardupilotmega.MessageGpsRawInt{FixType: 1},
		&ardupilotmega.MessageMissionItemInt{Frame: 1, X: 511720000, Y: 54620000},
		&ardupilotmega.MessageCommandInt{Frame: 0, X: math.MaxInt32, Y: math.MaxInt32},
	} {
		f, _ := candidate(mustEncode(t, m, true, 1))
		if fixes, _ := Positions(&f, geo.Evidence{}); len(fixes) != 0 {
			t.Errorf("%T gave %v", m, fixes)
		}
	}
}

// A generated tlog with a fake start byte before every 100th record, as the issue asks: no real
// frame may be lost and no bogus one accepted.
func TestTlogFakeStartBytes(t *testing.T) {
	var buf []byte
	const n = 5000
	t0 := uint64(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC).UnixMicro())
	for i := 0; i < n; i++ {
		if i%100 == 99 {
			buf = append(buf, STXv1) // fake start byte between records
		}
		buf = binary.BigEndian.AppendUint64(buf, t0+uint64(i)*20000)
		var m message.Message = &ardupilotmega.MessageHeartbeat{Type: 2}
		if i%5 == 0 {
			m = &ardupilotmega.MessageGlobalPositionInt{Lat: 511680000 + int32(i), Lon: 54700000, Alt: 45000}
		}
		buf = append(buf, mustEncode(t, m, i%2 == 0, uint8(i))...)
	}
	sink := decodeFile(t, "gen.tlog", buf)
	if sink.Counts["frames"] != n || sink.Counts["records"] != n {
		t.Fatalf("frames %d records %d, want %d", sink.Counts["frames"], sink.Counts["records"], n)
	}
	if sink.Counts["skipped_bytes"] != n/100 || sink.Counts["unverified_frames"] != 0 {
		t.Fatalf("skipped %d (want %d), unverified %d", sink.Counts["skipped_bytes"], n/100, sink.Counts["unverified_frames"])
	}
	if len(sink.Fixes) != n/5 {
		t.Fatalf("fixes %d, want %d", len(sink.Fixes), n/5)
	}
	for i, fx := range sink.Fixes {
		if want := degE7(511680000 + int32(5*i)); fx.Lat != want {
			t.Fatalf("fix %d lat %v, want %v", i, fx.Lat, want)
		}
		if !fx.Time.Equal(time.UnixMicro(int64(t0 + uint64(5*i)*20000))) {
			t.Fatalf("fix %d time %v", i, fx.Time)
		}
	}
}

// The raw framer: FE FF before every 100th frame (the §3.1 measurement), plus an unknown-id frame
// that is followed by a verified one (accepted, unverified) and one that is not (rejected).
func TestRawBacktracking(t *testing.T) {
	var buf []byte
	const n = 3000
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			buf = append(buf, 0xFE, 0xFF)
		}
		buf = append(buf, mustEncode(t, &ardupilotmega.MessageGlobalPositionInt{Lat: int32(500000000 + i), Lon: 40000000}, false, uint8(i))...)
	}
	sink := decodeFile(t, "gen.raw", buf)
	if sink.Counts["frames"] != n || len(sink.Fixes) != n || sink.Counts["unverified_frames"] != 0 {
		t.Fatalf("frames %d fixes %d unverified %d, want %d", sink.Counts["frames"], len(sink.Fixes), sink.Counts["unverified_frames"], n)
	}
	if sink.Counts["skipped_bytes"] != 2*n/100 {
		t.Fatalf("skipped %d, want %d", sink.Counts["skipped_bytes"], 2*n/100)
	}
	// An id the dialect lacks (v2 id 0xABCDE) is accepted only with a verified frame behind it.
	unknown := []byte{STXv2, 2, 0, 0, 1, 1, 1, 0xDE, 0xBC, 0x0A, 9, 9, 0x12, 0x34}
	good := mustEncode(t, &ardupilotmega.MessageHeartbeat{}, true, 1)
	var got []bool
	Scan(append(append(append([]byte{}, unknown...), good...), unknown...), false, func(f *Frame, off int) {
		got = append(got, f.Verified)
	}, func(int, int) {})
	if len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("frames verified flags %v, want [false true] (the trailing unknown frame waits for more data)", got)
	}
}

var (
	reFrames = regexp.MustCompile(`(\d+) (?:MAVLink2 )?frames`)
	reFirst  = func(msg string) *regexp.Regexp {
		return regexp.MustCompile(`First ` + msg + `(?: fix=?\d)? lat=(-?\d+) lon=(-?\d+) alt=(-?\d+)`)
	}
)

func atoi(t testing.TB, s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func firstFix(sink *decodertest.Sink, msg string) *geo.Fix {
	for i := range sink.Fixes {
		if sink.Fixes[i].Evidence.Message == msg {
			return &sink.Fixes[i]
		}
	}
	return nil
}

// checkFirst compares the first fix of a message with the manifest's "First MSG lat= lon= alt="
// statement.
func checkFirst(t *testing.T, sink *decodertest.Sink, gt, msg, gtName string) {
	t.Helper()
	m := reFirst(gtName).FindStringSubmatch(gt)
	if m == nil {
		t.Fatalf("manifest has no first %s", gtName)
	}
	fx := firstFix(sink, msg)
	if fx == nil {
		t.Fatalf("no %s fix", msg)
	}
	lat, lon, alt := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3])
	if fx.Lat != degE7(int32(lat)) || fx.Lon != degE7(int32(lon)) || math.Abs(fx.AltM-float64(alt)/1000) > 1e-9 {
		t.Errorf("first %s %.7f,%.7f alt %.3f; manifest %d,%d alt %d mm", msg, fx.Lat, fx.Lon, fx.AltM, lat, lon, alt)
	}
}

func TestCorpusQuadPlaneTlog(t *testing.T) {
	const rel = "mavlink/arduplane_vtol_sitl_mav1.tlog"
	path := corpus.Path(t, rel)
	gt := corpus.Lookup(t, rel).GroundTruth
	sink := decodeFile(t, path, nil)
	want := atoi(t, reFrames.FindStringSubmatch(gt)[1])
	if sink.Counts["frames"] != want || sink.Counts["records"] != want || sink.Counts["skipped_bytes"] != 0 || sink.Counts["unverified_frames"] != 0 {
		t.Fatalf("counts %v, want %d clean frames", sink.Counts, want)
	}
	checkFirst(t, sink, gt, "GPS_RAW_INT", "GPS_RAW_INT")
	checkFirst(t, sink, gt, "GLOBAL_POSITION_INT", "GLOBAL_POSITION_INT")
	checkFirst(t, sink, gt, "HOME_POSITION", "HOME_POSITION")
	// The first GPS fix carries the record's timestamp.
	m := regexp.MustCompile(`First GPS_RAW_INT.*?@tlog ts (\d+)us`).FindStringSubmatch(gt)
	if fx := firstFix(sink, "GPS_RAW_INT"); m == nil || fx.Time.UnixMicro() != atoi(t, m[1]) {
		t.Errorf("first GPS time %v, manifest %v", fx.Time.UnixMicro(), m)
	}
	// MISSION_ITEM_INT seq0 x=-353634068 y=1491652618 z=582.55
	mi := regexp.MustCompile(`MISSION_ITEM_INT seq0 cmd16 x=(-?\d+) y=(-?\d+) z=([\d.]+)`).FindStringSubmatch(gt)
	found := false
	for _, fx := range sink.Fixes {
		if fx.Role == geo.RoleWaypoint && fx.Lat == degE7(int32(atoi(t, mi[1]))) && fx.Lon == degE7(int32(atoi(t, mi[2]))) {
			z, _ := strconv.ParseFloat(mi[3], 64)
			found = math.Abs(fx.AltM-z) < 1e-3
			break
		}
	}
	if !found {
		t.Errorf("mission item seq 0 (%v) not found", mi[1:])
	}
}

// Every corpus MAVLink file is recognised by content, as the audit sees it.
func TestCorpusSniff(t *testing.T) {
	for _, e := range corpus.Files(t, "mavlink/") {
		if strings.HasSuffix(e.File, ".pcapng") {
			continue
		}
		data, err := os.ReadFile(corpus.Path(t, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if !(File{}).Sniff(data[:min(len(data), 64<<10)]) {
			t.Errorf("%s not recognised", e.File)
		}
	}
	if (File{}).Sniff([]byte("just some text, nothing like MAVLink, repeated. just some text.")) {
		t.Error("text recognised as MAVLink")
	}
}

func TestCorpusJunkRecordsTlog(t *testing.T) {
	const rel = "mavlink/sitl_mav2_junk-records.tlog"
	path := corpus.Path(t, rel)
	gt := corpus.Lookup(t, rel).GroundTruth
	sink := decodeFile(t, path, nil)
	frames := atoi(t, regexp.MustCompile(`(\d+) MAVLink2 frames`).FindStringSubmatch(gt)[1])
	junk := atoi(t, regexp.MustCompile(`(\d+) single-byte`).FindStringSubmatch(gt)[1])
	if sink.Counts["frames"] != frames || sink.Counts["text_records"] != junk {
		t.Fatalf("frames %d text records %d, want %d and %d", sink.Counts["frames"], sink.Counts["text_records"], frames, junk)
	}
	// "record walk consumes the file exactly"
	if sink.Counts["skipped_bytes"] != 0 || sink.Counts["bad_records"] != 0 || sink.Counts["unverified_frames"] != 0 {
		t.Fatalf("counts %v: the walk must consume the file exactly", sink.Counts)
	}
	if sink.Counts["records"] != frames+junk {
		t.Fatalf("records %d", sink.Counts["records"])
	}
	// The junk records are reported, with the console text they carry.
	tn := sink.NotesWithCode("text-records")
	if len(tn) != 1 || !strings.Contains(tn[0].Message, strconv.FormatInt(junk, 10)+" one-byte") || !strings.Contains(tn[0].Attrs["text"], "Init ArduRover") {
		t.Fatalf("text-record notes %+v", tn)
	}
	checkFirst(t, sink, gt, "GPS_RAW_INT", "GPS")
	m := regexp.MustCompile(`HOME_POSITION lat=(-?\d+) lon=(-?\d+) alt=(-?\d+)mm`).FindStringSubmatch(gt)
	home := firstFix(sink, "HOME_POSITION")
	if home == nil || home.Lat != degE7(int32(atoi(t, m[1]))) || home.Lon != degE7(int32(atoi(t, m[2]))) || home.AltM != float64(atoi(t, m[3]))/1000 {
		t.Errorf("home %v, manifest %v", home, m[1:])
	}
	o := regexp.MustCompile(`GPS_GLOBAL_ORIGIN lat=(-?\d+) lon=(-?\d+)`).FindStringSubmatch(gt)
	origin := firstFix(sink, "GPS_GLOBAL_ORIGIN")
	if origin == nil || origin.Role != geo.RoleTakeoff || origin.Lat != degE7(int32(atoi(t, o[1]))) {
		t.Errorf("origin %v, manifest %v", origin, o[1:])
	}
}

func TestCorpusBatteryStatusTlog(t *testing.T) {
	const rel = "mavlink/mav2_battery_status_1record.tlog"
	sink := decodeFile(t, corpus.Path(t, rel), nil)
	if sink.Counts["frames"] != 1 || sink.Counts["skipped_bytes"] != 14 {
		t.Fatalf("counts %v: want 1 frame and 14 trailing junk bytes", sink.Counts)
	}
	junk := sink.NotesWithCode("junk")
	if len(junk) != 1 || junk[0].Offset != 70-14 {
		t.Fatalf("junk notes %v", junk)
	}
}

func TestCorpusLegacy2012(t *testing.T) {
	const rel = "mavlink/legacy2012_le-timestamps.mavlink"
	path := corpus.Path(t, rel)
	gt := corpus.Lookup(t, rel).GroundTruth
	want := atoi(t, regexp.MustCompile(`pymavlink (\d+) BAD_DATA`).FindStringSubmatch(gt)[1])
	head := make([]byte, 4096)
	f, _ := os.Open(path)
	f.ReadAt(head, 0)
	f.Close()
	if ok, le := sniffTlog(head); !ok || !le {
		t.Fatalf("sniff ok=%v little-endian=%v", ok, le)
	}
	sink := decodeFile(t, path, nil)
	if len(sink.NotesWithCode("legacy-tlog")) != 1 {
		t.Fatal("legacy variant not reported")
	}
	if sink.Counts["frames"] != 0 || sink.Counts["bad_records"] != want {
		t.Fatalf("frames %d bad records %d, want 0 and %d", sink.Counts["frames"], sink.Counts["bad_records"], want)
	}
	// The timestamps fall in 2012.
	r, size, name := mustOpen(t, path)
	w := newWindow(r, size, name)
	_, err := walkTlog(w, true, func(r *Record) {
		if y := r.Time().Year(); y != 2012 {
			t.Fatalf("record %d at %v", r.Index, r.Time())
		}
	}, func(int64, int) {})
	if err != nil {
		t.Fatal(err)
	}
}

func mustOpen(t *testing.T, path string) (io.ReaderAt, int64, string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	return f, fi.Size(), path
}

// runCapture pushes a capture through the network path the audit uses: transport decoding, the
// flow table, and this package's flow decoder for flows it sniffs.
func runCapture(t *testing.T, path string) *decodertest.Sink {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capture.NewReader(f, path)
	if err != nil {
		t.Fatal(err)
	}
	nd := capture.NewNetDecoder()
	ft := flowtable.New()
	sink := &decodertest.Sink{}
	flows := map[*flowtable.Flow]decoders.FlowDecoder{}
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		tr, ok, _ := nd.Decode(p)
		if !ok {
			continue
		}
		d := ft.Add(tr, p.Frame, p.Time)
		if len(d.Payload) == 0 {
			continue
		}
		fd, ok := flows[d.Flow]
		if !ok {
			if !(Net{}).Sniff(d.Payload) {
				continue
			}
			fd = Net{}.NewFlow(decoders.Input{Path: path}, sink)
			flows[d.Flow] = fd
		}
		fd.Segment(decoders.Segment{Frame: p.Frame, Offset: p.Offset, Time: p.Time, Payload: d.Payload,
			Network: geo.Network{Proto: tr.Proto, Src: tr.Src, Dst: tr.Dst}})
	}
	for _, fd := range flows {
		fd.Close()
	}
	return sink
}

func TestCorpusCaptures(t *testing.T) {
	t.Run("gps_raw_int over UDP", func(t *testing.T) {
		sink := runCapture(t, corpus.Path(t, "mavlink/gps_raw_int.pcapng"))
		fx := firstFix(sink, "GPS_RAW_INT")
		if fx == nil || fx.Lat != 51.4783466 || fx.Lon != -2.5922214 || fx.AltM != 56.9 || fx.Evidence.Locator != "frame 1" {
			t.Fatalf("fix %v (counts %v)", fx, sink.Counts)
		}
		if fx.Evidence.Channel != geo.ChannelNetwork || fx.Evidence.Network == nil || fx.Evidence.Network.Proto != netflow.UDP {
			t.Fatalf("evidence %+v", fx.Evidence)
		}
	})
	t.Run("mission_item_int over TCP", func(t *testing.T) {
		sink := runCapture(t, corpus.Path(t, "mavlink/mission_item_int.pcapng"))
		if len(sink.Fixes) != 1 || sink.Fixes[0].Role != geo.RoleWaypoint || sink.Fixes[0].Lat != 51.4775152 || sink.Fixes[0].Lon != -2.5939161 {
			t.Fatalf("fixes %v", sink.Fixes)
		}
	})
	t.Run("several frames per TCP segment on BSD loopback", func(t *testing.T) {
		sink := runCapture(t, corpus.Path(t, "mavlink/command_long_over_tcp.pcapng"))
		// The manifest lists COMMAND_LONG; COMMAND_ACK + STATUSTEXT; COMMAND_LONG; COMMAND_ACK +
		// STATUSTEXT + PARAM_VALUE: seven messages (its summary says "6 msgs" but names seven).
		if sink.Counts["frames"] != 7 || sink.Counts["unverified_frames"] != 0 || len(sink.Fixes) != 0 {
			t.Fatalf("counts %v fixes %d: want 6 verified frames, no positions", sink.Counts, len(sink.Fixes))
		}
	})
}

// The robustness test on the real QuadPlane tlog: a fake start byte injected before every
// 100th record, and (as in the format notes' measurement) FE FF injected before every 100th frame
// of its timestamp-free frame stream. No real frame may be lost, no bogus one accepted.
func TestCorpusTlogInjectedStartBytes(t *testing.T) {
	const rel = "mavlink/arduplane_vtol_sitl_mav1.tlog"
	data, err := os.ReadFile(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	want := atoi(t, reFrames.FindStringSubmatch(corpus.Lookup(t, rel).GroundTruth)[1])
	w := newWindow(bytes.NewReader(data), int64(len(data)), rel)
	var starts []int64
	var frames [][]byte
	var positions int
	if _, err := walkTlog(w, false, func(r *Record) {
		starts = append(starts, r.Offset)
		frames = append(frames, append([]byte(nil), r.Frame.Raw...))
		if IsPosition(r.Frame.MsgID) {
			positions++
		}
	}, func(int64, int) { t.Fatal("the clean tlog has junk") }); err != nil {
		t.Fatal(err)
	}
	var tl, raw []byte
	injected := 0
	for i, s := range starts {
		end := int64(len(data))
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		if i%100 == 99 {
			tl = append(tl, STXv2)
			raw = append(raw, 0xFE, 0xFF)
			injected++
		}
		tl = append(tl, data[s:end]...)
		raw = append(raw, frames[i]...)
	}
	ref := decodeFile(t, rel, data)
	for name, buf := range map[string][]byte{"tlog": tl, "raw": raw} {
		sink := decodeFile(t, name, buf)
		per := int64(1)
		if name == "raw" {
			per = 2
		}
		if sink.Counts["frames"] != want || sink.Counts["unverified_frames"] != 0 || sink.Counts["skipped_bytes"] != per*int64(injected) {
			t.Errorf("%s: counts %v, want %d frames and %d skipped bytes", name, sink.Counts, want, per*int64(injected))
		}
		if len(sink.Fixes) != len(ref.Fixes) {
			t.Errorf("%s: %d fixes, want %d", name, len(sink.Fixes), len(ref.Fixes))
		}
	}
}
