package broadcasts

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders/droneid"
	"droneaudit/decoders/remoteid"
	"droneaudit/engine"
	"droneaudit/internal/corpus"
)

type rawFrame struct {
	t    time.Time
	freq uint16
	sig  int8
	data []byte // 802.11 frame
}

// beacon builds a beacon from sa with an SSID and the given elements.
func beacon(sa [6]byte, seq uint16, ssid string, elems ...[]byte) []byte {
	b := []byte{0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	b = append(b, sa[:]...)
	b = append(b, sa[:]...)
	b = binary.LittleEndian.AppendUint16(b, seq<<4)
	b = append(b, make([]byte, 8)...)
	b = append(b, 0x64, 0, 0x20, 0x04, 0, byte(len(ssid)))
	b = append(b, ssid...)
	for _, e := range elems {
		b = append(b, e...)
	}
	return b
}

// writeRadiotapPcap writes frames with a radiotap header holding Flags (no FCS), Channel and
// dBm signal.
func writeRadiotapPcap(t *testing.T, path string, frames []rawFrame) {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write(le.AppendUint32(nil, 0xa1b2c3d4))
	b.Write([]byte{2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	b.Write(le.AppendUint32(nil, 65535))
	b.Write(le.AppendUint32(nil, 127))
	for _, f := range frames {
		rt := []byte{0, 0, 15, 0, 0x2a, 0, 0, 0, 0, 0}
		rt = le.AppendUint16(rt, f.freq)
		rt = le.AppendUint16(rt, 0xa0)
		rt = append(rt, byte(f.sig))
		rec := append(rt, f.data...)
		b.Write(le.AppendUint32(nil, uint32(f.t.Unix())))
		b.Write(le.AppendUint32(nil, uint32(f.t.Nanosecond()/1000)))
		b.Write(le.AppendUint32(nil, uint32(len(rec))))
		b.Write(le.AppendUint32(nil, uint32(len(rec))))
		b.Write(rec)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func odidElement(counter uint8, serial string, lat, lon int32) []byte {
	msgs := []remoteid.Message{
		{Type: remoteid.TypeBasicID, BasicID: remoteid.BasicID{IDType: 1, UAType: 2, UASID: serial}},
		{Type: remoteid.TypeLocation, Location: remoteid.Location{RawLat: lat, RawLon: lon, DirectionDeg: 361, AltGeo: 400}},
		{Type: remoteid.TypeSystem, System: remoteid.System{OpLocType: 1, RawOpLat: lat + 1000, RawOpLon: lon + 1000, AreaCount: 1}},
	}
	return remoteid.AppendBeaconElement(nil, false, counter, remoteid.AppendPack(nil, 2, -1, msgs))
}

// TestDedupAndIdentity: a beacon heard on three adjacent channels counts once; a DJI DroneID
// beacon and an ODID beacon with the same serial from two transmitters are one aircraft; the
// same content from another transmitter is never a duplicate.
func TestDedupAndIdentity(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	a := [6]byte{0x60, 0x60, 0x1f, 1, 2, 3}
	b := [6]byte{0x60, 0x60, 0x1f, 9, 9, 9}
	other := [6]byte{0x02, 0, 0, 0, 0, 7}
	rid := beacon(a, 10, "RID-1581F5FHC0001", odidElement(1, "1581F5FHC0001", 473763734, 85282979))
	dji := droneid.Record{VendorType: 0x58, Unk1: 0x62, Unk2: 0x13, Subcommand: droneid.SubTelemetry, Version: 2,
		State: droneid.StateSerialValid | droneid.StateGPSValid | droneid.StateHomeSet, Serial: "1581F5FHC0001",
		RawLat: droneid.RadE7(47.38), RawLon: droneid.RadE7(8.53), RawHomeLat: droneid.RadE7(47.37), RawHomeLon: droneid.RadE7(8.52),
		RawAppLat: droneid.RadE7(47.36), RawAppLon: droneid.RadE7(8.51), ProductType: 68}
	v := droneid.Append(nil, &dji, 0)
	djiBeacon := beacon(b, 20, "DJI-MAVIC3-X", append([]byte{221, byte(len(v))}, v...))
	frames := []rawFrame{
		{t0, 2437, -60, rid},
		{t0.Add(150 * time.Millisecond), 2432, -75, rid}, // same transmission, adjacent channel
		{t0.Add(300 * time.Millisecond), 2442, -71, rid},
		{t0.Add(400 * time.Millisecond), 2437, -50, djiBeacon},
		{t0.Add(500 * time.Millisecond), 2437, -80, beacon(other, 10, "RID-1581F5FHC0001", odidElement(1, "1581F5FHC0001", 473763734, 85282979))},
		{t0.Add(3 * time.Second), 2437, -62, rid}, // same bytes, outside the window: a new transmission
		{t0.Add(4 * time.Second), 2437, -62, beacon(a, 11, "RID-1581F5FHC0001", odidElement(2, "1581F5FHC0001", 473764000, 85283000))},
	}
	path := filepath.Join(t.TempDir(), "hop.pcap")
	writeRadiotapPcap(t, path, frames)
	c := NewCollector()
	st := readAll(t, c, path)
	if st.Frames != 7 || st.Sightings != 7 {
		t.Errorf("stats %+v", st)
	}
	list := c.Aircraft()
	if len(list) != 1 {
		t.Fatalf("%d aircraft, want 1 (merged by serial): %+v", len(list), list)
	}
	ac := list[0]
	if ac.Frames != 5 || ac.Duplicates != 2 {
		t.Errorf("frames %d duplicates %d, want 5 and 2", ac.Frames, ac.Duplicates)
	}
	if !slices.Equal(ac.HeardOnMHz, []int{2432, 2437, 2442}) || ac.MaxSignal == nil || *ac.MaxSignal != -50 {
		t.Errorf("heard on %v max %v", ac.HeardOnMHz, ac.MaxSignal)
	}
	if !slices.Equal(ac.Serials, []string{"1581F5FHC0001"}) || len(ac.Transmitters) != 3 {
		t.Errorf("serials %v transmitters %v", ac.Serials, ac.Transmitters)
	}
	if !slices.Contains(ac.Models, "Mavic 3") || !slices.Contains(ac.Models, "DJI Remote ID beacon") {
		t.Errorf("models %v", ac.Models)
	}
	if len(ac.Track) != 5 || len(ac.Home) != 1 || len(ac.Pilot) != 3 {
		t.Errorf("track %d home %d pilot %d", len(ac.Track), len(ac.Home), len(ac.Pilot))
	}
	if !ac.First.Equal(t0) || !ac.Last.Equal(t0.Add(4*time.Second)) {
		t.Errorf("first %v last %v", ac.First, ac.Last)
	}
	if !slices.ContainsFunc(ac.Anomalies, func(s string) bool { return strings.HasPrefix(s, "serial_1581F5FHC0001_from_3") }) {
		t.Errorf("anomalies %v", ac.Anomalies)
	}
	var out bytes.Buffer
	if err := WriteText(&out, list, st); err != nil || !strings.Contains(out.String(), "PILOT") {
		t.Errorf("text: %v %q", err, out.String())
	}
}

// TestCorpus lists the aircraft of all shared OTA captures read together.
func TestCorpus(t *testing.T) {
	c := NewCollector()
	var paths []string
	for _, rel := range []string{"ota/odid_wifi_sample.pcap", "ota/odid_wifi_bcn_sample.pcap", "ota/odid_linux_transmitter.pcapng",
		"ota/parrot_anafi4_spoofed.pcapng", "ota/djidroneid_spoofed.pcapng"} {
		paths = append(paths, corpus.Path(t, rel))
	}
	st := readAll(t, c, paths...)
	if st.Frames != 63+21+21+1606+10 || st.Sightings != 63+21+21+26+10 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
	list := c.Aircraft()
	// The two ESP32 samples share one transmitter, so they are one aircraft.
	byKey := map[string]Aircraft{}
	for _, a := range list {
		byKey[strings.Join(a.Transmitters, ",")] = a
	}
	if len(list) != 4 {
		t.Fatalf("%d aircraft, want 4", len(list))
	}
	esp := byKey["84:cc:a8:60:43:24"]
	if !slices.Equal(esp.OperatorIDs, []string{"GBR-OP-123ABCD"}) || len(esp.Pilot) != 1 || esp.Pilot[0].Lat != 45.5443876 {
		t.Errorf("ESP32 %+v", esp)
	}
	parrot := byKey["90:3a:e6:5b:c8:a8"]
	if !slices.Equal(parrot.Serials, []string{"1588E040445AC004418"}) || parrot.Frames != 13 || parrot.Duplicates != 13 ||
		!slices.Contains(parrot.Anomalies, "truncated_message") || len(parrot.Track) != 13 {
		t.Errorf("Parrot %+v", parrot)
	}
	dji := byKey["60:60:1f:c6:0e:cc"]
	// The spoofed aircraft's five positions have the GPS-valid flag clear: they went over the air
	// all the same, so they are on the track.
	if !slices.Equal(dji.Serials, []string{"K6RE0WENAH9P8QAL"}) || len(dji.Pilot) != 1 || dji.Pilot[0].Lat != 56 ||
		len(dji.Track) != 5 || !slices.Contains(dji.Models, "Unknown (88)") {
		t.Errorf("DJI %+v", dji)
	}
	linux := byKey["8c:17:59:f5:95:65"]
	if !slices.Equal(linux.Serials, []string{"112624150A90E3AE1EC0"}) || !slices.Equal(linux.UASIDs, []string{"4:FD3454B778E565C24B70"}) ||
		!slices.Equal(linux.OperatorIDs, []string{"FIN87astrdge12k8"}) {
		t.Errorf("linux %+v", linux)
	}
	// Three auth pages of type 1, 63 bytes in all (17 + 23 + 23).
	if len(linux.Auth) != 1 || !linux.Auth[0].Complete || linux.Auth[0].Length != 63 || linux.Auth[0].Pages != 3 || len(linux.Auth[0].DataHex) != 126 {
		t.Errorf("linux auth %+v", linux.Auth)
	}
}

// TestAuthReassembly sends an authentication in two pages over two beacons, and a third type
// whose page 1 is never heard.
func TestAuthReassembly(t *testing.T) {
	d0, d1 := make([]byte, 17), make([]byte, 23)
	for i := range d0 {
		d0[i] = byte(i)
	}
	for i := range d1 {
		d1[i] = byte(17 + i)
	}
	p0 := remoteid.Message{Type: remoteid.TypeAuth, Auth: remoteid.Auth{AuthType: 1, Page: 0, LastPage: 1, Length: 30, Timestamp: 100, Data: d0}}
	p1 := remoteid.Message{Type: remoteid.TypeAuth, Auth: remoteid.Auth{AuthType: 1, Page: 1, Data: d1}}
	q0 := remoteid.Message{Type: remoteid.TypeAuth, Auth: remoteid.Auth{AuthType: 3, Page: 0, LastPage: 1, Length: 40, Data: d0}}
	sa := [6]byte{2, 0, 0, 0, 0, 1}
	el := func(c uint8, m ...remoteid.Message) []byte {
		return remoteid.AppendBeaconElement(nil, false, c, remoteid.AppendPack(nil, 2, -1, m))
	}
	t0 := time.Unix(1700000000, 0)
	path := filepath.Join(t.TempDir(), "auth.pcap")
	writeRadiotapPcap(t, path, []rawFrame{
		{t0, 2437, -40, beacon(sa, 1, "A", el(1, p0, q0))},
		{t0.Add(time.Second), 2437, -40, beacon(sa, 2, "A", el(2, p1))},
	})
	c := NewCollector()
	readAll(t, c, path)
	list := c.Aircraft()
	if len(list) != 1 || len(list[0].Auth) != 2 {
		t.Fatalf("%+v", list)
	}
	a1, a3 := list[0].Auth[0], list[0].Auth[1]
	want := make([]byte, 30)
	for i := range want {
		want[i] = byte(i)
	}
	if !a1.Complete || a1.DataHex != hex.EncodeToString(want) || a1.Timestamp.Unix() != 1546300900 {
		t.Errorf("type 1: %+v", a1)
	}
	if a3.Complete || a3.Pages != 1 || a3.Type != 3 {
		t.Errorf("type 3: %+v", a3)
	}
}

// readAll reads the captures into c through the engine and returns the collector's stats.
func readAll(t *testing.T, c *Collector, paths ...string) Stats {
	t.Helper()
	var srcs []engine.Source
	for _, p := range paths {
		srcs = append(srcs, engine.FileSource(p))
	}
	errs, err := c.Read(context.Background(), srcs)
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	return c.Stats()
}
