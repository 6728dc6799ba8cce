package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"slices"

	"droneaudit/audit/destinations"
	"droneaudit/audit/devices"
	"droneaudit/audit/search"
	"droneaudit/decoders"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/geo/scan"
	"droneaudit/internal/version"
	"droneaudit/netflow"
)

// Options configure a run.
type Options struct {
	Zones  *geo.Zones // nil: no zone matching (broadcast and exposure findings still come)
	Policy Policy
	// Workers decode inputs in parallel; 0 means one per CPU. With OnFixes set, inputs are
	// decoded one after the other so that the callback sees them in order.
	Workers int
	// Shards is the number of flow shards a capture is spread over (engine.Config.Shards); 0 means
	// one per CPU. The report does not depend on it.
	Shards int
	// OnFixes, when set, is handed every valid fix as it is decoded, in input order (while the
	// search looks for the flown track, the log files first, then the captures), in batches
	// of FixBatch (the last one shorter). The callee owns the batch from then on, and returns an
	// empty slice (length 0) whose capacity the next batch is built in: the batch it was given
	// once it is through with it, or another; one of capacity 0 gets a new one. Calls come one at
	// a time, the last before Run returns. A fix's Evidence.SHA256 may still be empty (the input
	// is hashed beside the decoding): fill it from Input.WaitSHA256 before writing it.
	OnFixes func(batch []StreamedFix) (next []StreamedFix)
	// FixesOnly is for a caller that reads the streamed fixes (OnFixes) and, of the report, only
	// the inputs' own entries (path, format, counts, notes, errors): the fixes are not turned
	// into findings and no map tracks are kept, so Report.Findings holds no position finding and
	// no input lists zones touched or tracks. The fixes handed to OnFixes are the same.
	FixesOnly bool
	// Progress, when set, is told how many bytes were read; each byte of an input is read once.
	Progress func(n int64)
	// Destinations, when set, adds the destination inventory of the capture inputs to the
	// report and checks it against Policy.Destinations; and the device inventory of the same
	// pass, checked against Policy.Devices.
	Destinations *destinations.Options
	// NoSearch turns off the known-value search (audit/search): by default every off-device
	// payload of the captures is searched for the zones' coordinates in any encoding.
	NoSearch bool
	// SearchTrack adds the flown track to the search's targets: a pair within SearchTrackM
	// metres of one of these positions is reported as a fix (decoder "search", note "flown
	// track") even outside every zone. The positions are the lab's own (a flight log decoded
	// beforehand); findings are still made from zones only.
	SearchTrack  []geo.Fix
	SearchTrackM float64 // 0: DefaultSearchTrackM
	// NoTrackSearch leaves the flown track out of the search. By default, when the search runs,
	// the log files are decoded before the captures and their aircraft and team positions
	// (on-device channel) are added to the search's targets, and hits in the region around the
	// zones and that track are held until their capture is read, then checked against the
	// track its own telemetry drew (searchtrack.go). A hit near the track and in no zone is a
	// track-leak finding.
	NoTrackSearch bool
	// Lab, when set, is a lab session's fake-internet log to report beside the captures.
	Lab *LabLog
	// Extract, if set, is the folder every whole object of an HTTP body is written to
	// (decoders/objects.Extract: named by its SHA-256, mode 0600, never overwriting).
	Extract string
}

func (o *Options) progress() func(int64) { return o.Progress }

// Report is the result of an audit: deterministic for the same inputs, zones and policy. Its
// JSON form is flat and versioned (SchemaVersion), and every list in it is present, empty as [].
type Report struct {
	SchemaVersion int            `json:"schema_version"`
	Tool          string         `json:"tool"`
	Version       string         `json:"version"`
	Verdict       Verdict        `json:"verdict"`
	Summary       Summary        `json:"summary"`
	Findings      []*Finding     `json:"findings"`
	Inputs        []*InputReport `json:"inputs"`
	Zones         *ZonesInfo     `json:"zones"` // null when no zone file was given
	Policy        Policy         `json:"policy"`
	// Destinations is the inventory of who the lab devices talked to, over all capture inputs:
	// one row per server IP, port and transport.
	Destinations []destinations.Row `json:"destinations"`
	// DNSQueries lists every name the lab devices asked for in DNS, answered or not.
	DNSQueries []string `json:"dns_queries"`
	// DestinationNotes are problems the inventory met (flows whose names could not be read).
	DestinationNotes []decoders.Note `json:"destination_notes"`
	// GeoIP names the country and AS databases the destinations were looked up in; null when no
	// capture was read.
	GeoIP *destinations.GeoInfo `json:"geoip"`
	// Lab is what the lab devices tried while the lab was offline (lab up's fakenet.ndjson).
	Lab *LabLog `json:"lab,omitempty"`
	// Devices is the device inventory of the lab segment over all capture inputs: one row per
	// MAC address (report_devices.go). DeviceOUI names the vendor table; null when no capture
	// was read.
	Devices   []devices.Row    `json:"devices"`
	DeviceOUI *devices.OUIInfo `json:"device_oui"`
}

// ZonesInfo identifies the zone file an audit used.
type ZonesInfo struct {
	Source string     `json:"source"`
	SHA256 string     `json:"sha256"`
	Zones  []ZoneInfo `json:"zones"`
}

// ZoneInfo is one zone as the report lists it.
type ZoneInfo struct {
	Name        string  `json:"name"`
	Sensitivity string  `json:"sensitivity"`
	Kind        string  `json:"kind"`
	RadiusM     float64 `json:"radius_m,omitempty"`
}

// Summary counts what the audit saw.
type Summary struct {
	Inputs          int              `json:"inputs"`
	InputErrors     int              `json:"input_errors"`
	InputsSkipped   int              `json:"inputs_skipped"` // files in folders that are no format droneaudit reads
	Bytes           int64            `json:"bytes"`
	Fixes           int64            `json:"fixes"`
	FixesByChan     map[string]int64 `json:"fixes_by_channel"`
	Destinations    int              `json:"destinations"`
	Findings        int              `json:"findings"`
	FailingFindings int              `json:"failing_findings"`
}

// Verdict results.
const (
	Pass       = "pass"
	Fail       = "fail"
	Incomplete = "incomplete"
)

// Verdict is the outcome against the policy, with the CLI exit code. PASS (0) claims that every
// named input was read whole, that positions or destinations were checked against a zone file
// and the policy, and that nothing failed. FAIL (3) means a finding fails the policy; it stands
// even when the audit is also incomplete, and Complete says so. INCOMPLETE (1) is every other
// case: the Reasons say what was not looked at.
type Verdict struct {
	Result   string `json:"result"`
	ExitCode int    `json:"exit_code"`
	// Complete is false when an input was missing, not read whole, or the run was interrupted,
	// when no zone file was given, or when nothing was decoded.
	Complete bool `json:"complete"`
	// Reasons lists why the audit is incomplete first, then the findings that fail the policy.
	Reasons []Reason `json:"reasons"`
	// FailedRules lists the policy rules that failing findings broke, in the order of PolicyKeys.
	FailedRules []RuleName `json:"failed_rules"`
}

// Reason codes.
const (
	ReasonMissingInput    = "missing-input"        // a named input does not exist
	ReasonUnreadableInput = "unreadable-input"     // an input could not be read or decoded at all
	ReasonNotReadWhole    = "input-not-read-whole" // a decoder stopped before the end (a cut or damaged file)
	ReasonInterrupted     = "interrupted"          // the run was cancelled (Ctrl-C, SIGTERM)
	ReasonNoZones         = "no-zones"             // positions were not matched against any zone
	ReasonNothingDecoded  = "nothing-decoded"      // no position and no destination in the inputs
	ReasonPolicy          = "policy"               // a finding fails the policy
)

// Reason is one reason for the verdict.
type Reason struct {
	Code    string `json:"code"`
	Input   string `json:"input,omitempty"`
	Finding string `json:"finding,omitempty"`
	// Rule is the policy rule a failing finding broke.
	Rule RuleName `json:"rule,omitempty"`
	Text string   `json:"text"`
}

// Run decodes every source, matches the fixes against the zones and grades the findings. Each
// input is read once, by the engine; the destination inventory observes the same pass. When ctx
// is cancelled during the run, Run still returns the report of what was read, its verdict
// INCOMPLETE (or FAIL) with the reason "interrupted", and the context's error beside it.
func Run(ctx context.Context, sources []Source, o Options) (*Report, error) {
	var classes []string
	if o.Destinations != nil {
		for _, r := range o.Destinations.Owners {
			classes = append(classes, r.Owner)
		}
	}
	if err := o.Policy.Validate(classes...); err != nil {
		return nil, err
	}
	out := newOutput(len(sources), &o)
	cfg := engine.Config{Files: fileDecoders, Flows: o.payloads(), Links: linkDecoders, Protocols: protocols, Output: out,
		Workers: o.Workers, Shards: o.Shards, Progress: o.Progress}
	if o.Destinations != nil {
		// The TLS layer (key logs, the captures' Decryption Secrets Blocks) rides with the
		// inventory's options: its inner flows reach the payload decoders too.
		cfg.Unwrappers = o.Destinations.Unwrappers
	}
	if o.OnFixes != nil {
		// Streamed fixes come in input and capture order, each with its input's SHA-256.
		cfg.Workers, cfg.Shards, cfg.HashFirst = 1, 1, true
	}
	if targets := scan.NewTargets(o.Zones, o.SearchTrack, o.searchTrackM()); !o.NoSearch && (!targets.Empty() || !o.NoTrackSearch) {
		out.searching = true
		obs := search.New(search.Options{Pattern: scan.Compile(targets), Sink: out.Sink})
		out.search = obs
		cfg.Observers = append(cfg.Observers, obs)
		if !o.NoTrackSearch {
			out.collectTrack = true
			cfg.BeforeCaptures = searchTrack(&o, out, obs)
		}
	}
	var inv *destinations.Collector
	var devs *devices.Collector
	if o.Destinations != nil {
		inv = destinations.NewCollector(*o.Destinations)
		devs = devices.NewCollector()
		cfg.Observers = append(cfg.Observers, inv, devs)
	}
	runErr := engine.Run(ctx, sources, cfg)
	if out.fixes != nil {
		out.fixes.flush()
	}
	if runErr != nil && ctx.Err() == nil {
		return nil, runErr
	}
	var rows *destinations.Inventory
	var devRows *devices.Inventory
	if inv != nil && inv.Captures() > 0 {
		var err error
		if rows, err = inv.Inventory(); err != nil {
			return nil, fmt.Errorf("destination inventory: %w", err)
		}
		devRows = devs.Inventory(rows)
	}
	r := assemble(out.reps, rows, devRows, o, runErr != nil)
	return r, runErr
}

func assemble(reps []*InputReport, inv *destinations.Inventory, devs *devices.Inventory, o Options, interrupted bool) *Report {
	r := &Report{SchemaVersion: version.Schema, Tool: "droneaudit", Version: version.Number, Inputs: reps, Policy: o.Policy,
		Findings: []*Finding{}, Destinations: []destinations.Row{}, DNSQueries: []string{}, DestinationNotes: []decoders.Note{},
		Devices: []devices.Row{}}
	for i, in := range r.Inputs {
		if in == nil { // never reached Done: the engine was stopped before it
			r.Inputs[i] = &InputReport{Path: sourceName(i), err: context.Canceled, Error: context.Canceled.Error()}
			r.Inputs[i].normalise()
		}
	}
	if inv != nil {
		inv.Normalise()
		r.Destinations, r.DNSQueries, r.DestinationNotes, r.GeoIP = inv.Rows, inv.DNSQueries, inv.Notes, &inv.GeoIP
		r.Findings = append(r.Findings, destinationFindings(inv, o.Policy.Destinations)...)
	}
	r.addLab(o.Lab, o.Policy)
	if devs != nil {
		r.Devices, r.DeviceOUI = devs.Devices, &devs.OUI
		r.Findings = append(r.Findings, deviceFindings(devs.Devices, o.Policy)...)
	}
	known := destinationRows(inv)
	if o.Zones != nil {
		zi := &ZonesInfo{Source: o.Zones.Source, SHA256: o.Zones.SHA256, Zones: []ZoneInfo{}}
		for _, z := range o.Zones.Zones {
			zi.Zones = append(zi.Zones, ZoneInfo{Name: z.Name, Sensitivity: string(z.Sensitivity), Kind: z.Kind, RadiusM: z.RadiusM})
		}
		r.Zones = zi
	}
	r.Summary.FixesByChan = map[string]int64{}
	r.Summary.Destinations = len(r.Destinations)
	for _, in := range r.Inputs {
		r.Summary.Inputs++
		r.Summary.Bytes += in.Size
		r.Summary.Fixes += in.Fixes
		for ch, n := range in.ByChannel {
			r.Summary.FixesByChan[ch] += n
		}
		if in.Error != "" {
			r.Summary.InputErrors++
		}
		if in.Skipped != "" {
			r.Summary.InputsSkipped++
		}
		if in.findings == nil {
			continue
		}
		touched := map[int]string{}
		for _, f := range in.findings.order {
			r.Findings = append(r.Findings, f)
			if f.Zone != "" {
				touched[f.zoneIx] = f.Zone
			}
		}
		for _, i := range slices.Sorted(maps.Keys(touched)) {
			in.ZonesTouched = append(in.ZonesTouched, touched[i])
		}
	}
	// Failing findings first, then by severity, zone, input and kind: stable and readable.
	slices.SortStableFunc(r.Findings, func(a, b *Finding) int {
		return cmp.Or(
			cmpBool(b.FailsPolicy, a.FailsPolicy),
			cmp.Compare(severityRank[a.Severity], severityRank[b.Severity]),
			cmp.Compare(a.zoneIx, b.zoneIx),
			cmp.Compare(a.inIx, b.inIx),
			cmp.Compare(a.Kind, b.Kind),
		)
	})
	for i, f := range r.Findings {
		f.ID = fmt.Sprintf("F%03d", i+1)
		// A flow's decoder may not have seen a name (MQTT, raw UDP); the inventory may have,
		// from DNS answers or a TLS/QUIC SNI of another flow to the same server.
		if f.Destination != nil && f.server.IsValid() {
			if row, ok := known[serverKey{f.server, f.proto}]; ok {
				f.Destination = joinRow(f.Destination, row)
				f.Scope = f.Destination.Scope
			}
		}
		if f.Extent != nil {
			f.Extent.finish()
		}
		if f.First != nil { // a position finding; the others were summarised where they were made
			f.summarise()
			f.Request = f.First.Evidence.Request
		}
		if f.FailsPolicy {
			r.Summary.FailingFindings++
		}
	}
	r.Summary.Findings = len(r.Findings)
	r.Verdict = verdict(r, o, interrupted)
	return r
}

// sourceName is the name of an input that never reached the output (it cannot happen while the
// engine ends every input; kept so that a report never holds a nil input).
func sourceName(i int) string { return fmt.Sprintf("input %d", i+1) }

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// verdict grades the report. The reasons the audit is incomplete come first: they qualify
// whatever else the report says.
func verdict(r *Report, o Options, interrupted bool) Verdict {
	v := Verdict{Reasons: []Reason{}}
	var cancelled []string
	for _, in := range r.Inputs {
		switch {
		case in.Skipped != "":
		case in.err != nil && (errors.Is(in.err, context.Canceled) || errors.Is(in.err, context.DeadlineExceeded)):
			cancelled = append(cancelled, in.Path)
		case in.err != nil && errors.Is(in.err, fs.ErrNotExist):
			v.Reasons = append(v.Reasons, Reason{Code: ReasonMissingInput, Input: in.Path,
				Text: fmt.Sprintf("input %s does not exist: nothing in it was checked", in.Path)})
		case in.Error != "":
			v.Reasons = append(v.Reasons, Reason{Code: ReasonUnreadableInput, Input: in.Path,
				Text: fmt.Sprintf("input %s could not be read: %s", in.Path, trimPath(in.Error, in.Path))})
		case in.nCuts > 0:
			text := fmt.Sprintf("input %s was not read to its end: %s", in.Path, trimPath(in.cuts[0].Message, in.Path))
			if in.nCuts > 1 {
				text += fmt.Sprintf(" (and %d more errors)", in.nCuts-1)
			}
			v.Reasons = append(v.Reasons, Reason{Code: ReasonNotReadWhole, Input: in.Path, Text: text})
		}
	}
	if interrupted || len(cancelled) > 0 {
		text := "the audit was interrupted before it read every input"
		if len(cancelled) > 0 {
			text = fmt.Sprintf("the audit was interrupted: %d input(s) were not read whole", len(cancelled))
		}
		v.Reasons = append(v.Reasons, Reason{Code: ReasonInterrupted, Text: text})
	}
	if o.Zones == nil {
		v.Reasons = append(v.Reasons, Reason{Code: ReasonNoZones,
			Text: "no zone file was given (--zones): no position was matched against sensitive zones"})
	}
	if r.Summary.Fixes == 0 && len(r.Destinations) == 0 {
		read := r.Summary.Inputs - r.Summary.InputsSkipped - r.Summary.InputErrors
		v.Reasons = append(v.Reasons, Reason{Code: ReasonNothingDecoded,
			Text: fmt.Sprintf("nothing was decoded: no position and no destination in %d input(s) read (%d skipped, %d not read)",
				read, r.Summary.InputsSkipped, r.Summary.InputErrors)})
	}
	v.Complete = len(v.Reasons) == 0
	failing := 0
	for _, f := range r.Findings {
		if f.FailsPolicy {
			failing++
			v.Reasons = append(v.Reasons, Reason{Code: ReasonPolicy, Finding: f.ID, Rule: f.Rule, Text: f.Summary})
		}
	}
	v.FailedRules = failedRules(r.Findings)
	switch {
	case failing > 0:
		v.Result, v.ExitCode = Fail, 3
	case !v.Complete:
		v.Result, v.ExitCode = Incomplete, 1
	default:
		v.Result, v.ExitCode = Pass, 0
	}
	return v
}

// trimPath drops a leading "path: " from an error message that names its input already.
func trimPath(msg, path string) string {
	if len(msg) > len(path)+2 && msg[:len(path)] == path && msg[len(path):len(path)+2] == ": " {
		return msg[len(path)+2:]
	}
	return msg
}

// serverKey is a flow's server endpoint and transport: the key of a destination inventory row.
type serverKey struct {
	addr  netip.AddrPort
	proto netflow.Proto
}

// destinationRows maps each inventory row by its server endpoint and transport, the key a
// flow's evidence gives typed.
func destinationRows(inv *destinations.Inventory) map[serverKey]destinations.Row {
	out := map[serverKey]destinations.Row{}
	if inv == nil {
		return out
	}
	for _, row := range inv.Rows {
		ip, err := netip.ParseAddr(row.IP)
		if err != nil {
			continue
		}
		out[serverKey{netip.AddrPortFrom(ip, row.Port), row.Proto()}] = row
	}
	return out
}

// joinRow completes a finding's destination with what the inventory knows of it: the names learnt
// from other flows (the flow's own name first), the owner class and the country.
func joinRow(d *Destination, row destinations.Row) *Destination {
	j := destinationOf(row)
	names := append([]string{}, d.Names...)
	for _, n := range j.Names {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	j.Names = names
	return j
}
