package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/internal/demo"
)

// cli runs one command line in-process and returns its exit code and outputs.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestAuditDemo(t *testing.T) {
	code, out, _ := cli(t, "audit")
	if code != exitPolicy {
		t.Fatalf("exit %d, want 3\n%s", code, out)
	}
	for _, want := range []string{"VERDICT: FAIL", `secret zone "Kleine-Brogel Air Base"`, "pilot positions", demo.CaptureName,
		demo.MonitorName, demo.FlightRecordName} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestAuditJSONDeterministicAndFile(t *testing.T) {
	dir := t.TempDir()
	outFile := filepath.Join(dir, "report.json")
	// A pre-existing world-readable file must end up 0600 too (replacing it takes --force).
	if err := os.WriteFile(outFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	code1, out1, _ := cli(t, "audit", "--format", "json", "--force", "--out", outFile)
	code2, out2, _ := cli(t, "audit", "--format", "json")
	if code1 != exitPolicy || code2 != exitPolicy {
		t.Fatalf("exit codes %d %d", code1, code2)
	}
	if out1 != out2 {
		t.Fatal("the same inputs gave different report bytes")
	}
	fi, err := os.Stat(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("report file mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(outFile)
	if string(data) != out1 {
		t.Fatal("report file differs from stdout")
	}
	var rep struct {
		Inputs []struct {
			Path   string `json:"path"`
			SHA256 string `json:"sha256"`
		} `json:"inputs"`
		Findings []struct {
			Kind        string `json:"kind"`
			Zone        string `json:"zone"`
			FailsPolicy bool   `json:"fails_policy"`
		} `json:"findings"`
		Verdict struct {
			Result   string `json:"result"`
			ExitCode int    `json:"exit_code"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Inputs) != len(demo.Inputs()) {
		t.Fatalf("inputs %+v", rep.Inputs)
	}
	for i, in := range demo.Inputs() {
		sum := sha256.Sum256(in.Data)
		if rep.Inputs[i].Path != in.Name || rep.Inputs[i].SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("inputs %+v", rep.Inputs)
		}
	}
	if rep.Verdict.Result != "fail" || rep.Verdict.ExitCode != 3 || len(rep.Findings) == 0 || rep.Findings[0].Zone != "Kleine-Brogel Air Base" {
		t.Fatalf("verdict %+v findings %+v", rep.Verdict, rep.Findings)
	}
}

func writeDemo(t *testing.T, dir string) (capture, zones string) {
	capture = filepath.Join(dir, "flight.pcapng")
	zones = filepath.Join(dir, "zones.geojson")
	if err := os.WriteFile(capture, demo.EmbeddedCapture, 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zones, demo.EmbeddedZones, 0o400); err != nil {
		t.Fatal(err)
	}
	return
}

// An unknown input is an error naming the file; the other inputs are still decoded.
func TestAuditUnknownInputStillProcessesOthers(t *testing.T) {
	dir := t.TempDir()
	capture, zones := writeDemo(t, dir)
	junk := filepath.Join(dir, "notes.bin")
	os.WriteFile(junk, []byte("this is not a capture nor a flight log\n"), 0o600)
	code, out, _ := cli(t, "audit", "--zones", zones, junk, capture)
	if code != exitPolicy {
		t.Fatalf("exit %d, want 3 (the capture still leaks)", code)
	}
	if !strings.Contains(out, "input "+junk+" could not be read: not a format droneaudit decodes") || !strings.Contains(out, "Kleine-Brogel") {
		t.Fatalf("report:\n%s", out)
	}
	// Without a failing finding the incomplete audit exits 1.
	code, out, _ = cli(t, "audit", "--zones", zones, junk)
	if code != exitError || !strings.Contains(out, "INCOMPLETE") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestFixesFormats(t *testing.T) {
	// The demo's flight record: the aircraft's track, the take-off, home and pilot positions.
	capture := filepath.Join(t.TempDir(), "flight.txt")
	if err := os.WriteFile(capture, demo.EmbeddedFlightRecord, 0o400); err != nil {
		t.Fatal(err)
	}
	code, out, _ := cli(t, "fixes", "--format", "ndjson", capture)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1801+3 { // an OSD record every 100 ms from take-off to landing; take-off, home, pilot
		t.Fatalf("%d fixes", len(lines))
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"lat", "lon", "alt_m", "time", "role", "decoder", "input", "sha256", "locator", "channel"} {
		if _, ok := first[k]; !ok {
			t.Errorf("NDJSON object lacks %q: %s", k, lines[0])
		}
	}
	if first["channel"] != "on-device" || first["locator"] != "details" || first["decoder"] != "djilog" {
		t.Errorf("first fix %s", lines[0])
	}
	code, out, _ = cli(t, "fixes", "--format", "geojson", capture)
	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Geometry struct {
				Type string `json:"type"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &fc); err != nil || code != 0 {
		t.Fatalf("geojson: %v (exit %d)", err, code)
	}
	roles := map[string]string{}
	for _, f := range fc.Features {
		roles[f.Properties["role"].(string)] = f.Geometry.Type
	}
	// The aircraft's positions are a track; the pilot's and home positions are places, a point each.
	if roles["aircraft"] != "LineString" || roles["pilot"] != "Point" || roles["home"] != "Point" {
		t.Fatalf("tracks %v", roles)
	}
	code, out, _ = cli(t, "fixes", "--format", "csv", capture)
	if code != 0 || !strings.HasPrefix(out, "time_utc,time_device_local,time_rfc3339,time_ref,lat,lon,") || strings.Count(out, "\n") != len(lines)+1 {
		t.Fatalf("csv: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
}

func TestZonesCheck(t *testing.T) {
	_, zones := writeDemo(t, t.TempDir())
	code, out, _ := cli(t, "zones", "check", zones)
	if code != 0 || !strings.Contains(out, "5 zone(s)") || !strings.Contains(out, "Point, radius 1500 m") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.geojson")
	os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"a","sensitivity":"secret","radius_m":10},"geometry":{"type":"Point","coordinates":[4,50]}},
		{"type":"Feature","properties":{"name":"b","sensitivity":"topsecret","radius_m":10},"geometry":{"type":"Point","coordinates":[4,50]}}]}`), 0o600)
	code, _, errOut := cli(t, "zones", "check", bad)
	if code != exitError || !strings.Contains(errOut, "feature 1") || !strings.Contains(errOut, "topsecret") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	code, _, errOut = cli(t, "audit", "--zones", bad)
	if code != exitUsage || !strings.Contains(errOut, "feature 1") {
		t.Fatalf("audit with a bad zone file: exit %d: %s", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"fixes"},
		{"fixes", "--format", "xml", "x"},
		{"audit", "--bogus"},
		{"nosuchcommand"},
		{"audit", "--log-level", "loud"},
	} {
		if code, _, errOut := cli(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}

// Configuration: droneaudit.yaml in the working directory, then DRONEAUDIT_* variables, then flags.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile("droneaudit.yaml", []byte("format: json\npolicy:\n  fail_on: [secret]\n"), 0o600)
	code, out, _ := cli(t, "audit")
	if code != exitPolicy || !strings.HasPrefix(out, "{") || !strings.Contains(out, `"fail_on": [`+"\n"+`      "secret"`+"\n    ]") {
		t.Fatalf("config file not applied: exit %d\n%.300s", code, out)
	}
	t.Setenv("DRONEAUDIT_FORMAT", "text")
	if _, out, _ := cli(t, "audit"); !strings.HasPrefix(out, "droneaudit") {
		t.Fatalf("environment did not override the file: %.100s", out)
	}
	if _, out, _ := cli(t, "audit", "--format", "json"); !strings.HasPrefix(out, "{") {
		t.Fatalf("flag did not override the environment: %.100s", out)
	}
	// With only public zones failing and the pilot's broadcast allowed, nothing fails; the
	// configuration's policy replaces the demo's (its analytics rule is gone too).
	os.WriteFile("droneaudit.yaml", []byte("policy:\n  fail_on: [public]\n  fail_on_broadcast_pilot: false\n"), 0o600)
	if code, out, _ := cli(t, "audit"); code != exitOK || !strings.Contains(out, "VERDICT: PASS") {
		t.Fatalf("policy fail_on [public]: exit %d\n%.400s", code, out)
	}
}

// The audit report carries the destination inventory, and the policy can fail on destinations.
func TestAuditDestinationPolicy(t *testing.T) {
	t.Chdir(t.TempDir())
	os.WriteFile("droneaudit.yaml", []byte("format: json\npolicy:\n  fail_on: [public]\n  fail_on_broadcast_pilot: false\n  destinations:\n    deny_hosts: [\"203.0.113.0/24\"]\n"), 0o600)
	code, out, _ := cli(t, "audit")
	if code != exitPolicy {
		t.Fatalf("exit %d, want 3", code)
	}
	var rep struct {
		SchemaVersion int `json:"schema_version"`
		Findings      []struct {
			Kind        string `json:"kind"`
			Scope       string `json:"scope"`
			Destination struct {
				IP       string   `json:"ip"`
				Port     int      `json:"port"`
				Protocol string   `json:"protocol"`
				Names    []string `json:"names"`
				Owner    string   `json:"owner"`
				Scope    string   `json:"scope"`
			} `json:"destination"`
			Rules       []struct{ Rule, Value string } `json:"rules"`
			FailsPolicy bool                           `json:"fails_policy"`
		} `json:"findings"`
		Destinations []struct {
			IP       string `json:"ip"`
			Port     int    `json:"port"`
			BytesOut int64  `json:"bytes_out"`
			Scope    string `json:"scope"`
		} `json:"destinations"`
		GeoIP struct {
			Attribution []string `json:"attribution"`
		} `json:"geoip"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	failing := 0
	for _, f := range rep.Findings {
		if f.FailsPolicy {
			failing++
		}
	}
	// Failing findings come first; with fail_on [public] only the denied destination fails.
	f := rep.Findings[0]
	if failing != 1 || f.Kind != "destination-denied" || f.Destination.IP != "203.0.113.40" || f.Destination.Port != 1883 ||
		f.Destination.Protocol != "tcp" || f.Destination.Scope != "internet" || f.Scope != "internet" || len(f.Rules) != 1 || !f.FailsPolicy {
		t.Fatalf("findings %+v", rep.Findings)
	}
	// The destination list is flat: .destinations is the list itself.
	// DHCP (two broadcast rows), the lab resolver, three HTTPS servers and the MQTT broker.
	scopes := map[string]string{}
	var mqttOut int64
	for _, d := range rep.Destinations {
		scopes[d.IP] = d.Scope
		if d.IP == "203.0.113.40" {
			mqttOut = d.BytesOut
		}
	}
	if rep.SchemaVersion != 2 || len(rep.Destinations) != 7 || mqttOut == 0 || scopes["192.168.4.1"] != "lab-network" ||
		scopes["255.255.255.255"] != "broadcast" || scopes["47.91.161.230"] != "internet" || len(rep.GeoIP.Attribution) == 0 {
		t.Fatalf("destinations %+v", rep.Destinations)
	}
}

// The built program itself exits with 3 on the demo (go run reports that as "exit status 3").
func TestDemoProcessExitCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cmd := exec.Command(droneauditBinary(t), "audit", "--format", "json")
	cmd.Env = append(os.Environ(), "CI=true")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitPolicy {
		t.Fatalf("err %v, want exit status 3", err)
	}
	if !bytes.Contains(out, []byte(`"result": "fail"`)) {
		t.Fatalf("stdout %.200s", out)
	}
}
