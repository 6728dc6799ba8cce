package audit

import (
	"fmt"

	"droneaudit/audit/destinations"

	"droneaudit/geo"
)

// Policy says what makes an audit fail. The zero value is not useful; start from DefaultPolicy.
type Policy struct {
	// FailOn lists the zone sensitivities whose positions must not leave the device.
	FailOn []geo.Sensitivity `json:"fail_on" mapstructure:"fail_on"`
	// FailOnBroadcastPilot fails the audit when a pilot or home position is broadcast in clear
	// (DroneID, Remote ID), inside a zone or not: anyone in radio range learns where the team is.
	FailOnBroadcastPilot bool `json:"fail_on_broadcast_pilot" mapstructure:"fail_on_broadcast_pilot"`
	// FailOnDevice also fails on positions inside failing zones that are only in on-device logs.
	FailOnDevice bool `json:"fail_on_device" mapstructure:"fail_on_device"`
	// Destinations fails the audit on contacts with denied owner classes, countries or hosts.
	Destinations destinations.Policy `json:"destinations" mapstructure:"destinations"`
}

// DefaultPolicy fails on secret and restricted positions off the device and on pilot or home
// positions broadcast in clear.
func DefaultPolicy() Policy {
	return Policy{FailOn: []geo.Sensitivity{geo.Secret, geo.Restricted}, FailOnBroadcastPilot: true}
}

// Validate checks the sensitivities named.
func (p Policy) Validate() error {
	for _, s := range p.FailOn {
		switch s {
		case geo.Secret, geo.Restricted, geo.Public:
		default:
			return fmt.Errorf("policy: fail_on %q: want secret, restricted or public", s)
		}
	}
	return nil
}

func (p Policy) fails(s geo.Sensitivity) bool {
	for _, f := range p.FailOn {
		if f == s {
			return true
		}
	}
	return false
}
