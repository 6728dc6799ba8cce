package audit

import (
	"fmt"
	"slices"
	"strings"

	"droneaudit/audit/destinations"
	"droneaudit/geo"
)

// Severity grades a finding: how bad it is that it happened, apart from whether the policy fails
// on it.
type Severity string

// The severities, worst first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// severityRank orders severities, worst first.
var severityRank = map[Severity]int{SeverityCritical: 0, SeverityHigh: 1, SeverityMedium: 2, SeverityLow: 3}

// RuleName is the policy rule that produced a finding and decides whether it fails: the key of
// the rule in the configuration, under "policy.".
type RuleName string

// The policy rules. Each is a key of PolicyKeys.
const (
	// RuleFailScopes grades zone positions by how far they went (fail_on × fail_scopes).
	RuleFailScopes RuleName = "fail_scopes"
	// RuleFailOnDevice grades zone positions that stayed on the device.
	RuleFailOnDevice RuleName = "fail_on_device"
	// RuleFailOnBroadcastPilot grades pilot, home and take-off positions broadcast in clear.
	RuleFailOnBroadcastPilot RuleName = "fail_on_broadcast_pilot"
	// RuleFailOnCleartextTelemetry grades positions sent over the network without encryption.
	RuleFailOnCleartextTelemetry RuleName = "fail_on_cleartext_telemetry"
	// RuleFailOnFlightLogUpload grades a flight record seen in network traffic: the log left the
	// device.
	RuleFailOnFlightLogUpload RuleName = "fail_on_flight_log_upload"
	// RuleFailOnTrackLeak grades points of the flown track found in traffic by the known-value
	// search, outside every zone.
	RuleFailOnTrackLeak RuleName = "fail_on_track_leak"
	// RuleDenyOwners, RuleDenyCountries and RuleDenyHosts grade contacts with destinations.
	RuleDenyOwners    RuleName = "destinations.deny_owners"
	RuleDenyCountries RuleName = "destinations.deny_countries"
	RuleDenyHosts     RuleName = "destinations.deny_hosts"
	// RuleDenyDeviceClasses and RuleClosedSegment grade the devices of the lab segment.
	RuleDenyDeviceClasses RuleName = "devices.deny_classes"
	RuleClosedSegment     RuleName = "devices.closed_segment"
	// RuleFailOnTLSPinning grades a lab device that refused the lab's intercepting certificate.
	RuleFailOnTLSPinning RuleName = "fail_on_tls_pinning"
)

// More finding kinds, made by policy rules that look at how a position travelled rather than
// where it lies.
const (
	// KindCleartextTelemetry is a position sent over the network in a flow that was not
	// encrypted (MAVLink or DUML over UDP, JSON over plain HTTP, MQTT without TLS): anyone on
	// the path reads it. Made only when the policy's fail_on_cleartext_telemetry is set.
	KindCleartextTelemetry = "cleartext-telemetry"
	// KindFlightLogUpload is a flight record seen in network traffic: the device uploaded its
	// flight log, every position of the flight with it.
	KindFlightLogUpload = "flight-log-upload"
	// KindTrackLeak is a point of the flown track (the positions of the run's log files) that the
	// known-value search found in a payload that left the device, outside every zone: where the
	// drone flew, or where its team stood, went with it.
	KindTrackLeak = "track-leak"
)

// ObjectFlightRecord is the Evidence.Message a decoder gives a position it read from a flight
// record (a DJI .txt flight log, a DAT log) found inside network traffic: the object the upload
// carried. A position of the flight-record decoders with a network channel counts the same.
const ObjectFlightRecord = "flight-record"

// flightRecordDecoders are the file decoders whose positions come from a flight record: seen on
// the network channel, their file was carried in traffic.
var flightRecordDecoders = []string{"djilog", "dataflash", "ulog"}

// ruleKey maps a destination rule ("owner", "country", "host") to its policy key.
var ruleKey = map[string]RuleName{"owner": RuleDenyOwners, "country": RuleDenyCountries, "host": RuleDenyHosts,
	RuleDeviceClass: RuleDenyDeviceClasses, RuleClosedSegmentName: RuleClosedSegment}

// ruleOf names the rule that graded a finding of this kind, zone and scope: the rule that fails
// it when it fails, else the rule that would.
func (p *Policy) ruleOf(kind string, z *geo.Zone, scope string) RuleName {
	switch kind {
	case KindBroadcastPosition:
		if !p.FailOnBroadcastPilot && z != nil && p.fails(z.Sensitivity) && p.failsScope(destinations.ScopeBroadcast) {
			return RuleFailScopes
		}
		return RuleFailOnBroadcastPilot
	case KindLocationLeak:
		return RuleFailScopes
	case KindOnDeviceExposure:
		if p.FailOnDevice || !slices.Contains(p.FailScopes, destinations.ScopeOnDevice) {
			return RuleFailOnDevice
		}
		return RuleFailScopes
	case KindCleartextTelemetry:
		return RuleFailOnCleartextTelemetry
	case KindFlightLogUpload:
		return RuleFailOnFlightLogUpload
	case KindTrackLeak:
		return RuleFailOnTrackLeak
	}
	return ""
}

// inClear reports whether a network position travelled in a flow that was not opened by
// decryption. Decrypted bytes are delivered as an inner flow whose uid is the outer flow's uid
// with "-" and the layer's name appended (flowtable.Inner); a flow of the capture itself has a
// uid of one base32 word.
func inClear(n *geo.Network) bool { return n != nil && !strings.Contains(n.FlowUID, "-") }

// isFlightRecord reports whether a position was read from a flight record.
func isFlightRecord(ev *geo.Evidence) bool {
	return ev.Message == ObjectFlightRecord || slices.Contains(flightRecordDecoders, ev.Decoder)
}

// addTravel makes the findings of the rules that look at how a position travelled, whatever
// zone it lies in: a flight record carried over the network, and a position sent in clear.
func (a *aggregator) addTravel(f geo.Fix) {
	ev := &f.Evidence
	if ev.Channel != geo.ChannelNetwork || ev.Network == nil {
		return
	}
	upload := isFlightRecord(ev)
	clear := a.policy.FailOnCleartextTelemetry && inClear(ev.Network)
	if !upload && !clear {
		return
	}
	p := a.party(ev)
	if p.scope == destinations.ScopeOnDevice {
		return // loopback: between programs of the device, not over the network
	}
	if upload {
		a.record(findingKey{KindFlightLogUpload, -1, "", geo.ChannelNetwork, p.key, p.dir}, f, p, 0, true, nil)
	}
	if clear {
		if c := &a.clearKey; c.party != p.key || c.decoder != ev.Decoder || c.key == "" {
			c.party, c.decoder, c.key = p.key, ev.Decoder, p.key+" "+ev.Decoder
		}
		a.record(findingKey{KindCleartextTelemetry, -1, "", geo.ChannelNetwork, a.clearKey.key, p.dir}, f, p, 0, true, nil)
	}
}

// addTrackLeak makes the finding of a search hit near the flown track and in no zone, when it
// left the device (a hit over loopback stayed on it).
func (a *aggregator) addTrackLeak(f geo.Fix) {
	p := a.party(&f.Evidence)
	if p.scope == destinations.ScopeOnDevice {
		return
	}
	a.record(findingKey{KindTrackLeak, -1, "", f.Evidence.Channel, p.key, p.dir}, f, p, 0, true, nil)
}

// gradeTrackLeak gives the severity of a track leak and whether it fails: high where the track
// reached the internet or the air, medium on the lab network; it fails with fail_on_track_leak
// in the scopes of fail_scopes, as a zone leak does.
func (p *Policy) gradeTrackLeak(scope string) (Severity, bool) {
	sev := SeverityHigh
	if scope == destinations.ScopeLabNetwork {
		sev = SeverityMedium
	}
	return sev, p.FailOnTrackLeak && p.failsScope(scope)
}

// gradeTravel gives the severity of the travel findings and whether they fail.
func (p *Policy) gradeTravel(kind, scope string) (Severity, bool) {
	switch kind {
	case KindFlightLogUpload:
		if scope == destinations.ScopeLabNetwork {
			return SeverityHigh, p.FailOnFlightLogUpload
		}
		return SeverityCritical, p.FailOnFlightLogUpload
	default: // KindCleartextTelemetry
		if scope == destinations.ScopeLabNetwork {
			return SeverityMedium, p.FailOnCleartextTelemetry
		}
		return SeverityHigh, p.FailOnCleartextTelemetry
	}
}

// summariseTravel writes the summary of a travel finding.
func (f *Finding) summariseTravel() {
	what := plural(f.Count, "position")
	dest := destText(f.Destination)
	if f.Destination != nil {
		dest += " (" + whereTo(f.Destination) + ")"
	}
	switch f.Kind {
	case KindFlightLogUpload:
		if f.Direction == "inbound" {
			f.Summary = fmt.Sprintf("a flight record with %s was sent to the device by %s: that server holds the flight log", what, dest)
		} else {
			f.Summary = fmt.Sprintf("a flight record with %s was uploaded to %s: the flight log left the device", what, dest)
		}
	case KindCleartextTelemetry:
		f.Summary = fmt.Sprintf("%s travelled unencrypted (%s) to or from %s: anyone on the path reads them", what, f.First.Evidence.Decoder, dest)
	case KindTrackLeak:
		enc := f.First.Evidence.Encoding
		switch {
		case f.Channel == geo.ChannelBroadcast:
			f.Summary = fmt.Sprintf("%s of the flown track (%s) were broadcast in clear by %s", what, enc, f.Transmitter)
		case f.Direction == "inbound":
			f.Summary = fmt.Sprintf("%s of the flown track (%s) were sent to the device by %s: that server holds them", what, enc, dest)
		default:
			f.Summary = fmt.Sprintf("%s of the flown track (%s) left the device to %s: where the drone flew went with them", what, enc, dest)
		}
	}
}

// failedRules lists the rules of the failing findings, in the order of PolicyKeys.
func failedRules(fs []*Finding) []RuleName {
	out := []RuleName{}
	for _, k := range PolicyKeys {
		r := RuleName(k)
		for _, f := range fs {
			if f.FailsPolicy && (f.Rule == r || slices.ContainsFunc(f.Rules, func(x Rule) bool { return x.Key == r })) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}
