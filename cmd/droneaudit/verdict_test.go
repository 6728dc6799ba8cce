package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"droneaudit/internal/corpus"
)

// verdictOf is the verdict part of an audit --format json report.
type verdictOf struct {
	Result   string `json:"result"`
	ExitCode int    `json:"exit_code"`
	Complete bool   `json:"complete"`
	Reasons  []struct {
		Code, Input, Finding, Text string
	} `json:"reasons"`
}

func decodeVerdict(t *testing.T, out string) verdictOf {
	t.Helper()
	var rep struct {
		Verdict verdictOf `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%.400s", err, out)
	}
	return rep.Verdict
}

// A missing input is never a PASS: alone, the report (on stdout and in --out) is INCOMPLETE
// with the input named as its first reason; beside a good input that fails, the verdict line says
// the audit is also incomplete and names the missing input before the findings. (Before, the
// text report said "VERDICT: FAIL" and never named nope.pcap.)
func TestVerdictMissingInput(t *testing.T) {
	dir := t.TempDir()
	capture, zones := writeDemo(t, dir)
	t.Chdir(dir)
	code, out, _ := cli(t, "audit", "--no-progress", "--zones", zones, "--format", "json", "--out", "r.json", "nope.pcap")
	v := decodeVerdict(t, out)
	if code != exitError || v.Result != "incomplete" || v.ExitCode != 1 || v.Complete || len(v.Reasons) == 0 ||
		v.Reasons[0].Code != "missing-input" || v.Reasons[0].Input != "nope.pcap" {
		t.Fatalf("exit %d, verdict %+v", code, v)
	}
	if b, err := os.ReadFile("r.json"); err != nil || string(b) != out {
		t.Fatalf("--out r.json: %v", err)
	}
	code, out, _ = cli(t, "audit", "--no-progress", "--zones", zones, "nope.pcap", capture)
	lines := strings.Split(out, "\n")
	if code != exitPolicy || !strings.HasPrefix(lines[2], "VERDICT: FAIL (exit code 3)") || !strings.Contains(lines[2], "INCOMPLETE") ||
		lines[3] != "Incomplete because:" || !strings.Contains(lines[4], "nope.pcap does not exist") {
		t.Fatalf("exit %d\n%.800s", code, out)
	}
}

// An empty folder, a folder of notes only, and a capture audited without zones are INCOMPLETE
// with the reason (they were PASS, with 0 positions or only a warning on stderr).
func TestVerdictNothingCheckedIsIncomplete(t *testing.T) {
	dir := t.TempDir()
	capture, zones := writeDemo(t, dir)
	empty := filepath.Join(dir, "empty")
	notes := filepath.Join(dir, "notes")
	os.Mkdir(empty, 0o755)
	os.Mkdir(notes, 0o755)
	os.WriteFile(filepath.Join(notes, "flight-notes.txt"), []byte("took off at 10:02, landed 10:20\n"), 0o600)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--zones", zones, empty}, "nothing-decoded"},
		{[]string{"--zones", zones, notes}, "nothing-decoded"},
		{[]string{capture}, "no-zones"},
	} {
		code, out, _ := cli(t, append([]string{"audit", "--no-progress", "--format", "json"}, c.args...)...)
		v := decodeVerdict(t, out)
		found := false
		for _, r := range v.Reasons {
			found = found || r.Code == c.want
		}
		if v.Result == "pass" || code == exitOK || v.Complete || !found {
			t.Errorf("%v: exit %d, verdict %+v", c.args, code, v)
		}
	}
	// The capture's positions went out over UDP to the internet: without zones that is no FAIL,
	// but no PASS either.
	code, out, _ := cli(t, "audit", "--no-progress", capture)
	if code != exitError || !strings.Contains(out, "VERDICT: INCOMPLETE (exit code 1)") || !strings.Contains(out, "no zone file was given") {
		t.Fatalf("exit %d\n%.600s", code, out)
	}
}

// On the whole corpus, the input that could not be read (an empty SRT) is a reason of the
// verdict, before the failing findings, not 300 lines further down.
func TestVerdictCorpusNamesUnreadableInput(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole corpus")
	}
	root := corpus.Dir(t)
	_, zones := writeDemo(t, t.TempDir())
	code, out, _ := cli(t, "audit", "--no-progress", "--format", "json", "--zones", zones, root)
	v := decodeVerdict(t, out)
	if code == exitOK || v.Complete || len(v.Reasons) == 0 || v.Reasons[0].Code == "policy" {
		t.Fatalf("exit %d verdict %+v", code, v)
	}
	named := false
	for _, r := range v.Reasons {
		if r.Code == "unreadable-input" && strings.HasSuffix(r.Input, "broken_empty.SRT") {
			named = true
		}
	}
	if !named {
		t.Fatalf("broken_empty.SRT is not a reason: %+v", v.Reasons)
	}
}

// A cancelled audit (SIGTERM, Ctrl-C) still writes the report of what it read, marked
// INCOMPLETE with the reason "interrupted".
func TestVerdictInterruptedRunReportsIncomplete(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pcap")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0})
	if err := f.Truncate(64 << 30); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	f.Close()
	capture, zones := writeDemo(t, dir)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errb strings.Builder
	code := run(ctx, []string{"audit", "--no-progress", "--zones", zones, "--format", "json", capture, big}, &out, &errb)
	v := decodeVerdict(t, out.String())
	interrupted := false
	for _, r := range v.Reasons {
		interrupted = interrupted || r.Code == "interrupted"
	}
	// The demo capture was read before the signal: its findings fail the policy.
	if code != exitPolicy || v.Result != "fail" || v.Complete || !interrupted {
		t.Fatalf("exit %d verdict %+v\n%s", code, v, errb.String())
	}
}
