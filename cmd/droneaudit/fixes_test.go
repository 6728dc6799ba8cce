package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

func (w *recordingWriter) Write(f geo.Fix) error {
	if len(w.offsets)+1 == w.failAt {
		return errWrite
	}
	w.offsets = append(w.offsets, f.Evidence.Offset)
	return nil
}

func (w *recordingWriter) Close() error { return nil }

// testRep stands for the input report of the fixes: its hash is known.
var testRep = &audit.InputReport{SHA256: "00"}

func fixAt(off int64) geo.Fix { return geo.Fix{Lat: 1, Lon: 2, Evidence: geo.Evidence{Offset: off}} }

// The pipe hands every fix to the writer in the order given, across batch boundaries and for a
// last, partial batch.
func TestFixPipeOrder(t *testing.T) {
	w := &recordingWriter{}
	p := newFixPipe(w)
	n := 3*fixBatch + 7
	for i := range n {
		f := fixAt(int64(i))
		p.add(testRep, &f)
	}
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

// Two lanes of a capture may report fixes at the same time: each fix arrives whole, each lane's
// fixes in their order (run with -race).
func TestFixPipeConcurrentLanes(t *testing.T) {
	w := &recordingWriter{}
	p := newFixPipe(w)
	const perLane = 2*fixBatch + 100
	var wg sync.WaitGroup
	for lane := range 2 {
		wg.Go(func() {
			for i := range perLane {
				f := fixAt(int64(lane*perLane + i))
				p.add(testRep, &f)
			}
		})
	}
	wg.Wait()
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	next := [2]int64{0, perLane}
	for _, off := range w.offsets {
		lane := off / perLane
		if off != next[lane] {
			t.Fatalf("lane %d: got offset %d, want %d", lane, off, next[lane])
		}
		next[lane]++
	}
	if next != [2]int64{perLane, 2 * perLane} {
		t.Fatalf("written up to %v", next)
	}
}

// After a write error the pipe drops what follows without blocking the decoder, and close
// returns the error.
func TestFixPipeWriteError(t *testing.T) {
	w := &recordingWriter{failAt: fixBatch + 3}
	p := newFixPipe(w)
	for i := range 20 * fixBatch {
		f := fixAt(int64(i))
		p.add(testRep, &f)
	}
	if err := p.close(); !errors.Is(err, errWrite) {
		t.Fatalf("close: %v, want %v", err, errWrite)
	}
	if len(w.offsets) != fixBatch+2 {
		t.Fatalf("%d fixes written before the error, want %d", len(w.offsets), fixBatch+2)
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
