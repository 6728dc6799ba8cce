package audit

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/safetext"
)

// TextOptions change how the text report is written.
type TextOptions struct {
	// Location is the time zone UTC times are shown in (nil: the system's zone). Times read from
	// a device's clock in an unknown zone are shown as the device wrote them, and said to be so.
	Location *time.Location
	// Case and Examiner, when set, are printed at the top (--case, --examiner).
	Case, Examiner string
	// Redact replaces every coordinate with the zone it lies in or its distance to the zone
	// (--redact): the report can be shared beyond those who may know the positions.
	Redact bool
}

// WriteText writes the report for a person, times in the system's time zone.
func (r *Report) WriteText(w io.Writer) error { return r.WriteTextWith(w, TextOptions{}) }

// WriteTextWith writes the report for a person: the verdict and its reasons first, then the
// findings with their evidence, then the zones, the policy, the destinations and what was read.
// Every line passes through safetext: a file name or a decoded text field cannot move the
// cursor, recolour the terminal or start a line of its own.
func (r *Report) WriteTextWith(w io.Writer, o TextOptions) error {
	t := &textOut{loc: o.Location, redact: o.Redact}
	if t.loc == nil {
		t.loc = time.Local
	}
	t.line("droneaudit %s audit report", r.Version)
	if o.Case != "" {
		t.line("Case: %s", o.Case)
	}
	if o.Examiner != "" {
		t.line("Examiner: %s", o.Examiner)
	}
	if o.Redact {
		t.line("Coordinates are redacted: positions are given by zone and distance")
	}
	t.blank()
	r.writeVerdict(t)
	t.blank()
	t.line("Checked: %s", r.checkedLine())
	t.line("Times: %s", t.zoneLine())
	t.blank()
	r.writeFindings(t)
	r.writeZones(t)
	r.writePolicy(t)
	r.writeDestinations(t)
	r.writeLab(t)
	r.writeDevices(t)
	r.writeInputs(t)
	_, err := io.WriteString(w, t.b.String())
	return err
}

// textOut builds the text report one sanitised line at a time.
type textOut struct {
	b      strings.Builder
	loc    *time.Location
	redact bool
}

func (t *textOut) line(format string, a ...any) {
	l := fmt.Sprintf(format, a...)
	if t.redact {
		l = redactText(l)
	}
	t.b.WriteString(safetext.String(l))
	t.b.WriteByte('\n')
}

func (t *textOut) blank() { t.b.WriteByte('\n') }

func (t *textOut) zoneLine() string {
	name := t.loc.String()
	if name == "Local" {
		name = "the system's time zone"
	}
	return fmt.Sprintf("UTC times are shown in %s (the offset is given with each); a device's own clock (\"device-local\") is shown as the device wrote it: its time zone is unknown", name)
}

// timeText shows an observation's time: converted to the report's zone when it is UTC, as written
// when it is a device's clock.
func (t *textOut) timeText(o *Observation) string {
	if o.t.IsZero() {
		return ""
	}
	if o.TimeRef == "device-local" {
		return o.t.Format("2006-01-02 15:04:05.999") + " device-local (zone unknown)"
	}
	return t.instant(o.t)
}

// instant shows a UTC instant in the report's zone, with the zone's name and offset.
func (t *textOut) instant(ts time.Time) string {
	lt := ts.In(t.loc)
	s := lt.Format("2006-01-02 15:04:05.999")
	name, off := lt.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	offs := fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off/60%60)
	if off == 0 {
		offs = "UTC"
	}
	if name == "" || name == offs || name == "UTC" || strings.HasPrefix(name, "+") || strings.HasPrefix(name, "-") {
		return s + " " + offs
	}
	return s + " " + name + " (" + offs + ")"
}

func (r *Report) writeVerdict(t *textOut) {
	v := r.Verdict
	var incomplete, failing []Reason
	for _, x := range v.Reasons {
		if x.Code == ReasonPolicy {
			failing = append(failing, x)
		} else {
			incomplete = append(incomplete, x)
		}
	}
	t.line("%s", verdictHeadline(v))
	if len(incomplete) > 0 {
		t.line("Incomplete because:")
		for _, x := range incomplete {
			t.line("  - %s", x.Text)
		}
	}
	if len(failing) > 0 {
		t.line("Fails the policy:")
		for _, x := range failing {
			t.line("  - %s: %s", x.Finding, x.Text)
		}
	}
}

// verdictHeadline is the verdict in one sentence, as every human report opens.
func verdictHeadline(v Verdict) string {
	var incomplete, failing int
	for _, x := range v.Reasons {
		if x.Code == ReasonPolicy {
			failing++
		} else {
			incomplete++
		}
	}
	head := fmt.Sprintf("VERDICT: %s (exit code %d)", strings.ToUpper(v.Result), v.ExitCode)
	switch {
	case v.Result == Fail && !v.Complete:
		head += fmt.Sprintf(": %s fail the policy, and the audit is INCOMPLETE (%s below)", plural(int64(failing), "finding"), plural(int64(incomplete), "reason"))
	case v.Result == Fail:
		head += fmt.Sprintf(": %s fail the policy", plural(int64(failing), "finding"))
	case v.Result == Incomplete:
		head += ": the audit could not look at everything it was asked to, so it cannot pass"
	default:
		head += ": every input was read whole, the positions and destinations were checked against the zones and the policy, and nothing fails it"
	}
	return head
}

func (r *Report) checkedLine() string {
	s := r.Summary
	in := fmt.Sprintf("%d input(s)", s.Inputs)
	if s.InputErrors > 0 || s.InputsSkipped > 0 {
		in += fmt.Sprintf(" (%d not read, %d skipped)", s.InputErrors, s.InputsSkipped)
	}
	zones := "no zone file"
	if r.Zones != nil {
		zones = fmt.Sprintf("%d zone(s) of %s", len(r.Zones.Zones), r.Zones.Source)
	}
	return fmt.Sprintf("%s, %d bytes; %d position(s) and %d destination(s), against %s and the policy", in, s.Bytes, s.Fixes, s.Destinations, zones)
}

func (r *Report) writeFindings(t *textOut) {
	t.line("Findings: %d (%d fail the policy)", len(r.Findings), r.Summary.FailingFindings)
	for _, f := range r.Findings {
		mark := ""
		if f.FailsPolicy {
			mark = "  [FAILS POLICY]"
		}
		t.blank()
		t.line("%s %s %s%s", f.ID, strings.ToUpper(string(f.Severity)), f.Kind, mark)
		t.line("    %s", f.Summary)
		t.line("    rule:        policy.%s", f.Rule)
		if f.Input != "" {
			t.line("    input:       %s", f.Input)
		}
		if d := f.Destination; d != nil {
			t.line("    destination: %s", destLine(d))
		}
		if f.Device != nil {
			t.line("    device:      %s", deviceText(f.Device))
		}
		if f.Evidence != nil {
			t.line("    evidence:    %s", frameText(f.Evidence))
		}
		if f.Transmitter != "" {
			t.line("    transmitter: %s (heard by anyone in radio range)", f.Transmitter)
		}
		if len(f.Rules) > 0 {
			var rules []string
			for _, ru := range f.Rules {
				rules = append(rules, fmt.Sprintf("%s %q", ru.Rule, ru.Value))
			}
			t.line("    rules:       %s", strings.Join(rules, "; "))
		}
		if f.First == nil {
			continue
		}
		count := plural(f.Count, "position")
		if f.Zone != "" && f.Inside != f.Count {
			count += fmt.Sprintf(" (%d inside the zone, %d within the encoding's precision of its edge)", f.Inside, f.Count-f.Inside)
		}
		if t.redact {
			t.line("    seen:        %s, spread over %s", count, distText(f.Extent.SpanM))
		} else {
			t.line("    seen:        %s, %s", count, extentText(f.Extent))
		}
		t.obs("first", f.First, f.Zone)
		if f.Count > 1 {
			t.obs("last", f.Last, f.Zone)
		}
	}
	t.blank()
}

// destLine describes a finding's destination on one line.
func destLine(d *Destination) string {
	s := destText(d) + ", scope " + d.Scope
	if d.AddressClass != "" && d.AddressClass != destinations.ClassPublic {
		s += " (" + d.AddressClass + " address)"
	}
	if d.Owner != "" {
		s += ", owner " + d.Owner
	}
	if d.Country != "" {
		s += ", country " + d.Country
	}
	if len(d.Names) > 1 {
		s += ", also named " + strings.Join(d.Names[1:], ", ")
	}
	return s
}

// extentText says how far the positions of a finding spread.
func extentText(e *Extent) string {
	if e == nil {
		return ""
	}
	if e.SpanM < 1 {
		return fmt.Sprintf("all at one point (%.7f, %.7f)", e.South, e.West)
	}
	return fmt.Sprintf("spread over %s (latitude %.5f to %.5f, longitude %.5f to %.5f)", distText(e.SpanM), e.South, e.North, e.West, e.East)
}

func distText(m float64) string {
	if m >= 1000 {
		return fmt.Sprintf("%.1f km", m/1000)
	}
	return fmt.Sprintf("%.0f m", m)
}

// altRefs says in words what an altitude is measured from.
var altRefs = map[string]string{
	"msl":       "above mean sea level",
	"take-off":  "above the take-off point",
	"home":      "above the home point",
	"ground":    "above ground",
	"ellipsoid": "above the WGS84 ellipsoid",
}

// altText shows an altitude with its reference, always.
func altText(m float64, ref string) string {
	if r, ok := altRefs[ref]; ok {
		return fmt.Sprintf("altitude %.1f m %s", m, r)
	}
	return fmt.Sprintf("altitude %.1f m (reference not given by the format)", m)
}

func (t *textOut) obs(label string, o *Observation, zone string) {
	s := fmt.Sprintf("    %-12s %.7f, %.7f", label+":", o.Lat, o.Lon)
	if t.redact {
		s = fmt.Sprintf("    %-12s %s", label+":", redactedPlace(o, zone))
	}
	if o.AltM != nil {
		s += ", " + altText(*o.AltM, o.AltRef)
	}
	if ts := t.timeText(o); ts != "" {
		s += ", at " + ts
	}
	if o.DistanceM > 0 {
		s += fmt.Sprintf(" (%.1f m outside the edge, precision ±%.1f m)", o.DistanceM, o.PrecisionM)
	}
	t.line("%s", s)
	t.line("      evidence: %s", evidenceText(o.Evidence))
	if rq := o.Evidence.Request; rq != nil {
		t.line("      request: %s %s %s", rq.ID, rq.Method, rq.URL)
	}
}

// evidenceText says where an observation was read: decoder, message, locator, encoding, and the
// flow or the frame that carried it.
func evidenceText(ev geo.Evidence) string {
	e := fmt.Sprintf("%s %s, %s, %s", ev.Decoder, ev.Message, ev.Locator, ev.Encoding)
	if n := ev.Network; n != nil {
		e += fmt.Sprintf(", %s %s -> %s flow %s", n.Proto, n.Src, n.Dst, n.FlowUID)
	}
	if bc := ev.Broadcast; bc != nil {
		e += fmt.Sprintf(", %s from %s", bc.Kind, bc.Transmitter)
	}
	if ev.Note != "" {
		e += " (" + ev.Note + ")"
	}
	return e
}

func (r *Report) writeZones(t *textOut) {
	if r.Zones == nil {
		t.line("Zones: none given: positions were not matched against sensitive zones")
		t.blank()
		return
	}
	t.line("Zones: %s (sha256 %s), %d zone(s)", r.Zones.Source, r.Zones.SHA256, len(r.Zones.Zones))
	for _, z := range r.Zones.Zones {
		kind := z.Kind
		if z.RadiusM > 0 {
			kind = fmt.Sprintf("%s, radius %.0f m", z.Kind, z.RadiusM)
		}
		t.line("  - %-40s %-10s %s", z.Name, z.Sensitivity, kind)
	}
	t.blank()
}

// scopePhrase says in words what reaching a scope means.
var scopePhrase = map[string]string{
	destinations.ScopeOnDevice:   "stays on the device (a log file, loopback)",
	destinations.ScopeLabNetwork: "goes to the lab network",
	destinations.ScopeInternet:   "reaches the internet",
	destinations.ScopeBroadcast:  "is broadcast",
}

func (r *Report) writePolicy(t *textOut) {
	p := r.Policy
	var sens []string
	for _, s := range p.FailOn {
		sens = append(sens, string(s))
	}
	scopes := slices.Clone(p.FailScopes)
	if p.FailOnDevice && !slices.Contains(scopes, destinations.ScopeOnDevice) {
		scopes = append(scopes, destinations.ScopeOnDevice)
	}
	t.line("Policy:")
	if len(sens) == 0 || len(scopes) == 0 {
		t.line("  - no zone position fails the audit")
	} else {
		var fails, not []string
		for _, sc := range destinations.Scopes {
			if slices.Contains(scopes, sc) {
				fails = append(fails, scopePhrase[sc])
			} else {
				not = append(not, scopePhrase[sc])
			}
		}
		t.line("  - fails when a position inside a %s zone %s", strings.Join(sens, " or "), strings.Join(fails, " or "))
		if len(not) > 0 {
			t.line("  - such a position that %s is a finding that does not fail", strings.Join(not, " or "))
		}
	}
	if p.FailOnBroadcastPilot {
		t.line("  - fails when a pilot, home or take-off position is broadcast in clear, inside a zone or not")
	}
	if p.FailOnCleartextTelemetry {
		t.line("  - fails when a position travels over the network unencrypted, inside a zone or not")
	}
	if p.FailOnFlightLogUpload {
		t.line("  - fails when a flight record is seen in network traffic (a flight log upload)")
	}
	if p.FailOnTrackLeak {
		t.line("  - fails when a point of the flown track (the log files) is found in traffic that went that far, outside every zone")
	}
	d := p.Destinations
	if len(d.DenyOwners)+len(d.DenyCountries)+len(d.DenyHosts) > 0 {
		var deny []string
		if len(d.DenyOwners) > 0 {
			deny = append(deny, "owner classes "+strings.Join(d.DenyOwners, ", "))
		}
		if len(d.DenyCountries) > 0 {
			deny = append(deny, "countries "+strings.Join(d.DenyCountries, ", "))
		}
		if len(d.DenyHosts) > 0 {
			deny = append(deny, "hosts "+strings.Join(d.DenyHosts, ", "))
		}
		t.line("  - fails on any contact with %s", strings.Join(deny, "; "))
	}
	for _, l := range devicePolicyLines(p) {
		t.line("  - %s", l)
	}
	t.blank()
}

func (r *Report) writeDestinations(t *textOut) {
	if r.GeoIP == nil {
		return
	}
	t.line("Destinations contacted: %d", len(r.Destinations))
	for _, d := range r.Destinations {
		where := d.Scope
		if d.AddressClass != destinations.ClassPublic {
			where += " (" + d.AddressClass + ")"
		}
		if d.Country != "" {
			where += ", " + d.Country
		}
		if d.ASN != 0 {
			where += fmt.Sprintf(", AS%d %s", d.ASN, d.ASOrg)
		}
		t.line("  %s:%d/%s  %s  owner %s  out %d B, in %d B, %d flow(s)", d.IP, d.Port, d.Protocol, where, orDash(d.Owner), d.BytesOut, d.BytesIn, d.Flows)
		if len(d.Names) > 0 {
			names := make([]string, 0, len(d.Names))
			for _, n := range d.Names {
				names = append(names, n.Name+" ("+n.Source+")")
			}
			t.line("      names: %s", strings.Join(names, ", "))
		}
	}
	for _, n := range groupNotes(r.DestinationNotes) {
		t.line("  %s", n.text(""))
	}
	for _, a := range r.GeoIP.Attribution {
		t.line("  (%s)", a)
	}
	t.blank()
}

func (r *Report) writeInputs(t *textOut) {
	t.line("Inputs: %d (%d could not be read, %d skipped), %d bytes, %d positions", r.Summary.Inputs, r.Summary.InputErrors,
		r.Summary.InputsSkipped, r.Summary.Bytes, r.Summary.Fixes)
	for _, in := range r.Inputs {
		t.blank()
		t.line("  %s", in.Path)
		if in.Skipped != "" {
			t.line("    skipped: %s (sha256 %s, %d bytes)", in.Skipped, in.SHA256, in.Size)
			continue
		}
		if in.SHA256 != "" {
			t.line("    sha256 %s, %d bytes, format %s", in.SHA256, in.Size, orDash(in.Format))
		}
		if in.Error != "" {
			t.line("    ERROR: %s", trimPath(in.Error, in.Path))
		}
		if in.Fixes > 0 {
			t.line("    positions: %d (%s)", in.Fixes, rolesText(in.ByRole))
		}
		if len(in.Counts) > 0 {
			t.line("    counts: %s", kv(in.Counts))
		}
		if len(in.ZonesTouched) > 0 {
			t.line("    zones touched: %s", strings.Join(in.ZonesTouched, "; "))
		}
		for _, g := range groupNotes(in.Notes) {
			t.line("    %s", g.text(in.Path))
		}
		if in.Dropped > 0 {
			t.line("    (%d more notes not kept)", in.Dropped)
		}
		if len(in.Exposures) > 0 {
			t.line("    exposed if this file is shared or synced:")
			for _, n := range in.Exposures {
				t.exposure(n, in.Path)
			}
		}
	}
}

// rolesText lists positions per role, the "other" role named.
func rolesText(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", roleName(geo.Role(k)), m[k])
	}
	return strings.Join(parts, ", ")
}

// noteGroup is one or more notes of an input that say the same thing: the same severity and
// code, and a message that differs at most in its numbers (a frame or record number, an offset).
// Identity notes group only when they are identical: their values are the point.
type noteGroup struct {
	first    decoders.Note
	n        int
	same     bool     // every message is the same
	locators []string // the first few locators
}

const groupLocators = 3

var digits = regexp.MustCompile(`[0-9]+`)

func groupNotes(notes []decoders.Note) []*noteGroup {
	var out []*noteGroup
	byKey := map[string]*noteGroup{}
	for _, n := range notes {
		msg := n.Message
		if n.Code != decoders.CodeIdentity && n.Code != decoders.CodeExposure {
			msg = digits.ReplaceAllString(msg, "#")
		}
		k := string(n.Severity) + "\x00" + string(n.Code) + "\x00" + n.Input + "\x00" + msg
		g, ok := byKey[k]
		if !ok {
			g = &noteGroup{first: n, same: true}
			byKey[k] = g
			out = append(out, g)
		}
		g.n++
		if n.Message != g.first.Message {
			g.same = false
		}
		if n.Locator != "" && len(g.locators) < groupLocators {
			g.locators = append(g.locators, n.Locator)
		}
	}
	return out
}

// text writes a group on one line: one note as it is, several with their count, the first
// message and the first locators.
func (g *noteGroup) text(path string) string {
	n := g.first
	msg := trimPath(n.Message, path)
	if n.Input != "" && n.Input != path {
		msg = n.Input + ": " + trimPath(msg, n.Input)
	}
	if g.n == 1 {
		return fmt.Sprintf("%s %s: %s%s", n.Severity, n.Code, msg, at(n.Locator))
	}
	s := fmt.Sprintf("%s %s (%d×): %s", n.Severity, n.Code, g.n, msg)
	if !g.same {
		s = fmt.Sprintf("%s %s (%d×, numbers differ; the first): %s", n.Severity, n.Code, g.n, msg)
	}
	if len(g.locators) > 0 {
		s += " [" + strings.Join(g.locators, "; ")
		if more := g.n - len(g.locators); more > 0 {
			s += fmt.Sprintf("; and %d more", more)
		}
		s += "]"
	}
	return s
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
