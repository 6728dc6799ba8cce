package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/audit/devices"
	"droneaudit/geo"
	"droneaudit/internal/version"
)

// ReportMeta is what the report folder says beside the audit itself: the case, the build and the
// configuration it ran with, and how the human reports are written.
type ReportMeta struct {
	Case, Examiner string
	// Commit is the git commit droneaudit was built from ("unknown …" when not stamped).
	Commit string
	// ConfigFile and ConfigSHA256 name the configuration file read, if any.
	ConfigFile, ConfigSHA256 string
	// OwnerRules counts the owner rules the configuration adds to the built-in table.
	OwnerRules int
	// Zones is the zone file's geometry, for the map; nil when no zone file was used.
	Zones *geo.Zones
	// Redact replaces coordinates in the human reports (Markdown, HTML) with zone names and
	// distances.
	Redact bool
	// Location is the time zone of the human reports' times (nil: UTC).
	Location *time.Location
}

// Document is report.json: the audit report with what a case file needs around it. Its fields
// are documented in docs/report-schema.md and checked by docs/report.schema.json; it is
// deterministic like the report (no wall-clock time, lists in a fixed order).
type Document struct {
	*Report
	Commit       string          `json:"commit"`
	Case         CaseInfo        `json:"case"`
	Config       ConfigInfo      `json:"config"`
	Datasets     []Dataset       `json:"datasets"`
	FixesSummary FixesSummary    `json:"fixes_summary"`
	Tracks       []*Track        `json:"tracks"`
	Timeline     []TimelineEvent `json:"timeline"`

	meta ReportMeta
}

// CaseInfo is the case metadata given on the command line (--case, --examiner).
type CaseInfo struct {
	Case     string `json:"case"`
	Examiner string `json:"examiner"`
}

// ConfigInfo names the configuration an audit ran with; the policy is in the report itself.
type ConfigInfo struct {
	File       string `json:"file"`
	SHA256     string `json:"sha256"`
	ZonesFile  string `json:"zones_file"`
	OwnerRules int    `json:"owner_rules"`
	Redact     bool   `json:"redact"`
}

// Dataset is one table of reference data the audit used, with its version.
type Dataset struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	SHA256      string `json:"sha256,omitempty"`
	Attribution string `json:"attribution,omitempty"`
	Used        bool   `json:"used"`
}

// FixesSummary counts the positions decoded, by channel, role and decoder, and bounds them.
type FixesSummary struct {
	Total     int64            `json:"total"`
	ByChannel map[string]int64 `json:"by_channel"`
	ByRole    map[string]int64 `json:"by_role"`
	ByFormat  map[string]int64 `json:"by_format"`
	Tracks    int              `json:"tracks"`
	// TracksDropped counts the tracks beyond the bound kept per input.
	TracksDropped int64 `json:"tracks_dropped"`
}

// TimelineEvent is one moment something left the device: the first or last observation of an
// off-device finding, or the first or last contact with a destination.
type TimelineEvent struct {
	Time    string      `json:"time"`
	TimeRef string      `json:"time_ref"` // "utc" or "device-local"
	Event   string      `json:"event"`    // position-first, position-last, contact-first, contact-last
	Finding string      `json:"finding,omitempty"`
	Channel geo.Channel `json:"channel"`
	Text    string      `json:"text"`

	t time.Time
}

// Timeline events.
const (
	EventPositionFirst = "position-first"
	EventPositionLast  = "position-last"
	EventContactFirst  = "contact-first"
	EventContactLast   = "contact-last"
)

// NewDocument wraps a report in its report.json document.
func NewDocument(r *Report, m ReportMeta) *Document {
	d := &Document{Report: r, Commit: m.Commit, Case: CaseInfo{Case: m.Case, Examiner: m.Examiner}, meta: m,
		Config: ConfigInfo{File: m.ConfigFile, SHA256: m.ConfigSHA256, OwnerRules: m.OwnerRules, Redact: m.Redact},
		Tracks: []*Track{}, Timeline: []TimelineEvent{}}
	if r.Zones != nil {
		d.Config.ZonesFile = r.Zones.Source
	}
	d.Datasets = datasets(r, m)
	d.FixesSummary = FixesSummary{ByChannel: map[string]int64{}, ByRole: map[string]int64{}, ByFormat: map[string]int64{}}
	for _, in := range r.Inputs {
		fs := &d.FixesSummary
		fs.Total += in.Fixes
		addCounts(&fs.ByChannel, in.ByChannel)
		addCounts(&fs.ByRole, in.ByRole)
		if in.Fixes > 0 {
			fs.ByFormat[cmp.Or(in.Format, "unknown")] += in.Fixes
		}
		d.Tracks = append(d.Tracks, in.tracks.tracks...)
		fs.TracksDropped += in.tracks.dropped
	}
	d.FixesSummary.Tracks = len(d.Tracks)
	d.Timeline = timeline(r)
	return d
}

func datasets(r *Report, m ReportMeta) []Dataset {
	var out []Dataset
	if r.Zones != nil {
		out = append(out, Dataset{Name: "zones", Version: r.Zones.Source, SHA256: r.Zones.SHA256, Used: true})
	}
	captures := r.GeoIP != nil
	country, asn := destinations.BuiltinCountryVersion, destinations.BuiltinASNVersion
	var attr []string
	if r.GeoIP != nil {
		country, asn, attr = r.GeoIP.CountryDB, cmp.Or(r.GeoIP.ASNDB, asn), r.GeoIP.Attribution
	}
	pick := func(i int, def string) string {
		if i < len(attr) {
			return attr[i]
		}
		return def
	}
	out = append(out,
		Dataset{Name: "ip-country", Version: country, Attribution: pick(0, destinations.DBIPAttribution), Used: captures},
		Dataset{Name: "ip-asn", Version: asn, Attribution: pick(1, destinations.ASNAttribution), Used: captures},
		Dataset{Name: "owners", Version: fmt.Sprintf("built-in owner table of droneaudit %s, %d rules (docs/OWNERS.md), and %d rule(s) of the configuration",
			version.Number, len(destinations.BuiltinOwners), m.OwnerRules), Used: captures},
		Dataset{Name: "mac-vendors", Version: devices.OUIVersion, Attribution: devices.OUIAttribution, Used: false},
	)
	return out
}

// timeline lists when what left the device, by time: UTC times first, then a device's own clock
// (its zone unknown, it cannot be placed among them).
func timeline(r *Report) []TimelineEvent {
	out := []TimelineEvent{}
	for _, f := range r.Findings {
		if f.Kind == KindOnDeviceExposure || f.Kind == KindDestinationDenied || f.First == nil {
			continue
		}
		what := f.Kind
		if f.Zone != "" {
			what += " (zone " + f.Zone + ")"
		}
		to := destOrTransmitter(f)
		for i, o := range []*Observation{f.First, f.Last} {
			if o == nil || o.t.IsZero() || i == 1 && (f.Count == 1 || o == f.First) {
				continue
			}
			ev, word := EventPositionFirst, "first"
			if i == 1 {
				ev, word = EventPositionLast, "last"
			}
			out = append(out, TimelineEvent{Time: o.Time, TimeRef: o.TimeRef, Event: ev, Finding: f.ID, Channel: f.Channel, t: o.t,
				Text: fmt.Sprintf("%s: %s %s position of %d, %s", f.ID, word, what, f.Count, to)})
		}
	}
	for _, row := range r.Destinations {
		if row.Scope == destinations.ScopeOnDevice || row.First.IsZero() {
			continue
		}
		name := fmt.Sprintf("%s:%d/%s", row.IP, row.Port, row.Protocol)
		if len(row.Names) > 0 {
			name = row.Names[0].Name + " (" + name + ")"
		}
		out = append(out, TimelineEvent{Time: row.First.UTC().Format(time.RFC3339Nano), TimeRef: "utc", Event: EventContactFirst,
			Channel: geo.ChannelNetwork, t: row.First, Text: fmt.Sprintf("first contact with %s, %s; %d B sent in %s", name, row.Scope, row.BytesOut, plural(int64(row.Flows), "flow"))})
		if !row.Last.IsZero() && !row.Last.Equal(row.First) {
			out = append(out, TimelineEvent{Time: row.Last.UTC().Format(time.RFC3339Nano), TimeRef: "utc", Event: EventContactLast,
				Channel: geo.ChannelNetwork, t: row.Last, Text: "last contact with " + name})
		}
	}
	slices.SortStableFunc(out, func(a, b TimelineEvent) int {
		return cmp.Or(cmpBool(a.TimeRef == "device-local", b.TimeRef == "device-local"), a.t.Compare(b.t), strings.Compare(a.Text, b.Text))
	})
	return out
}

// destOrTransmitter names where a finding's positions went.
func destOrTransmitter(f *Finding) string {
	switch {
	case f.Destination != nil:
		if f.Direction == "inbound" {
			return "received from " + destText(f.Destination)
		}
		return "sent to " + destText(f.Destination)
	case f.Transmitter != "":
		return "broadcast by " + f.Transmitter
	}
	return string(f.Channel)
}
