package srt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
)

// TestCutFile is the SRT row of the cut-file table (decodertest.Cuts): a generated Mavic Pro style
// file cut inside a block's header, inside a block's text and at a block boundary.
//
// SRT has no end marker and no lengths, so two cuts are silent by nature: one at a block boundary,
// and one inside the last text line of a block after its position (the camera settings line),
// which leaves a block that reads as complete. Files end with one, two or no newlines alike (see
// the corpus), so a missing final newline proves nothing either.
func TestCutFile(t *testing.T) {
	data := writeSRT(track(12), styleMavicPro)
	block := func(n int) int64 { return int64(strings.Index(string(data), fmt.Sprintf("\n\n%d\n", n)) + 2) }
	b11 := block(11)
	inLine := func(key string) int64 { return b11 + int64(strings.Index(string(data[b11:]), key)) }
	decodertest.Cuts(t, New(), "cut.srt", data, []decodertest.Cut{
		{Name: "inside the header of the first block", At: 1, Before: 0, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
		{Name: "inside a block counter", At: b11 + 1, Before: b11, Want: []decodertest.WantNote{decodertest.Truncated(b11)}},
		{Name: "after a block counter", At: b11 + 3, Before: b11, Want: []decodertest.WantNote{decodertest.Truncated(b11)}},
		{Name: "inside a time line", At: b11 + 3 + 8, Before: b11, Want: []decodertest.WantNote{decodertest.Truncated(b11)}},
		{Name: "after a time line", At: inLine("HOME"), Before: b11, Want: []decodertest.WantNote{decodertest.Truncated(b11)}},
		{Name: "inside a home tuple", At: inLine("HOME") + 9, Before: b11, Want: []decodertest.WantNote{decodertest.Truncated(b11)}},
		{Name: "inside a position tuple", At: inLine("GPS(") + 12, Before: b11, Want: []decodertest.WantNote{decodertest.Truncated(b11)}},
		{Name: "after the home line", At: inLine("GPS("), Before: b11, Want: []decodertest.WantNote{decodertest.Truncated(b11)}},
		{Name: "inside the camera line (silent)", At: inLine("Shutter"), Before: block(12)},
		{Name: "at a block boundary (silent)", At: b11, Before: b11},
	})
}

// timeLine writes the line that follows the counter of block i in one layout of formats §13 and
// the public SRT parsers: the SubRip range (with ',' or '.', and hours over two digits in long
// recordings), or, in files from older DJI firmware, a calendar date and time where the range
// usually stands, alone or as a range; or no time line at all (subtitle tracks extracted from a
// video without their timing).
type timeLine struct {
	name string
	line func(i int) string // "" for no time line
	// dated: the line carries the block's date and time (start + i seconds).
	dated bool
}

var timeLines = []timeLine{
	{"SubRip range", func(i int) string { return timecode(i) + " --> " + timecode(i+1) }, false},
	{"SubRip range with dots", func(i int) string {
		return strings.ReplaceAll(timecode(i)+" --> "+timecode(i+1), ",", ".")
	}, false},
	{"SubRip range of a long recording", func(i int) string {
		return fmt.Sprintf("100:00:%02d,000 --> 100:00:%02d,000", i%60, (i+1)%60)
	}, false},
	{"calendar date and time", func(i int) string { return at(i).Format("2006.01.02 15:04:05") }, true},
	{"calendar date and time, not zero-padded", func(i int) string {
		t := at(i)
		return fmt.Sprintf("%d.%d.%d %d:%02d:%02d", t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second())
	}, true},
	{"ISO date and time with milliseconds", func(i int) string { return at(i).Format("2006-01-02 15:04:05") + ",000" }, true},
	{"range of dates and times", func(i int) string {
		return at(i).Format("2006-01-02 15:04:05") + ",000 --> " + at(i+1).Format("2006-01-02 15:04:05") + ",000"
	}, true},
	{"range of dotted dates and times", func(i int) string {
		return at(i).Format("2006.01.02 15:04:05") + " --> " + at(i+1).Format("2006.01.02 15:04:05")
	}, true},
	{"no time line", func(int) string { return "" }, false},
}

func at(i int) time.Time { return start.Add(time.Duration(i) * time.Second) }

// writeLayout renders blocks as writeSRT does, with tl's time line.
func writeLayout(pts []pt, tl timeLine, st style) []byte {
	var b strings.Builder
	for i, p := range pts {
		fmt.Fprintf(&b, "%d\n", i+1)
		if l := tl.line(i); l != "" {
			b.WriteString(l + "\n")
		}
		b.WriteString(st(i, p))
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// TestTimeLineLayouts: every style of formats §13 in every time-line layout is recognised by its
// block structure and telemetry fields and decodes to every position, with the block's time
// taken from its text or, where the text has none, from a dated time line. The same holds with
// a BOM, CRLF line endings and doubled blank lines.
func TestTimeLineLayouts(t *testing.T) {
	styles := []struct {
		name   string
		st     style
		dated  bool // the text carries a date
		mixed  bool
		noFix  bool
		second time.Duration // text dates step by this per block
	}{
		{"A old format", styleOld, true, false, false, time.Second},
		{"B Mavic Pro", styleMavicPro, true, false, false, time.Second},
		{"C one line", styleOneLine, false, false, false, 0},
		{"C P4 RTK", styleRTK, false, false, false, 0},
		{"D Mavic Air (no position)", styleMavicAir, true, false, true, 39 * time.Millisecond},
		{"E Mavic 2", styleMavic2, true, false, false, 40 * time.Millisecond},
		{"F Air 2", styleAir2, true, false, false, 33 * time.Millisecond},
		{"G Mavic 3", styleMavic3, true, false, false, 20 * time.Millisecond},
		{"DJI FPV", styleFPV, true, false, false, 33 * time.Millisecond},
		{"H M300", styleM300, true, false, false, time.Second},
	}
	pts := track(5)
	for _, tl := range timeLines {
		for _, st := range styles {
			for _, variant := range []string{"LF", "BOM CRLF doubled blank lines"} {
				t.Run(tl.name+"/"+st.name+"/"+variant, func(t *testing.T) {
					data := writeLayout(pts, tl, st.st)
					if variant != "LF" {
						text := strings.ReplaceAll(string(data), "\n", "\r\n")
						text = strings.ReplaceAll(text, "\r\n\r\n", "\r\n\r\n\r\n")
						data = append(append([]byte{}, bom...), text...)
					}
					if !New().Sniff(data) {
						t.Fatalf("Sniff refused:\n%s", data[:min(len(data), 300)])
					}
					s := decodeBytes(t, "layout.srt", data)
					if bad := damageNotes(s); len(bad) > 0 {
						t.Errorf("notes %+v", bad)
					}
					if s.Counts["blocks"] != int64(len(pts)) {
						t.Errorf("%d blocks, want %d", s.Counts["blocks"], len(pts))
					}
					air := fixesOf(s, geo.RoleAircraft)
					if st.noFix {
						if len(s.Fixes) != 0 {
							t.Errorf("fixes from a style without positions: %v", s.Fixes)
						}
						return
					}
					if len(air) != len(pts) {
						t.Fatalf("%d aircraft fixes, want %d", len(air), len(pts))
					}
					for i, f := range air {
						if d := f.Lat - pts[i].lat; d > 1e-4 || d < -1e-4 {
							t.Errorf("fix %d = %v, want %v", i, f, pts[i])
						}
						var want time.Time
						switch {
						case st.dated:
							want = start.Add(time.Duration(i) * st.second).Truncate(time.Millisecond)
						case tl.dated:
							want = at(i)
						}
						if !f.Time.Truncate(time.Millisecond).Equal(want) {
							t.Errorf("fix %d time %v, want %v", i, f.Time, want)
						}
					}
				})
			}
		}
	}
}

func damageNotes(s *decodertest.Sink) []decoders.Note {
	var out []decoders.Note
	for _, n := range s.Notes {
		if n.Severity != decoders.Info {
			out = append(out, n)
		}
	}
	return out
}

// TestSniffStructure: without a SubRip range, a counter must be followed by a block whose text
// holds telemetry; a counter followed by prose, or a lone date, is not a DJI subtitle file.
func TestSniffStructure(t *testing.T) {
	for _, c := range []struct {
		head string
		want bool
	}{
		{"1\n2017.08.05 14:11:51\nGPS(149.0251,-20.2533,16) BAROMETER:1.9\n\n2\n", true},
		{"1\nF/2.8, SS 30.15, ISO 260, EV -1.7, GPS (-121.7458, 48.0771, 17)\n\n", true},
		{"1\n2017.08.05 14:11:51\nThe quick brown fox\n\n2\n", false},
		{"1\n2017.08.05 14:11:51\n\n", false},
		{"12\nhello world\n", false},
		{"1\n00:00:01,000 --> 00:00:02,000\nHello\n", true}, // any SubRip file, as before
	} {
		if got := New().Sniff([]byte(c.head)); got != c.want {
			t.Errorf("Sniff(%q) = %v, want %v", c.head, got, c.want)
		}
	}
}
