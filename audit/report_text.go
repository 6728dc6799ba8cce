package audit

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteText writes the report for a person: the verdict first, then the findings with their
// evidence, then what was read.
func (r *Report) WriteText(w io.Writer) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "droneaudit %s audit report\n\n", r.Version)
	fmt.Fprintf(b, "VERDICT: %s (exit code %d)\n", strings.ToUpper(r.Verdict.Result), r.Verdict.ExitCode)
	for _, reason := range r.Verdict.Reasons {
		fmt.Fprintf(b, "  - %s\n", reason)
	}
	if r.Zones != nil {
		fmt.Fprintf(b, "\nZones: %s (sha256 %s), %d zone(s)\n", r.Zones.Source, r.Zones.SHA256, len(r.Zones.Zones))
		for _, z := range r.Zones.Zones {
			fmt.Fprintf(b, "  - %-40s %-10s %s\n", z.Name, z.Sensitivity, z.Kind)
		}
	} else {
		fmt.Fprintf(b, "\nZones: none given: positions were not matched against sensitive zones\n")
	}
	fmt.Fprintf(b, "\nFindings: %d (%d fail the policy)\n", len(r.Findings), r.Summary.FailingFindings)
	for _, f := range r.Findings {
		mark := ""
		if f.FailsPolicy {
			mark = "  [FAILS POLICY]"
		}
		fmt.Fprintf(b, "\n%s %s %s%s\n", f.ID, strings.ToUpper(f.Severity), f.Kind, mark)
		fmt.Fprintf(b, "    %s\n", f.Summary)
		if f.Input != "" {
			fmt.Fprintf(b, "    input: %s\n", f.Input)
		}
		writeObs(b, "first", f.First)
		if f.Count > 1 {
			writeObs(b, "last", f.Last)
		}
	}
	if inv := r.Destinations; inv != nil {
		fmt.Fprintf(b, "\nDestinations contacted: %d\n", len(inv.Rows))
		for _, d := range inv.Rows {
			names := make([]string, 0, len(d.Names))
			for _, n := range d.Names {
				names = append(names, n.Name+" ("+n.Source+")")
			}
			where := d.Country
			if d.Scope != "" && d.Scope != "public" {
				where = d.Scope
			}
			if d.ASN != 0 {
				where += fmt.Sprintf(" AS%d %s", d.ASN, d.ASOrg)
			}
			fmt.Fprintf(b, "  %s:%d/%s  owner %s  %s  out %d B, in %d B, %d flow(s)\n", d.IP, d.Port, d.Protocol, orDash(d.Owner), orDash(where), d.BytesOut, d.BytesIn, d.Flows)
			if len(names) > 0 {
				fmt.Fprintf(b, "      names: %s\n", strings.Join(names, ", "))
			}
		}
		for _, a := range inv.GeoIP.Attribution {
			fmt.Fprintf(b, "  (%s)\n", a)
		}
	}
	fmt.Fprintf(b, "\nInputs: %d (%d could not be read, %d skipped), %d bytes, %d positions\n", r.Summary.Inputs, r.Summary.InputErrors,
		r.Summary.InputsSkipped, r.Summary.Bytes, r.Summary.Fixes)
	for _, in := range r.Inputs {
		if in.Skipped != "" {
			fmt.Fprintf(b, "\n  %s\n    skipped: %s (sha256 %s, %d bytes)\n", in.Path, in.Skipped, in.SHA256, in.Size)
			continue
		}
		fmt.Fprintf(b, "\n  %s\n", in.Path)
		if in.SHA256 != "" {
			fmt.Fprintf(b, "    sha256 %s, %d bytes, format %s\n", in.SHA256, in.Size, orDash(in.Format))
		}
		if in.Error != "" {
			fmt.Fprintf(b, "    ERROR: %s\n", in.Error)
		}
		if in.Fixes > 0 {
			fmt.Fprintf(b, "    positions: %d (%s)\n", in.Fixes, kv(in.ByRole))
		}
		if len(in.Counts) > 0 {
			fmt.Fprintf(b, "    counts: %s\n", kv(in.Counts))
		}
		if len(in.ZonesTouched) > 0 {
			fmt.Fprintf(b, "    zones touched: %s\n", strings.Join(in.ZonesTouched, "; "))
		}
		// Decoders often prefix messages with the file name; the heading already gives it.
		trim := func(m string) string { return strings.TrimPrefix(m, in.Path+": ") }
		for _, n := range in.Notes {
			fmt.Fprintf(b, "    %s %s: %s%s\n", n.Severity, n.Code, trim(n.Message), at(n.Locator))
		}
		if in.Dropped > 0 {
			fmt.Fprintf(b, "    (%d more notes not listed)\n", in.Dropped)
		}
		if len(in.Exposures) > 0 {
			fmt.Fprintf(b, "    exposed if this file is shared or synced:\n")
			for _, n := range in.Exposures {
				fmt.Fprintf(b, "      - %s", trim(n.Message))
				if len(n.Attrs) > 0 {
					fmt.Fprintf(b, " (%s)", kvs(n.Attrs))
				}
				b.WriteString("\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeObs(b *strings.Builder, label string, o *Observation) {
	if o == nil {
		return
	}
	fmt.Fprintf(b, "    %s: %.7f, %.7f", label, o.Lat, o.Lon)
	if o.AltM != nil {
		fmt.Fprintf(b, " alt %.1f m", *o.AltM)
	}
	if o.Time != "" {
		fmt.Fprintf(b, " at %s", o.Time)
	}
	if o.DistanceM > 0 {
		fmt.Fprintf(b, " (%.1f m outside the edge, precision ±%.1f m)", o.DistanceM, o.PrecisionM)
	}
	ev := o.Evidence
	fmt.Fprintf(b, "\n      evidence: %s %s, %s, %s", ev.Decoder, ev.Message, ev.Locator, ev.Encoding)
	if n := ev.Network; n != nil {
		fmt.Fprintf(b, ", %s %s:%d -> %s:%d flow %s", n.Proto, n.Src.Addr(), n.Src.Port(), n.Dst.Addr(), n.Dst.Port(), n.FlowUID)
	}
	if bc := ev.Broadcast; bc != nil {
		fmt.Fprintf(b, ", %s from %s", bc.Kind, bc.Transmitter)
	}
	if ev.Note != "" {
		fmt.Fprintf(b, " (%s)", ev.Note)
	}
	b.WriteString("\n")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func at(loc string) string {
	if loc == "" {
		return ""
	}
	return " [" + loc + "]"
}

func kv(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func kvs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}
