package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/geo"
)

// InputReport is what the audit learnt of one input file.
type InputReport struct {
	Path   string           `json:"path"`
	SHA256 string           `json:"sha256"`
	Size   int64            `json:"size"`
	Format string           `json:"format"` // the decoder that read it, or "pcap"/"pcapng"
	Fixes  int64            `json:"fixes"`
	ByRole map[string]int64 `json:"fixes_by_role,omitempty"`
	// ByChannel counts fixes per channel: on-device, network, broadcast.
	ByChannel map[string]int64 `json:"fixes_by_channel,omitempty"`
	Counts    map[string]int64 `json:"counts,omitempty"`
	Notes     []decoders.Note  `json:"notes,omitempty"`
	Dropped   int64            `json:"notes_dropped,omitempty"` // notes beyond the per-input cap
	// Exposures are the facts a reader of an on-device file learns without any key.
	Exposures []decoders.Note `json:"exposed_if_shared,omitempty"`
	Error     string          `json:"error,omitempty"`
	// Skipped says why a file found in a folder was not decoded (not a format droneaudit reads).
	Skipped string `json:"skipped,omitempty"`
	// ZonesTouched names the zones any of this input's positions fall in, in zone-file order.
	ZonesTouched []string `json:"zones_touched,omitempty"`

	findings *aggregator
}

// maxInputNotes caps the notes kept per input; decoders bound theirs too, counters keep tallies.
const maxInputNotes = 500

// inputSink receives one input's decoder output.
type inputSink struct {
	rep   *InputReport
	zones *geo.Zones
	onFix func(*InputReport, geo.Fix)
}

func (s *inputSink) Fix(f geo.Fix) {
	if !f.Valid() {
		s.Count("invalid_positions_dropped", 1)
		return
	}
	s.rep.Fixes++
	if s.rep.ByRole == nil {
		s.rep.ByRole = map[string]int64{}
	}
	s.rep.ByRole[string(f.Role)]++
	if s.rep.ByChannel == nil {
		s.rep.ByChannel = map[string]int64{}
	}
	s.rep.ByChannel[string(f.Evidence.Channel)]++
	s.rep.findings.add(f, s.zones.Match(f))
	if s.onFix != nil {
		s.onFix(s.rep, f)
	}
}

func (s *inputSink) Note(n decoders.Note) {
	if len(s.rep.Notes) >= maxInputNotes {
		s.rep.Dropped++
		return
	}
	s.rep.Notes = append(s.rep.Notes, n)
}

// Exposure lists what a reader of the file learns, apart from the notes and never capped.
func (s *inputSink) Exposure(e decoders.Exposure) {
	s.rep.Exposures = append(s.rep.Exposures, e.Note())
}

func (s *inputSink) Count(name string, n int64) {
	if s.rep.Counts == nil {
		s.rep.Counts = map[string]int64{}
	}
	s.rep.Counts[name] += n
}

// Source is one input: a file on disk, or bytes embedded in the binary (the demo).
type Source struct {
	Name string
	Open func() (ReadAtCloser, int64, error)
	// Walked marks a file found by walking a folder rather than named by the user: when no
	// decoder recognises it, it is listed as skipped instead of failing the audit.
	Walked bool
}

// ReadAtCloser is what a Source opens.
type ReadAtCloser interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// FileSource is a file on disk. It is opened read-only and never written: evidence stays as it was.
func FileSource(path string) Source {
	return Source{Name: path, Open: func() (ReadAtCloser, int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		if !fi.Mode().IsRegular() {
			f.Close()
			return nil, 0, fmt.Errorf("%s: not a regular file", path)
		}
		return f, fi.Size(), nil
	}}
}

// BytesSource is an input held in memory under a name.
func BytesSource(name string, b []byte) Source {
	return Source{Name: name, Open: func() (ReadAtCloser, int64, error) {
		return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
	}}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// hashAll computes the SHA-256 of an input, reading it once from start to end.
func hashAll(r io.Reader, progress func(int64)) (string, int64, error) {
	h := sha256.New()
	if progress != nil {
		r = &countingReader{r: r, add: progress}
	}
	n, err := io.Copy(h, r)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(int64(n))
	return n, err
}

// countingReaderAt reports the bytes decoders read through it.
type countingReaderAt struct {
	r   io.ReaderAt
	add func(int64)
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.add(int64(n))
	return n, err
}

// ErrUnknownFormat is returned for an input no decoder recognises.
var ErrUnknownFormat = errors.New("not a format droneaudit decodes")

// decodeInput opens, hashes, recognises and decodes one input. Every failure is recorded in the
// report, so that one bad input never stops the others.
func decodeInput(ctx context.Context, src Source, idx int, o *Options) (rep *InputReport) {
	path := src.Name
	rep = &InputReport{Path: path}
	rep.findings = newAggregator(o.Policy, path, idx)
	fail := func(err error) *InputReport {
		rep.Error = err.Error()
		return rep
	}
	// A decoder bug must not take the other inputs down with it: the input is reported as not
	// fully decoded, with what was found before the failure.
	defer func() {
		if v := recover(); v != nil {
			slog.Error("decoder failure", "input", path, "panic", v, "stack", string(debug.Stack()))
			rep.Error = fmt.Sprintf("%s: internal decoder error (please report): %v", path, v)
		}
	}()
	f, size, err := src.Open()
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	sum, n, err := hashAll(f, o.progress())
	if err != nil {
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	if n != size {
		return fail(fmt.Errorf("%s: size changed while reading (%d, then %d bytes)", path, size, n))
	}
	rep.SHA256, rep.Size = sum, n
	head := make([]byte, min(n, decoders.SniffLen))
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	var ra io.ReaderAt = f
	if p := o.progress(); p != nil {
		ra = &countingReaderAt{r: f, add: p}
	}
	in := decoders.Input{Path: path, SHA256: sum, Size: n, R: ra}
	sink := &inputSink{rep: rep, zones: o.Zones, onFix: o.OnFix}
	if capture.Sniff(head) {
		if err := decodeCapture(ctx, in, sink); err != nil {
			return fail(err)
		}
		return rep
	}
	for _, d := range fileDecoders {
		if d.Sniff(head) {
			rep.Format = d.Name()
			if err := d.Decode(ctx, in, sink); err != nil {
				rep.Error = err.Error()
			}
			return rep
		}
	}
	if n == 0 {
		return fail(fmt.Errorf("%s: empty file", path))
	}
	if src.Walked {
		rep.Skipped = "not a format droneaudit decodes"
		return rep
	}
	return fail(fmt.Errorf("%s: %w (known: pcap, pcapng, %s)", path, ErrUnknownFormat, knownFormats()))
}

func knownFormats() string {
	var names []string
	for _, d := range fileDecoders {
		if !slices.Contains(names, d.Name()) {
			names = append(names, d.Name())
		}
	}
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
