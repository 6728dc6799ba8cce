package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"droneaudit/internal/demo"
)

// cliIn runs one command line in-process with stdin as standard input. A command that has not
// returned after a minute fails the test instead of hanging it.
func cliIn(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- runWithInput(t.Context(), args, stdin, &out, &errb) }()
	select {
	case code := <-done:
		return code, out.String(), errb.String()
	case <-time.After(time.Minute):
		t.Fatalf("%v did not return within a minute", args)
	}
	return 0, "", ""
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// auditInputs runs audit --format json and returns its inputs by path.
func auditInputs(t *testing.T, stdin io.Reader, args ...string) (int, map[string]map[string]any, string) {
	t.Helper()
	code, out, errOut := cliIn(t, stdin, append([]string{"audit", "--no-progress", "--format", "json"}, args...)...)
	var rep struct {
		Inputs []map[string]any `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit %v: exit %d, %v\n%s\n%s", args, code, err, out, errOut)
	}
	ins := map[string]map[string]any{}
	for _, in := range rep.Inputs {
		ins[in["path"].(string)] = in
	}
	return code, ins, errOut
}

// A named pipe named as an input no longer hangs the run: it fails with the reason, and every
// command still gives its output for the other inputs (before, opening it waited for a writer
// forever, and SIGTERM did not help).
func TestNamedPipeInputDoesNotHang(t *testing.T) {
	dir := t.TempDir()
	capture, _ := writeDemo(t, dir)
	fifo := filepath.Join(dir, "f")
	mkfifo(t, fifo)
	for _, c := range []struct {
		cmd  []string
		want string // in stdout: the capture was read
	}{
		{[]string{"audit"}, "flight.pcapng\n    sha256 "},
		{[]string{"fixes", "--format", "ndjson"}, `"decoder":"mqtt"`},
		{[]string{"destinations"}, cloudIP},
		{[]string{"broadcasts"}, "aircraft"},
	} {
		code, out, errOut := cliIn(t, nil, append(append(c.cmd, "--no-progress"), fifo, capture)...)
		if code == exitOK || code == exitUsage || !strings.Contains(out, c.want) || !strings.Contains(out+errOut, "named pipe") {
			t.Errorf("%s: exit %d\n%.600s\n%.600s", c.cmd[0], code, out, errOut)
		}
	}
}

// A walked folder lists what it does not read, with the reason: hidden entries, named pipes,
// symlinks that leave the folder or loop. A symlink to a capture inside the folder is read.
func TestFolderListsWhatItSkips(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "evidence")
	os.Mkdir(dir, 0o755)
	writeDemo(t, dir)
	os.Remove(filepath.Join(dir, "zones.geojson"))
	writeDemo(t, top)
	os.Symlink("flight.pcapng", filepath.Join(dir, "link-in.pcapng"))
	os.Symlink("../flight.pcapng", filepath.Join(dir, "link-out.pcapng"))
	os.Symlink("loop", filepath.Join(dir, "loop"))
	os.WriteFile(filepath.Join(dir, ".hidden.pcapng"), demo.EmbeddedCapture, 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("field notes\n"), 0o600)
	mkfifo(t, filepath.Join(dir, "pipe"))
	want := map[string]string{
		".hidden.pcapng":  "hidden",
		"link-out.pcapng": "symlink leaving the folder",
		"loop":            "symlink loop",
		"pipe":            "named pipe",
		"notes.txt":       "not a format droneaudit decodes",
	}
	code, ins, errOut := auditInputs(t, nil, dir)
	if code == exitUsage || len(ins) != len(want)+2 {
		t.Fatalf("exit %d, %d inputs: %v\n%s", code, len(ins), ins, errOut)
	}
	for name, why := range want {
		in := ins[filepath.Join(dir, name)]
		if s, _ := in["skipped"].(string); !strings.Contains(s, why) || in["error"] != nil {
			t.Errorf("%s: %v, want skipped for %q", name, in, why)
		}
	}
	for _, name := range []string{"flight.pcapng", "link-in.pcapng"} {
		if in := ins[filepath.Join(dir, name)]; in["sha256"] != sha256Hex(demo.EmbeddedCapture) || in["fixes"].(float64) == 0 {
			t.Errorf("%s: %v", name, in)
		}
	}
	code, out, errOut := cliIn(t, nil, "destinations", "--no-progress", "--format", "json", dir)
	var inv struct {
		Notes []struct{ Input, Code, Message string } `json:"notes"`
	}
	json.Unmarshal([]byte(out), &inv)
	skipped := map[string]string{}
	for _, n := range inv.Notes {
		if n.Code == "skipped" {
			skipped[filepath.Base(n.Input)] = n.Message
		}
	}
	if code != exitOK || !strings.Contains(out, cloudIP) || !strings.HasPrefix(skipped["notes.txt"], "not a capture") || !strings.HasPrefix(skipped["pipe"], "a named pipe") {
		t.Errorf("destinations: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cliIn(t, nil, "broadcasts", "--no-progress", "--format", "json", dir)
	var bc struct {
		Skipped []struct{ Path, Reason string } `json:"skipped"`
	}
	json.Unmarshal([]byte(out), &bc)
	if code != exitOK || len(bc.Skipped) != len(want) || !strings.Contains(out, `"reason": "not a capture (pcap or pcapng)"`) {
		t.Errorf("broadcasts: exit %d\n%s\n%s", code, out, errOut)
	}
}

// Ctrl-C and SIGTERM end any run within a second, with a non-zero exit code: while a large
// capture is decoded, while a large file is hashed, and while standard input waits for a writer
// that sends nothing.
func TestSignalEndsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := droneauditBinary(t)
	dir := t.TempDir()
	sparse := func(name string, head []byte) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(head)
		if err := f.Truncate(64 << 30); err != nil {
			t.Skipf("no sparse files here: %v", err)
		}
		f.Close()
		return p
	}
	pcapHeader := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	bigCapture := sparse("big.pcap", pcapHeader)
	bigFile := sparse("big.bin", []byte("not a capture"))
	for _, c := range []struct {
		name string
		args []string
	}{
		{"audit of a large capture", []string{"audit", bigCapture}},
		{"fixes hashing a large file", []string{"fixes", bigFile}},
		{"destinations of a large capture", []string{"destinations", bigCapture}},
		{"audit of a silent standard input", []string{"audit", "-"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"--no-progress"}, c.args...)...)
			stdin, err := cmd.StdinPipe() // held open and never written
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			// Signal once the program handles SIGTERM and has had time to start reading.
			waitCatches(t, cmd.Process.Pid, syscall.SIGTERM)
			select {
			case err := <-exited:
				t.Fatalf("ended before the signal: %v\n%s", err, stderr.String())
			case <-time.After(500 * time.Millisecond):
			}
			cmd.Process.Signal(syscall.SIGTERM)
			start := time.Now()
			select {
			case err := <-exited:
				// Killed by the signal would be -1: the run must end itself, with an error.
				if cmd.ProcessState.ExitCode() <= 0 {
					t.Errorf("%v after SIGTERM (%v)\n%s", cmd.ProcessState, err, stderr.String())
				}
				t.Logf("ended %v after SIGTERM: %v", time.Since(start).Round(time.Millisecond), cmd.ProcessState)
			case <-time.After(time.Second):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("still running a second after SIGTERM\n%s", stderr.String())
			}
		})
	}
}

// waitCatches waits until process pid has a handler for sig (Linux: SigCgt in /proc/PID/status).
func waitCatches(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			time.Sleep(time.Second) // no /proc: give the program a second to start
			return
		}
		for _, l := range strings.Split(string(b), "\n") {
			if mask, ok := strings.CutPrefix(l, "SigCgt:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64); err == nil && m&(1<<(uint(sig)-1)) != 0 {
					return
				}
			}
		}
	}
	t.Fatal("the program never installed its signal handler")
}

// --out never overwrites evidence: not an input (named, through a symlink or a hard link), not a
// file inside an input folder, not the zone file; an existing file only with --force. The
// report is written to a temporary file beside it and renamed into place, mode 0600. (Before,
// `audit --out ev.pcapng ev.pcapng` replaced the evidence with the report and exited 0.)
func TestOutNeverOverwritesInput(t *testing.T) {
	dir := t.TempDir()
	capture, zones := writeDemo(t, dir)
	link, hard := filepath.Join(dir, "report-link"), filepath.Join(dir, "report-hard")
	os.Symlink(capture, link)
	os.Link(capture, hard)
	for _, c := range []struct {
		out  string
		args []string
		want string
	}{
		{capture, []string{capture}, "is the input " + capture},
		{link, []string{capture}, "is the input " + capture},
		{hard, []string{capture}, "is the input " + capture},
		{filepath.Join(dir, "report.txt"), []string{dir}, "lies inside the input folder " + dir},
		{zones, []string{"--zones", zones, capture}, "is the input " + zones},
	} {
		code, _, errOut := cliIn(t, nil, append([]string{"audit", "--no-progress", "--out", c.out}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, "--out "+c.out) || !strings.Contains(errOut, c.want) {
			t.Errorf("--out %s %v: exit %d: %s", c.out, c.args, code, errOut)
		}
	}
	if f, err := os.Open(capture); err == nil {
		if code, _, errOut := cliIn(t, f, "audit", "--no-progress", "--out", hard, "-"); code != exitUsage || !strings.Contains(errOut, "standard input") {
			t.Errorf("--out onto the file on standard input: exit %d: %s", code, errOut)
		}
		f.Close()
	}
	// --force replaces an earlier report, never an input.
	if code, _, errOut := cliIn(t, nil, "audit", "--no-progress", "--force", "--out", capture, capture); code != exitUsage || !strings.Contains(errOut, "is the input") {
		t.Errorf("--force --out INPUT INPUT: exit %d: %s", code, errOut)
	}
	for _, p := range []string{capture, link, hard} {
		if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, demo.EmbeddedCapture) {
			t.Fatalf("%s changed", p)
		}
	}
	if fi, _ := os.Stat(capture); fi.Mode().Perm() != 0o400 {
		t.Errorf("evidence mode changed to %v", fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "report.txt")); err == nil {
		t.Error("a report was written into the input folder")
	}

	// Standard output redirected onto the evidence is refused too.
	f, err := os.OpenFile(hard, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		var errb bytes.Buffer
		if code := runWithInput(t.Context(), []string{"fixes", capture}, nil, f, &errb); code != exitUsage || !strings.Contains(errb.String(), "standard output is the input") {
			t.Errorf("standard output onto the input: exit %d: %s", code, errb.String())
		}
		f.Close()
	}

	outDir := t.TempDir()
	out := filepath.Join(outDir, "report.json")
	if code, _, errOut := cliIn(t, nil, "audit", "--no-progress", "--format", "json", "--out", out, capture); code == exitUsage {
		t.Fatalf("new report: exit %d: %s", code, errOut)
	}
	first, _ := os.ReadFile(out)
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 || len(first) == 0 {
		t.Fatalf("report file %v %v", fi, err)
	}
	code, _, errOut := cliIn(t, nil, "audit", "--no-progress", "--out", out, capture)
	if now, _ := os.ReadFile(out); code != exitUsage || !strings.Contains(errOut, "exists") || !bytes.Equal(now, first) {
		t.Errorf("existing report without --force: exit %d: %s", code, errOut)
	}
	if code, _, _ := cliIn(t, nil, "audit", "--no-progress", "--force", "--format", "text", "--out", out, capture); code == exitUsage {
		t.Errorf("existing report with --force: exit %d", code)
	}
	if now, _ := os.ReadFile(out); bytes.Equal(now, first) || !strings.HasPrefix(string(now), "droneaudit") {
		t.Errorf("--force did not replace the report: %.100s", now)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 1 {
		t.Errorf("files left beside the report: %v", entries)
	}
}

// destinations and broadcasts read folders and mixed inputs: a file that is no capture is listed
// (skipped in a folder, an error when named) and the captures still give their rows. Before,
// `destinations DIR` failed and `destinations good.pcapng x.tlog` printed nothing.
func TestCaptureCommandsMixedInputs(t *testing.T) {
	dir := t.TempDir()
	capture, _ := writeDemo(t, dir)
	tlog := filepath.Join(dir, "x.tlog")
	os.WriteFile(tlog, []byte("\xfe\x09\x00\x01\x01\x00 not a capture"), 0o600)
	code, out, errOut := cliIn(t, nil, "destinations", "--no-progress", "--format", "json", dir)
	if code != exitOK || !strings.Contains(out, cloudIP) || !strings.Contains(out, `x.tlog",
      "severity": "info",
      "code": "skipped"`) || !strings.Contains(out, `"message": "not a capture (pcap or pcapng)"`) {
		t.Errorf("destinations DIR: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cliIn(t, nil, "destinations", "--no-progress", "--format", "json", capture, tlog)
	if code != exitError || !strings.Contains(out, cloudIP) || !strings.Contains(out, "x.tlog: not a capture") || !strings.Contains(errOut, "1 of 2 input(s) could not be read") {
		t.Errorf("destinations CAPTURE TLOG: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cliIn(t, nil, "broadcasts", "--no-progress", capture, tlog)
	if code != exitError || !strings.Contains(out, "aircraft") || !strings.Contains(errOut, "x.tlog: not a capture") {
		t.Errorf("broadcasts CAPTURE TLOG: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = cliIn(t, nil, "fixes", "--no-progress", "--format", "ndjson", dir)
	if code != exitOK || strings.Count(out, "\n") != osdPublishes || !strings.Contains(errOut, "input skipped") {
		t.Errorf("fixes DIR: exit %d, %d lines\n%s", code, strings.Count(out, "\n"), errOut)
	}
}

// "-" reads standard input, and gzip-compressed inputs are recognised by their content and read
// as what they hold, in every command. The SHA-256 reported is that of the bytes read from
// standard input, and that of a compressed file as stored.
func TestStdinAndGzipInputs(t *testing.T) {
	dir := t.TempDir()
	capture, _ := writeDemo(t, dir)
	z := gzipBytes(t, demo.EmbeddedCapture)
	gzPath, noExt := filepath.Join(dir, "flight.pcapng.gz"), filepath.Join(dir, "evidence")
	os.WriteFile(gzPath, z, 0o400)
	os.WriteFile(noExt, z, 0o400)
	_, plain, _ := auditInputs(t, nil, capture)
	fixes := plain[capture]["fixes"]
	// One run per input: the inputs of a run are one capture session (rotated files continue
	// each other's TCP connections), so the same capture three times would be one connection
	// replayed, with its sequence numbers going back.
	_, ins, errOut := auditInputs(t, bytes.NewReader(demo.EmbeddedCapture), "-")
	if in := ins["-"]; in["sha256"] != sha256Hex(demo.EmbeddedCapture) || in["fixes"] != fixes || in["error"] != nil {
		t.Errorf("standard input: %v\n%s", in, errOut)
	}
	for _, p := range []string{gzPath, noExt} {
		_, ins, _ := auditInputs(t, nil, p)
		in := ins[p]
		if in["sha256"] != sha256Hex(z) || in["size"] != float64(len(z)) || in["fixes"] != fixes || in["format"] != "pcapng" || !strings.Contains(jsonText(in["notes"]), "gzip-compressed") {
			t.Errorf("%s: %v", p, in)
		}
	}
	code, out, errOut := cliIn(t, bytes.NewReader(z), "fixes", "--no-progress", "--format", "ndjson", "-")
	if code != exitOK || !strings.Contains(out, `"input":"-","sha256":"`+sha256Hex(z)+`"`) {
		t.Errorf("fixes - (compressed): exit %d\n%.300s\n%s", code, out, errOut)
	}
	_, want, _ := cliIn(t, nil, "destinations", "--no-progress", "--format", "csv", capture)
	code, out, errOut = cliIn(t, bytes.NewReader(z), "destinations", "--no-progress", "--format", "csv", "-")
	if code != exitOK || out != want {
		t.Errorf("destinations - (compressed): exit %d\n%s\nwant\n%s\n%s", code, out, want, errOut)
	}
	if code, _, errOut := cliIn(t, bytes.NewReader(z), "audit", "--no-progress", "-", "-"); code != exitUsage {
		t.Errorf("- twice: exit %d: %s", code, errOut)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
