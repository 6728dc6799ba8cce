package audit

import (
	"slices"
	"strings"

	"droneaudit/audit/search"
	"droneaudit/decoders"
	"droneaudit/engine"
	"droneaudit/geo"
)

// InputReport is what the audit learnt of one input file. Its maps and lists are always present
// in JSON, empty as {} and [].
type InputReport struct {
	Path   string           `json:"path"`
	SHA256 string           `json:"sha256"`
	Size   int64            `json:"size"`
	Format string           `json:"format"` // the decoder that read it, or "pcap"/"pcapng"
	Fixes  int64            `json:"fixes"`
	ByRole map[string]int64 `json:"fixes_by_role"`
	// ByChannel counts fixes per channel: on-device, network, broadcast.
	ByChannel map[string]int64 `json:"fixes_by_channel"`
	Counts    map[string]int64 `json:"counts"`
	Notes     []decoders.Note  `json:"notes"`
	Dropped   int64            `json:"notes_dropped,omitempty"` // notes beyond the per-input cap
	// Exposures are the facts a reader of an on-device file learns without any key.
	Exposures []decoders.Note `json:"exposed_if_shared"`
	Error     string          `json:"error,omitempty"`
	// Skipped says why a file found in a folder was not decoded (not a format droneaudit reads).
	Skipped string `json:"skipped,omitempty"`
	// ZonesTouched names the zones any of this input's positions fall in, in zone-file order.
	ZonesTouched []string `json:"zones_touched"`
	// Search counts what the known-value search did in this input's payloads; absent when it
	// did not run over the input (a file input, --no-search, no zone).
	Search *search.Counts `json:"search,omitempty"`

	findings *aggregator
	tracks   trackSet        // the aircraft's paths, thinned, for the map
	input    *engine.Input   // the engine's input, for WaitSHA256
	err      error           // why the input could not be read, typed
	cuts     []decoders.Note // error notes: the input was not read whole (kept beyond the notes' cap)
	nCuts    int64
}

// WaitSHA256 returns the input's SHA-256, waiting for it if the input is still being hashed:
// streamed fixes (Options.OnFixes) are emitted before their input's hash is known, and a consumer
// fills it in with this before it writes them.
func (r *InputReport) WaitSHA256() string {
	if r.SHA256 == "" && r.input != nil {
		return r.input.WaitSHA256()
	}
	return r.SHA256
}

// maxCuts bounds the error notes kept for the verdict's reasons per input.
const maxCuts = 3

// normalise makes every map and list of the report non-nil.
func (r *InputReport) normalise() {
	for _, m := range []*map[string]int64{&r.ByRole, &r.ByChannel, &r.Counts} {
		if *m == nil {
			*m = map[string]int64{}
		}
	}
	if r.Notes == nil {
		r.Notes = []decoders.Note{}
	}
	if r.Exposures == nil {
		r.Exposures = []decoders.Note{}
	}
	if r.ZonesTouched == nil {
		r.ZonesTouched = []string{}
	}
}

// maxInputNotes caps the notes kept per input; decoders bound theirs too, counters keep tallies.
const maxInputNotes = 500

// inputSink receives one input's decoder output.
type inputSink struct {
	rep   *InputReport
	zones *geo.Zones
	fixes *fixStream // nil unless the run streams its fixes (Options.OnFixes)
	lane  int
	// fixesOnly (Options.FixesOnly) leaves findings and map tracks out.
	fixesOnly bool
	// Per-fix tallies by role and channel, kept without a map operation per fix (a dense log
	// has millions of fixes) and added to the report's maps when the input is done.
	byRole, byChannel tally
	// known remembers the lane's off-device positions for the known-value search (known.go).
	known     map[string]*knownRing
	searching bool // the search runs: remember
	// search reads the bytes the lane's decoders decode out of payloads (SearchDecoded).
	search *search.Observer
	// track collects the flown track for the search (searchtrack.go) when collectTrack is set.
	track        trackCells
	collectTrack bool
	tele         trackCells // the track in the input's telemetry
	heldTrack    []geo.Fix  // track-region hits of the search, until the input is done
	// count holds the first few counter names Count is given, with their sums: a lane counts a
	// handful of names over and over (publishes, requests, flows decoded, layers not opened), and
	// a comparison with the name used last, or a short scan, costs less than hashing the name
	// into the report's map each time. Other names go to the map; flush adds the held ones.
	count pendingCounts
}

type pendingCounts struct {
	names      [8]string
	ns         [8]int64
	used, last int
}

// tally counts a few distinct keys, the last one used first: positions come in runs of one role.
type tally struct {
	keys []string
	ns   []int64
	last int
}

func (t *tally) add(k string) {
	if t.last < len(t.keys) && t.keys[t.last] == k {
		t.ns[t.last]++
		return
	}
	for i, x := range t.keys {
		if x == k {
			t.last = i
			t.ns[i]++
			return
		}
	}
	t.keys, t.ns, t.last = append(t.keys, k), append(t.ns, 1), len(t.keys)
}

// into adds the tally to a report map.
func (t *tally) into(m *map[string]int64) {
	for i, k := range t.keys {
		if *m == nil {
			*m = map[string]int64{}
		}
		(*m)[k] += t.ns[i]
	}
}

// flush moves the sink's tallies into its report.
func (s *inputSink) flush() {
	s.flushCount()
	s.byRole.into(&s.rep.ByRole)
	s.byChannel.into(&s.rep.ByChannel)
	s.byRole, s.byChannel = tally{}, tally{}
}

func (s *inputSink) Fix(f geo.Fix) {
	if !f.Valid() {
		s.Count("invalid_positions_dropped", 1)
		return
	}
	s.rep.Fixes++
	s.byRole.add(string(f.Role))
	s.byChannel.add(string(f.Evidence.Channel))
	if !s.fixesOnly {
		s.rep.findings.add(f, s.zones.Match(f))
		s.rep.tracks.add(&f)
	}
	if s.searching {
		s.remember(f)
	}
	if s.collectTrack {
		s.addTrack(&f)
	}
	if s.fixes != nil {
		s.fixes.add(s.rep, &f)
	}
}

// SearchCounts implements search.Counter.
func (s *inputSink) SearchCounts(c search.Counts) {
	if s.rep.Search == nil {
		s.rep.Search = &search.Counts{}
	}
	s.rep.Search.Add(c)
}

// KeepsNote implements decoders.NoteKeeper: an error note is always kept (for the verdict);
// another only under the cap, as Note decides.
func (s *inputSink) KeepsNote(sev decoders.Severity) bool {
	return sev == decoders.Error || len(s.rep.Notes) < maxInputNotes
}

func (s *inputSink) Note(n decoders.Note) {
	if n.Severity == decoders.Error {
		// A decoder that reports an error stopped before the end of the file, or could not
		// start: the verdict names it whatever the cap on notes.
		s.rep.nCuts++
		if len(s.rep.cuts) < maxCuts {
			s.rep.cuts = append(s.rep.cuts, n)
		}
	}
	if len(s.rep.Notes) >= maxInputNotes {
		s.rep.Dropped++
		return
	}
	s.rep.Notes = append(s.rep.Notes, n)
}

// Exposure lists what a reader of the file learns, apart from the notes and never capped.
func (s *inputSink) Exposure(e decoders.Exposure) {
	if e, ok := withoutPlaceholders(e); ok {
		s.rep.Exposures = append(s.rep.Exposures, e.Note())
	}
}

// placeholders are values apps write where they have nothing to say: DJI apps write "Map Loading"
// as the place name when the reverse geocoding had not answered yet. They are no exposure.
var placeholders = map[string]bool{"Map Loading": true}

// withoutPlaceholders drops placeholder values (also in a list such as "Map Loading, Map
// Loading") from an exposure; an exposure left with nothing but its fact is dropped.
func withoutPlaceholders(e decoders.Exposure) (decoders.Exposure, bool) {
	var drop []string
	for k, v := range e.Values {
		all := v != ""
		for _, part := range strings.Split(v, ",") {
			if !placeholders[strings.TrimSpace(part)] {
				all = false
			}
		}
		if all {
			drop = append(drop, k)
		}
	}
	if len(drop) == 0 {
		return e, true
	}
	vals := make(map[string]string, len(e.Values))
	for k, v := range e.Values {
		if !slices.Contains(drop, k) {
			vals[k] = v
		}
	}
	e.Values = vals
	return e, len(vals) > 0
}

func (s *inputSink) Count(name string, n int64) {
	c := &s.count
	if c.last < c.used && c.names[c.last] == name {
		c.ns[c.last] += n
		return
	}
	for i := range c.used {
		if c.names[i] == name {
			c.last = i
			c.ns[i] += n
			return
		}
	}
	if c.used < len(c.names) {
		c.names[c.used], c.ns[c.used], c.last = name, n, c.used
		c.used++
		return
	}
	s.addCount(name, n)
}

func (s *inputSink) addCount(name string, n int64) {
	if s.rep.Counts == nil {
		s.rep.Counts = map[string]int64{}
	}
	s.rep.Counts[name] += n
}

// flushCount adds the pending counters to the report's map.
func (s *inputSink) flushCount() {
	c := &s.count
	for i := range c.used {
		s.addCount(c.names[i], c.ns[i])
	}
	*c = pendingCounts{}
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
