package audit

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"droneaudit/audit/destinations"
	"droneaudit/engine"

	"droneaudit/geo"
	"droneaudit/internal/version"
)

// Options configure a run.
type Options struct {
	Zones  *geo.Zones // nil: no zone matching (broadcast and exposure findings still come)
	Policy Policy
	// Workers decode inputs in parallel; 0 means one per CPU. With OnFix set, inputs are decoded
	// one after the other so that the callback sees them in order.
	Workers int
	// Shards is the number of flow shards a capture is spread over (engine.Config.Shards); 0 means
	// one per CPU. The report does not depend on it.
	Shards int
	// OnFix, when set, is called with every valid fix as it is decoded, in input order. The fix's
	// Evidence.SHA256 may still be empty then (the input is hashed beside the decoding): fill it
	// from the report's WaitSHA256 before writing it.
	OnFix func(*InputReport, geo.Fix)
	// Progress, when set, is told how many bytes were read (hashing and decoding both count).
	Progress func(n int64)
	// Destinations, when set, adds the destination inventory of the capture inputs to the
	// report and checks it against Policy.Destinations.
	Destinations *destinations.Options
}

func (o *Options) progress() func(int64) { return o.Progress }

// Report is the result of an audit: deterministic for the same inputs, zones and policy.
type Report struct {
	Tool     string         `json:"tool"`
	Version  string         `json:"version"`
	Inputs   []*InputReport `json:"inputs"`
	Zones    *ZonesInfo     `json:"zones,omitempty"`
	Policy   Policy         `json:"policy"`
	Findings []*Finding     `json:"findings"`
	// Destinations is the inventory of who the lab devices talked to, over all capture inputs.
	Destinations *destinations.Inventory `json:"destinations,omitempty"`
	Summary      Summary                 `json:"summary"`
	Verdict      Verdict                 `json:"verdict"`
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
	Findings        int              `json:"findings"`
	FailingFindings int              `json:"failing_findings"`
}

// Verdict results.
const (
	Pass       = "pass"
	Fail       = "fail"
	Incomplete = "incomplete"
)

// Verdict is the outcome against the policy, with the CLI exit code: 0 pass, 3 policy failed,
// 1 when no failure was found but some input could not be read (the audit is incomplete).
type Verdict struct {
	Result   string   `json:"result"`
	ExitCode int      `json:"exit_code"`
	Reasons  []string `json:"reasons"`
}

// Run decodes every source, matches the fixes against the zones and grades the findings. Each
// input is read once, by the engine; the destination inventory observes the same pass.
func Run(ctx context.Context, sources []Source, o Options) (*Report, error) {
	if err := o.Policy.Validate(); err != nil {
		return nil, err
	}
	out := newOutput(len(sources), &o)
	cfg := engine.Config{Files: fileDecoders, Flows: payloadDecoders, Links: linkDecoders, Protocols: protocols, Output: out,
		Workers: o.Workers, Shards: o.Shards, Progress: o.Progress}
	if o.OnFix != nil {
		// Streamed fixes come in input and capture order, each with its input's SHA-256.
		cfg.Workers, cfg.Shards, cfg.HashFirst = 1, 1, true
	}
	var inv *destinations.Collector
	if o.Destinations != nil {
		inv = destinations.NewCollector(*o.Destinations)
		cfg.Observers = append(cfg.Observers, inv)
	}
	if err := engine.Run(ctx, sources, cfg); err != nil {
		return nil, err
	}
	var rows *destinations.Inventory
	if inv != nil && inv.Captures() > 0 {
		var err error
		if rows, err = inv.Inventory(); err != nil {
			return nil, fmt.Errorf("destination inventory: %w", err)
		}
	}
	return assemble(out.reps, rows, o), nil
}

func assemble(reps []*InputReport, inv *destinations.Inventory, o Options) *Report {
	r := &Report{Tool: "droneaudit", Version: version.Number, Inputs: reps, Policy: o.Policy, Findings: []*Finding{}, Destinations: inv}
	if inv != nil {
		r.Findings = append(r.Findings, destinationFindings(inv, o.Policy.Destinations)...)
	}
	named := destinationNames(inv)
	if o.Zones != nil {
		zi := &ZonesInfo{Source: o.Zones.Source, SHA256: o.Zones.SHA256}
		for _, z := range o.Zones.Zones {
			zi.Zones = append(zi.Zones, ZoneInfo{Name: z.Name, Sensitivity: string(z.Sensitivity), Kind: z.Kind, RadiusM: z.RadiusM})
		}
		r.Zones = zi
	}
	r.Summary.FixesByChan = map[string]int64{}
	for _, in := range reps {
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
		touched := map[int]string{}
		for _, f := range in.findings.order {
			r.Findings = append(r.Findings, f)
			if f.Zone != "" {
				touched[f.zoneIndex] = f.Zone
			}
		}
		for _, i := range slices.Sorted(maps.Keys(touched)) {
			in.ZonesTouched = append(in.ZonesTouched, touched[i])
		}
	}
	// Failing findings first, then by severity, zone, input and kind: stable and readable.
	sev := map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3}
	slices.SortStableFunc(r.Findings, func(a, b *Finding) int {
		return cmp.Or(
			cmpBool(b.FailsPolicy, a.FailsPolicy),
			cmp.Compare(sev[a.Severity], sev[b.Severity]),
			cmp.Compare(a.zoneIndex, b.zoneIndex),
			cmp.Compare(a.inputIndex, b.inputIndex),
			cmp.Compare(a.Kind, b.Kind),
		)
	})
	for i, f := range r.Findings {
		f.ID = fmt.Sprintf("F%03d", i+1)
		// A flow's decoder may not have seen a name (MQTT, raw UDP); the inventory may have,
		// from DNS answers or a TLS/QUIC SNI of another flow to the same server.
		if n, ok := named[f.server]; ok && f.server.addr.IsValid() {
			f.Destination = n + " (" + f.Destination + ")"
		}
		f.summarise()
		if f.FailsPolicy {
			r.Summary.FailingFindings++
		}
	}
	r.Summary.Findings = len(r.Findings)
	r.Verdict = verdict(r)
	return r
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func verdict(r *Report) Verdict {
	v := Verdict{Result: Pass, ExitCode: 0, Reasons: []string{}}
	for _, f := range r.Findings {
		if f.FailsPolicy {
			v.Reasons = append(v.Reasons, f.ID+": "+f.Summary)
		}
	}
	switch {
	case len(v.Reasons) > 0:
		v.Result, v.ExitCode = Fail, 3
	case r.Summary.InputErrors > 0:
		v.Result, v.ExitCode = Incomplete, 1
		v.Reasons = append(v.Reasons, fmt.Sprintf("%d input(s) could not be read: the audit is incomplete", r.Summary.InputErrors))
	}
	return v
}

// destinationNames maps each inventory row (server endpoint and transport, the same key a
// flow's evidence gives typed) to the first name the inventory learnt for it.
func destinationNames(inv *destinations.Inventory) map[serverKey]string {
	out := map[serverKey]string{}
	if inv == nil {
		return out
	}
	for _, row := range inv.Rows {
		ip, err := netip.ParseAddr(row.IP)
		if err != nil {
			continue
		}
		k := serverKey{netip.AddrPortFrom(ip, row.Port), row.Proto()}
		for _, n := range row.Names {
			if n.Source != destinations.SourceECHOuter {
				out[k] = n.Name
				break
			}
		}
	}
	return out
}
