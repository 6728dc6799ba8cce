package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/audit"
	"droneaudit/geo"
)

// recordingWriter is a FixWriter that keeps the offsets of the fixes it is given and fails at
// the failAt-th one (never when failAt is 0).
type recordingWriter struct {
	offsets []int64
	failAt  int
}

var errWrite = errors.New("disk full")

func (w *recordingWriter) Write(f *geo.Fix) error {
	if len(w.offsets)+1 == w.failAt {
		return errWrite
	}
	w.offsets = append(w.offsets, f.Evidence.Offset)
	return nil
}

func (w *recordingWriter) Close() error { return nil }

// testRep stands for the input report of the fixes: its hash is known.
var testRep = &audit.InputReport{SHA256: "00"}

// handFixes hands n fixes with offsets 0 to n-1 to the pipe as the audit does: in full batches
// of audit.FixBatch, filled in what the pipe gave back, then a last, partial one.
func handFixes(p *fixPipe, n int) {
	b := make([]audit.StreamedFix, 0, audit.FixBatch)
	for i := range n {
		b = append(b, audit.StreamedFix{Input: testRep, Fix: geo.Fix{Lat: 1, Lon: 2, Evidence: geo.Evidence{Offset: int64(i)}}})
		if len(b) == cap(b) {
			b = p.hand(b)
		}
	}
	if len(b) > 0 {
		p.hand(b)
	}
}

// The pipe hands every fix to the writer in the order given, across batch boundaries and for a
// last, partial batch.
func TestFixPipeOrder(t *testing.T) {
	w := &recordingWriter{}
	p := newFixPipe(w)
	n := 3*audit.FixBatch + 7
	handFixes(p, n)
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if len(w.offsets) != n {
		t.Fatalf("%d fixes written, want %d", len(w.offsets), n)
	}
	for i, off := range w.offsets {
		if off != int64(i) {
			t.Fatalf("fix %d has offset %d", i, off)
		}
	}
}

// After a write error the pipe drops what follows without blocking the decoder, and close
// returns the error.
func TestFixPipeWriteError(t *testing.T) {
	w := &recordingWriter{failAt: audit.FixBatch + 3}
	p := newFixPipe(w)
	handFixes(p, 20*audit.FixBatch*fixQueue)
	if err := p.close(); !errors.Is(err, errWrite) {
		t.Fatalf("close: %v, want %v", err, errWrite)
	}
	if len(w.offsets) != audit.FixBatch+2 {
		t.Fatalf("%d fixes written before the error, want %d", len(w.offsets), audit.FixBatch+2)
	}
}

// fixesLog writes a generic CSV flight log of n positions stepping 1e-4° north-east from
// 51.15 N 5.45 E, one second apart, in dir under name.
func fixesLog(t *testing.T, dir, name string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("time,lat,lon,alt\n")
	for i := range n {
		fmt.Fprintf(&b, "2024-05-01T10:00:%02d.250Z,%.6f,%.6f,%.1f\n", i, 51.15+float64(i)*1e-4, 5.45+float64(i)*1e-4, 100+float64(i))
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const fixesZoneFile = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"Base","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":[[[5.44985,51.14985],[5.45035,51.14985],[5.45035,51.15035],[5.44985,51.15035],[5.44985,51.14985]]]}}]}`

// fixes --zones Z --in-zone lists only the positions in a zone, each with its name, in every
// format; without --in-zone the NDJSON lines have no zone field; --in-zone needs --zones.
func TestFixesInZoneCommand(t *testing.T) {
	dir := t.TempDir()
	log := fixesLog(t, dir, "flight.csv", 10)
	zones := filepath.Join(dir, "zones.geojson")
	if err := os.WriteFile(zones, []byte(fixesZoneFile), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, "fixes", "--format", "ndjson", "--zones", zones, "--in-zone", log)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want the 4 positions in Base:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var r struct {
			Lat   float64  `json:"lat"`
			Zone  string   `json:"zone"`
			DistM *float64 `json:"zone_distance_m"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Zone != "Base" || r.DistM == nil || *r.DistM != 0 || r.Lat > 51.15035 {
			t.Fatalf("line %s: %+v %v", l, r, err)
		}
	}
	code, out, _ = cli(t, "fixes", "--format", "ndjson", "--zones", zones, log)
	if code != 0 || strings.Count(out, "\n") != 10 || strings.Contains(out, `"zone`) {
		t.Fatalf("without --in-zone: exit %d\n%s", code, out)
	}
	for _, format := range []string{"text", "csv", "geojson"} {
		code, out, errs := cli(t, "fixes", "--format", format, "--zones", zones, "--in-zone", log)
		if code != 0 || !strings.Contains(out, "Base") || strings.Contains(out, "51.1505") {
			t.Fatalf("%s: exit %d %s\n%s", format, code, errs, out)
		}
	}
	code, out, _ = cli(t, "fixes", "--format", "geojson", "--zones", zones, log)
	if code != 0 || !strings.Contains(out, `"layer":"zones","name":"Base"`) || !strings.Contains(out, `"layer":"tracks"`) {
		t.Fatalf("geojson with --zones: exit %d\n%s", code, out)
	}
	if code, _, errs := cli(t, "fixes", "--in-zone", log); code != exitUsage || !strings.Contains(errs, "--in-zone needs --zones") {
		t.Fatalf("--in-zone without --zones: exit %d %s", code, errs)
	}
}

// A file name is chosen by whoever made the evidence: fixes --format text shows its control and
// bidi characters escaped.
func TestFixesTextSanitisesFileNames(t *testing.T) {
	dir := t.TempDir()
	log := fixesLog(t, dir, "a\x1b[2J\u202ecsv.flight.csv", 2)
	code, out, errs := cli(t, "fixes", "--format", "text", log)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.ContainsAny(out, "\x1b\u202e") || strings.Count(out, "\n") != 2 || !strings.Contains(out, `a\x1b[2J\u202ecsv.flight.csv`) {
		t.Fatalf("output %q", out)
	}
}
