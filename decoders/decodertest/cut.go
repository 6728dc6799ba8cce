package decodertest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/geo"
)

// Cut is one row of a cut-file table: the generated file is cut to its first At bytes, as a copy
// that stopped early or a disk that filled up leaves it.
type Cut struct {
	// Name says where the cut falls, e.g. "inside a record header".
	Name string
	// At is the length of the cut file.
	At int64
	// Before: every fix of the whole file whose evidence offset is below Before must be reported
	// from the cut file too. For decoders without offsets (entries of a compressed archive) set
	// First instead.
	Before int64
	// First, when positive, replaces Before: the first First fixes of the whole file, in the
	// order the decoder reports them, must be reported from the cut file.
	First int
	// Want lists the warning and error notes the cut file gives, and no others, by code and
	// offset; the order does not matter. An empty Want is a cut the decoder cannot see: a format
	// without an end marker cut at a record boundary.
	Want []WantNote
}

// WantNote is a note a cut must produce. Severity, when set, must match too.
type WantNote struct {
	Code     decoders.Code
	Offset   int64
	Severity decoders.Severity
}

// Truncated is the note every cut inside a record must give: CodeTruncated at the offset where
// the cut record starts.
func Truncated(at int64) WantNote { return WantNote{Code: decoders.CodeTruncated, Offset: at} }

// Cuts runs the cut table over data, the bytes of a generated file. For each cut it checks that
// decoding neither panics nor fails, that every position before the cut is reported, that no
// position appears that the whole file does not hold, and that the warning and error notes are
// exactly the ones the row wants plus those the whole file gives about bytes before the cut (a
// fact about the file such as "needs keys", by code and offset; one without an offset may or
// may not come).
func Cuts(t *testing.T, d decoders.FileDecoder, name string, data []byte, cuts []Cut) {
	t.Helper()
	whole, err := decode(d, name, data)
	if err != nil {
		t.Fatalf("%s: whole file: %v", name, err)
	}
	var base []WantNote
	for _, n := range damage(whole.Notes) {
		if n.Code == decoders.CodeTruncated {
			t.Fatalf("%s: the whole file is reported cut: %v", name, n)
		}
		base = append(base, WantNote{Code: n.Code, Offset: n.Offset, Severity: n.Severity})
	}
	if len(whole.Fixes) == 0 {
		t.Fatalf("%s: the whole file gives no position", name)
	}
	for _, c := range cuts {
		t.Run(c.Name, func(t *testing.T) {
			if c.At < 0 || c.At > int64(len(data)) {
				t.Fatalf("cut at %d outside the %d-byte file", c.At, len(data))
			}
			s, err := decode(d, name, data[:c.At])
			if err != nil {
				t.Fatalf("cut at %d: %v", c.At, err)
			}
			checkFixes(t, c, whole.Fixes, s.Fixes)
			want := slices.Clone(c.Want)
			var maybe []WantNote
			for _, b := range base {
				switch {
				case b.Offset < 0:
					maybe = append(maybe, b)
				case b.Offset < c.At:
					want = append(want, b)
				}
			}
			c.Want = want
			checkNotes(t, c, s.Notes, maybe)
		})
	}
}

// decode runs d over data and turns a panic into an error that names it.
func decode(d decoders.FileDecoder, name string, data []byte) (s *Sink, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	d.Sniff(data[:min(len(data), decoders.SniffLen)])
	s = &Sink{}
	in := decoders.Input{Path: name, SHA256: "cut", Size: int64(len(data)), R: bytes.NewReader(data)}
	err = d.Decode(context.Background(), in, s)
	return s, err
}

// fixKey identifies a position across two decodes: the time a decoder derives for a fix may
// depend on what follows it, its place and source may not.
type fixKey struct {
	lat, lon float64
	role     geo.Role
	offset   int64
	locator  string
}

func keyOf(f geo.Fix) fixKey {
	return fixKey{f.Lat, f.Lon, f.Role, f.Evidence.Offset, f.Evidence.Locator}
}

func checkFixes(t *testing.T, c Cut, whole, got []geo.Fix) {
	t.Helper()
	have := map[fixKey]int{}
	for _, f := range got {
		have[keyOf(f)]++
	}
	all := map[fixKey]bool{}
	for _, f := range whole {
		all[keyOf(f)] = true
	}
	missing := 0
	for i, f := range whole {
		need := f.Evidence.Offset >= 0 && f.Evidence.Offset < c.Before
		if c.First > 0 {
			need = i < c.First
		}
		if !need {
			continue
		}
		if have[keyOf(f)] == 0 {
			if missing < 5 {
				t.Errorf("cut at %d: position before the cut not reported: %v @ %d", c.At, f, f.Evidence.Offset)
			}
			missing++
			continue
		}
		have[keyOf(f)]--
	}
	if missing > 0 {
		t.Errorf("cut at %d: %d positions before the cut missing (%d reported)", c.At, missing, len(got))
	}
	for _, f := range got {
		if !all[keyOf(f)] {
			t.Errorf("cut at %d: position the whole file does not hold: %v @ %d", c.At, f, f.Evidence.Offset)
		}
	}
}

func damage(notes []decoders.Note) []decoders.Note {
	var out []decoders.Note
	for _, n := range notes {
		if n.Severity == decoders.Warning || n.Severity == decoders.Error {
			out = append(out, n)
		}
	}
	return out
}

func checkNotes(t *testing.T, c Cut, notes []decoders.Note, maybe []WantNote) {
	t.Helper()
	got := slices.DeleteFunc(damage(notes), func(n decoders.Note) bool {
		return slices.ContainsFunc(maybe, func(w WantNote) bool { return w.Code == n.Code && w.Offset == n.Offset })
	})
	left := slices.Clone(c.Want)
	var extra []string
	for _, n := range got {
		i := slices.IndexFunc(left, func(w WantNote) bool {
			return w.Code == n.Code && w.Offset == n.Offset && (w.Severity == "" || w.Severity == n.Severity)
		})
		if i < 0 {
			extra = append(extra, fmt.Sprintf("%s %s @ %d: %s", n.Severity, n.Code, n.Offset, n.Message))
			continue
		}
		left = slices.Delete(left, i, i+1)
	}
	for _, w := range left {
		t.Errorf("cut at %d: missing note %s @ %d", c.At, w.Code, w.Offset)
	}
	if len(extra) > 0 {
		t.Errorf("cut at %d: unexpected notes:\n  %s", c.At, strings.Join(extra, "\n  "))
	}
	for _, n := range got {
		if n.Code == decoders.CodeTruncated && !strings.Contains(n.Message, fmt.Sprint(n.Offset)) {
			t.Errorf("cut at %d: truncation note does not name its offset %d: %s", c.At, n.Offset, n.Message)
		}
	}
}
