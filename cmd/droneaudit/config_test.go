package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// A configuration that names what does not exist is a usage error naming the key: a misspelt key
// (zone:, polcy:), an unknown owner class, a country that is no ISO code, a CIDR that cannot
// match, a host pattern with a wildcard in the middle. All were accepted silently.
func TestConfigIsStrict(t *testing.T) {
	dir := t.TempDir()
	_, zones := writeDemo(t, dir)
	t.Chdir(dir)
	for _, c := range []struct {
		yaml, want string
	}{
		{"zone: zones.geojson\n", `unknown key "zone" (did you mean "zones"?)`},
		{"polcy:\n  fail_on: [secret]\n", `unknown key "polcy.fail_on"`},
		{"policy:\n  fail_onn: [secret]\n", `unknown key "policy.fail_onn" (did you mean "policy.fail_on"?)`},
		{"policy:\n  destinations:\n    deny_owners: [dij]\n", `policy.destinations.deny_owners: "dij" is no owner class`},
		{"policy:\n  destinations:\n    deny_countries: [china]\n", `policy.destinations.deny_countries: "china" is no ISO 3166-1 alpha-2 country code`},
		{"policy:\n  destinations:\n    deny_hosts: [\"47.88.0.0/99\"]\n", `policy.destinations.deny_hosts: "47.88.0.0/99" is no CIDR prefix`},
		{"policy:\n  destinations:\n    deny_hosts: [\"dji*.com\"]\n", `policy.destinations.deny_hosts: "dji*.com" is no host pattern`},
		{"policy:\n  fail_scopes: [space]\n", `policy.fail_scopes: "space"`},
		{"policy:\n  fail_on_device: maybe\n", `policy.fail_on_device: "maybe"`},
		{"policy:\n  devices:\n    deny_classes: [hikvsion]\n", `policy.devices.deny_classes: "hikvsion" is no maker class`},
		{"policy:\n  devices:\n    closed_segment: maybe\n", `policy.devices.closed_segment: "maybe"`},
		{"policy:\n  devices:\n    closed: true\n", `unknown key "policy.devices.closed"`},
		{"owners:\n  - {pattern: \"*.x.org\", owner: cloud, sorce: notes}\n", `owners`},
		{"owners:\n  - {pattern: \"10.0.0.0/33\", owner: cloud}\n", `owners[0].pattern`},
	} {
		os.WriteFile("droneaudit.yaml", []byte(c.yaml), 0o600)
		code, _, errOut := cli(t, "audit", "--no-progress", "--zones", zones)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d: %s", c.yaml, code, errOut)
		}
	}
	// The README's example names "analytics": an alias of analytics-sdk, accepted.
	os.WriteFile("droneaudit.yaml", []byte("policy:\n  destinations:\n    deny_owners: [dji, analytics]\n    deny_countries: [cn]\n"), 0o600)
	if code, out, errOut := cli(t, "audit", "--no-progress", "--format", "json", "--zones", zones); code == exitUsage ||
		!strings.Contains(out, `"deny_owners": [`+"\n"+`        "dji",`+"\n"+`        "analytics-sdk"`) || !strings.Contains(out, `"CN"`) {
		t.Errorf("README example: exit %d: %s\n%.2000s", code, errOut, out)
	}
}

// With deny_owners: [analytics] (the README's name) a Tencent analytics host is flagged, and a
// destination that breaks several rules is one finding listing them all (it was one per rule).
func TestDeniedDestinationOneFindingAllRules(t *testing.T) {
	p, _ := labCapture(t)
	dir := t.TempDir()
	_, zones := writeDemo(t, dir)
	cfgFile := filepath.Join(dir, "policy.yaml")
	os.WriteFile(cfgFile, []byte("policy:\n  destinations:\n    deny_owners: [analytics]\n    deny_hosts: [\"*.qq.com\", \"119.28.0.0/16\"]\n"), 0o600)
	code, out, errOut := cli(t, "--config", cfgFile, "audit", "--no-progress", "--format", "json", "--zones", zones, p)
	if code != exitPolicy {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			Kind        string
			Destination struct {
				IP       string
				Port     int
				Protocol string
				Names    []string
				Owner    string
			}
			Rules []struct{ Rule, Value string }
		}
	}
	json.Unmarshal([]byte(out), &rep)
	perDest := map[string]int{}
	var bugly []struct{ Rule, Value string }
	for _, f := range rep.Findings {
		if f.Kind != "destination-denied" {
			continue
		}
		perDest[fmt.Sprintf("%s:%d/%s", f.Destination.IP, f.Destination.Port, f.Destination.Protocol)]++
		for _, n := range f.Destination.Names {
			if n == "bugly.qq.com" {
				bugly = f.Rules
				if f.Destination.Owner != "analytics-sdk" {
					t.Errorf("owner %q", f.Destination.Owner)
				}
			}
		}
	}
	for d, n := range perDest {
		if n != 1 {
			t.Errorf("%s: %d findings", d, n)
		}
	}
	if len(bugly) != 3 || bugly[0].Rule != "owner" || bugly[0].Value != "analytics-sdk" || bugly[1].Value != "*.qq.com" || bugly[2].Value != "119.28.0.0/16" {
		t.Fatalf("bugly.qq.com rules %+v", bugly)
	}
}

// Every policy key works from the environment (DRONEAUDIT_POLICY_FAIL_ON=secret was ignored).
func TestPolicyFromEnvironment(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("DRONEAUDIT_POLICY_FAIL_ON", "secret")
	t.Setenv("DRONEAUDIT_POLICY_FAIL_SCOPES", "internet,lab-network")
	t.Setenv("DRONEAUDIT_POLICY_DESTINATIONS_DENY_HOSTS", "198.51.100.0/24")
	t.Setenv("DRONEAUDIT_POLICY_DEVICES_DENY_CLASSES", "Hikvision,dahua")
	t.Setenv("DRONEAUDIT_POLICY_DEVICES_CLOSED_SEGMENT", "true")
	_, out, errOut := cli(t, "audit", "--no-progress", "--format", "json")
	var rep struct {
		Policy struct {
			FailOn       []string `json:"fail_on"`
			FailScopes   []string `json:"fail_scopes"`
			Destinations struct {
				DenyHosts []string `json:"deny_hosts"`
			} `json:"destinations"`
			Devices struct {
				DenyClasses   []string `json:"deny_classes"`
				ClosedSegment bool     `json:"closed_segment"`
			} `json:"devices"`
		} `json:"policy"`
	}
	json.Unmarshal([]byte(out), &rep)
	if strings.Join(rep.Policy.FailOn, ",") != "secret" || strings.Join(rep.Policy.FailScopes, ",") != "internet,lab-network" ||
		strings.Join(rep.Policy.Destinations.DenyHosts, ",") != "198.51.100.0/24" ||
		strings.Join(rep.Policy.Devices.DenyClasses, ",") != "hikvision,dahua" || !rep.Policy.Devices.ClosedSegment {
		t.Fatalf("policy %+v\n%s", rep.Policy, errOut)
	}
	t.Setenv("DRONEAUDIT_POLICY_DESTINATIONS_DENY_COUNTRIES", "china")
	if code, _, errOut := cli(t, "audit", "--no-progress"); code != exitUsage || !strings.Contains(errOut, "china") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// A global format in the configuration applies to the commands that have it: "format: json" no
// longer breaks fixes, which has no json. A command's own section sets its default; a flag wins.
func TestFormatPerCommand(t *testing.T) {
	dir := t.TempDir()
	capture, _ := writeDemo(t, dir)
	t.Chdir(dir)
	os.WriteFile("droneaudit.yaml", []byte("format: json\nfixes:\n  format: csv\n"), 0o600)
	if code, out, errOut := cli(t, "fixes", "--no-progress", capture); code != exitOK || !strings.HasPrefix(out, "time_utc,") {
		t.Fatalf("fixes: exit %d %s\n%.200s", code, errOut, out)
	}
	if code, out, _ := cli(t, "destinations", "--no-progress", capture); code != exitOK || !strings.HasPrefix(out, "{") {
		t.Fatalf("destinations: exit %d\n%.200s", code, out)
	}
	os.WriteFile("droneaudit.yaml", []byte("format: json\n"), 0o600)
	if code, out, errOut := cli(t, "fixes", "--no-progress", capture); code != exitOK || strings.HasPrefix(out, "{") {
		t.Fatalf("fixes with a global json: exit %d %s\n%.200s", code, errOut, out)
	}
	if code, _, errOut := cli(t, "fixes", "--no-progress", "--format", "json", capture); code != exitUsage || !strings.Contains(errOut, "json") {
		t.Fatalf("fixes --format json: exit %d %s", code, errOut)
	}
	os.WriteFile("droneaudit.yaml", []byte("fixes:\n  format: json\n"), 0o600)
	if code, _, errOut := cli(t, "fixes", "--no-progress", capture); code != exitUsage || !strings.Contains(errOut, "fixes.format") {
		t.Fatalf("fixes.format json: exit %d %s", code, errOut)
	}
}

// A relative path in a configuration file is taken from the file's folder, not from the working
// directory; on the command line it stays relative to the working directory.
func TestConfigRelativePaths(t *testing.T) {
	lab := t.TempDir()
	_, zones := writeDemo(t, lab)
	os.MkdirAll(filepath.Join(lab, "conf"), 0o755)
	os.Rename(zones, filepath.Join(lab, "conf", "sites.geojson"))
	cfgFile := filepath.Join(lab, "conf", "droneaudit.yaml")
	os.WriteFile(cfgFile, []byte("zones: sites.geojson\n"), 0o600)
	t.Chdir(t.TempDir())
	code, out, errOut := cli(t, "--config", cfgFile, "audit", "--no-progress", "--format", "json", filepath.Join(lab, "flight.pcapng"))
	if code != exitPolicy || !strings.Contains(out, filepath.Join(lab, "conf", "sites.geojson")) {
		t.Fatalf("exit %d: %s\n%.300s", code, errOut, out)
	}
}

// --out infers the format from its extension when no format is set for audit (rep.json was
// written as text).
func TestOutInfersFormat(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cli(t, "audit", "--no-progress", "--out", "rep.json")
	if b, _ := os.ReadFile("rep.json"); !json.Valid(b) {
		t.Fatalf("rep.json is not JSON: %.100s", b)
	}
	cli(t, "audit", "--no-progress", "--out", "rep.txt")
	if b, _ := os.ReadFile("rep.txt"); !bytes.HasPrefix(b, []byte("droneaudit")) {
		t.Fatalf("rep.txt: %.100s", b)
	}
	cli(t, "audit", "--no-progress", "--format", "text", "--out", "flag.json")
	if b, _ := os.ReadFile("flag.json"); !bytes.HasPrefix(b, []byte("droneaudit")) {
		t.Fatalf("--format text --out flag.json: %.100s", b)
	}
}

// --tz shows the text report's times in a zone (Europe/Brussels here); JSON stays UTC.
func TestTimeZoneFlag(t *testing.T) {
	code, out, _ := cli(t, "audit", "--no-progress", "--tz", "Europe/Brussels")
	if code != exitPolicy || !strings.Contains(out, "at 2026-05-12 11:00:33.037 CEST (UTC+02:00)") || !strings.Contains(out, "shown in Europe/Brussels") {
		t.Fatalf("exit %d\n%.1500s", code, out)
	}
	t.Setenv("DRONEAUDIT_TZ", "UTC")
	if _, out, _ := cli(t, "audit", "--no-progress"); !strings.Contains(out, "at 2026-05-12 09:00:33.037 UTC") {
		t.Fatalf("DRONEAUDIT_TZ=UTC\n%.1500s", out)
	}
	if _, out, _ := cli(t, "audit", "--no-progress", "--tz", "Europe/Brussels", "--format", "json"); !strings.Contains(out, `"time": "2026-05-12T09:00:33.037Z"`) {
		t.Fatalf("JSON is not UTC\n%.1500s", out)
	}
	if code, _, errOut := cli(t, "audit", "--tz", "Mars/Olympus"); code != exitUsage || !strings.Contains(errOut, "--tz") {
		t.Fatalf("bad zone: exit %d %s", code, errOut)
	}
}

// Text outputs and text logs show a hostile file name escaped: the audit report, the destination
// table and the log line on stderr (the name held ESC/OSC sequences, a C1 CSI, a right-to-left
// override and newlines that printed a fake verdict line).
func TestHostileFileNamesEscaped(t *testing.T) {
	dir := t.TempDir()
	capture, zones := writeDemo(t, dir)
	evil := filepath.Join(dir, "a\n\nVERDICT: PASS (exit code 0)\n\x1b]0;owned\x07\x1b[31m\u009b1m\u202eevil.pcapng")
	if err := os.Rename(capture, evil); err != nil {
		t.Skipf("this file system refuses the name: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "notes\x1b[2J.txt"), []byte("not a capture\n"), 0o600)
	for _, args := range [][]string{
		{"audit", "--zones", zones, dir},
		{"destinations", dir},
		{"broadcasts", dir},
		{"fixes", "--format", "ndjson", "--log-level", "debug", dir},
	} {
		code, out, errOut := cli(t, append([]string{"--no-progress"}, args...)...)
		text := out + errOut
		if args[0] == "fixes" {
			text = errOut // NDJSON is a machine format: exact JSON escaping
		}
		for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s (exit %d): output holds %q", args[0], code, bad)
			}
		}
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "VERDICT: PASS") {
				t.Errorf("%s: forged line %q", args[0], line)
			}
		}
	}
}

// The version names the commit the binary was built from.
func TestVersionPrintsCommit(t *testing.T) {
	var out bytes.Buffer
	writeVersion(&out, &debug.BuildInfo{GoVersion: "go1.26", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "24e7858c0ffee"}, {Key: "vcs.time", Value: "2026-12-06T22:02:58Z"}, {Key: "vcs.modified", Value: "true"}}})
	if !strings.Contains(out.String(), "commit 24e7858c0ffee (2026-12-06T22:02:58Z), with uncommitted changes\n") {
		t.Fatalf("%s", out.String())
	}
	out.Reset()
	writeVersion(&out, &debug.BuildInfo{})
	if !strings.Contains(out.String(), "commit unknown (no VCS stamp") {
		t.Fatalf("%s", out.String())
	}
	if code, o, _ := cli(t, "version"); code != exitOK || !strings.Contains(o, "\ncommit ") {
		t.Fatalf("exit %d: %s", code, o)
	}
}

// Shell completion offers the values of --format for each command.
func TestCompletionOffersFormats(t *testing.T) {
	for cmd, want := range map[string]string{"audit": "text\njson\n", "destinations": "text\njson\ncsv\n", "fixes": "text\nndjson\ncsv\ngeojson\n"} {
		code, out, errOut := cli(t, "__complete", cmd, "--format", "")
		if code != exitOK || !strings.HasPrefix(out, want) {
			t.Errorf("%s: exit %d %q %s", cmd, code, out, errOut)
		}
	}
}
