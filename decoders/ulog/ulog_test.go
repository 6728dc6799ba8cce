package ulog

import (
	"bytes"
	"context"
	"droneaudit/decoders/decodertest"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"
	"testing"
	"time"

	"droneaudit/geo"
)

func summarize(t *testing.T, data []byte) *Summary {
	t.Helper()
	s, err := Summarize(bytes.NewReader(data), "gen.ulg")
	must(t, err, "Summarize")
	return s
}

func TestGeneratedSummary(t *testing.T) {
	const rounds = 6
	s := summarize(t, genULog(rounds))
	if len(s.Problems) != 0 {
		t.Fatalf("problems on a clean log: %+v", s.Problems)
	}
	want := []Topic{
		{Name: "home_position", Size: 29, Count: 2},
		{Name: "navigator_mission_item", Size: 23, Count: 1},
		{Name: "position_setpoint_triplet", Size: 104, Count: 1},
		{Name: "sensor_combined", Size: 36, Count: 5 * rounds},
		{Name: "sensor_combined", MultiID: 1, Size: 36, Count: rounds},
		{Name: "sensor_gps", Size: 41, Count: rounds},
		{Name: "vehicle_global_position", Size: 29, Count: rounds},
		{Name: "vehicle_gps_position", Size: 34, Count: rounds},
	}
	if len(s.Topics) != len(want) {
		t.Fatalf("topics %+v", s.Topics)
	}
	for i, w := range want {
		g := s.Topics[i]
		if g.Name != w.Name || g.MultiID != w.MultiID || g.Size != w.Size || g.Count != w.Count {
			t.Errorf("topic %d = %+v, want %+v", i, g, w)
		}
	}
	// The largest data timestamp is the last IMU sample of the last round (ts + 4×4000).
	if s.Version != 1 || s.StartTime != 1_000_000 || s.LastTimestamp != 2_000_000+rounds*200_000+16_000 {
		t.Errorf("version %d start %d last %d", s.Version, s.StartTime, s.LastTimestamp)
	}
	if s.Info["sys_name"].String() != "PX4" || s.Info["time_ref_utc"].String() != "3600" || s.Info["ver_sw_release"].Num != 0x010E0000 {
		t.Errorf("info %+v", s.Info)
	}
	boot := s.MultiInfo["boot_console_output"]
	if len(boot) != 1 || len(boot[0]) != 2 || boot[0][1].Str != "bb\nINFO done\n" {
		t.Errorf("multi-info %+v", boot)
	}
	if s.Params["MPC_XY_VEL_MAX"].Num != 12.5 || s.Params["MAV_SYS_ID"].String() != "7" {
		t.Errorf("params %+v", s.Params)
	}
	if s.DefaultParams[0]["MPC_XY_VEL_MAX"].Num != 12 || s.DefaultParams[1]["MPC_XY_VEL_MAX"].Num != 12 || len(s.DefaultParams) != 2 {
		t.Errorf("default params %+v", s.DefaultParams)
	}
	if len(s.ChangedParams) != 1 || s.ChangedParams[0].Value.Num != 10 {
		t.Errorf("changed params %+v", s.ChangedParams)
	}
	if len(s.Logged) != 3 || s.Logged[0].Text != "[commander] Ready for takeoff!" || LevelName(s.Logged[0].Level) != "INFO" ||
		!s.Logged[1].Tagged || s.Logged[1].Tag != 3 || LevelName(s.Logged[2].Level) != "ERROR" {
		t.Errorf("logged %+v", s.Logged)
	}
	if len(s.Dropouts) != 1 || s.Dropouts[0].DurationMS != 25 {
		t.Errorf("dropouts %+v", s.Dropouts)
	}
}

func TestGeneratedFixes(t *testing.T) {
	const rounds = 6
	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), input(genULog(rounds)), sink), "Decode")
	by := map[string][]geo.Fix{}
	for _, f := range sink.Fixes {
		by[f.Evidence.Message] = append(by[f.Evidence.Message], f)
		if !f.Valid() || f.Evidence.Decoder != "ulog" || f.Evidence.Channel != geo.ChannelOnDevice {
			t.Fatalf("bad fix %v", f)
		}
	}
	old, nw := by["vehicle_gps_position"], by["sensor_gps"]
	if len(old) != rounds-1 || len(nw) != rounds {
		t.Fatalf("gps fixes old %d new %d", len(old), len(nw))
	}
	// Old schema: int32 degE7 and mm; round 1 is the first with a fix.
	if old[0].Lat != float64(latE7+10)/1e7 || old[0].Lon != float64(lonE7-10)/1e7 || math.Abs(old[0].AltM-500.001) > 1e-9 ||
		old[0].Evidence.Encoding != "int32 degE7" || old[0].PrecisionM != geo.PrecisionDegE7 {
		t.Fatalf("old-schema fix %v alt %v %q", old[0], old[0].AltM, old[0].Evidence.Encoding)
	}
	if !old[0].Time.Equal(time.UnixMicro(utc0 + 200_000).UTC()) {
		t.Fatalf("old fix time %v", old[0].Time)
	}
	// New schema: float64 degrees and metres.
	if nw[0].Lat != float64(latE7)/1e7+1e-9 || nw[0].AltM != 500.25 || nw[0].Evidence.Encoding != "float64 degrees" {
		t.Fatalf("new-schema fix %v", nw[0])
	}
	glob := by["vehicle_global_position"]
	if len(glob) != rounds-1 {
		t.Fatalf("global fixes %d (lat_lon_valid=false must be dropped)", len(glob))
	}
	// Its time comes from the boot-time clock anchored on the first GPS UTC.
	if want := time.UnixMicro(utc0 + 20).UTC(); !glob[0].Time.Equal(want) {
		t.Fatalf("global fix time %v, want %v", glob[0].Time, want)
	}
	home := by["home_position"]
	if len(home) != 1 || home[0].Role != geo.RoleHome || home[0].Lat != float64(latE7)/1e7 || home[0].AltM != 470 {
		t.Fatalf("home %v", home)
	}
	trip := by["position_setpoint_triplet"]
	if len(trip) != 2 || trip[0].Lat != 48.1 || trip[1].Lat != 48.2 || trip[0].Role != geo.RoleWaypoint {
		t.Fatalf("setpoints %v", trip)
	}
	item := by["navigator_mission_item"]
	if len(item) != 1 || item[0].Lat != float64(float32(48.3)) || item[0].AltRef != "take-off" || item[0].PrecisionM <= 0 {
		t.Fatalf("mission item %v", item)
	}
	if sink.Counts["msg_sensor_combined"] != 6*rounds || sink.Counts["msg_vehicle_gps_position"] != rounds || sink.Counts["dropouts"] != 1 {
		t.Fatalf("counts %v", sink.Counts)
	}
	ids := sink.NotesWithCode("identity")
	if len(ids) != 2 || ids[0].Attrs["sys_uuid"] != "0011223344556677" || ids[1].Attrs["px4_guid"] != "00aabb" {
		t.Fatalf("identity %+v", ids)
	}
	exp := sink.Exposures
	if len(exp) != 1 || exp[0].Values["board"] != "TESTBOARD_V1" || exp[0].Values["utc_offset_s"] != "3600" || exp[0].Values["mavlink_sysid"] != "7" {
		t.Fatalf("exposure %+v", exp)
	}
}

func TestIncompatFlagsRefused(t *testing.T) {
	w := newULWriter(1, 0)
	w.flags([8]byte{}, [8]byte{0x02}, [3]uint64{})
	w.format(defIMU)
	_, err := Summarize(bytes.NewReader(w.bytes()), "x.ulg")
	if !errors.Is(err, ErrIncompat) {
		t.Fatalf("err = %v, want ErrIncompat", err)
	}
	w = newULWriter(1, 0)
	w.flags([8]byte{}, [8]byte{0, 0, 0, 1}, [3]uint64{})
	if _, err := Summarize(bytes.NewReader(w.bytes()), "x.ulg"); !errors.Is(err, ErrIncompat) {
		t.Fatalf("byte 3: err = %v", err)
	}
	sink := &decodertest.Sink{}
	if err := New().Decode(context.Background(), input(w.bytes()), sink); !errors.Is(err, ErrIncompat) || len(sink.NotesWithCode("unsupported")) != 1 {
		t.Fatalf("Decode err %v notes %+v", err, sink.Notes)
	}
}

// TestAppendedData writes a log with DATA_APPENDED whose data section ends in a message cut by
// the appended offset, then the appended section (§7.3).
func TestAppendedData(t *testing.T) {
	w := newULWriter(1, 0)
	flagsAt := w.flags([8]byte{}, [8]byte{1}, [3]uint64{})
	w.format(defIMU)
	w.subscribe(0, idIMU, "sensor_combined")
	imu := func(ts uint64) []byte { return pack(ts, make([]byte, 28)) }
	w.data(idIMU, imu(1))
	w.data(idIMU, imu(2))
	cutAt := w.len()
	w.data(idIMU, imu(3))
	// The appended section starts in the middle of that last message.
	appendAt := cutAt + 10
	data := append([]byte{}, w.bytes()[:appendAt]...)
	w2 := &ulWriter{}
	w2.data(idIMU, imu(100))
	w2.data(idIMU, imu(101))
	data = append(data, w2.bytes()...)
	offsets := data[flagsAt+3+16:]
	copy(offsets, le64(uint64(appendAt)))
	s := summarize(t, data)
	if len(s.Topics) != 1 || s.Topics[0].Count != 4 || s.LastTimestamp != 101 {
		t.Fatalf("topics %+v last %d", s.Topics, s.LastTimestamp)
	}
	if len(s.Appended) != 1 || s.Appended[0] != int64(appendAt) {
		t.Fatalf("appended %v", s.Appended)
	}
	cut := 0
	for _, p := range s.Problems {
		if p.Kind == "appended-cut" && p.Offset == int64(cutAt) {
			cut++
		}
	}
	if cut != 1 {
		t.Fatalf("problems %+v", s.Problems)
	}
}

func TestCorruptionResyncsOnSync(t *testing.T) {
	clean := genULog(5)
	ref := summarize(t, clean)
	// Damage: a header claiming type 0, then junk, then a sync message, inserted at a message
	// boundary (just before the first logged string).
	at := bytes.Index(clean, []byte("[commander] Ready")) - 12
	junk := append([]byte{0x05, 0x00, 0x00, 0xff, 0xee}, append([]byte{8, 0, 'S'}, syncMagic...)...)
	data := append(append(append([]byte{}, clean[:at]...), junk...), clean[at:]...)
	s := summarize(t, data)
	if len(s.Topics) != len(ref.Topics) || len(s.Logged) != len(ref.Logged) {
		t.Fatalf("after corruption: %d topics %d logged, want %d %d", len(s.Topics), len(s.Logged), len(ref.Topics), len(ref.Logged))
	}
	for i := range ref.Topics {
		if s.Topics[i] != ref.Topics[i] {
			t.Fatalf("topic %d %+v, want %+v", i, s.Topics[i], ref.Topics[i])
		}
	}
	if len(s.Problems) != 1 || s.Problems[0].Kind != "corrupt" || s.Problems[0].Offset != int64(at) {
		t.Fatalf("problems %+v", s.Problems)
	}
	// Without any sync message the reader slides to the next plausible header.
	junk = []byte{0x05, 0x00, 0x00, 0xff, 0xee, 0x01}
	data = append(append(append([]byte{}, clean[:at]...), junk...), clean[at:]...)
	s = summarize(t, data)
	if len(s.Topics) != len(ref.Topics) || len(s.Logged) != len(ref.Logged) {
		t.Fatalf("after sync-less corruption: %+v", s.Problems)
	}
}

func TestTruncatedLastMessage(t *testing.T) {
	clean := genULog(3)
	ref := summarize(t, clean)
	data := clean[:len(clean)-5]
	s := summarize(t, data)
	if len(s.Logged) != len(ref.Logged)-1 {
		t.Fatalf("logged %d, want %d", len(s.Logged), len(ref.Logged)-1)
	}
	if len(s.Problems) != 1 || s.Problems[0].Kind != "truncated" {
		t.Fatalf("problems %+v", s.Problems)
	}
}

func TestVersionZeroWithoutFlagBits(t *testing.T) {
	w := newULWriter(0, 5)
	w.format(defIMU)
	w.subscribe(0, 3, "sensor_combined")
	w.data(3, pack(uint64(9), make([]byte, 28)))
	s := summarize(t, w.bytes())
	if s.Version != 0 || len(s.Topics) != 1 || s.Topics[0].Count != 1 {
		t.Fatalf("%+v", s)
	}
}

func TestFormatParsing(t *testing.T) {
	var r resolver
	for _, d := range []string{defTriplet, defSP, "loop:uint64_t timestamp;loop self;", "big:uint8_t[65535] a;uint8_t[65535] b;"} {
		def, err := parseDef(d)
		must(t, err, d)
		must(t, r.add(def, len(d)), "add "+d)
	}
	l, err := r.layout("position_setpoint_triplet")
	must(t, err, "nested layout")
	if l.Size != 104 || l.MinSize != 104 {
		t.Fatalf("size %d min %d", l.Size, l.MinSize)
	}
	f, ok := l.Lookup("next.lat")
	if !ok || f.Offset != 8+32+32+8 || f.Kind != KindDouble {
		t.Fatalf("next.lat %+v", f)
	}
	if _, err := r.layout("loop"); err == nil {
		t.Fatal("self-referencing format accepted")
	}
	if _, err := r.layout("big"); err == nil {
		t.Fatal("oversized format accepted")
	}
	for _, bad := range []string{"noname", ":uint8_t a;", "x:uint8_t[0] a;", "x:uint8_t[99999999999] a;", "x:uint8_t[3 a;", "x:uint8_t;"} {
		if _, err := parseDef(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestSniff(t *testing.T) {
	if !New().Sniff(genULog(1)) || New().Sniff([]byte("ULog")) || New().Sniff([]byte{0xA3, 0x95, 0x80}) {
		t.Fatal("sniff")
	}
	if _, err := NewReader(bytes.NewReader([]byte("not a ulog file at all")), "x"); err == nil {
		t.Fatal("bad magic accepted")
	}
}

func TestAbsoluteTimestamps(t *testing.T) {
	w := newULWriter(1, 1_700_000_000_000_000)
	w.format(defGlobal)
	w.subscribe(0, 1, "vehicle_global_position")
	w.data(1, pack(uint64(1_700_000_000_500_000), 48.0, 11.0, float32(500), true))
	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), input(w.bytes()), sink), "Decode")
	if len(sink.Fixes) != 1 || !sink.Fixes[0].Time.Equal(time.UnixMicro(1_700_000_000_500_000).UTC()) {
		t.Fatalf("fixes %v", sink.Fixes)
	}
	if math.Abs(sink.Fixes[0].AltM-500) > 0 {
		t.Fatal("alt")
	}
}

func TestFixesBeforeFirstGPSTimeAreTimedLater(t *testing.T) {
	w := newULWriter(1, 0)
	w.format(defGlobal)
	w.format(defGPSOld)
	w.subscribe(0, 1, "vehicle_global_position")
	w.subscribe(0, 2, "vehicle_gps_position")
	w.data(1, pack(uint64(1_000_000), 48.0, 11.0, float32(500), true))
	w.data(2, pack(uint64(3_000_000), uint64(utc0), int32(480000000), int32(110000000), int32(500000), float32(1), uint8(3), uint8(9)))
	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), input(w.bytes()), sink), "Decode")
	if len(sink.Fixes) != 2 || sink.Fixes[0].Evidence.Message != "vehicle_global_position" {
		t.Fatalf("fixes %v", sink.Fixes)
	}
	if want := time.UnixMicro(utc0 - 2_000_000).UTC(); !sink.Fixes[0].Time.Equal(want) {
		t.Fatalf("early fix time %v, want %v", sink.Fixes[0].Time, want)
	}
	if sink.Fixes[0].Evidence.Locator != "message 4 @ 0x"+strconv.FormatInt(sink.Fixes[0].Evidence.Offset, 16) {
		t.Fatalf("locator %q", sink.Fixes[0].Evidence.Locator)
	}
}

// TestGeneratedDataReadsBackExactly: every D message comes back with the bytes written, its
// subscription resolved, and every field of the layout inside the bytes present.
func TestGeneratedDataReadsBackExactly(t *testing.T) {
	data, sent := genULogSent(7)
	rd, err := NewReader(bytes.NewReader(data), "gen.ulg")
	must(t, err, "NewReader")
	i := 0
	for {
		m, err := rd.Next()
		if err == io.EOF {
			break
		}
		must(t, err, "Next")
		if m.Type != 'D' {
			continue
		}
		if i >= len(sent) || !bytes.Equal(m.Body, sent[i]) || m.Sub == nil || !bytes.Equal(m.Data, sent[i][2:]) {
			t.Fatalf("D message %d differs or is unresolved", i)
		}
		if ts, ok := m.Sub.Timestamp(m.Data); !ok || ts != binary.LittleEndian.Uint64(sent[i][2:]) {
			t.Fatalf("D message %d timestamp %d", i, ts)
		}
		i++
	}
	if i != len(sent) {
		t.Fatalf("%d D messages, wrote %d", i, len(sent))
	}
}
