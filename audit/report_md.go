package audit

import (
	"bytes"
	"fmt"
	"strings"
)

// mdEscaper escapes the characters Markdown gives a meaning to, and the HTML a Markdown viewer
// would render, in text that came from the inputs.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;",
	"|", `\|`, "#", `\#`, "!", `\!`, "~", `\~`, "&", "&amp;", "\n", " ", "\r", " ")

func md(v string) string { return mdEscaper.Replace(v) }

// Markdown writes report.md: the case file's readable summary, from the same view as the HTML
// report (no map: the HTML report and findings.geojson have it).
func (d *Document) Markdown() []byte {
	v := d.view()
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("# %s", md(v.Title))
	p("")
	if v.Case != "" {
		p("- Case: %s", md(v.Case))
	}
	if v.Examiner != "" {
		p("- Examiner: %s", md(v.Examiner))
	}
	if v.Redacted {
		p("- Coordinates are redacted: positions are given by zone and distance.")
	}
	p("- %s", md(v.Build))
	p("")
	p("## Verdict: %s", strings.ToUpper(v.Result))
	p("")
	p("%s", md(v.Headline))
	p("")
	if len(v.Incomplete) > 0 {
		p("Incomplete because:")
		p("")
		for _, x := range v.Incomplete {
			p("- %s", md(x))
		}
		p("")
	}
	if len(v.Failing) > 0 {
		p("Fails the policy:")
		p("")
		for _, x := range v.Failing {
			p("- %s (`policy.%s`): %s", x.Finding, x.Rule, md(x.Text))
		}
		p("")
	}
	if len(v.FailedRules) > 0 {
		p("Rules that failed: `%s`", strings.Join(v.FailedRules, "`, `"))
		p("")
	}
	p("Checked: %s", md(v.Checked))
	p("")
	p("Times: %s", md(v.Times))
	p("")
	p("## Findings (%d)", len(v.Findings))
	for _, f := range v.Findings {
		p("")
		fails := ""
		if f.Fails {
			fails = " — **fails the policy**"
		}
		p("### %s %s %s%s", f.ID, strings.ToUpper(f.Severity), f.Kind, fails)
		p("")
		p("%s", md(f.Summary))
		p("")
		p("- rule: `%s`", f.Rule)
		for _, kv := range f.Fields {
			p("- %s: %s", kv[0], md(kv[1]))
		}
	}
	p("")
	p("## Timeline: what left the device when")
	p("")
	if len(v.Timeline) == 0 {
		p("No timed event.")
	} else {
		p("| Time | Channel | Finding | What |")
		p("|---|---|---|---|")
		for _, e := range v.Timeline {
			p("| %s | %s | %s | %s |", md(e.Time), e.Channel, e.Finding, md(e.Text))
		}
	}
	p("")
	p("## Destinations (%d)", len(v.Dests))
	p("")
	if len(v.Dests) > 0 {
		p("| Endpoint | Names | Scope | Owner | Country | AS | Bytes out | Bytes in | Flows |")
		p("|---|---|---|---|---|---|--:|--:|--:|")
		for _, r := range v.Dests {
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", md(r.Endpoint), md(r.Names), r.Scope, md(r.Owner), md(r.Country), md(r.AS), r.Out, r.In, r.Flows)
		}
		p("")
	}
	p("## Inputs (%d)", len(v.Inputs))
	p("")
	p("| Input | SHA-256 | Bytes | Format | Positions | State |")
	p("|---|---|--:|---|--:|---|")
	for _, in := range v.Inputs {
		p("| %s | `%s` | %s | %s | %s | %s |", md(in.Path), in.SHA256, in.Size, md(in.Format), in.Fixes, md(in.State))
	}
	p("")
	p("## Policy")
	p("")
	for _, l := range v.Policy {
		p("- %s", md(l))
	}
	p("")
	p("## Data sets")
	p("")
	for _, l := range v.Datasets {
		p("- %s", md(l))
	}
	return b.Bytes()
}
