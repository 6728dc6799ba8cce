package dataflash

import (
	"bytes"
	"context"
	"droneaudit/decoders/decodertest"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"droneaudit/geo"
)

// readAll frames every message of data and returns copies of (type name, body, offset).
type framed struct {
	name   string
	body   []byte
	offset int64
}

func readAll(t testing.TB, data []byte) ([]framed, *Reader, []Problem) {
	t.Helper()
	rd := NewReader(bytes.NewReader(data), "gen.bin")
	var out []framed
	var probs []Problem
	for {
		m, err := rd.Next()
		probs = append(probs, rd.Problems()...)
		if err == io.EOF {
			break
		}
		must(t, err, "Next")
		out = append(out, framed{m.Format.Name, append([]byte(nil), m.Body...), m.Offset})
	}
	return out, rd, probs
}

func TestGeneratedLogReadsBackExactly(t *testing.T) {
	for _, mid := range []bool{false, true} {
		fx := genLog(12, mid)
		msgs, rd, probs := readAll(t, fx.data)
		if len(msgs) != fx.messages {
			t.Fatalf("midFMT=%v: %d messages, wrote %d", mid, len(msgs), fx.messages)
		}
		if len(probs) != 0 || rd.Skipped != 0 {
			t.Fatalf("midFMT=%v: clean log reported problems %v, skipped %d", mid, probs, rd.Skipped)
		}
		// Every message starts at its reported offset.
		for i, m := range msgs {
			if fx.data[m.offset] != head1 || fx.data[m.offset+1] != head2 {
				t.Fatalf("message %d (%s): offset %d does not point at a header", i, m.name, m.offset)
			}
		}
		// Every field reads back as written: integers and strings exactly, floats to float32.
		rd = NewReader(bytes.NewReader(fx.data), "gen.bin")
		for i := 0; ; i++ {
			m, err := rd.Next()
			if err == io.EOF {
				break
			}
			w := fx.log[i]
			f := m.Format
			if f.Type != w.typ && f.Type != typeFMT {
				t.Fatalf("message %d: type %d, wrote %d", i, f.Type, w.typ)
			}
			for k, v := range w.vals {
				switch f.Format[k] {
				case 'n', 'N', 'Z':
					if s, _ := m.String(k); s != v.(string) {
						t.Fatalf("message %d %s.%s = %q, wrote %q", i, f.Name, f.Columns[k], s, v)
					}
				case 'f':
					if r, _ := m.Raw(k); r != float64(float32(v.(float64))) {
						t.Fatalf("message %d %s.%s = %v, wrote %v", i, f.Name, f.Columns[k], r, v)
					}
				case 'd':
					if r, _ := m.Raw(k); r != v.(float64) {
						t.Fatalf("message %d %s.%s = %v, wrote %v", i, f.Name, f.Columns[k], r, v)
					}
				default:
					if r, _ := m.Raw(k); int64(r) != toInt(v) {
						t.Fatalf("message %d %s.%s = %v, wrote %v", i, f.Name, f.Columns[k], r, v)
					}
				}
			}
		}
	}
}

func TestScalingFMTUVersusFormatChar(t *testing.T) {
	fx := genLog(4, false)
	rd := NewReader(bytes.NewReader(fx.data), "gen.bin")
	var gps, orgn int
	for {
		m, err := rd.Next()
		if err == io.EOF {
			break
		}
		must(t, err, "Next")
		f := m.Format
		switch f.Name {
		case "GPS":
			gps++
			// HDop is 'c' (×0.01) with FMTU multiplier B (1e-2): applied once, not twice.
			if v, _ := m.Value(f.Column("HDop")); math.Abs(v-0.77) > 1e-12 {
				t.Fatalf("HDop = %v, want 0.77", v)
			}
			// Lat is 'L' with multiplier G: degrees.
			if v, _ := m.Value(f.Column("Lat")); math.Abs(v-float64(baseLatE7+(gps-1)*37)/1e7) > 1e-12 {
				t.Fatalf("Lat = %v", v)
			}
			// GMS has multiplier C: seconds of week.
			if v, _ := m.Value(f.Column("GMS")); math.Abs(v-float64(100_000+(gps-1)*100)*1e-3) > 1e-9 {
				t.Fatalf("GMS = %v", v)
			}
			if raw, _ := m.Raw(f.Column("Lat")); raw != float64(baseLatE7+(gps-1)*37) {
				t.Fatalf("raw Lat = %v", raw)
			}
		case "ORGN":
			orgn++
			if v, _ := m.Value(f.Column("Alt")); math.Abs(v-500.0) > 1e-9 && math.Abs(v-500.1) > 1e-9 {
				t.Fatalf("ORGN Alt = %v, want 500.0 or 500.1 m", v)
			}
		}
	}
	if gps != 4 || orgn != 2 {
		t.Fatalf("gps %d orgn %d", gps, orgn)
	}
	// Without FMTU the format character's own scaling applies.
	w := newDFWriter()
	w.define(tGPSo, "GPS", "BIHBcLLeeEefI", "Status,TimeMS,Week,NSats,HDop,Lat,Lng,RelAlt,Alt,Spd,GCrs,VZ,T")
	w.write(tGPSo, 3, 603882400, 1850, 9, 158, baseLatE7, baseLonE7, 1234, 59008, 250, 9000, 0.5, 45136)
	msgs, _, _ := readAll(t, w.buf.Bytes())
	rd = NewReader(bytes.NewReader(w.buf.Bytes()), "old.bin")
	for {
		m, err := rd.Next()
		if err == io.EOF {
			break
		}
		if m.Format.Name != "GPS" {
			continue
		}
		f := m.Format
		for col, want := range map[string]float64{"HDop": 1.58, "Alt": 590.08, "Spd": 2.5, "GCrs": 90, "Lat": float64(baseLatE7) * 1e-7} {
			if v, _ := m.Value(f.Column(col)); math.Abs(v-want) > 1e-9 {
				t.Errorf("old GPS %s = %v, want %v", col, v, want)
			}
		}
	}
	if len(msgs) != 3 { // FMT of FMT, FMT of GPS, GPS
		t.Fatalf("old log: %d messages", len(msgs))
	}
}

func TestDecodeGeneratedFixes(t *testing.T) {
	fx := genLog(10, true)
	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), input(fx.data), sink), "Decode")
	var gps, pos, home, origin, wp []geo.Fix
	for _, f := range sink.Fixes {
		switch {
		case f.Evidence.Message == "GPS":
			gps = append(gps, f)
		case f.Evidence.Message == "POS":
			pos = append(pos, f)
		case f.Role == geo.RoleHome:
			home = append(home, f)
		case f.Role == geo.RoleTakeoff:
			origin = append(origin, f)
		case f.Role == geo.RoleWaypoint:
			wp = append(wp, f)
		}
		if f.Evidence.Channel != geo.ChannelOnDevice || f.Evidence.Decoder != "dataflash" || !f.Valid() {
			t.Fatalf("bad fix %v", f)
		}
	}
	if len(gps) != fx.gps {
		t.Fatalf("%d GPS fixes, want %d (Status < 3 must be dropped)", len(gps), fx.gps)
	}
	first := gps[0]
	if first.Lat != float64(baseLatE7+2*37)/1e7 || first.Lon != float64(baseLonE7-2*53)/1e7 {
		t.Fatalf("first GPS fix %v", first)
	}
	if !first.HasAlt || math.Abs(first.AltM-512.36) > 1e-9 || first.AltRef != "msl" {
		t.Fatalf("first GPS altitude %v %v %q", first.HasAlt, first.AltM, first.AltRef)
	}
	// GPS week 2300, 100.2 s into the week, minus 18 leap seconds.
	want := time.Date(1980, 1, 6, 0, 0, 0, 0, time.UTC).Add(2300*7*24*time.Hour + 100200*time.Millisecond - 18*time.Second)
	if !first.Time.Equal(want) {
		t.Fatalf("first GPS time %v, want %v", first.Time, want)
	}
	if first.PrecisionM != geo.PrecisionDegE7 || first.Evidence.Encoding != "int32 degE7" {
		t.Fatalf("precision/encoding %v %q", first.PrecisionM, first.Evidence.Encoding)
	}
	// POS only after its mid-file FMT: rounds 3..9.
	if len(pos) != 7 {
		t.Fatalf("%d POS fixes, want 7", len(pos))
	}
	// POS at TimeUS t+50 after the GPS anchor: its UTC follows from the boot-time offset.
	if pos[0].Time.IsZero() {
		t.Fatal("POS fix without time after the GPS anchor")
	}
	// Home from ORGN Type 1 and CMD slot 0; EKF origin from ORGN Type 0; a rally point and
	// one mission waypoint (the take-off item has no position).
	if len(home) != 2 || len(origin) != 1 || len(wp) != 2 {
		t.Fatalf("home %d origin %d waypoints %d", len(home), len(origin), len(wp))
	}
	if home[0].Lat != float64(baseLatE7+2)/1e7 || home[0].AltM != 500.1 {
		t.Fatalf("ORGN home %v alt %v", home[0], home[0].AltM)
	}
	if wp[0].Lat != float64(baseLatE7+20000)/1e7 || wp[0].Evidence.Note != "rally point" || wp[0].HasAlt {
		t.Fatalf("rally point %v %q", wp[0], wp[0].Evidence.Note)
	}
	if wp[1].Lat != float64(baseLatE7+9000)/1e7 || wp[1].AltRef != "take-off" || wp[1].AltM != 40 {
		t.Fatalf("waypoint %v %q %v", wp[1], wp[1].AltRef, wp[1].AltM)
	}
	if sink.Counts["msg_GPS"] != 10 || sink.Counts["msg_IMU"] != 40 || sink.Counts["msg_POS"] != 7 || sink.Counts["messages"] != int64(fx.messages) {
		t.Fatalf("counts %v", sink.Counts)
	}
	ids := sink.NotesWithCode("identity")
	if len(ids) != 2 || ids[0].Attrs["brd_serial_num"] != "4711" || ids[1].Attrs["board_uid"] != "003000293331510B37313837" {
		t.Fatalf("identity notes %+v", ids)
	}
	exp := sink.Exposures
	if len(exp) != 1 || exp[0].Values["board"] != "CubeOrange" || exp[0].Values["firmware"] != "ArduCopter V4.5.7 (2a3dc4b7)" ||
		exp[0].Values["firmware_git"] != "2a3dc4b7" || exp[0].Values["board_id"] != "140" || exp[0].Values["home"] != "48.1234569,11.5432111" {
		t.Fatalf("exposure notes %+v", exp)
	}
}

func TestOldCMDFloatDegrees(t *testing.T) {
	w := newDFWriter()
	w.define(tCMDf, "CMD", "IHHHfffffff", "TimeMS,CTot,CNum,CId,Prm1,Prm2,Prm3,Prm4,Lat,Lng,Alt")
	w.write(tCMDf, 5000, 2, 0, 16, 0.0, 0.0, 0.0, 0.0, -35.36237335, 149.16584778, 584.0)
	w.write(tCMDf, 5001, 2, 1, 16, 0.0, 0.0, 0.0, 0.0, -35.3630, 149.1660, 20.0)
	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), input(w.buf.Bytes()), sink), "Decode")
	if len(sink.Fixes) != 2 {
		t.Fatalf("%d fixes", len(sink.Fixes))
	}
	h, wp := sink.Fixes[0], sink.Fixes[1]
	if h.Role != geo.RoleHome || math.Abs(h.Lat-float64(float32(-35.36237335))) > 0 || h.Evidence.Encoding != "float32 degrees" {
		t.Fatalf("home %v %q", h, h.Evidence.Encoding)
	}
	if wp.Role != geo.RoleWaypoint || wp.HasAlt {
		t.Fatalf("waypoint %v (old CMD has no frame: altitude reference unknown)", wp)
	}
	if h.PrecisionM <= 0 || h.PrecisionM > 1 {
		t.Fatalf("float32 precision %v", h.PrecisionM)
	}
}

func TestJunkAndFakeHeaderResync(t *testing.T) {
	fx := genLog(6, false)
	clean, _, _ := readAll(t, fx.data)
	// Insert junk holding a fake header of a known type (GPS) in the middle, at a message
	// boundary: the lookahead must reject it.
	cut := int(clean[len(clean)/2].offset)
	junk := []byte{0x00, head1, head2, tGPS, 0x11, 0x22, head1, 0x95}
	data := append(append(append([]byte{}, fx.data[:cut]...), junk...), fx.data[cut:]...)
	msgs, rd, probs := readAll(t, data)
	if len(msgs) != len(clean) {
		t.Fatalf("%d messages after junk, want %d", len(msgs), len(clean))
	}
	for i := range msgs {
		if msgs[i].name != clean[i].name || !bytes.Equal(msgs[i].body, clean[i].body) {
			t.Fatalf("message %d differs after junk", i)
		}
	}
	if rd.Skipped != int64(len(junk)) || len(probs) != 1 || probs[0].Kind != "junk" || probs[0].Offset != int64(cut) {
		t.Fatalf("skipped %d, problems %+v", rd.Skipped, probs)
	}
}

func TestTruncatedLastMessage(t *testing.T) {
	fx := genLog(3, false)
	data := fx.data[:len(fx.data)-7]
	msgs, _, probs := readAll(t, data)
	if len(msgs) != fx.messages-1 {
		t.Fatalf("%d messages, want %d", len(msgs), fx.messages-1)
	}
	if len(probs) != 1 || probs[0].Kind != "truncated" || probs[0].Offset+probs[0].Len != int64(len(data)) {
		t.Fatalf("problems %+v", probs)
	}
	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), input(data), sink), "Decode of a truncated log")
	if len(sink.NotesWithCode("truncated")) != 1 {
		t.Fatalf("notes %+v", sink.Notes)
	}
}

func TestSignedContainer(t *testing.T) {
	fx := genLog(60, true)
	plain, _, _ := readAll(t, fx.data)
	for _, alg := range []byte{1, 2} {
		signed := wrapSigned(fx.data, alg)
		if !New().Sniff(signed[:min(len(signed), 4096)]) {
			t.Fatal("signed container not sniffed")
		}
		msgs, rd, probs := readAll(t, signed)
		if len(msgs) != len(plain) || rd.Skipped != 0 {
			t.Fatalf("alg %d: %d messages (want %d), skipped %d, problems %+v", alg, len(msgs), len(plain), rd.Skipped, probs)
		}
		for i := range msgs {
			if msgs[i].name != plain[i].name || !bytes.Equal(msgs[i].body, plain[i].body) {
				t.Fatalf("alg %d: message %d differs", alg, i)
			}
			if signed[msgs[i].offset] != head1 {
				t.Fatalf("alg %d: message %d offset %d is not a file offset of its header", alg, i, msgs[i].offset)
			}
		}
		info, ok := rd.Signed()
		wantChunks := 0
		for i := 0; i+4 <= len(signed); i++ {
			if string(signed[i:i+4]) == "1HCH" {
				wantChunks++
			}
		}
		if !ok || !info.ChainIntact || !info.EndRecord || info.Chunks != wantChunks || info.DeviceID != 0x1234 || info.Counter != 42 {
			t.Fatalf("alg %d: info %+v (want %d chunks), problems %+v", alg, info, wantChunks, probs)
		}
		sink := &decodertest.Sink{}
		must(t, New().Decode(context.Background(), input(signed), sink), "Decode signed")
		sc := sink.NotesWithCode("signed-container")
		if len(sc) != 1 || sc[0].Attrs["chain_intact"] != "yes" || !bytes.Contains([]byte(sc[0].Message), []byte("signed container (signature not verified)")) {
			t.Fatalf("signed note %+v", sc)
		}
		if sink.Counts["msg_POS"] != 57 {
			t.Fatalf("POS after de-chunking: %d", sink.Counts["msg_POS"])
		}
	}
	// A changed byte inside a span breaks the chain but not the decoding.
	signed := wrapSigned(fx.data, 1)
	tampered := append([]byte(nil), signed...)
	tampered[6000] ^= 0x01
	_, rd, _ := readAll(t, tampered)
	if info, _ := rd.Signed(); info.ChainIntact {
		t.Fatal("tampered container reported intact")
	}
}

func TestSniff(t *testing.T) {
	fx := genLog(2, false)
	d := New()
	if !d.Sniff(fx.data) {
		t.Fatal("plain log not sniffed")
	}
	// A log whose first bytes were cut is still recognised by its FMT messages.
	if !d.Sniff(fx.data[50:]) {
		t.Fatal("log without its first FMT not sniffed")
	}
	for _, neg := range [][]byte{nil, []byte("ULog\x01\x125\x01"), bytes.Repeat([]byte{0xA3, 0x95}, 100), []byte{0xFE, 9, 0, 1, 1, 0}} {
		if d.Sniff(neg) {
			t.Fatalf("sniffed %q", neg)
		}
	}
}

func TestGPSTimeLeapSeconds(t *testing.T) {
	// 2017-10-29 01:47:10 UTC = GPS week 1973, 6448 s (18 leap seconds; the corpus 3.8 log).
	got, ok := GPSTime(1973, 6448000)
	if !ok || !got.Equal(time.Date(2017, 10, 29, 1, 47, 10, 0, time.UTC)) {
		t.Fatalf("GPSTime = %v", got)
	}
	// Week 1851 (June 2015): 16 leap seconds, the 17th came on 2015-07-01.
	got, _ = GPSTime(1851, 2*86400e3)
	want := gpsEpoch.Add(1851*7*24*time.Hour + 2*24*time.Hour - 16*time.Second)
	if !got.Equal(want) || !got.Before(time.Date(2015, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("GPSTime 2015 = %v, want %v", got, want)
	}
	if _, ok := GPSTime(0, 1000); ok {
		t.Fatal("week 0 accepted")
	}
}

// TestSignedContainerDamage: a changed chunk hash or offset field breaks the chain and loses
// nothing; a damaged record magic leaves 44 bytes that the framer skips as junk. (Bytes removed
// from the file shift every later record and are not recovered: the chain is walked by its
// offsets, §6.9.)
func TestSignedContainerDamage(t *testing.T) {
	fx := genLog(60, false)
	plain, _, _ := readAll(t, fx.data)
	signed := wrapSigned(fx.data, 1)
	recs := []int{}
	for i := 0; i+4 <= len(signed); i++ {
		if string(signed[i:i+4]) == "1HCH" {
			recs = append(recs, i)
		}
	}
	if len(recs) < 6 {
		t.Fatalf("only %d chunk records", len(recs))
	}
	for _, at := range []int{recs[3] + 20, recs[2] + 5} { // a hash byte; an offset byte
		bad := append([]byte{}, signed...)
		bad[at] ^= 0x40
		msgs, rd, _ := readAll(t, bad)
		info, _ := rd.Signed()
		if len(msgs) != len(plain) || info.ChainIntact || rd.Skipped != 0 {
			t.Fatalf("byte %d changed: %d messages (want %d), intact %v, skipped %d", at, len(msgs), len(plain), info.ChainIntact, rd.Skipped)
		}
	}
	damaged := append([]byte{}, signed...)
	damaged[recs[4]] = 'X'
	msgs, rd, probs := readAll(t, damaged)
	info, _ := rd.Signed()
	if info.ChainIntact || rd.Skipped == 0 || len(msgs) < len(plain)-2 || len(msgs) > len(plain) {
		t.Fatalf("damaged record: %d messages (plain %d), intact %v, skipped %d, problems %+v", len(msgs), len(plain), info.ChainIntact, rd.Skipped, probs)
	}
	// A container cut before its end record is reported as incomplete.
	_, rd, probs = readAll(t, signed[:len(signed)-endRecordLen-20])
	if info, _ := rd.Signed(); info.ChainIntact || info.EndRecord {
		t.Fatalf("cut container: %+v", info)
	}
	found := false
	for _, p := range probs {
		found = found || p.Kind == "chain" && strings.Contains(p.Detail, "no end record")
	}
	if !found {
		t.Fatalf("no 'no end record' problem: %+v", probs)
	}
}
