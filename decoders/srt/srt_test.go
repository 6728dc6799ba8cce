package srt

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

// decodeBytes runs the decoder over an in-memory file.
func decodeBytes(t testing.TB, name string, data []byte) *decodertest.Sink {
	t.Helper()
	s := &decodertest.Sink{}
	in := decoders.Input{Path: name, SHA256: "test", Size: int64(len(data)), R: bytes.NewReader(data)}
	if err := New().Decode(context.Background(), in, s); err != nil {
		t.Fatalf("%s: Decode: %v", name, err)
	}
	return s
}

func decodeFile(t *testing.T, rel string) (*decodertest.Sink, int64) {
	t.Helper()
	p := corpus.Path(t, rel)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, min(st.Size(), decoders.SniffLen))
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	if st.Size() > 0 && !New().Sniff(head) {
		t.Errorf("%s: Sniff refused a DJI SRT file", rel)
	}
	s := &decodertest.Sink{}
	if err := New().Decode(context.Background(), decoders.Input{Path: p, SHA256: "corpus", Size: st.Size(), R: f}, s); err != nil {
		t.Fatalf("%s: Decode: %v", rel, err)
	}
	return s, st.Size()
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

var (
	blocksRE = regexp.MustCompile(`blocks=(\d+)`)
	// "first position token: [latitude: 3.41531] [longitude: -3.37440]" or "…: GPS(-58.4563,-34.7383,19)"
	namedRE = regexp.MustCompile(`first position token: \[latitude ?: ?(-?[\d.]+)\] \[longt?itude ?: ?(-?[\d.]+)\]`)
	gpsRE   = regexp.MustCompile(`first position token: GPS ?\((-?[\d.]+), ?(-?[\d.]+), ?\d+\)`)
	noGPSRE = regexp.MustCompile(`first position token: no GPS`)
)

func decimals(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// TestCorpusManifest checks every corpus SRT against the block count and first position the
// manifest gives. The GPS(...) tokens there are DJI styles A–C, which print longitude first
// (formats §13); the named tokens say which value is which.
func TestCorpusManifest(t *testing.T) {
	entries := corpus.Files(t, "srt/")
	if len(entries) == 0 {
		t.Fatal("no srt/ entries in MANIFEST.tsv")
	}
	for _, e := range entries {
		t.Run(e.File, func(t *testing.T) {
			s, _ := decodeFile(t, e.File)
			gt := e.GroundTruth
			m := blocksRE.FindStringSubmatch(gt)
			if m == nil {
				t.Fatalf("ground truth has no blocks=: %q", gt)
			}
			want, _ := strconv.ParseInt(m[1], 10, 64)
			if got := s.Counts["blocks"]; got != want {
				t.Errorf("blocks = %d, manifest says %d", got, want)
			}
			air := fixesOf(s, geo.RoleAircraft)
			var latS, lonS string
			switch {
			case noGPSRE.MatchString(gt):
				if len(air) != 0 {
					t.Errorf("manifest says no GPS, decoder gave %d aircraft fixes, first %v", len(air), air[0])
				}
				return
			case namedRE.MatchString(gt):
				m := namedRE.FindStringSubmatch(gt)
				latS, lonS = m[1], m[2]
			case gpsRE.MatchString(gt):
				m := gpsRE.FindStringSubmatch(gt)
				lonS, latS = m[1], m[2]
			default:
				t.Fatalf("cannot read the first position token of %q", gt)
			}
			lat, _ := strconv.ParseFloat(latS, 64)
			lon, _ := strconv.ParseFloat(lonS, 64)
			if len(air) == 0 {
				t.Fatalf("no aircraft fix; manifest first position %v,%v", lat, lon)
			}
			f := air[0]
			if math.Abs(f.Lat-lat) > 1e-9 || math.Abs(f.Lon-lon) > 1e-9 {
				t.Errorf("first aircraft fix %v,%v; manifest %v,%v", f.Lat, f.Lon, lat, lon)
			}
			if wantP := geo.PrecisionFromDecimals(min(decimals(latS), decimals(lonS))); math.Abs(f.PrecisionM-wantP) > 1e-9 {
				t.Errorf("precision %v m, want %v m from the printed decimals", f.PrecisionM, wantP)
			}
			if f.Evidence.Channel != geo.ChannelOnDevice || f.Evidence.Decoder != "srt" || !strings.HasPrefix(f.Evidence.Locator, "block ") {
				t.Errorf("evidence %+v", f.Evidence)
			}
			for _, f := range s.Fixes {
				if !f.Valid() {
					t.Errorf("invalid fix emitted: %v", f)
				}
			}
			if len(s.Exposures) != 1 {
				t.Errorf("want one exposure note, got %d", len(s.Exposures))
			}
		})
	}
}

// TestCorpusMavicProHome checks the upstream facts for the Mavic Pro sample:
// JuanIrache/DJI_SRT_Parser@b6ed7901:index.test.js expects HOME {LATITUDE: -20.2532,
// LONGITUDE: 149.0251} and 468 s of video at one block per second (formats §13 repeats both).
func TestCorpusMavicProHome(t *testing.T) {
	s, _ := decodeFile(t, "srt/mavic_pro.SRT")
	homes := fixesOf(s, geo.RoleHome)
	if len(homes) != 1 || homes[0].Lat != -20.2532 || homes[0].Lon != 149.0251 {
		t.Fatalf("home fixes %v, want one at -20.2532,149.0251", homes)
	}
	if homes[0].Time.IsZero() || homes[0].Time.Year() != 2017 {
		t.Errorf("home time %v, want the 2017 date of the HOME line", homes[0].Time)
	}
	if got := len(fixesOf(s, geo.RoleAircraft)); got != 468 {
		t.Errorf("aircraft fixes %d, want 468", got)
	}
	ex := s.Exposures
	if len(ex) != 1 || ex[0].Values["home_point"] != "-20.2532,149.0251" {
		t.Errorf("exposure notes %+v", ex)
	}
}

// TestCorpusOldFormatSameFlight: the old-format sample carries the same coordinates as the Mavic
// Pro sample (corpus README, formats §13) in a different style; both must decode alike.
func TestCorpusOldFormatSameFlight(t *testing.T) {
	a, _ := decodeFile(t, "srt/mavic_pro.SRT")
	b, _ := decodeFile(t, "srt/old_format.SRT")
	if len(a.Fixes) != len(b.Fixes) {
		t.Fatalf("fix counts differ: %d vs %d", len(a.Fixes), len(b.Fixes))
	}
	for i := range a.Fixes {
		if a.Fixes[i].Lat != b.Fixes[i].Lat || a.Fixes[i].Lon != b.Fixes[i].Lon || a.Fixes[i].Role != b.Fixes[i].Role {
			t.Fatalf("fix %d differs: %v vs %v", i, a.Fixes[i], b.Fixes[i])
		}
	}
}

// TestCorpusBuggy: the Mavic Pro "buggy" output writes GPS(N/A,N/A,n) before a fix; those blocks
// are counted, never turned into positions.
func TestCorpusBuggy(t *testing.T) {
	p := corpus.Path(t, "srt/mavic_pro_buggy.SRT")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	na := int64(bytes.Count(raw, []byte("GPS(N/A,N/A,")))
	gps := bytes.Count(raw, []byte("\nGPS("))
	s, _ := decodeFile(t, "srt/mavic_pro_buggy.SRT")
	if na == 0 || s.Counts["no_fix_blocks"] != na {
		t.Errorf("no_fix_blocks %d, file has %d N/A tuples", s.Counts["no_fix_blocks"], na)
	}
	if got := len(fixesOf(s, geo.RoleAircraft)); int64(got) != int64(gps)-na {
		t.Errorf("aircraft fixes %d, want %d GPS lines minus %d N/A", got, gps, na)
	}
}

// TestCorpusTruncated: both truncated samples give one error note naming the file and the byte
// where the data stops, and every position before the cut.
func TestCorpusTruncated(t *testing.T) {
	for _, rel := range []string{"srt/broken_incomplete.SRT", "srt/broken_incomplete2.SRT"} {
		t.Run(rel, func(t *testing.T) {
			s, size := decodeFile(t, rel)
			tr := s.NotesWithCode("truncated")
			if len(tr) != 1 {
				t.Fatalf("truncated notes: %+v", tr)
			}
			n := tr[0]
			raw, err := os.ReadFile(corpus.Path(t, rel))
			if err != nil {
				t.Fatal(err)
			}
			// The offset is where the cut block starts (its counter line); the message also
			// names the byte where the data stops.
			var num, line int
			fmt.Sscanf(n.Locator, "block %d @ line %d", &num, &line)
			if n.Severity != decoders.Error || n.Offset != lineOffset(raw, line) || !bytes.HasPrefix(bytes.TrimPrefix(raw[n.Offset:], bom), []byte(strconv.Itoa(num)+"\n")) ||
				!strings.Contains(n.Message, rel[4:]) || !strings.Contains(n.Message, "byte "+strconv.FormatInt(size, 10)) {
				t.Errorf("truncated note %+v (size %d)", n, size)
			}
			// Complete positions before the cut, counted the simple way: GPS lines, or
			// lines that hold a closed longitude bracket.
			want := bytes.Count(raw, []byte("\nGPS(")) + bytes.Count(raw, []byte("itude : ")) - bytes.Count(raw, []byte("[latitude : "))
			if got := len(fixesOf(s, geo.RoleAircraft)); got != want || got == 0 {
				t.Errorf("aircraft fixes before the cut: %d, want %d", got, want)
			}
		})
	}
}

// TestCorpusTruncatedMidToken: upstream (DJI_SRT_Parser@b6ed7901:index.test.js, "filling it")
// reports [-57.823383,-34.869941] for the cut block: the latitude read before the cut with the
// longitude of the block before. We do not invent the missing longitude; both halves are in the
// evidence: the truncation note keeps the half position, the last fix the longitude.
func TestCorpusTruncatedMidToken(t *testing.T) {
	s, _ := decodeFile(t, "srt/broken_incomplete2.SRT")
	tr := s.NotesWithCode("truncated")
	if len(tr) != 1 || tr[0].Attrs["latitude"] != "-34.869941" {
		t.Fatalf("truncated note %+v, want the cut block's latitude -34.869941", tr)
	}
	air := fixesOf(s, geo.RoleAircraft)
	if last := air[len(air)-1]; last.Lon != -57.823383 {
		t.Errorf("last fix before the cut %v, want longitude -57.823383", last)
	}
}

func TestCorpusEmpty(t *testing.T) {
	s, _ := decodeFile(t, "srt/broken_empty.SRT")
	e := s.NotesWithCode("empty")
	if len(e) != 1 || e[0].Severity != decoders.Error || !strings.Contains(e[0].Message, "broken_empty.SRT") || len(s.Fixes) != 0 {
		t.Fatalf("notes %+v fixes %d", s.Notes, len(s.Fixes))
	}
}

// TestCorpusSniffOthers: of every corpus file, Sniff claims only the non-empty SRT ones; flight
// records, captures, CSV and binary logs are left to their decoders.
func TestCorpusSniffOthers(t *testing.T) {
	for _, e := range corpus.Files(t, "") {
		if testing.Short() && e.Size > 1<<20 {
			continue // large files only in full runs (corpus README)
		}
		data, err := os.ReadFile(corpus.Path(t, e.File))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.HasPrefix(e.File, "srt/") && len(data) > 0
		if got := New().Sniff(data[:min(len(data), decoders.SniffLen)]); got != want {
			t.Errorf("%s: Sniff = %v, want %v", e.File, got, want)
		}
	}
}
