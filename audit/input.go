package audit

import (
	"droneaudit/decoders"
	"droneaudit/engine"
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
	input    *engine.Input // the engine's input, for WaitSHA256
}

// WaitSHA256 returns the input's SHA-256, waiting for it if the input is still being hashed:
// streamed fixes (Options.OnFix) are emitted before their input's hash is known, and a consumer
// fills it in with this before it writes them.
func (r *InputReport) WaitSHA256() string {
	if r.SHA256 == "" && r.input != nil {
		return r.input.WaitSHA256()
	}
	return r.SHA256
}

// maxInputNotes caps the notes kept per input; decoders bound theirs too, counters keep tallies.
const maxInputNotes = 500

// inputSink receives one input's decoder output.
type inputSink struct {
	rep   *InputReport
	zones *geo.Zones
	onFix func(*InputReport, geo.Fix)
	lane  int
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
type Source = engine.Source

// FileSource is a file on disk. It is opened read-only and never written: evidence stays as it was.
func FileSource(path string) Source { return engine.FileSource(path) }

// BytesSource is an input held in memory under a name.
func BytesSource(name string, b []byte) Source { return engine.BytesSource(name, b) }

// ExpandInputs turns the command-line inputs into sources: files as given, folders walked
// recursively (sorted, hidden entries skipped), so that the same arguments give the same order.
func ExpandInputs(args []string) ([]Source, []error) { return engine.ExpandInputs(args) }

// ErrUnknownFormat is returned for an input no decoder recognises.
var ErrUnknownFormat = engine.ErrUnknownFormat
