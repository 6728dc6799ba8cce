package droneid

import (
	"bytes"
	"encoding/hex"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"droneaudit/internal/corpus"
)

func readHex(t *testing.T, rel string) []byte {
	t.Helper()
	raw, err := os.ReadFile(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return b
}

// TestMavicAirReal decodes the real Mavic Air telemetry element to the values of
// over-the-air.md §4.8.
func TestMavicAirReal(t *testing.T) {
	ie := readHex(t, "ota/djidroneid_mavic_air_subcmd10.hex")
	if len(ie) != 94 {
		t.Fatalf("element length %d, want 94", len(ie))
	}
	var r Record
	if err := Decode(ie, &r); err != nil {
		t.Fatal(err)
	}
	if r.VendorType != 0x58 || r.Unk1 != 0x62 || r.Unk2 != 0x13 || r.Subcommand != SubTelemetry || r.Version != 2 {
		t.Errorf("header %02x %02x %02x sub %02x v%d", r.VendorType, r.Unk1, r.Unk2, r.Subcommand, r.Version)
	}
	if r.Seq != 1613 || r.State != 0x1f33 || r.Serial != "0K1CG6G3AH8V2M" || !r.SerialValid() {
		t.Errorf("seq %d state %#x serial %q valid %v", r.Seq, r.State, r.Serial, r.SerialValid())
	}
	if r.DronePosition() || r.HasDroneBytes() || r.HomePosition() {
		t.Errorf("drone/home position reported for 0/0")
	}
	if r.Altitude != -17 || r.Height != 12 || r.VNorth != 0 || r.VEast != 0 || r.VUp != 0 || r.Yaw != 17328 {
		t.Errorf("alt %d height %d v %d/%d/%d yaw %d", r.Altitude, r.Height, r.VNorth, r.VEast, r.VUp, r.Yaw)
	}
	if r.AppTimeMs != 1606999389061 {
		t.Errorf("app time %d", r.AppTimeMs)
	}
	if !r.AppPosition() || r.RawAppLat != 8161605 || r.RawAppLon != 1326540 ||
		math.Abs(r.AppLat-46.7625320) > 5e-8 || math.Abs(r.AppLon-7.6005111) > 5e-8 {
		t.Errorf("pilot %d %d = %.7f %.7f", r.RawAppLat, r.RawAppLon, r.AppLat, r.AppLon)
	}
	if r.ProductType != 24 || r.Model() != "Mavic Air" || r.UUIDLen != 0 || len(r.UUID) != 0 {
		t.Errorf("product %d %q uuid %d %x", r.ProductType, r.Model(), r.UUIDLen, r.UUID)
	}
	if r.State&StateGPSValid != 0 || r.State&StateMotorsOn == 0 || r.State&StateInAir == 0 || r.State&StatePrivacyOff == 0 {
		t.Errorf("state bits %#x", r.State)
	}
}

// TestMavicAirRealPurpose decodes the real flight-purpose element (§4.7: CC AA magic layout).
func TestMavicAirRealPurpose(t *testing.T) {
	ie := readHex(t, "ota/djidroneid_mavic_air_subcmd11.hex")
	if len(ie) != 147 {
		t.Fatalf("element length %d, want 147", len(ie))
	}
	var r Record
	if err := Decode(ie, &r); err != nil {
		t.Fatal(err)
	}
	if r.Subcommand != SubPurpose || r.Serial != "3K1CG6G3AH8V2M" || r.PurposeLayout != "ccaa" || !r.SerialValid() {
		t.Errorf("sub %#x serial %q layout %q", r.Subcommand, r.Serial, r.PurposeLayout)
	}
	if len(r.Rest) != 147-7-16 || !bytes.HasPrefix(r.Rest, []byte{0xcc, 0xaa, 0x02}) {
		t.Errorf("rest %d bytes %x", len(r.Rest), r.Rest[:4])
	}
}

// sample returns a record of every field set to distinct non-zero values.
func sample(sub, version byte) Record {
	r := Record{VendorType: 0x58, Unk1: 0x62, Unk2: 0x13, Subcommand: sub, Version: version, Seq: 4242,
		State: StateSerialValid | StateHomeSet | StateGPSValid | StateInAir, Serial: "1581F4QWE12345",
		RawLon: RadE7(8.5282979), RawLat: RadE7(47.3763734), Altitude: 1234, Height: -56,
		VNorth: 120, VEast: -340, VUp: 15, ProductType: 70, UUIDLen: 6, UUID: []byte("abcdef")}
	switch version {
	case 1:
		r.Pitch, r.Roll, r.Yaw = -150, 275, 17999
		r.RawHomeLon, r.RawHomeLat = RadE7(8.53), RadE7(47.37)
	case 2:
		r.Yaw = -12100
		r.AppTimeMs = 1700000000123
		r.RawAppLat, r.RawAppLon = RadE7(47.198656), RadE7(8.7302205)
		r.RawHomeLon, r.RawHomeLat = RadE7(8.53), RadE7(47.37)
	}
	if sub == SubPurpose {
		r = Record{VendorType: 0x58, Unk1: 0x62, Unk2: 0x13, Subcommand: sub, Serial: "1581F4QWE12345",
			PurposeLayout: "kismet", DroneID: "POLICE-01", Purpose: "search and rescue"}
	}
	return r
}

// same compares the decoded fields that Append writes.
func same(t *testing.T, got, want *Record) {
	t.Helper()
	g, w := *got, *want
	g.Lat, g.Lon, g.AppLat, g.AppLon, g.HomeLat, g.HomeLon = 0, 0, 0, 0, 0, 0
	g.Fields, w.Fields, g.SerialHex = 0, 0, false
	if !bytes.Equal(g.UUID, w.UUID) || !bytes.Equal(g.Rest, w.Rest) {
		t.Errorf("uuid %x rest %x, want %x %x", g.UUID, g.Rest, w.UUID, w.Rest)
	}
	g.UUID, w.UUID, g.Rest, w.Rest = nil, nil, nil, nil
	if !equalRecords(g, w) {
		t.Errorf("decoded\n%+v\nwant\n%+v", g, w)
	}
}

func equalRecords(a, b Record) bool {
	a.UUID, b.UUID, a.Rest, b.Rest = nil, nil, nil, nil
	return a.VendorType == b.VendorType && a.Subcommand == b.Subcommand && a.Version == b.Version && a.Seq == b.Seq &&
		a.State == b.State && a.Serial == b.Serial && a.RawLon == b.RawLon && a.RawLat == b.RawLat &&
		a.Altitude == b.Altitude && a.Height == b.Height && a.VNorth == b.VNorth && a.VEast == b.VEast && a.VUp == b.VUp &&
		a.Pitch == b.Pitch && a.Roll == b.Roll && a.Yaw == b.Yaw && a.AppTimeMs == b.AppTimeMs &&
		a.RawAppLat == b.RawAppLat && a.RawAppLon == b.RawAppLon && a.RawHomeLon == b.RawHomeLon &&
		a.RawHomeLat == b.RawHomeLat && a.ProductType == b.ProductType && a.UUIDLen == b.UUIDLen &&
		a.PurposeLayout == b.PurposeLayout && a.DroneID == b.DroneID && a.Purpose == b.Purpose && a.Unk1 == b.Unk1 && a.Unk2 == b.Unk2
}

// TestRoundTrip builds elements of every subcommand and version and reads them back exactly.
func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name    string
		r       Record
		ieLen   int
		lat     float64
		pilot   bool
		home    bool
		anomaly string
	}{
		{"telemetry v1", sample(SubTelemetry, 1), 82, 47.3763734, false, true, ""},
		{"telemetry v2", sample(SubTelemetry, 2), 94, 47.3763734, true, true, ""},
		{"purpose kismet", sample(SubPurpose, 0), 7 + 16 + 1 + 10 + 1 + 17, 0, false, false, ""},
		{"purpose ccaa", Record{VendorType: 0x58, Subcommand: SubPurpose, Serial: "X", PurposeLayout: "ccaa", Rest: []byte{0xcc, 0xaa, 2, 0, 0}}, 7 + 16 + 5, 0, false, false, ""},
		{"blank", Record{VendorType: 0x58, Subcommand: SubBlank, Blank: true, Rest: make([]byte, 87)}, 94, 0, false, false, "dji_blank_frame"},
		{"unknown version", Record{VendorType: 0x58, Subcommand: SubTelemetry, Version: 7, State: StateGPSValid, Serial: "S", RawLat: RadE7(10), RawLon: RadE7(20), Rest: []byte{1, 2, 3}}, 39, 10, false, false, "unknown_version"},
		{"unknown subcommand", Record{VendorType: 0x58, Subcommand: 0x42, Rest: []byte{9, 9}}, 9, 0, false, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ie := Append(nil, &c.r, 0)
			if len(ie) != c.ieLen {
				t.Errorf("element length %d, want %d", len(ie), c.ieLen)
			}
			var got Record
			if err := Decode(ie, &got); err != nil {
				t.Fatal(err)
			}
			same(t, &got, &c.r)
			if got.DronePosition() != (c.lat != 0) || (c.lat != 0 && math.Abs(got.Lat-c.lat) > 0.5/RadE7PerDegree) {
				t.Errorf("drone position %v %.7f, want %.7f", got.DronePosition(), got.Lat, c.lat)
			}
			if got.AppPosition() != c.pilot || got.HomePosition() != c.home {
				t.Errorf("pilot %v home %v, want %v %v", got.AppPosition(), got.HomePosition(), c.pilot, c.home)
			}
			if c.anomaly != "" && !slices.Contains(got.Anomalies(), c.anomaly) {
				t.Errorf("anomalies %v lack %s", got.Anomalies(), c.anomaly)
			}
			if got.Blank != c.r.Blank {
				t.Errorf("blank %v", got.Blank)
			}
		})
	}
}

// TestCut checks that a record cut anywhere keeps the fields before the cut and nothing after.
func TestCut(t *testing.T) {
	for _, v := range []byte{1, 2} {
		r := sample(SubTelemetry, v)
		full := len(Append(nil, &r, 0)) - 7
		for cut := 1; cut < full; cut++ {
			ie := Append(nil, &r, cut)
			var got Record
			if err := Decode(ie, &got); err != nil {
				t.Fatal(err)
			}
			if got.Fields&HasPosition != 0 != (cut >= 29) || got.Fields&HasHome != 0 != (cut >= map[byte]int{1: 53, 2: 65}[v]) {
				t.Errorf("v%d cut %d: fields %b", v, cut, got.Fields)
			}
			if got.Fields&HasUUID != 0 && len(got.UUID) > cut {
				t.Errorf("v%d cut %d: uuid beyond the cut", v, cut)
			}
			if got.Fields&HasUUID == 0 && !slices.Contains(got.Anomalies(), "record_cut_short") {
				t.Errorf("v%d cut %d: cut not flagged", v, cut)
			}
		}
	}
}

// TestFlags checks that positions count only with their state bits and that a set position
// with the bit clear is flagged.
func TestFlags(t *testing.T) {
	r := sample(SubTelemetry, 2)
	r.State = StateSerialValid
	var got Record
	if err := Decode(Append(nil, &r, 0), &got); err != nil {
		t.Fatal(err)
	}
	if got.DronePosition() || got.HomePosition() || !got.AppPosition() {
		t.Errorf("drone %v home %v app %v", got.DronePosition(), got.HomePosition(), got.AppPosition())
	}
	an := got.Anomalies()
	if !slices.Contains(an, "gps_flag_clear") || !slices.Contains(an, "home_flag_clear") {
		t.Errorf("anomalies %v", an)
	}
	r.Serial = SerialPlaceholder
	r.State = StateSerialValid
	if err := Decode(Append(nil, &r, 0), &got); err != nil {
		t.Fatal(err)
	}
	if got.SerialValid() || !got.SerialWithheld() {
		t.Errorf("placeholder serial counted as valid")
	}
	r.Serial = "\x01\x02"
	if err := Decode(Append(nil, &r, 0), &got); err != nil {
		t.Fatal(err)
	}
	if !got.SerialHex || got.Serial != "0102" {
		t.Errorf("unprintable serial %q", got.Serial)
	}
}

func TestNotDroneID(t *testing.T) {
	var r Record
	for _, b := range [][]byte{nil, {0x26}, {0x26, 0x37, 0x13, 0x58}, {0xfa, 0x0b, 0xbc, 0x0d}} {
		if err := Decode(b, &r); err != ErrNotDroneID {
			t.Errorf("%x: %v", b, err)
		}
	}
	if err := Decode([]byte{0x26, 0x37, 0x12, 0x58, 0x62}, &r); err != ErrShort {
		t.Errorf("short header: %v", err)
	}
}

func FuzzDroneID(f *testing.F) {
	for _, v := range []byte{1, 2} {
		r := sample(SubTelemetry, v)
		f.Add(Append(nil, &r, 0))
		f.Add(Append(nil, &r, 40))
	}
	p := sample(SubPurpose, 0)
	f.Add(Append(nil, &p, 0))
	f.Add([]byte{0x26, 0x37, 0x12, 0x58, 0x62, 0x13, 0x11, 0xff})
	// The real Mavic Air elements of the corpus (hex text files).
	for _, s := range corpus.Seeds(1<<20, 64<<10, func(name string, _ []byte) bool { return strings.HasSuffix(name, ".hex") }, "ota") {
		if b, err := hex.DecodeString(strings.TrimSpace(string(s))); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if err := Decode(b, &r); err != nil {
			return
		}
		_ = r.Anomalies()
		_ = r.Model()
		if len(r.UUID) > 20 || len(r.UUID) > len(b) {
			t.Fatalf("uuid of %d bytes from a %d-byte element", len(r.UUID), len(b))
		}
		if math.Abs(r.Lat) > math.MaxInt32/RadE7PerDegree+1 || math.IsNaN(r.Lat) {
			t.Fatalf("lat %v", r.Lat)
		}
	})
}

func BenchmarkDecodeV2(b *testing.B) {
	r := sample(SubTelemetry, 2)
	ie := Append(nil, &r, 0)
	b.SetBytes(int64(len(ie)))
	var got Record
	for b.Loop() {
		if err := Decode(ie, &got); err != nil {
			b.Fatal(err)
		}
	}
}
