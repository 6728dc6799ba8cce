package audit

import (
	"fmt"
	"slices"
	"strings"

	"droneaudit/audit/devices"
)

// DevicePolicy says which devices of the lab segment an acceptance test forbids. The owner
// classes a device contacts are checked against Policy.Destinations.DenyOwners as well: a device
// that called a denied owner is a device finding besides the destination finding.
type DevicePolicy struct {
	// DenyClasses are maker classes (devices.Classes: dji, hikvision, dahua, …) no device of the
	// segment may belong to, by its IEEE vendor or what it announced (Row.Class).
	DenyClasses []string `json:"deny_classes" mapstructure:"deny_classes"`
	// ClosedSegment says the segment must have no outside link (cameras on a separate network):
	// every device that contacted an internet address fails.
	ClosedSegment bool `json:"closed_segment" mapstructure:"closed_segment"`
}

// Validate checks the maker classes and writes them in lower case.
func (p *DevicePolicy) Validate() error {
	for i, c := range p.DenyClasses {
		lc := strings.ToLower(c)
		if !slices.Contains(devices.Classes, lc) {
			return fmt.Errorf("deny_classes: %q is no maker class (want one of %s)", c, strings.Join(devices.Classes, ", "))
		}
		p.DenyClasses[i] = lc
	}
	return nil
}

// active reports whether the policy can fail a device at all.
func (p *DevicePolicy) active(denyOwners []string) bool {
	return len(p.DenyClasses) > 0 || p.ClosedSegment || len(denyOwners) > 0
}
