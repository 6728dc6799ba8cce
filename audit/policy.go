package audit

import (
	"fmt"
	"slices"
	"strings"

	"droneaudit/audit/destinations"
	"droneaudit/geo"
)

// Policy says what makes an audit fail. The zero value is not useful; start from DefaultPolicy.
type Policy struct {
	// FailOn lists the zone sensitivities whose positions must not leave the device.
	FailOn []geo.Sensitivity `json:"fail_on" mapstructure:"fail_on"`
	// FailScopes lists how far a position inside a FailOn zone may not go: "internet" (it left
	// the site), "broadcast" (anyone in radio range, or every host of the network, got it),
	// "lab-network" (it left the device for the lab's own network), "on-device" (it is held in a
	// log file or passed over loopback). A zone position in another scope is still a finding,
	// one that does not fail.
	FailScopes []string `json:"fail_scopes" mapstructure:"fail_scopes"`
	// FailOnBroadcastPilot fails the audit when a pilot or home position is broadcast in clear
	// (DroneID, Remote ID), inside a zone or not: anyone in radio range learns where the team is.
	FailOnBroadcastPilot bool `json:"fail_on_broadcast_pilot" mapstructure:"fail_on_broadcast_pilot"`
	// FailOnDevice also fails on positions inside failing zones that stay on the device: the same
	// as "on-device" in FailScopes.
	FailOnDevice bool `json:"fail_on_device" mapstructure:"fail_on_device"`
	// FailOnCleartextTelemetry fails the audit when a position travels over the network without
	// encryption (MAVLink or DUML over UDP, JSON over plain HTTP, MQTT without TLS), inside a
	// zone or not: anyone on the path reads it. Loopback is not the network.
	FailOnCleartextTelemetry bool `json:"fail_on_cleartext_telemetry" mapstructure:"fail_on_cleartext_telemetry"`
	// FailOnFlightLogUpload fails the audit when a flight record is seen in network traffic: the
	// device uploaded its flight log.
	FailOnFlightLogUpload bool `json:"fail_on_flight_log_upload" mapstructure:"fail_on_flight_log_upload"`
	// FailOnTrackLeak fails the audit when the known-value search finds a point of the flown
	// track (from the run's log files) in a payload that reached a scope of FailScopes, outside
	// every zone (default true).
	FailOnTrackLeak bool `json:"fail_on_track_leak" mapstructure:"fail_on_track_leak"`
	// FailOnTLSPinning fails the audit when a lab device refused the lab's intercepting
	// certificate (lab up --tls-intercept): what it sends cannot be shown.
	FailOnTLSPinning bool `json:"fail_on_tls_pinning" mapstructure:"fail_on_tls_pinning"`
	// Destinations fails the audit on contacts with denied owner classes, countries or hosts.
	Destinations destinations.Policy `json:"destinations" mapstructure:"destinations"`
	// Devices fails the audit on devices of the lab segment: of denied maker classes, or that
	// reach the internet when the segment must be closed (devices_policy.go).
	Devices DevicePolicy `json:"devices" mapstructure:"devices"`
}

// PolicyKeys are the keys of a policy in a configuration, under "policy.".
var PolicyKeys = []string{"fail_on", "fail_scopes", "fail_on_broadcast_pilot", "fail_on_device",
	"fail_on_cleartext_telemetry", "fail_on_flight_log_upload", "fail_on_track_leak", "fail_on_tls_pinning", "destinations.deny_owners", "destinations.deny_countries", "destinations.deny_hosts",
	"devices.deny_classes", "devices.closed_segment"}

// DefaultPolicy fails on secret and restricted positions that leave the site or are broadcast,
// on pilot or home positions broadcast in clear, and on a flight log uploaded. A zone position
// sent to the lab network is a finding that does not fail; positions in clear-text flows are no
// finding unless fail_on_cleartext_telemetry is set.
func DefaultPolicy() Policy {
	return Policy{FailOn: []geo.Sensitivity{geo.Secret, geo.Restricted}, FailOnBroadcastPilot: true, FailOnFlightLogUpload: true, FailOnTrackLeak: true,
		FailScopes: []string{destinations.ScopeInternet, destinations.ScopeBroadcast}}
}

// Validate checks every value the policy names and writes it in its canonical form (scopes and
// sensitivities in lower case, owner classes by their full name, countries in upper case). An
// error names the key and the value. classes are the owner classes the configuration's own
// owner rules define, which deny_owners may name besides the built-in ones.
func (p *Policy) Validate(classes ...string) error {
	for i, s := range p.FailOn {
		s = geo.Sensitivity(strings.ToLower(string(s)))
		switch s {
		case geo.Secret, geo.Restricted, geo.Public:
			p.FailOn[i] = s
		default:
			return fmt.Errorf("policy.fail_on: %q: want secret, restricted or public", p.FailOn[i])
		}
	}
	for i, s := range p.FailScopes {
		s = strings.ToLower(s)
		if !slices.Contains(destinations.Scopes, s) {
			return fmt.Errorf("policy.fail_scopes: %q: want %s", p.FailScopes[i], strings.Join(destinations.Scopes, ", "))
		}
		p.FailScopes[i] = s
	}
	if p.FailOn == nil {
		p.FailOn = []geo.Sensitivity{}
	}
	if p.FailScopes == nil {
		p.FailScopes = []string{}
	}
	if err := p.Destinations.Validate(classes); err != nil {
		return fmt.Errorf("policy.destinations.%v", err)
	}
	if err := p.Devices.Validate(); err != nil {
		return fmt.Errorf("policy.devices.%v", err)
	}
	for _, l := range []*[]string{&p.Destinations.DenyOwners, &p.Destinations.DenyCountries, &p.Destinations.DenyHosts, &p.Devices.DenyClasses} {
		if *l == nil {
			*l = []string{}
		}
	}
	return nil
}

func (p *Policy) fails(s geo.Sensitivity) bool { return slices.Contains(p.FailOn, s) }

func (p *Policy) failsScope(scope string) bool {
	return slices.Contains(p.FailScopes, scope) || scope == destinations.ScopeOnDevice && p.FailOnDevice
}
