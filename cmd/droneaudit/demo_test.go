package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

// demoReport is what the demo tests read of the JSON report.
type demoReport struct {
	Inputs []struct {
		Path   string           `json:"path"`
		SHA256 string           `json:"sha256"`
		Format string           `json:"format"`
		Fixes  int64            `json:"fixes"`
		ByRole map[string]int64 `json:"fixes_by_role"`
		Counts map[string]int64 `json:"counts"`
		Error  string           `json:"error"`
	} `json:"inputs"`
	Findings []struct {
		Kind        string `json:"kind"`
		FailsPolicy bool   `json:"fails_policy"`
		Zone        string `json:"zone"`
		Role        string `json:"role"`
		Channel     string `json:"channel"`
		Input       string `json:"input"`
		Destination *struct {
			IP    string   `json:"ip"`
			Port  int      `json:"port"`
			Names []string `json:"names"`
			Owner string   `json:"owner"`
		} `json:"destination"`
		First *struct {
			Evidence struct {
				Decoder  string `json:"decoder"`
				Message  string `json:"message"`
				Encoding string `json:"encoding"`
			} `json:"evidence"`
		} `json:"first"`
	} `json:"findings"`
	DNSQueries []string `json:"dns_queries"`
	Policy     struct {
		FailOn       []string `json:"fail_on"`
		Destinations struct {
			DenyOwners []string `json:"deny_owners"`
		} `json:"destinations"`
	} `json:"policy"`
	Verdict struct {
		Result   string `json:"result"`
		ExitCode int    `json:"exit_code"`
	} `json:"verdict"`
}

// runDemo runs `droneaudit audit --format json` with no inputs in an empty folder (so no
// configuration of the working directory applies) and checks that the run wrote nothing there.
func runDemo(t *testing.T) demoReport {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := cli(t, "audit", "--no-progress", "--format", "json")
	if code != exitPolicy {
		t.Fatalf("exit %d, want 3\n%s", code, errOut)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the demo wrote %d file(s) without being asked", len(left))
	}
	var rep demoReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// finding looks for a finding of kind in zone, through the destination ip (any when ""), from
// input, of role (any when ""), and says whether it fails the policy.
func (r *demoReport) finding(kind, zone, ip, input, role string) (found, fails bool) {
	for _, f := range r.Findings {
		if f.Kind != kind || f.Zone != zone || f.Input != input || role != "" && f.Role != role {
			continue
		}
		if ip != "" && (f.Destination == nil || f.Destination.IP != ip) {
			continue
		}
		return true, f.FailsPolicy
	}
	return false, false
}

const (
	kleineBrogel = "Kleine-Brogel Air Base"
	stagingArea  = "Police staging area (mission briefing point)"
	flysafeIP    = "47.91.161.230" // the GEO-zone check of the mission's waypoints
	flightLogIP  = "47.246.1.1"    // the flight-log sync's binary upload
	analyticsIP  = "142.250.74.46" // the analytics SDK beacon
	cloudIP      = "203.0.113.40"  // the private Cloud API broker (MQTT in clear)
	// The flight lasts 180 s: an osd publish every 2 s, a beacon every second, an OSD record
	// every 100 ms, from take-off to landing.
	flightSeconds = 180
	osdPublishes  = flightSeconds/2 + 1
)

// TestDemoSession: `droneaudit audit` with no inputs reads the whole embedded DJI lab session
// under the demo's policy and finds what the clear-text parts give away: the aircraft's position
// in the Cloud API MQTT, the pilot's position in the DroneID beacons, the flight record's
// exposure, the DNS names, the analytics SDK contact.
func TestDemoSession(t *testing.T) {
	rep := runDemo(t)
	if rep.Verdict.Result != "fail" || rep.Verdict.ExitCode != 3 {
		t.Errorf("verdict %+v", rep.Verdict)
	}
	// The demo's own policy file was used.
	if !slices.Equal(rep.Policy.FailOn, []string{"secret", "restricted"}) || !slices.Equal(rep.Policy.Destinations.DenyOwners, []string{"analytics-sdk"}) {
		t.Errorf("policy %+v", rep.Policy)
	}
	// Every embedded input was read whole, in order, with its hash.
	ins := demo.Inputs()
	if len(rep.Inputs) != len(ins) {
		t.Fatalf("%d inputs, want %d", len(rep.Inputs), len(ins))
	}
	formats := []string{"pcapng", "pcapng", "djilog"}
	for i, in := range ins {
		sum := sha256.Sum256(in.Data)
		got := rep.Inputs[i]
		if got.Path != in.Name || got.SHA256 != hex.EncodeToString(sum[:]) || got.Format != formats[i] || got.Error != "" || got.Fixes == 0 {
			t.Errorf("input %d: %+v", i, got)
		}
	}
	lab, mon, rec := rep.Inputs[0], rep.Inputs[1], rep.Inputs[2]
	if lab.Counts["decryption_secrets_blocks"] != 1 || lab.Counts["mqtt_publish"] != osdPublishes || lab.ByRole["aircraft"] != osdPublishes {
		t.Errorf("lab capture: counts %v roles %v", lab.Counts, lab.ByRole)
	}
	if mon.Counts["broadcast_DJI-DroneID"] != flightSeconds+1 || mon.ByRole["pilot"] != flightSeconds+1 {
		t.Errorf("monitor capture: counts %v roles %v", mon.Counts, mon.ByRole)
	}
	if rec.ByRole["aircraft"] != 10*flightSeconds+1 || rec.ByRole["take-off"] != 1 || rec.ByRole["pilot"] != 1 {
		t.Errorf("flight record: roles %v", rec.ByRole)
	}
	for _, name := range []string{"flysafe-api.dji.com", "mydjiflight.dji.com", "region1.app-measurement.com", "fleet.drone-integrator.example"} {
		if !slices.Contains(rep.DNSQueries, name) {
			t.Errorf("DNS queries %v lack %s", rep.DNSQueries, name)
		}
	}
	for _, c := range []struct {
		kind, zone, ip, input, role string
		fails                       bool
	}{
		// The Cloud API osd in clear: the aircraft over the base, sent to the internet.
		{"location-leak", kleineBrogel, cloudIP, demo.CaptureName, "aircraft", true},
		// The DroneID beacons: the pilot's position, to anyone in radio range.
		{"broadcast-position", stagingArea, "", demo.MonitorName, "pilot", true},
		{"location-leak", kleineBrogel, "", demo.MonitorName, "aircraft", true},
		// The flight record holds the flight over the base and the take-off point.
		{"on-device-exposure", kleineBrogel, "", demo.FlightRecordName, "aircraft", false},
		{"on-device-exposure", stagingArea, "", demo.FlightRecordName, "take-off", false},
		// The analytics SDK contact breaks the demo policy's owner rule.
		{"destination-denied", "", analyticsIP, "", "", true},
	} {
		found, fails := rep.finding(c.kind, c.zone, c.ip, c.input, c.role)
		if !found || fails != c.fails {
			t.Errorf("%s %s %s %s %s: found %v, fails %v (want %v)", c.kind, c.zone, c.ip, c.input, c.role, found, fails, c.fails)
		}
	}
	// The demo's policy is an ordinary configuration file: given with --config to an audit of
	// the same files, it gives the same report.
	dir := t.TempDir()
	var args []string
	for _, in := range ins {
		p := filepath.Join(dir, filepath.Base(in.Name))
		if err := os.WriteFile(p, in.Data, 0o400); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	conf, zones := filepath.Join(dir, "droneaudit.yaml"), filepath.Join(dir, "zones.geojson")
	os.WriteFile(conf, demo.EmbeddedPolicy, 0o400)
	os.WriteFile(zones, demo.EmbeddedZones, 0o400)
	code, out, errOut := cli(t, append([]string{"--config", conf, "audit", "--no-progress", "--format", "json", "--zones", zones}, args...)...)
	var files demoReport
	if err := json.Unmarshal([]byte(out), &files); err != nil || code != exitPolicy {
		t.Fatalf("audit --config: exit %d, %v\n%s", code, err, errOut)
	}
	if !slices.Equal(files.Policy.Destinations.DenyOwners, rep.Policy.Destinations.DenyOwners) || len(files.Findings) != len(rep.Findings) {
		t.Errorf("with the policy as --config: policy %+v, %d findings; the demo: %+v, %d findings",
			files.Policy, len(files.Findings), rep.Policy, len(rep.Findings))
	}
	for i, f := range files.Findings {
		if g := rep.Findings[i]; f.Kind != g.Kind || f.Zone != g.Zone || f.FailsPolicy != g.FailsPolicy {
			t.Errorf("finding %d: %+v from the files, %+v in the demo", i, f, g)
		}
	}
	// The DHCP exchange names the RC and its vendor class.
	labFile := filepath.Join(t.TempDir(), "lab.pcapng")
	if err := os.WriteFile(labFile, demo.EmbeddedCapture, 0o400); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, "devices", "--no-progress", labFile)
	if code != exitOK || !strings.Contains(out, `vendor class "android-dhcp-11"`) || !strings.Contains(out, "host name RC-Pro-0017") {
		t.Errorf("devices: exit %d\n%s", code, out)
	}
}

// TestDemoDecryptedSession: with TLS decryption in the engine, the HTTPS parts of the demo are
// read too: the mission check's JSON waypoints over the base leak to flysafe-api.dji.com, and the
// analytics beacon carries no position. Skips while the engine does not decrypt TLS with the
// capture's Decryption Secrets Block.
func TestDemoDecryptedSession(t *testing.T) {
	rep := runDemo(t)
	requireTLSDecryption(t, &rep)
	if found, fails := rep.finding("location-leak", kleineBrogel, flysafeIP, demo.CaptureName, ""); !found || !fails {
		t.Errorf("the mission's waypoints to flysafe-api.dji.com: found %v, fails %v", found, fails)
	}
	for _, f := range rep.Findings {
		if f.Kind == "location-leak" && f.Destination != nil && f.Destination.IP == analyticsIP {
			t.Errorf("a position in the analytics beacon, which holds none: %+v", f)
		}
	}
}

// TestDemoBinaryUpload: with TLS decryption and the known-value coordinate search, the take-off
// point packed as float64 radians in the flight-log sync's binary upload is found. Skips while
// either is missing.
func TestDemoBinaryUpload(t *testing.T) {
	rep := runDemo(t)
	requireTLSDecryption(t, &rep)
	requireCoordinateSearch(t)
	var hit bool
	for _, f := range rep.Findings {
		if f.Kind != "location-leak" || f.Zone != stagingArea || f.Destination == nil || f.Destination.IP != flightLogIP || f.First == nil {
			continue
		}
		hit = true
		// "float64le-rad" or the like: float64, radians.
		enc := strings.ToLower(f.First.Evidence.Encoding)
		if !f.FailsPolicy || !strings.Contains(enc, "float64") || !strings.Contains(enc, "rad") {
			t.Errorf("the take-off point in the binary upload: %+v", f)
		}
	}
	if !hit {
		t.Error("the take-off point in the binary upload to mydjiflight.dji.com is not found")
	}
	// The search must not report again what the DroneID decoder read from the same beacons.
	for _, f := range rep.Findings {
		if f.First != nil && f.First.Evidence.Decoder == "search" && f.Channel == "broadcast" {
			t.Errorf("a search finding repeats the broadcast positions of the DroneID decoder: %+v", f)
		}
	}
}

// requireTLSDecryption fails unless the audit decrypted the lab capture's TLS sessions: a count
// of decrypted TLS sessions on the input, or a position found in a TLS flow.
func requireTLSDecryption(t *testing.T, rep *demoReport) {
	t.Helper()
	for k, v := range rep.Inputs[0].Counts {
		if strings.Contains(k, "tls") && strings.Contains(k, "decrypt") && !strings.Contains(k, "undecrypt") && v > 0 {
			return
		}
	}
	for _, f := range rep.Findings {
		if f.Destination != nil && f.Destination.Port == 443 && f.Kind != "destination-denied" {
			return
		}
	}
	t.Fatal("needs TLS decryption in the engine: the demo's TLS sessions were not decrypted with the capture's Decryption Secrets Block")
}

// requireCoordinateSearch fails unless the audit finds a zone position packed as float64
// radians in an otherwise opaque UDP datagram sent to the internet.
func requireCoordinateSearch(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "opaque.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcapng, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte{0x9c, 0x41, 0x07, 0x00, 0xee, 0x13, 0x5a, 0x01}
	payload = binary.LittleEndian.AppendUint64(payload, math.Float64bits(51.1680*math.Pi/180))
	payload = binary.LittleEndian.AppendUint64(payload, math.Float64bits(5.4700*math.Pi/180))
	payload = append(payload, 0x11, 0x22, 0x33, 0x44)
	if err := w.UDP(netip.MustParseAddrPort("192.168.4.20:40000"), netip.MustParseAddrPort("198.51.100.7:9100"), payload); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	zones := filepath.Join(dir, "zones.geojson")
	if err := os.WriteFile(zones, demo.EmbeddedZones, 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ := cli(t, "audit", "--no-progress", "--format", "json", "--zones", zones, path)
	var rep demoReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if found, _ := rep.finding("location-leak", kleineBrogel, "198.51.100.7", path, ""); found {
		return
	}
	t.Fatal("needs the coordinate search: a float64-radians zone position in an opaque datagram is not found")
}
