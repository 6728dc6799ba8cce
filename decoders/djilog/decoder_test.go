package djilog

import (
	"bytes"
	"context"
	"droneaudit/decoders/decodertest"
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// recSink records everything a decode reports, with lookups these tests share.
type recSink struct{ decodertest.Sink }

func (s *recSink) role(r geo.Role) []geo.Fix {
	var out []geo.Fix
	for _, f := range s.Fixes {
		if f.Role == r {
			out = append(out, f)
		}
	}
	return out
}

func (s *recSink) code(c decoders.Code) []decoders.Note {
	var out []decoders.Note
	for _, n := range s.Notes {
		if n.Code == c {
			out = append(out, n)
		}
	}
	return out
}

// exposure returns the values of one exposure fact as reports show them (with "fact").
func (s *recSink) exposure(fact string) map[string]string {
	for _, e := range s.Exposures {
		if e.Fact == fact {
			return e.Note().Attrs
		}
	}
	return nil
}

// decodeBytes runs the decoder over data as a file called name.
func decodeBytes(t testing.TB, name string, data []byte) (*recSink, error) {
	t.Helper()
	s := &recSink{}
	in := decoders.Input{Path: name, SHA256: "fixture", Size: int64(len(data)), R: bytes.NewReader(data)}
	err := Decoder{}.Decode(context.Background(), in, s)
	for _, f := range s.Fixes {
		if !f.Valid() || noFix(f.Lat, f.Lon) {
			t.Errorf("%s: emitted an invalid or no-fix position %v", name, f)
		}
	}
	return s, err
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestCRCJonesCheckValue(t *testing.T) {
	// formats §5.2: crc(init 0, "123456789") = 0xE9C6D914C4B8D9CA.
	if got := crcJones(0, []byte("123456789")); got != 0xE9C6D914C4B8D9CA {
		t.Fatalf("CRC-64/Jones check value %#x", got)
	}
}

func TestXORKeyVectors(t *testing.T) {
	// formats §5.4, key bytes in stream order with mv = 0.
	cases := []struct {
		typ, first byte
		key        string
	}{
		{1, 0x00, "44 44 6f c9 15 00 1d 38"},
		{1, 0x01, "f3 6e 43 88 5a 93 3f 36"},
		{1, 0x80, "2e 08 9e 37 eb 09 72 9b"},
		{2, 0x10, "68 53 12 26 de c5 3c 41"},
		{14, 0xAB, "50 98 4d 06 e6 8e 1c c3"},
		{0, 0x5A, "bb 2d 9a 68 6d 9a 5c 23"},
		{1, 0x63, "58 79 75 72 37 91 62 8c"}, // the worked example of §5.4
	}
	for _, c := range cases {
		k := xorKey(c.first, c.typ, 0)
		var parts []string
		for i := range 8 {
			parts = append(parts, strconv.FormatUint(uint64(keyByte(k, i))+0x100, 16)[1:])
		}
		if got := strings.Join(parts, " "); got != c.key {
			t.Errorf("type %d first %#x: key %s, want %s", c.typ, c.first, got, c.key)
		}
	}
}

// TestKeyTables checks the table shortcut of xorKey against the key's definition for every
// (first byte, seed) pair.
func TestKeyTables(t *testing.T) {
	for first := range 256 {
		for seed := range 256 {
			typ := byte(seed - first)
			if got, want := xorKey(byte(first), typ, 0), keyDirect(byte(first), byte(seed)); got != want {
				t.Fatalf("first %d seed %d: table key %#x, direct %#x", first, seed, got, want)
			}
		}
	}
}

func TestScrambleRoundTrip(t *testing.T) {
	content := []byte("the quick brown fox jumps over the lazy dog, 0123456789")
	for typ := range 256 {
		for _, first := range []byte{0, 1, 0x7F, 0xFE, 0xFF} {
			p := scramble(first, byte(typ), 3, content)
			k, ok := checkScrambled(p, byte(typ), 3)
			if !ok {
				t.Fatalf("type %d first %d: check byte rejected", typ, first)
			}
			if got := descramble(make([]byte, len(p)), p, k); !bytes.Equal(got, content) {
				t.Fatalf("type %d first %d: round trip %q", typ, first, got)
			}
			p[len(p)-1] ^= 1
			if _, ok := checkScrambled(p, byte(typ), 3); ok {
				t.Fatalf("type %d first %d: a wrong check byte passed", typ, first)
			}
		}
	}
}

// TestFixtureVersions writes a flight in every layout and checks every position comes back.
func TestFixtureVersions(t *testing.T) {
	for _, v := range []int{3, 4, 6, 7, 8, 11, 12} {
		for _, v6s := range []bool{false, true} {
			if v6s && v != 6 {
				continue
			}
			fx := flight(v, 120)
			fx.v6Scrambled = v6s
			fx.trailer = v >= 7 && v <= 11
			fx.pictures = []fxPicture{{full: testJPEG(t, true, -33.5, 151.25, 42, binary.LittleEndian), thumb: testJPEG(t, false, 0, 0, 0, nil),
				lat: fx.lat + 0.01, lon: fx.lon + 0.01}}
			name := "DJIFlightRecord_2021-09-05_[19-23-47].txt"
			t.Run(strconv.Itoa(v)+map[bool]string{true: "s", false: ""}[v6s], func(t *testing.T) {
				s, err := decodeBytes(t, name, fx.bytes())
				if err != nil {
					t.Fatal(err)
				}
				checkFlight(t, fx, s, 120)
				if got := s.Counts["images"]; got != 2 {
					t.Errorf("images %d, want 2", got)
				}
				photos := s.role(geo.RolePhoto)
				var exif, slot bool
				for _, p := range photos {
					exif = exif || (near(p.Lat, -33.5, 1e-6) && near(p.Lon, 151.25, 1e-6) && near(p.AltM, 42, 0.01))
					slot = slot || (near(p.Lat, fx.lat+0.01, 1e-9) && near(p.Lon, fx.lon+0.01, 1e-9))
				}
				if !exif || !slot {
					t.Errorf("photo fixes %v: EXIF position found %v, details slot found %v", photos, exif, slot)
				}
				if v >= 7 && v <= 11 && s.Counts["details_trailer"] != 1 {
					t.Errorf("trailer record not recognised: %v", s.Counts)
				}
				tz := s.exposure(FactTimeZone)
				if tz["utc_offset"] != "-07:00" {
					t.Errorf("time zone %v, want -07:00", tz)
				}
			})
		}
	}
}

// checkFlight compares the decoded fixes with what flight() wrote.
func checkFlight(t *testing.T, fx *fixture, s *recSink, n int) {
	t.Helper()
	air := s.role(geo.RoleAircraft)
	if len(air) != n {
		t.Fatalf("%d aircraft fixes, want %d (counts %v, notes %v)", len(air), n, s.Counts, s.Notes)
	}
	for i, f := range air {
		lat, lon := trackPoint(fx, i)
		if !near(f.Lat, lat, 1e-9) || !near(f.Lon, lon, 1e-9) || !near(f.AltM, float64(i%300)/10, 1e-9) {
			t.Fatalf("fix %d = %.9f,%.9f h %.1f; want %.9f,%.9f h %.1f", i, f.Lat, f.Lon, f.AltM, lat, lon, float64(i%300)/10)
		}
		if want := fx.start.Add(time.Duration(i) * 100 * time.Millisecond); !f.Time.Equal(want) {
			t.Fatalf("fix %d time %v, want %v (from its CUSTOM record)", i, f.Time, want)
		}
	}
	if s.Counts["records_osd"] != int64(n) || s.Counts["records_bad_check"] != 0 {
		t.Errorf("counts %v", s.Counts)
	}
	if n > 20 {
		var shots []geo.Fix
		for _, p := range s.role(geo.RolePhoto) {
			if p.Evidence.Message == "OSD + CUSTOM cameraShoot" {
				shots = append(shots, p)
			}
		}
		lat7, lon7 := trackPoint(fx, 7)
		lat20, lon20 := trackPoint(fx, 20)
		if len(shots) != 2 || shots[0].Lat != air[7].Lat || !near(shots[0].Lat, lat7, 1e-9) || !near(shots[0].Lon, lon7, 1e-9) ||
			!near(shots[1].Lat, lat20, 1e-9) || !near(shots[1].Lon, lon20, 1e-9) || !shots[1].Time.Equal(air[20].Time) {
			t.Errorf("photo fixes from cameraShoot %v", shots)
		}
	}
	home := s.role(geo.RoleHome)
	if len(home) != 1 || !near(home[0].Lat, fx.lat, 1e-9) || !near(home[0].Lon, fx.lon, 1e-9) || !near(home[0].AltM, 12.5, 1e-6) {
		t.Errorf("home fixes %v", home)
	}
	pilot := s.role(geo.RolePilot)
	if len(pilot) != 1 || pilot[0].Lat != fx.lat-0.0001 || pilot[0].Lon != fx.lon-0.0002 {
		t.Errorf("pilot fixes %v", pilot)
	}
	rc := s.role(geo.RoleController)
	if len(rc) != 1 || !near(rc[0].Lat, fx.lat+0.001, 1e-7) || !near(rc[0].Lon, fx.lon+0.001, 1e-7) {
		t.Errorf("rc fixes %v", rc)
	}
	to := s.role(geo.RoleTakeoff)
	if len(to) != 1 || to[0].Lat != fx.lat || to[0].Lon != fx.lon || !to[0].Time.Equal(fx.start) {
		t.Errorf("take-off fixes %v", to)
	}
	id := s.exposure(FactIdentity)
	if id["aircraft_serial"] != fx.aircraftSN || id["aircraft_name"] != fx.aircraftName {
		t.Errorf("identity %v", id)
	}
	if p := s.exposure(FactPilot); p["lat"] != ff(fx.lat-0.0001) {
		t.Errorf("pilot exposure %v", p)
	}
}

// TestBadCheckRecord: a v12-style file whose one OSD record has a wrong check byte; it is
// reported with its offset and skipped, and every other record still decodes.
func TestBadCheckRecord(t *testing.T) {
	fx := flight(12, 50)
	bad := -1
	for i, r := range fx.recs {
		if r.typ == typeOSD {
			if bad < 0 && i > 20 {
				bad = i
			}
		}
	}
	fx.recs[bad].badCheck = true
	data := fx.bytes()
	s, err := decodeBytes(t, "bad-check.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts["records_bad_check"] != 1 || s.Counts["records_osd"] != 49 {
		t.Fatalf("counts %v", s.Counts)
	}
	notes := s.code("bad-check")
	want := int64(newPrefixLen + detailsLenV12 + len(fx.recordBytesUpTo(bad)))
	if len(notes) != 1 || notes[0].Offset != want {
		t.Fatalf("bad-check notes %v, want one at %d", notes, want)
	}
	if len(s.role(geo.RoleAircraft)) != 49 || s.Counts["bytes_skipped"] != 0 {
		t.Errorf("%d aircraft fixes, %d bytes skipped", len(s.role(geo.RoleAircraft)), s.Counts["bytes_skipped"])
	}
}

func (fx *fixture) recordBytesUpTo(n int) []byte {
	var b []byte
	for i, r := range fx.recs[:n] {
		b = append(b, fx.record(i, r)...)
	}
	return b
}

// TestJunkResync inserts garbage between records: the walker skips it, says where, and decodes
// every record after it.
func TestJunkResync(t *testing.T) {
	fx := flight(8, 60)
	recs := fx.recordBytes()
	cut := len(fx.recordBytesUpTo(40))
	junk := bytes.Repeat([]byte{0x13, 0x37, 0x00}, 33)
	body := append(append(append([]byte{}, recs[:cut]...), junk...), recs[cut:]...)
	data := fx.bytes()
	data = append(append(append([]byte{}, data[:newPrefixLen]...), body...), data[newPrefixLen+len(recs):]...)
	binary.LittleEndian.PutUint64(data, binary.LittleEndian.Uint64(data)+uint64(len(junk)))
	s, err := decodeBytes(t, "junk.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	checkFlight(t, fx, s, 60)
	j := s.code("junk")
	if len(j) != 1 || j[0].Offset != int64(newPrefixLen+cut) || s.Counts["bytes_skipped"] != int64(len(junk)) {
		t.Errorf("junk notes %v, skipped %d", j, s.Counts["bytes_skipped"])
	}
}

// TestTruncated cuts a v8 file inside its records: the details are gone, the positions before the
// cut are reported, and the cut is named.
func TestTruncated(t *testing.T) {
	fx := flight(8, 80)
	data := fx.bytes()
	cut := newPrefixLen + len(fx.recordBytesUpTo(100)) + 5
	s, err := decodeBytes(t, "truncated.txt", data[:cut])
	if err != nil {
		t.Fatal(err)
	}
	if len(s.code("corrupt-details")) != 1 || len(s.code("truncated")) != 1 {
		t.Errorf("notes %v", s.Notes)
	}
	want := 0
	for _, r := range fx.recs[:100] {
		if r.typ == typeOSD {
			want++
		}
	}
	if got := len(s.role(geo.RoleAircraft)); got != want {
		t.Errorf("%d aircraft fixes before the cut, want %d", got, want)
	}
}

// TestCorruptDetailsFixture: a details block with a garbage latitude and a negative picture
// length is rejected; the whole track still decodes and the records end at the details offset.
func TestCorruptDetailsFixture(t *testing.T) {
	fx := flight(11, 70)
	fx.corruptLat = true
	fx.noMarker = true
	s, err := decodeBytes(t, "corrupt.txt", fx.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.code("corrupt-details")) != 1 {
		t.Fatalf("notes %v", s.Notes)
	}
	if len(s.role(geo.RoleAircraft)) != 70 || len(s.role(geo.RoleTakeoff)) != 0 || s.Counts["bytes_skipped"] != 0 {
		t.Errorf("aircraft %d take-off %d skipped %d", len(s.role(geo.RoleAircraft)), len(s.role(geo.RoleTakeoff)), s.Counts["bytes_skipped"])
	}
	if to := s.exposure(FactTakeoff); to["source"] != "first OSD fix" || to["lat"] != ff(fx.lat) {
		t.Errorf("take-off exposure %v", to)
	}
	if id := s.exposure(FactIdentity); id["aircraft_serial"] != fx.aircraftSN {
		t.Errorf("identity from RECOVER %v", id)
	}
}

// TestNoFixStart: the first records carry ~1e-9 rad and the details 0,0; no position near (0,0)
// is reported, and the no-fix records are counted.
func TestNoFixStart(t *testing.T) {
	fx := newFixture(11)
	fx.lat, fx.lon = -0.0, -0.0
	for i := range 30 {
		fx.add(typeOSD, osdContent(55, 1.1e-9*radDeg, -1.3e-9*radDeg, 0, 0))
		fx.add(typeHome, homeUnsetContent())
		fx.add(typeCustom, customContent(fx.start.Add(time.Duration(i)*100*time.Millisecond)))
	}
	fx.add(typeOSD, osdContent(55, 18.07, -65.79, 3, 3))
	fx.add(typeHome, homeContent(18.07, -65.79, 1))
	s, err := decodeBytes(t, "nofix.txt", fx.bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Fixes) != 2 || s.Counts["osd_no_fix"] != 30 || s.Counts["home_not_set"] != 30 || len(s.code("no-takeoff-fix")) != 1 {
		t.Errorf("fixes %v counts %v", s.Fixes, s.Counts)
	}
}

// TestV14Offline: a v14-style file yields its details, key blobs and record skeleton, and one
// needs-keys note; no record content is read as a position.
func TestV14Offline(t *testing.T) {
	fx := flight(14, 40)
	for i := range fx.recs {
		fx.recs[i].content = append(fx.recs[i].content, make([]byte, (16-len(fx.recs[i].content)%16)%16)...)
	}
	fx.recs = append([]fxRecord{{typ: typeKeyStorage, content: keyStorageContent(1)}, {typ: typeKeyStorage, content: keyStorageContent(7)}}, fx.recs...)
	fx.add(typeKeyStorage, keyStorageContent(14))
	fx.pictures = []fxPicture{{full: testJPEG(t, false, 0, 0, 0, nil), thumb: testJPEG(t, false, 0, 0, 0, nil), lat: 1, lon: 2}}
	s, err := decodeBytes(t, "DJIFlightRecord_2024-12-31_[08-40-49].txt", fx.bytes())
	if err != nil {
		t.Fatal(err)
	}
	nk := s.code("needs-keys")
	if len(nk) != 1 || nk[0].Severity != decoders.Warning || nk[0].Attrs["key_blobs"] != "3" || nk[0].Attrs["feature_points"] != "Base×1, DJIFlyCustom×1, FlySafe×1" || nk[0].Attrs["app_family"] != "DJI Fly" {
		t.Fatalf("needs-keys notes %v", nk)
	}
	kb := s.code("key-blob")
	if len(kb) != 3 || kb[1].Attrs["feature_point_name"] != "DJIFlyCustom" || kb[1].Attrs["data_base64"] != base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 256)) {
		t.Errorf("key-blob notes %v", kb)
	}
	if len(s.role(geo.RoleAircraft)) != 0 || len(s.role(geo.RoleTakeoff)) != 1 || s.Counts["records_osd"] != 40 || s.Counts["images"] != 2 {
		t.Errorf("fixes %v counts %v", s.Fixes, s.Counts)
	}
	if id := s.exposure(FactIdentity); id["uuid"] != "01234567-89ab-cdef-0123-456789abcdef" || id["aircraft_serial"] != fx.aircraftSN {
		t.Errorf("identity %v", id)
	}
	// 2021-09-06T02:23:47Z against a name saying 08:40:49 on 2024-12-31 is no time zone at all.
	if tz := s.exposure(FactTimeZone); tz != nil {
		t.Errorf("implausible time zone reported: %v", tz)
	}
}

// TestUnfinishedFile: a v11 file whose app never wrote the details (prefix offset 0) is still
// recognised and its records decoded.
func TestUnfinishedFile(t *testing.T) {
	fx := flight(11, 30)
	data := fx.bytes()
	binary.LittleEndian.PutUint64(data, 0)
	data = data[:newPrefixLen+len(fx.recordBytes())]
	if !(Decoder{}).Sniff(data) {
		t.Fatal("unfinished file not recognised")
	}
	s, err := decodeBytes(t, "unfinished.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.role(geo.RoleAircraft)) != 30 || len(s.code("corrupt-details")) != 1 {
		t.Errorf("%d fixes, notes %v", len(s.role(geo.RoleAircraft)), s.Notes)
	}
}

func TestTimeZoneFromName(t *testing.T) {
	r := &run{in: decoders.Input{Path: "/x/DJIFlightRecord_2024-12-31_[08-40-49].txt"}}
	a := r.timeZone(time.Date(2024, 12, 31, 0, 40, 49, 988e6, time.UTC))
	if a["utc_offset"] != "+08:00" {
		t.Errorf("%v", a)
	}
	r.in.Path = "renamed.txt"
	if a := r.timeZone(time.Now()); a != nil {
		t.Errorf("a renamed file gave a time zone: %v", a)
	}
}

func TestSniff(t *testing.T) {
	d := Decoder{}
	for _, v := range []int{4, 8, 11, 12, 14} {
		data := flight(v, 10).bytes()
		if !d.Sniff(data[:min(len(data), decoders.SniffLen)]) {
			t.Errorf("v%d fixture not recognised", v)
		}
	}
	fx := flight(6, 10)
	fx.v6Scrambled = true
	if !d.Sniff(fx.bytes()) {
		t.Error("scrambled v6 fixture not recognised")
	}
	for name, b := range map[string][]byte{
		"empty": nil, "zeros": make([]byte, 4096), "text": []byte(strings.Repeat("1\n00:00:01,000 --> 00:00:02,000\nGPS(1,2,3)\n\n", 50)),
		"pcap": append([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0}, make([]byte, 200)...),
	} {
		if d.Sniff(b) {
			t.Errorf("%s recognised as a flight record", name)
		}
	}
	// A v8 prefix whose first record has a wrong check byte is not a flight record.
	bad := flight(8, 10)
	bad.recs[0].badCheck = true
	if d.Sniff(bad.bytes()) {
		t.Error("v8 with a broken first record recognised")
	}
}

func TestNotAFlightRecord(t *testing.T) {
	_, err := decodeBytes(t, "short.bin", []byte{1, 2, 3})
	if err == nil || !strings.Contains(err.Error(), "short.bin") || !strings.Contains(err.Error(), "offset") {
		t.Errorf("error %v should name the file and offset", err)
	}
}

// TestCorruptDetailsStopsAtPictures: an old (v4) file with rejected details has no marker; the
// records end where the first JPEG starts, and the picture bytes are never read as records.
func TestCorruptDetailsStopsAtPictures(t *testing.T) {
	fx := flight(4, 30)
	fx.corruptLat = true
	fx.pictures = []fxPicture{{full: testJPEG(t, false, 0, 0, 0, nil), thumb: testJPEG(t, false, 0, 0, 0, nil)}}
	s, err := decodeBytes(t, "old-corrupt.txt", fx.bytes())
	if err != nil {
		t.Fatal(err)
	}
	end := s.code("records-end")
	want := int64(oldPrefixLen + len(fx.recordBytes()))
	if len(s.role(geo.RoleAircraft)) != 30 || len(end) != 1 || end[0].Offset != want || s.Counts["bytes_skipped"] != 0 {
		t.Errorf("fixes %d, records-end %v (want offset %d), skipped %d", len(s.role(geo.RoleAircraft)), end, want, s.Counts["bytes_skipped"])
	}
}
