package audit

import (
	"fmt"
	"strings"

	"droneaudit/audit/destinations"
	"droneaudit/audit/devices"
	"droneaudit/geo"
)

// The devices section of the text report: one entry per device of the lab segment, from the
// device inventory of the same pass (audit/devices). 'droneaudit devices' lists every field;
// the report keeps what a reader checks a register against.

func (r *Report) writeDevices(t *textOut) {
	if r.DeviceOUI == nil {
		return
	}
	t.line("Devices on the lab segment: %d", len(r.Devices))
	for i := range r.Devices {
		d := &r.Devices[i]
		t.line("  %s", deviceHead(d))
		addrs := append(append([]string{}, d.IPv4...), d.IPv6...)
		if len(addrs) > 0 {
			t.line("      addresses: %s", strings.Join(addrs, " "))
		}
		if names := deviceNames(d); len(names) > 0 {
			t.line("      names: %s", strings.Join(names, ", "))
		}
		if m := deviceModel(d); m != "" {
			t.line("      model: %s", m)
		}
		if len(d.Destinations) == 0 {
			continue
		}
		var to []string
		for _, c := range d.Destinations {
			s := destText(contactDestination(c))
			if c.Scope == destinations.ScopeInternet {
				s += " " + c.Owner
				if c.Country != "" {
					s += " " + c.Country
				}
			}
			to = append(to, s)
		}
		t.line("      contacted: %d destination(s), %d on the internet: %s", len(d.Destinations), d.InternetContacts, strings.Join(to, "; "))
	}
	t.line("  (%s)", r.DeviceOUI.Attribution)
	t.blank()
}

// devicePolicyLines say in words what fails a device.
func devicePolicyLines(p Policy) []string {
	var out []string
	if len(p.Devices.DenyClasses) > 0 {
		out = append(out, "fails when a device of the segment is of maker class "+strings.Join(p.Devices.DenyClasses, ", "))
	}
	if len(p.Destinations.DenyOwners) > 0 {
		out = append(out, "fails, per device, when a device of the segment contacted owner class "+strings.Join(p.Destinations.DenyOwners, ", "))
	}
	if p.Devices.ClosedSegment {
		out = append(out, "the segment must be closed: fails when a device of it contacted any internet address")
	}
	return out
}

// deviceHead is a device's first line: its address, vendor (or that the address is randomised)
// and maker class.
func deviceHead(d *devices.Row) string {
	s := d.MAC
	if s == "" {
		s = "(no link-layer address)"
	}
	switch {
	case d.Randomised:
		s += "  randomised (locally administered) address"
	case d.Vendor != "":
		s += "  " + d.Vendor
	case d.MAC != "":
		s += "  unregistered prefix"
	}
	if d.Class != "" {
		s += "  class " + d.Class
	}
	if d.Gateway {
		s += "  gateway"
	}
	return s
}

// deviceNames lists the names a device gave itself: DHCP host names, mDNS and LLMNR names, the
// ONVIF name scope and the UPnP friendly name.
func deviceNames(d *devices.Row) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range [][]string{d.DHCP.HostNames, d.MDNS.Names, d.LLMNRNames, d.ONVIF.Names, d.UPnP.FriendlyNames} {
		for _, n := range l {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// deviceModel says what model, serial number and firmware a device announced (ONVIF scopes, SADP,
// UPnP description).
func deviceModel(d *devices.Row) string {
	var parts []string
	add := func(label string, l ...[]string) {
		var vals []string
		for _, x := range l {
			for _, v := range x {
				if !containsString(vals, v) {
					vals = append(vals, v)
				}
			}
		}
		if len(vals) > 0 {
			parts = append(parts, label+" "+strings.Join(vals, ", "))
		}
	}
	add("maker", d.UPnP.Manufacturers)
	add("model", d.ONVIF.Models, d.SADP.Models, d.UPnP.ModelNames, d.UPnP.ModelNumbers)
	add("serial", d.SADP.Serials, d.UPnP.Serials)
	add("firmware", d.ONVIF.Firmware, d.SADP.Firmware)
	return strings.Join(parts, "; ")
}

func containsString(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// frameText locates a device finding's frame in its input.
func frameText(e *geo.Evidence) string {
	return fmt.Sprintf("%s %s (offset %d), sha256 %s", e.Input, e.Locator, e.Offset, e.SHA256)
}
