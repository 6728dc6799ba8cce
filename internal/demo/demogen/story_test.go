package demogen

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"droneaudit/geo"
)

// zoneOf names the zone a point lies inside ("" for none).
func zoneOf(t *testing.T, zs *geo.Zones, lat, lon float64) string {
	t.Helper()
	for _, h := range zs.Match(geo.Fix{Lat: lat, Lon: lon}) {
		if h.Inside {
			return h.Zone.Name
		}
	}
	return ""
}

// The planted values lie where the story says: the waypoints over the air base, the take-off
// point (also the pilot's and home position) in the staging area, the track through both.
func TestStoryPlaces(t *testing.T) {
	zs, err := geo.ParseZones("zones.geojson", Zones())
	if err != nil {
		t.Fatal(err)
	}
	const base, staging = "Kleine-Brogel Air Base", "Police staging area (mission briefing point)"
	var overBase int
	for _, w := range Waypoints() {
		if zoneOf(t, zs, w[0], w[1]) == base {
			overBase++
		}
	}
	if overBase < 3 {
		t.Errorf("%d waypoints over the base, want at least 3", overBase)
	}
	var body struct {
		SN        string `json:"sn"`
		Waypoints []struct{ Latitude, Longitude, Height float64 }
	}
	if err := json.Unmarshal(missionBody(), &body); err != nil || body.SN != AircraftSN || len(body.Waypoints) != len(Waypoints()) {
		t.Fatalf("mission body %s: %v", missionBody(), err)
	}
	// The binary summary holds the take-off point as float64 radians, little endian, lat then lon.
	sum := FlightSummary()
	i := bytes.Index(sum, []byte(AircraftSN)) + 16
	lat := math.Float64frombits(binary.LittleEndian.Uint64(sum[i:])) * 180 / math.Pi
	lon := math.Float64frombits(binary.LittleEndian.Uint64(sum[i+8:])) * 180 / math.Pi
	if math.Abs(lat-pilotLat) > 1e-9 || math.Abs(lon-pilotLon) > 1e-9 || zoneOf(t, zs, lat, lon) != staging {
		t.Errorf("take-off point in the summary: %f, %f", lat, lon)
	}
	if bytes.Contains(analyticsBody(), []byte("lat")) || bytes.Contains(analyticsBody(), []byte(strconv.FormatFloat(pilotLat, 'f', -1, 64))) {
		t.Errorf("the analytics beacon carries a position: %s", analyticsBody())
	}
	if lat, lon, _ := Track(0); zoneOf(t, zs, lat, lon) != staging {
		t.Error("the flight does not start in the staging area")
	}
	if lat, lon, rel := Track(flightSeconds / 2); zoneOf(t, zs, lat, lon) != base || rel != 120 {
		t.Error("the flight does not reach the base at 120 m")
	}
}

// tshark, with nothing but the capture (its Decryption Secrets Block), decrypts the three HTTPS
// sessions to the requests the generator made, and reads the DHCP vendor class and every MQTT
// publish: the key log in the file is right and the frames are well formed.
func TestLabCaptureTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	lab, err := LabCapture()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lab.pcapng")
	if err := os.WriteFile(path, lab, 0o600); err != nil {
		t.Fatal(err)
	}
	fields := func(filter string, f ...string) [][]string {
		args := []string{"-n", "-r", path, "-Y", filter, "-T", "fields", "-E", "separator=|"}
		for _, x := range f {
			args = append(args, "-e", x)
		}
		out, err := exec.Command(tshark, args...).Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", filter, err)
		}
		var rows [][]string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l != "" {
				rows = append(rows, strings.Split(l, "|"))
			}
		}
		return rows
	}
	reqs := fields("http.request", "http.host", "http.request.uri", "http.content_length")
	want := [][]string{
		{Analytics.Name, "/a", strconv.Itoa(len(analyticsBody()))},
		{Flysafe.Name, "/api/v3/geofence/mission_check", strconv.Itoa(len(missionBody()))},
		{FlightLog.Name, "/api/v2/flight_log/upload", strconv.Itoa(len(FlightSummary()))},
	}
	if !slices.EqualFunc(reqs, want, slices.Equal) {
		t.Errorf("decrypted requests %q, want %q", reqs, want)
	}
	if b := fields("http.request.uri == \"/api/v3/geofence/mission_check\"", "http.file_data"); len(b) != 1 || b[0][0] != string(missionBody()) {
		t.Errorf("mission body %q", b)
	}
	if v := fields("dhcp.option.vendor_class_id", "dhcp.option.vendor_class_id"); len(v) != 2 || v[0][0] != "android-dhcp-11" {
		t.Errorf("DHCP vendor class %q", v)
	}
	if p := fields("mqtt.msgtype == 3", "mqtt.topic"); len(p) != flightSeconds/2+1 || p[0][0] != "thing/product/"+AircraftSN+"/osd" {
		t.Errorf("%d MQTT publishes", len(p))
	}
}
