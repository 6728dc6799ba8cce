package audit

import (
	"fmt"
	"strings"
	"time"

	"droneaudit/internal/safetext"
)

// reportView is what the Markdown and HTML reports show, in the order they show it, as text: both
// are written from it, so they say the same. Every string that came from an input passes through
// safetext here; each writer adds its own escaping (html/template, Markdown escapes).
type reportView struct {
	Title       string
	Case        string
	Examiner    string
	Redacted    bool
	Result      string // pass, fail, incomplete
	Headline    string
	Incomplete  []string
	Failing     []viewReason
	FailedRules []string
	Checked     string
	Times       string
	Map         *svgMap
	Dests       []viewDest
	Timeline    []viewEvent
	Findings    []viewFinding
	Inputs      []viewInput
	Policy      []string
	Datasets    []string
	Build       string
}

type viewReason struct{ Finding, Rule, Text string }

type viewDest struct {
	Endpoint, Names, Scope, Owner, Country, AS, Out, In, Flows, First, Last string
}

type viewEvent struct{ Time, Channel, Finding, Text string }

// viewFinding is one finding; Fields are its evidence as label and value.
type viewFinding struct {
	ID, Severity, Kind, Rule, Summary string
	Fails                             bool
	Fields                            [][2]string
}

type viewInput struct{ Path, SHA256, Size, Format, Fixes, State string }

// s makes a string safe to show: control and format characters escaped.
func s(v string) string { return safetext.String(v) }

func (d *Document) view() *reportView {
	t := &textOut{loc: d.meta.Location, redact: d.meta.Redact}
	if t.loc == nil {
		t.loc = time.UTC
	}
	v := &reportView{Title: fmt.Sprintf("droneaudit %s audit report", d.Version), Case: s(d.Case.Case), Examiner: s(d.Case.Examiner),
		Redacted: d.meta.Redact, Result: d.Verdict.Result, Headline: s(verdictHeadline(d.Verdict)), Checked: s(d.checkedLine()),
		Times: s(t.zoneLine()), Build: s(fmt.Sprintf("droneaudit %s, commit %s, report schema %d", d.Version, d.Commit, d.SchemaVersion))}
	for _, x := range d.Verdict.Reasons {
		if x.Code == ReasonPolicy {
			v.Failing = append(v.Failing, viewReason{Finding: x.Finding, Rule: string(x.Rule), Text: s(x.Text)})
		} else {
			v.Incomplete = append(v.Incomplete, s(x.Text))
		}
	}
	for _, r := range d.Verdict.FailedRules {
		v.FailedRules = append(v.FailedRules, "policy."+string(r))
	}
	v.Map = d.buildMap()
	for _, r := range d.Destinations {
		names := make([]string, 0, len(r.Names))
		for _, n := range r.Names {
			names = append(names, n.Name)
		}
		vd := viewDest{Endpoint: fmt.Sprintf("%s:%d/%s", r.IP, r.Port, r.Protocol), Names: s(strings.Join(names, ", ")), Scope: r.Scope,
			Owner: s(orDash(r.Owner)), Country: orDash(r.Country), Out: fmt.Sprint(r.BytesOut), In: fmt.Sprint(r.BytesIn), Flows: fmt.Sprint(r.Flows), AS: "-"}
		if r.ASN != 0 {
			vd.AS = s(fmt.Sprintf("AS%d %s", r.ASN, r.ASOrg))
		}
		if !r.First.IsZero() {
			vd.First, vd.Last = t.instant(r.First), t.instant(r.Last)
		}
		v.Dests = append(v.Dests, vd)
	}
	for _, e := range d.Timeline {
		when := t.instant(e.t)
		if e.TimeRef == "device-local" {
			when = e.t.Format("2006-01-02 15:04:05.999") + " device-local"
		}
		v.Timeline = append(v.Timeline, viewEvent{Time: when, Channel: string(e.Channel), Finding: e.Finding, Text: s(e.Text)})
	}
	for _, f := range d.Findings {
		v.Findings = append(v.Findings, t.viewFinding(f))
	}
	for _, in := range d.Inputs {
		vi := viewInput{Path: s(in.Path), SHA256: in.SHA256, Size: fmt.Sprint(in.Size), Format: s(orDash(in.Format)), Fixes: fmt.Sprint(in.Fixes), State: "read"}
		switch {
		case in.Skipped != "":
			vi.State = s("skipped: " + in.Skipped)
		case in.Error != "":
			vi.State = s("error: " + trimPath(in.Error, in.Path))
		}
		v.Inputs = append(v.Inputs, vi)
	}
	p := &textOut{}
	d.writePolicy(p)
	for _, l := range strings.Split(p.b.String(), "\n") {
		if l, ok := strings.CutPrefix(l, "  - "); ok {
			v.Policy = append(v.Policy, l)
		}
	}
	for _, ds := range d.Datasets {
		line := ds.Name + ": " + ds.Version
		if ds.SHA256 != "" {
			line += " (sha256 " + ds.SHA256 + ")"
		}
		if ds.Attribution != "" {
			line += "; " + ds.Attribution
		}
		if !ds.Used {
			line += " (not used in this audit)"
		}
		v.Datasets = append(v.Datasets, s(line))
	}
	return v
}

// viewFinding lists a finding's evidence, coordinates replaced by zone and distance when the
// report is redacted.
func (t *textOut) viewFinding(f *Finding) viewFinding {
	vf := viewFinding{ID: f.ID, Severity: string(f.Severity), Kind: f.Kind, Rule: "policy." + string(f.Rule), Summary: s(f.Summary), Fails: f.FailsPolicy}
	add := func(k, val string) {
		if t.redact {
			val = redactText(val)
		}
		if val != "" {
			vf.Fields = append(vf.Fields, [2]string{k, s(val)})
		}
	}
	add("input", f.Input)
	if f.Destination != nil {
		add("destination", destLine(f.Destination))
	}
	add("transmitter", f.Transmitter)
	if d := f.Device; d != nil {
		add("device", strings.TrimSpace(d.MAC+" "+d.Vendor+" "+strings.Join(d.Names, ", ")))
	}
	if f.Evidence != nil {
		add("evidence", frameText(f.Evidence))
	}
	if f.Request != nil {
		add("request", f.Request.Method+" "+f.Request.URL+" ("+f.Request.ID+")")
	}
	if len(f.Rules) > 0 {
		var rules []string
		for _, r := range f.Rules {
			rules = append(rules, fmt.Sprintf("policy.%s %q", r.Key, r.Value))
		}
		add("rules broken", strings.Join(rules, "; "))
	}
	if f.First == nil {
		return vf
	}
	count := plural(f.Count, "position")
	if f.Zone != "" && f.Inside != f.Count {
		count += fmt.Sprintf(" (%d inside the zone, %d within the encoding's precision of its edge)", f.Inside, f.Count-f.Inside)
	}
	if t.redact {
		add("seen", count+", spread over "+distText(f.Extent.SpanM))
	} else {
		add("seen", count+", "+extentText(f.Extent))
	}
	obs := []*Observation{f.First}
	if f.Count > 1 {
		obs = append(obs, f.Last)
	}
	for i, o := range obs {
		label := [2]string{"first", "last"}[i]
		where := fmt.Sprintf("%.7f, %.7f", o.Lat, o.Lon)
		if t.redact {
			where = redactedPlace(o, f.Zone)
		}
		if o.AltM != nil {
			where += ", " + altText(*o.AltM, o.AltRef)
		}
		if ts := t.timeText(o); ts != "" {
			where += ", at " + ts
		}
		add(label, where)
		add(label+" evidence", evidenceText(o.Evidence))
	}
	return vf
}
