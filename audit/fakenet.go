package audit

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/geo"
)

// The lab session's fake-internet log (fakenet.ndjson, written by `droneaudit lab up`, package
// lab/fakenet) says what the lab devices tried while the lab was offline: every name they looked
// up and every connection they opened, with what they sent first. The audit reads it beside the
// captures and reports each attempt as tried offline and never reached anything.

// KindTLSPinning is a client that refused the lab's intercepting certificate: it pins.
const KindTLSPinning = "tls-pinning"

// FlagTriedOffline marks a destination row that the lab devices tried while the lab was offline.
const FlagTriedOffline = "tried-offline-never-reached"

// maxLabLine bounds one line of the log; maxAttemptNotes the requests kept per attempt.
const (
	maxLabLine      = 1 << 20
	maxAttemptNotes = 8
	maxNoteLen      = 600
)

// LabLog is the fake-internet log of a lab session, read and grouped by name.
type LabLog struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Lines  int    `json:"lines"`
	// Rejected counts lines that are not records (cut, not JSON); the rest is still read.
	// RejectedLines are the first of their line numbers (1-based).
	Rejected      int   `json:"rejected"`
	RejectedLines []int `json:"rejected_lines,omitempty"`
	// Intercepted says the lab terminated TLS with its own CA (--tls-intercept): the devices
	// talked to the lab, not to their servers, and what they sent inside TLS is listed.
	Intercepted bool             `json:"tls_intercepted"`
	Attempts    []OfflineAttempt `json:"attempts"`
}

// OfflineAttempt is one name (or, without a name, one address) the lab devices tried.
type OfflineAttempt struct {
	Name         string    `json:"name,omitempty"`
	Destinations []string  `json:"destinations"` // orig ip:port/transport, before the lab's redirect
	Protocols    []string  `json:"protocols"`
	Clients      []string  `json:"clients"`
	Count        int       `json:"count"`
	First        time.Time `json:"first"`
	Last         time.Time `json:"last"`
	Status       string    `json:"status"`
	Pinned       bool      `json:"pinned"`
	Alert        string    `json:"alert,omitempty"`
	// Requests are what the devices sent first: TLS names and fingerprints, HTTP requests with
	// their bodies, MQTT packets; inside TLS when it was intercepted.
	Requests []string `json:"requests"`
}

// labRecord mirrors the fields of lab/fakenet.Record that the report uses.
type labRecord struct {
	Time        time.Time   `json:"time"`
	Client      string      `json:"client"`
	Dst         string      `json:"orig_dst"`
	Transport   string      `json:"transport"`
	Name        string      `json:"name"`
	Protocol    string      `json:"protocol"`
	QType       string      `json:"qtype"`
	First       *labSummary `json:"first"`
	Intercepted bool        `json:"intercepted"`
	Inner       *labSummary `json:"inner"`
	Pinned      bool        `json:"pinned"`
	Alert       string      `json:"alert"`
}

type labSummary struct {
	Protocol    string   `json:"protocol"`
	SNI         string   `json:"sni"`
	JA4         string   `json:"ja4"`
	Method      string   `json:"method"`
	Target      string   `json:"target"`
	Host        string   `json:"host"`
	ContentType string   `json:"content_type"`
	Body        string   `json:"body"`
	ClientID    string   `json:"client_id"`
	Topics      []string `json:"topics"`
	Payload     string   `json:"payload"`
	First       string   `json:"first_hex"`
}

// ReadLabLog reads a fake-internet log line by line, hashing it as it goes; a line that is not
// a record is counted and skipped.
func ReadLabLog(path string) (*LabLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLabLog(path, f)
}

// readLabLog reads the log from in; path names it in the report and in errors.
func readLabLog(path string, in io.Reader) (*LabLog, error) {
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(in, h), 64<<10)
	l := &LabLog{Path: path, Attempts: []OfflineAttempt{}}
	byKey := map[string]*OfflineAttempt{}
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			l.Lines++
			var r labRecord
			if json.Unmarshal(line, &r) != nil || r.Protocol == "" {
				l.Rejected++
				if len(l.RejectedLines) < 10 {
					l.RejectedLines = append(l.RejectedLines, l.Lines)
				}
			} else {
				l.add(byKey, r)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, l.Lines+1, err)
		}
	}
	l.SHA256 = hex.EncodeToString(h.Sum(nil))
	for _, a := range byKey {
		slices.Sort(a.Destinations)
		slices.Sort(a.Protocols)
		slices.Sort(a.Clients)
		l.Attempts = append(l.Attempts, *a)
	}
	slices.SortFunc(l.Attempts, func(a, b OfflineAttempt) int {
		return cmp.Or(cmpBool(b.Name != "", a.Name != ""), cmp.Compare(a.Name, b.Name), slices.Compare(a.Destinations, b.Destinations))
	})
	return l, nil
}

// readLine returns the next line without its newline; a line over maxLabLine is returned cut
// (and will be rejected as JSON) with the rest skipped.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, isPrefix, err := br.ReadLine()
		if len(line) < maxLabLine {
			line = append(line, part[:min(len(part), maxLabLine-len(line))]...)
		}
		if !isPrefix || err != nil {
			return line, err
		}
	}
}

func (l *LabLog) add(byKey map[string]*OfflineAttempt, r labRecord) {
	name := strings.ToLower(strings.TrimSuffix(r.Name, "."))
	key := "n " + name
	if name == "" {
		key = "d " + r.Dst + "/" + r.Transport
	}
	a := byKey[key]
	if a == nil {
		a = &OfflineAttempt{Name: name, Status: "tried offline, never reached anything", First: r.Time, Destinations: []string{}, Protocols: []string{}, Clients: []string{}, Requests: []string{}}
		byKey[key] = a
	}
	a.Count++
	if r.Time.Before(a.First) {
		a.First = r.Time
	}
	if r.Time.After(a.Last) {
		a.Last = r.Time
	}
	proto := r.Protocol
	if r.QType != "" {
		proto += " " + r.QType
	}
	addOnce(&a.Protocols, proto)
	if r.Dst != "" && r.Protocol != "dns" {
		addOnce(&a.Destinations, r.Dst+"/"+r.Transport)
	}
	if c := clientIP(r.Client); c != "" {
		addOnce(&a.Clients, c)
	}
	if r.Intercepted {
		l.Intercepted = true
	}
	if r.Pinned {
		a.Pinned, a.Alert = true, r.Alert
	}
	for _, s := range []*labSummary{r.First, r.Inner} {
		if n := s.note(s == r.Inner && s != nil); n != "" && len(a.Requests) < maxAttemptNotes {
			addOnce(&a.Requests, n)
		}
	}
}

func addOnce(list *[]string, v string) {
	if !slices.Contains(*list, v) && len(*list) < 64 {
		*list = append(*list, v)
	}
}

func clientIP(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().String()
	}
	return s
}

// note says in one line what a client sent first.
func (s *labSummary) note(inner bool) string {
	if s == nil {
		return ""
	}
	var n string
	switch s.Protocol {
	case "tls":
		n = fmt.Sprintf("TLS ClientHello SNI %q JA4 %s", s.SNI, s.JA4)
	case "http":
		n = fmt.Sprintf("HTTP %s %s (Host %s", s.Method, s.Target, s.Host)
		if s.ContentType != "" {
			n += ", " + s.ContentType
		}
		n += ")"
		if s.Body != "" {
			n += " body: " + s.Body
		}
	case "quic":
		n = fmt.Sprintf("QUIC Initial SNI %q JA4 %s", s.SNI, s.JA4)
	case "mqtt":
		n = fmt.Sprintf("MQTT CONNECT client %q", s.ClientID)
		if len(s.Topics) > 0 {
			n += fmt.Sprintf(", topics %s", strings.Join(s.Topics, " "))
		}
		if s.Payload != "" {
			n += " payload: " + s.Payload
		}
	default:
		if s.First == "" {
			return ""
		}
		n = s.Protocol + " first bytes " + s.First
	}
	if inner {
		n = "inside TLS: " + n
	}
	if len(n) > maxNoteLen {
		n = n[:maxNoteLen] + "…"
	}
	return n
}

// addLab joins the lab log to the report: the attempts, the destination rows they match, a
// pinning finding per name, and the log's own input line.
func (r *Report) addLab(l *LabLog, p Policy) {
	if l == nil {
		return
	}
	r.Lab = l
	tried := map[string]bool{}
	// UDP was redirected without its original address (no conntrack lookup for datagrams):
	// such an attempt names the port and the name the client sent (QUIC SNI), and matches the
	// row of the capture that carries the same name from the client's own packets.
	udpNames := map[string]bool{}
	for _, a := range l.Attempts {
		for _, d := range a.Destinations {
			tried[d] = true
			if ap, ok := strings.CutSuffix(d, "/udp"); ok && a.Name != "" {
				if p, err := netip.ParseAddrPort(ap); err == nil {
					udpNames[fmt.Sprintf("%d %s", p.Port(), a.Name)] = true
				}
			}
		}
		if a.Pinned {
			r.Findings = append(r.Findings, pinningFinding(a, p))
		}
	}
	for i := range r.Destinations {
		d := &r.Destinations[i]
		match := tried[rowKey(d)]
		for _, n := range d.Names {
			match = match || (d.Protocol == "udp" && n.Source != "dns" && udpNames[fmt.Sprintf("%d %s", d.Port, n.Name)])
		}
		if match && !slices.Contains(d.Flags, FlagTriedOffline) {
			d.Flags = append(d.Flags, FlagTriedOffline)
		}
	}
	for _, in := range r.Inputs {
		if in.Path == l.Path && in.Skipped != "" {
			in.Skipped = fmt.Sprintf("the lab's fake-internet log: read beside the captures (%d records)", l.Lines-l.Rejected)
		}
	}
}

// rowKey writes a destination row's server as the lab log does: ip:port/transport.
func rowKey(d *destinations.Row) string {
	if ip, err := netip.ParseAddr(d.IP); err == nil {
		return netip.AddrPortFrom(ip, d.Port).String() + "/" + d.Protocol
	}
	return fmt.Sprintf("%s:%d/%s", d.IP, d.Port, d.Protocol)
}

func pinningFinding(a OfflineAttempt, p Policy) *Finding {
	d := &Destination{Protocol: "tcp", Names: []string{a.Name}, Scope: destinations.ScopeLabNetwork}
	if len(a.Destinations) > 0 {
		if ap, err := netip.ParseAddrPort(strings.TrimSuffix(a.Destinations[0], "/tcp")); err == nil {
			d.IP, d.Port = ap.Addr().String(), ap.Port()
		}
	}
	return &Finding{Kind: KindTLSPinning, Severity: SeverityLow, Rule: RuleFailOnTLSPinning, FailsPolicy: p.FailOnTLSPinning, Channel: geo.ChannelNetwork, Scope: destinations.ScopeLabNetwork,
		Destination: d, Count: int64(a.Count), zoneIx: -1, inIx: -1, Rules: []Rule{},
		Summary: fmt.Sprintf("a lab device refused the lab's TLS certificate for %q (%s): it pins its server's certificate or key (or does not trust the CA store the lab CA was installed in: check that first), so interception cannot read this traffic", a.Name, orDash(a.Alert))}
}

// writeLab writes the attempts section of the text report.
func (r *Report) writeLab(t *textOut) {
	l := r.Lab
	if l == nil {
		return
	}
	t.line("Tried offline (lab fake internet %s, sha256 %s): %d name(s) or address(es), none reached anything", l.Path, l.SHA256, len(l.Attempts))
	if l.Intercepted {
		t.line("  TLS interception was ON: the lab terminated TLS with its own CA; the devices talked to the lab, and what they sent inside TLS is shown")
	}
	for _, a := range l.Attempts {
		what := a.Name
		if what == "" {
			what = strings.Join(a.Destinations, ", ")
		}
		pin := ""
		if a.Pinned {
			pin = "  PINNED (" + a.Alert + ")"
		}
		t.line("  %s  %s  %d attempt(s) from %s, %s%s", what, strings.Join(a.Protocols, ","), a.Count, strings.Join(a.Clients, ","), a.Status, pin)
		if a.Name != "" && len(a.Destinations) > 0 {
			t.line("      to %s", strings.Join(a.Destinations, ", "))
		}
		for _, q := range a.Requests {
			t.line("      %s", q)
		}
	}
	var marked []string
	for i := range r.Destinations {
		if slices.Contains(r.Destinations[i].Flags, FlagTriedOffline) {
			marked = append(marked, rowKey(&r.Destinations[i]))
		}
	}
	if len(marked) > 0 {
		t.line("  destinations above marked %s: %s", FlagTriedOffline, strings.Join(marked, ", "))
	}
	if l.Rejected > 0 {
		nums := make([]string, len(l.RejectedLines))
		for i, n := range l.RejectedLines {
			nums[i] = fmt.Sprint(n)
		}
		t.line("  %s: %d line(s) were not records and were skipped (line %s)", l.Path, l.Rejected, strings.Join(nums, ", "))
	}
	t.blank()
}
