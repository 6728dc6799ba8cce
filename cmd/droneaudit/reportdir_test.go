package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// audit --report-dir (and -o) writes the five report files, mode 0600; two runs on the same
// inputs give the same bytes in every file; SHA256SUMS checks them; --case and --examiner are in
// every report and in the text on stdout; the folder is refused inside an input folder, and its
// files are replaced only with --force.
func TestAuditReportDir(t *testing.T) {
	dir := t.TempDir()
	evidence := filepath.Join(dir, "evidence")
	os.Mkdir(evidence, 0o700)
	capture, zones := writeDemo(t, evidence)
	args := func(flag, out string) []string {
		return []string{"audit", "--no-progress", "--zones", zones, flag, out, "--case", "K-2026/042", "--examiner", "Insp. Peeters", capture}
	}
	var runs [2]map[string][]byte
	for i, flag := range []string{"--report-dir", "-o"} {
		out := filepath.Join(dir, "reports", flag)
		code, stdout, stderr := cli(t, args(flag, out)...)
		if code != exitPolicy || !strings.Contains(stdout, "Case: K-2026/042") || !strings.Contains(stdout, "Examiner: Insp. Peeters") {
			t.Fatalf("%s: exit %d\n%.600s\n%s", flag, code, stdout, stderr)
		}
		runs[i] = map[string][]byte{}
		for _, name := range reportDirFiles {
			p := filepath.Join(out, name)
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v", p, fi.Mode().Perm())
			}
			runs[i][name], _ = os.ReadFile(p)
		}
		if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: folder mode %v", out, fi.Mode().Perm())
		}
	}
	for name, data := range runs[0] {
		if !bytes.Equal(data, runs[1][name]) {
			t.Errorf("%s differs between two runs", name)
		}
		if name != "SHA256SUMS" && name != "findings.geojson" && !bytes.Contains(data, []byte("K-2026/042")) {
			t.Errorf("%s lacks the case", name)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(runs[0]["SHA256SUMS"])), "\n") {
		sum, name, _ := strings.Cut(line, "  ")
		s := sha256.Sum256(runs[0][name])
		if hex.EncodeToString(s[:]) != sum {
			t.Errorf("SHA256SUMS: %s", line)
		}
	}
	var doc struct {
		Commit string
		Inputs []struct{ Path, SHA256 string }
		Config struct {
			ZonesFile string `json:"zones_file"`
		}
	}
	if err := json.Unmarshal(runs[0]["report.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Commit == "" || len(doc.Inputs) != 1 || len(doc.Inputs[0].SHA256) != 64 || doc.Config.ZonesFile != zones {
		t.Fatalf("report.json: %+v", doc)
	}

	// --format json prints report.json.
	jsonDir := filepath.Join(dir, "reports", "json")
	code, stdout, _ := cli(t, append(args("-o", jsonDir), "--format", "json")...)
	if code != exitPolicy || stdout != read(t, jsonDir, "report.json") || !bytes.Equal([]byte(stdout), runs[0]["report.json"]) {
		t.Fatalf("--format json: exit %d, not the bytes of report.json", code)
	}

	// Existing report files: refused without --force (before the audit runs), replaced with it.
	out := filepath.Join(dir, "reports", "-o")
	if code, _, stderr := cli(t, args("-o", out)...); code != exitUsage || !strings.Contains(stderr, "exists") {
		t.Fatalf("second run into the same folder: exit %d, %s", code, stderr)
	}
	if code, _, stderr := cli(t, append(args("-o", out), "--force")...); code != exitPolicy {
		t.Fatalf("--force: exit %d, %s", code, stderr)
	}
	// Never into the evidence: not an input folder or a folder inside it, not over an input file
	// (here one named like a report file), not onto an input file.
	for _, bad := range []string{evidence, filepath.Join(evidence, "reports")} {
		a := args("--report-dir", bad)
		a[len(a)-1] = evidence
		if code, _, stderr := cli(t, a...); code != exitUsage || !strings.Contains(stderr, "evidence") {
			t.Fatalf("--report-dir %s: exit %d, %s", bad, code, stderr)
		}
	}
	named := filepath.Join(dir, "named")
	os.Mkdir(named, 0o700)
	mdInput := filepath.Join(named, "report.md")
	os.WriteFile(mdInput, []byte("evidence"), 0o400)
	if code, _, stderr := cli(t, append(append(args("-o", named), mdInput), "--force")...); code != exitUsage || !strings.Contains(stderr, "refusing to overwrite evidence") {
		t.Fatalf("--report-dir over an input: exit %d, %s", code, stderr)
	}
	if b, _ := os.ReadFile(mdInput); string(b) != "evidence" {
		t.Fatal("an input was overwritten")
	}
	if code, _, stderr := cli(t, args("--report-dir", capture)...); code != exitUsage {
		t.Fatalf("--report-dir on the capture file: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(evidence, "reports")); err == nil {
		t.Fatal("a report folder was made inside the evidence")
	}
}

// --redact: the text report on stdout and the human reports carry no coordinate, report.json
// keeps them.
func TestAuditRedact(t *testing.T) {
	dir := t.TempDir()
	capture, zones := writeDemo(t, dir)
	// A flight log inside the zone: its positions are findings, and what a reader of the file
	// learns (its first position) is listed as exposed, in free text.
	log := filepath.Join(dir, "flight.csv")
	os.WriteFile(log, []byte("time,latitude,longitude,altitude\n2021-09-06 02:23:48,51.1601234,5.4701234,10\n"), 0o400)
	out := filepath.Join(dir, "r")
	code, stdout, _ := cli(t, "audit", "--no-progress", "--zones", zones, "-o", out, "--redact", capture, log)
	if code != exitPolicy {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(stdout, "51.16012") || !strings.Contains(stdout, "first position: [coordinate withheld]") {
		t.Errorf("the exposure of the flight log is not redacted:\n%s", stdout)
	}
	const lat = "51.1543481" // the demo capture's first leaked position (the Cloud API osd over the base)
	for name, data := range map[string]string{"stdout": stdout, "report.md": read(t, out, "report.md"), "report.html": read(t, out, "report.html")} {
		if strings.Contains(data, lat) || !strings.Contains(data, "coordinates withheld") {
			t.Errorf("%s is not redacted", name)
		}
	}
	if !strings.Contains(read(t, out, "report.json"), lat) {
		t.Error("report.json lost the coordinates")
	}
}

func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
