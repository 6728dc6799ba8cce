package csvlog

import (
	"bytes"
	"context"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

func decodeBytes(t testing.TB, name string, data []byte) *decodertest.Sink {
	t.Helper()
	s := &decodertest.Sink{}
	in := decoders.Input{Path: name, SHA256: "test", Size: int64(len(data)), R: bytes.NewReader(data)}
	if err := New().Decode(context.Background(), in, s); err != nil {
		t.Fatalf("%s: Decode: %v", name, err)
	}
	return s
}

func decodeFile(t *testing.T, rel string) *decodertest.Sink {
	t.Helper()
	p := corpus.Path(t, rel)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !New().Sniff(data[:min(len(data), decoders.SniffLen)]) {
		t.Errorf("%s: Sniff refused it", rel)
	}
	return decodeBytes(t, p, data)
}

func fixesOf(s *decodertest.Sink, role geo.Role) []geo.Fix {
	var out []geo.Fix
	for _, f := range s.Fixes {
		if f.Role == role {
			out = append(out, f)
		}
	}
	return out
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("manifest number %q: %v", s, err)
	}
	return v
}

// TestCorpusAirdata checks the Airdata export against its manifest row: row count, first row
// and first non-zero position, first UTC time, and the feet unit of the header.
func TestCorpusAirdata(t *testing.T) {
	const rel = "csv/airdata_Mini2_2021-09-05.csv"
	gt := corpus.Lookup(t, rel).GroundTruth
	s := decodeFile(t, rel)
	m := regexp.MustCompile(`rows=(\d+)`).FindStringSubmatch(gt)
	if m == nil {
		t.Fatalf("ground truth %q", gt)
	}
	if want, _ := strconv.ParseInt(m[1], 10, 64); s.Counts["rows"] != want {
		t.Errorf("rows %d, manifest %d", s.Counts["rows"], want)
	}
	air := fixesOf(s, geo.RoleAircraft)
	if int64(len(air))+s.Counts["no_fix_rows"] != s.Counts["rows"] {
		t.Errorf("aircraft fixes %d + no-fix rows %d != rows %d", len(air), s.Counts["no_fix_rows"], s.Counts["rows"])
	}
	m = regexp.MustCompile(`first nonzero lat,lon=(-?[\d.]+),(-?[\d.]+)`).FindStringSubmatch(gt)
	if m == nil {
		t.Fatalf("ground truth %q", gt)
	}
	lat, lon := mustFloat(t, m[1]), mustFloat(t, m[2])
	if air[0].Lat != lat || air[0].Lon != lon {
		t.Errorf("first fix %v,%v, manifest %v,%v", air[0].Lat, air[0].Lon, lat, lon)
	}
	tk := fixesOf(s, geo.RoleTakeoff)
	if len(tk) != 1 || tk[0].Lat != lat || tk[0].Lon != lon {
		t.Errorf("take-off fixes %v", tk)
	}
	m = regexp.MustCompile(`row0 datetime\(utc\)=(\S+ \S+?);`).FindStringSubmatch(gt)
	if m == nil {
		t.Fatalf("ground truth %q", gt)
	}
	want, err := time.Parse("2006-01-02 15:04:05", m[1])
	if err != nil {
		t.Fatal(err)
	}
	if !air[0].Time.Equal(want) {
		t.Errorf("first time %v, manifest %v", air[0].Time, want)
	}
	// Units: the header says feet; row 0 altitude_above_seaLevel(feet) is read from the file.
	p := corpus.Path(t, rel)
	raw, _ := os.ReadFile(p)
	lines := strings.SplitN(string(raw), "\n", 3)
	hdr, row0 := strings.Split(lines[0], ","), strings.Split(lines[1], ",")
	for i, h := range hdr {
		if h == "altitude_above_seaLevel(feet)" {
			ft := mustFloat(t, row0[i])
			if !air[0].HasAlt || air[0].AltRef != "msl" || math.Abs(air[0].AltM-ft*0.3048) > 1e-9 {
				t.Errorf("altitude %v %q, want %v ft = %v m msl", air[0].AltM, air[0].AltRef, ft, ft*0.3048)
			}
		}
	}
	ex := s.Exposures
	if len(ex) != 1 || ex[0].Values["take_off_point"] != m0(gt) {
		t.Errorf("exposure %+v", ex)
	}
}

// m0 returns the manifest's "first row lat,lon" as the decoder prints it.
func m0(gt string) string {
	m := regexp.MustCompile(`first row lat,lon=(-?[\d.]+),(-?[\d.]+)`).FindStringSubmatch(gt)
	if m == nil {
		return "missing"
	}
	a, _ := strconv.ParseFloat(m[1], 64)
	b, _ := strconv.ParseFloat(m[2], 64)
	return strconv.FormatFloat(a, 'f', -1, 64) + "," + strconv.FormatFloat(b, 'f', -1, 64)
}

// TestCorpusTruthCSV reads the node-djiparsetxt CSV (OSD/HOME/APP_GPS/DETAILS groups, not
// valid UTF-8) and checks it against the manifest row of the flight record it was made from:
// first non-zero OSD, first HOME and first APP_GPS positions, rounded to the CSV's 6 decimals.
func TestCorpusTruthCSV(t *testing.T) {
	const rel = "djilog/v11_Mavic2_2019-02-22.truth.csv"
	gt := corpus.Lookup(t, rel).GroundTruth
	log := corpus.Lookup(t, "djilog/v11_Mavic2_2019-02-22.txt").GroundTruth
	s := decodeFile(t, rel)
	if m := regexp.MustCompile(`(\d+) data rows`).FindStringSubmatch(gt); m == nil || strconv.FormatInt(s.Counts["rows"], 10) != m[1] {
		t.Errorf("rows %d, manifest %q", s.Counts["rows"], gt)
	}
	for _, c := range []struct {
		role geo.Role
		re   string
	}{
		{geo.RoleAircraft, `first nonzero OSD lat,lon=(-?[\d.]+),(-?[\d.]+)`},
		{geo.RoleHome, `first HOME lat,lon=(-?[\d.]+),(-?[\d.]+)`},
		{geo.RolePilot, `first APP_GPS lat,lon=(-?[\d.]+),(-?[\d.]+)`},
		{geo.RoleTakeoff, `details.lat,lon=(-?[\d.]+),(-?[\d.]+)`},
	} {
		m := regexp.MustCompile(c.re).FindStringSubmatch(log)
		if m == nil {
			t.Fatalf("manifest has no %s", c.re)
		}
		f := fixesOf(s, c.role)
		if len(f) == 0 {
			t.Fatalf("no %s fix", c.role)
		}
		lat, lon := mustFloat(t, m[1]), mustFloat(t, m[2])
		if math.Abs(f[0].Lat-lat) > 5.1e-7 || math.Abs(f[0].Lon-lon) > 5.1e-7 {
			t.Errorf("%s: first fix %v,%v, manifest %v,%v (6 dp)", c.role, f[0].Lat, f[0].Lon, lat, lon)
		}
	}
	m := regexp.MustCompile(`aircraftSN=(\w+)`).FindStringSubmatch(log)
	ex := s.Exposures
	if m == nil || len(ex) != 1 || ex[0].Values["aircraft_serial"] != m[1] {
		t.Errorf("exposure %+v, want aircraft_serial from manifest %v", ex, m)
	}
}

// TestCorpusNotClaimed: CSV files without positions (yule_log exports) are not claimed.
func TestCorpusNotClaimed(t *testing.T) {
	for _, e := range corpus.Files(t, "ulog/expected/") {
		if !strings.HasSuffix(e.File, ".csv") {
			continue
		}
		data, err := os.ReadFile(corpus.Path(t, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if New().Sniff(data[:min(len(data), decoders.SniffLen)]) {
			t.Errorf("%s claimed", e.File)
		}
	}
	for _, e := range corpus.Files(t, "srt/") {
		data, err := os.ReadFile(corpus.Path(t, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if New().Sniff(data[:min(len(data), decoders.SniffLen)]) {
			t.Errorf("%s claimed", e.File)
		}
	}
}

// TestCorpusSniffOthers: of every corpus file, Sniff claims only the two CSV flight logs.
func TestCorpusSniffOthers(t *testing.T) {
	own := map[string]bool{"csv/airdata_Mini2_2021-09-05.csv": true, "djilog/v11_Mavic2_2019-02-22.truth.csv": true}
	for _, e := range corpus.Files(t, "") {
		if testing.Short() && e.Size > 1<<20 {
			continue // large files only in full runs (corpus README)
		}
		data, err := os.ReadFile(corpus.Path(t, e.File))
		if err != nil {
			t.Fatal(err)
		}
		if got := New().Sniff(data[:min(len(data), decoders.SniffLen)]); got != own[e.File] {
			t.Errorf("%s: Sniff = %v, want %v", e.File, got, own[e.File])
		}
	}
}
