package audit

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// With fail_on_cleartext_telemetry, the positions of the generated lab capture that travel in
// clear (MQTT without TLS, HTTP on port 80) are cleartext-telemetry findings that fail under that
// rule, and positions read from decrypted TLS are not; every finding names its rule and
// the verdict lists the rules that failed.
func TestCleartextTelemetryRule(t *testing.T) {
	capture := labCapture(t, netfixture.Pcapng, 3000, 3)
	zones := zonesAround(t, 22.9079, 113.7034, 500, geo.Secret)
	run := func(p Policy) *Report {
		rep, err := Run(t.Context(), []Source{BytesSource("lab.pcapng", capture)},
			Options{Zones: zones, Policy: p, Destinations: &destinations.Options{}})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := run(DefaultPolicy()); slices.ContainsFunc(rep.Findings, func(f *Finding) bool { return f.Kind == KindCleartextTelemetry }) {
		t.Fatal("cleartext-telemetry finding without the policy key")
	}
	p := DefaultPolicy()
	p.FailOnCleartextTelemetry = true
	rep := run(p)
	clear := map[string]int{}
	for _, f := range rep.Findings {
		if f.Rule == "" || f.Severity == "" {
			t.Fatalf("finding %s without rule or severity: %+v", f.ID, f)
		}
		n := f.First.Evidence.Network
		switch f.Kind {
		case KindCleartextTelemetry:
			clear[f.First.Evidence.Decoder]++
			if n == nil || strings.Contains(n.FlowUID, "-") || f.Rule != RuleFailOnCleartextTelemetry || !f.FailsPolicy ||
				!strings.Contains(f.Summary, "unencrypted") {
				t.Fatalf("cleartext finding %+v (%s)", f, f.Summary)
			}
		case KindLocationLeak:
			if f.Rule != RuleFailScopes {
				t.Fatalf("leak graded by %q", f.Rule)
			}
		}
	}
	// MQTT to the lab broker and plain HTTP on port 80 are clear.
	if clear["mqtt"] == 0 || clear["http"] == 0 {
		t.Fatalf("cleartext findings by decoder %v", clear)
	}
	// The audit does not open TLS yet: a position from a decrypted inner flow (uid "<outer>-tls",
	// flowtable.Inner) is no clear-text finding, the same position in the outer flow is.
	for _, uid := range []string{"Cm1bmq7cg3rrdh40k1-tls", "Cm1bmq7cg3rrdh40k1"} {
		a := newAggregator(p, "x.pcap", 0)
		a.add(geo.Fix{Lat: 1, Lon: 1, Evidence: geo.Evidence{Decoder: "http", Channel: geo.ChannelNetwork, Network: &geo.Network{FlowUID: uid,
			Proto: netflow.TCP, Src: netip.MustParseAddrPort("192.168.1.20:50000"), Dst: netip.MustParseAddrPort("203.0.113.9:443")}}}, nil)
		if got, want := len(a.order), map[bool]int{true: 0, false: 1}[strings.HasSuffix(uid, "-tls")]; got != want {
			t.Fatalf("flow %s: %d findings, want %d", uid, got, want)
		}
	}
	want := []RuleName{RuleFailScopes, RuleFailOnCleartextTelemetry}
	if !slices.Equal(rep.Verdict.FailedRules, want) {
		t.Fatalf("failed rules %v, want %v", rep.Verdict.FailedRules, want)
	}
	for _, r := range rep.Verdict.Reasons {
		if r.Code == ReasonPolicy && r.Rule == "" {
			t.Fatalf("reason without a rule: %+v", r)
		}
	}
}

// A flight record seen in network traffic (a position of a flight-record decoder on the network
// channel, or one a decoder marks as coming from a flight-record object) is a flight-log-upload
// finding under fail_on_flight_log_upload; over loopback it is none.
func TestFlightLogUploadRule(t *testing.T) {
	fix := func(dst, decoder, msg string) geo.Fix {
		return geo.Fix{Lat: 51.16, Lon: 5.47, Role: geo.RoleAircraft, Evidence: geo.Evidence{Input: "up.pcap", Decoder: decoder, Message: msg,
			Channel: geo.ChannelNetwork, Network: &geo.Network{FlowUID: "Cabc-tls", Proto: netflow.TCP,
				Src: netip.MustParseAddrPort("192.168.1.20:50000"), Dst: netip.MustParseAddrPort(dst), Direction: netflow.ClientToServer}}}
	}
	for _, tc := range []struct {
		name    string
		f       geo.Fix
		off     bool
		want    bool
		fails   bool
		sev     Severity
		summary string
	}{
		{"djilog to the internet", fix("203.0.113.9:443", "djilog", ""), false, true, true, SeverityCritical, "uploaded to"},
		{"object in http to the lab", fix("192.168.1.5:80", "http", ObjectFlightRecord), false, true, true, SeverityHigh, "uploaded to"},
		{"policy off", fix("203.0.113.9:443", "djilog", ""), true, true, false, SeverityCritical, "uploaded to"},
		{"loopback", fix("127.0.0.1:8080", "djilog", ""), false, false, false, "", ""},
		{"telemetry", fix("203.0.113.9:443", "mavlink", ""), false, false, false, "", ""},
	} {
		p := DefaultPolicy()
		p.FailOnFlightLogUpload = !tc.off
		a := newAggregator(p, "up.pcap", 0)
		a.add(tc.f, nil)
		var got *Finding
		for _, f := range a.order {
			if f.Kind == KindFlightLogUpload {
				got = f
			}
		}
		if (got != nil) != tc.want {
			t.Fatalf("%s: finding %+v", tc.name, got)
		}
		if got == nil {
			continue
		}
		got.summarise()
		if got.FailsPolicy != tc.fails || got.Severity != tc.sev || got.Rule != RuleFailOnFlightLogUpload || !strings.Contains(got.Summary, tc.summary) {
			t.Fatalf("%s: %+v", tc.name, got)
		}
		if rules := failedRules(a.order); tc.fails != slices.Contains(rules, RuleFailOnFlightLogUpload) {
			t.Fatalf("%s: failed rules %v", tc.name, rules)
		}
	}
}
