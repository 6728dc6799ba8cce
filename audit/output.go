package audit

import (
	"cmp"
	"slices"
	"sync"

	"droneaudit/audit/search"
	"droneaudit/decoders"
	"droneaudit/engine"
)

// output is the audit's engine.Output: each lane of an input (the file decoder, a capture's link
// lane, each flow shard) reports to a sink of its own, and when the input is done the lanes'
// partial reports are merged in one canonical order, so the report does not depend on how many
// shards ran or how their work interleaved.
type output struct {
	o     *Options
	reps  []*InputReport
	mu    sync.Mutex
	lanes map[*engine.Input][]*inputSink
	// searching says the known-value search runs: the sinks remember what the decoders found.
	searching bool
	fixes     *fixStream // Options.OnFixes; nil without it
	// search is the known-value search, handed the bytes decoders decode out of payloads.
	search *search.Observer
	// collectTrack says the flown track of the log files is collected for the search, into
	// track (under mu) as each input is done.
	collectTrack bool
	track        trackCells
}

func newOutput(n int, o *Options) *output {
	out := &output{o: o, reps: make([]*InputReport, n), lanes: map[*engine.Input][]*inputSink{}}
	if o.OnFixes != nil {
		out.fixes = newFixStream(o.OnFixes)
	}
	return out
}

// Sink implements engine.Output. A lane asked for again gets the same sink: the known-value
// search writes to the sink of the decoders whose bytes it searched, and asks it what they found.
func (out *output) Sink(in *engine.Input, lane int) decoders.Sink {
	out.mu.Lock()
	defer out.mu.Unlock()
	for _, s := range out.lanes[in] {
		if s.lane == lane {
			return s
		}
	}
	s := &inputSink{rep: &InputReport{Path: in.Name, input: in}, zones: out.o.Zones, fixes: out.fixes, lane: lane, fixesOnly: out.o.FixesOnly, searching: out.searching, collectTrack: out.collectTrack, search: out.search}
	s.rep.findings = newAggregator(out.o.Policy, in.Name, in.Index)
	out.lanes[in] = append(out.lanes[in], s)
	return s
}

// Done implements engine.Output.
func (out *output) Done(in *engine.Input) {
	out.mu.Lock()
	lanes := out.lanes[in]
	delete(out.lanes, in)
	for _, l := range lanes {
		out.track.merge(&l.track)
		l.track = trackCells{}
	}
	out.mu.Unlock()
	slices.SortStableFunc(lanes, func(a, b *inputSink) int { return cmp.Compare(a.lane, b.lane) })
	if out.collectTrack {
		out.resolveTrack(lanes)
	}
	slices.SortStableFunc(lanes, func(a, b *inputSink) int { return cmp.Compare(a.lane, b.lane) })
	rep := &InputReport{Path: in.Name}
	rep.findings = newAggregator(out.o.Policy, in.Name, in.Index)
	for _, l := range lanes {
		l.flush()
		rep.merge(l.rep)
	}
	if len(lanes) > 1 {
		rep.sortNotes()
		rep.findings.sortByFirst()
	}
	if n := len(rep.Notes) - maxInputNotes; n > 0 {
		rep.Notes, rep.Dropped = rep.Notes[:maxInputNotes], rep.Dropped+int64(n)
	}
	rep.SHA256, rep.Size, rep.Format, rep.Skipped = in.SHA256, in.Size, in.Format, in.Skipped
	if in.Err != nil {
		rep.Error, rep.err = in.Err.Error(), in.Err
	}
	rep.normalise()
	// Evidence emitted while the input was still being hashed carries its SHA-256 from here on.
	rep.findings.setSHA256(in.SHA256)
	out.reps[in.Index] = rep
}

// merge adds one lane's partial report to r.
func (r *InputReport) merge(p *InputReport) {
	r.Fixes += p.Fixes
	addCounts(&r.ByRole, p.ByRole)
	addCounts(&r.ByChannel, p.ByChannel)
	addCounts(&r.Counts, p.Counts)
	r.Notes = append(r.Notes, p.Notes...)
	r.Dropped += p.Dropped
	r.Exposures = append(r.Exposures, p.Exposures...)
	r.nCuts += p.nCuts
	r.cuts = append(r.cuts, p.cuts[:min(len(p.cuts), maxCuts-len(r.cuts))]...)
	r.findings.merge(p.findings)
	r.tracks.merge(&p.tracks)
	if p.Search != nil {
		if r.Search == nil {
			r.Search = &search.Counts{}
		}
		r.Search.Add(*p.Search)
	}
}

func addCounts(dst *map[string]int64, src map[string]int64) {
	if len(src) == 0 {
		return
	}
	if *dst == nil {
		*dst = map[string]int64{}
	}
	for k, v := range src {
		(*dst)[k] += v
	}
}

// sortNotes puts the notes of several lanes in file order, the notes that name no offset (summaries
// written when a decoder closes) last.
func (r *InputReport) sortNotes() {
	slices.SortStableFunc(r.Notes, func(a, b decoders.Note) int {
		return cmp.Or(cmpBool(a.Offset < 0, b.Offset < 0), cmp.Compare(a.Offset, b.Offset))
	})
}
