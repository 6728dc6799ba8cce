package audit

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"droneaudit/audit/destinations"
	"droneaudit/audit/devices"
	"droneaudit/geo"
)

// FindingDevice is the lab device of a device finding, as the device inventory knows it.
type FindingDevice struct {
	MAC        string   `json:"mac"` // "" for a device of a capture without link-layer addresses
	Vendor     string   `json:"vendor"`
	Randomised bool     `json:"randomised"`
	Class      string   `json:"class"`
	IPv4       []string `json:"ipv4"`
	IPv6       []string `json:"ipv6"`
	Names      []string `json:"names"` // DHCP host names, mDNS and LLMNR names
}

// Rule names of device findings (Finding.Rules): the denied maker class, a denied owner class
// the device contacted, and the closed segment it reached the internet from.
const (
	RuleDeviceClass       = "class"
	RuleOwner             = "owner"
	RuleClosedSegmentName = "closed-segment"
)

// deviceFindings turns the devices that break the policy into findings, in device order: one
// device-denied finding per device whose maker class is denied or that contacted a denied owner
// class (every such rule listed), and one device-internet finding per device that contacted the
// internet when the segment must be closed.
func deviceFindings(rows []devices.Row, p Policy) []*Finding {
	if !p.Devices.active(p.Destinations.DenyOwners) {
		return nil
	}
	var out []*Finding
	for i := range rows {
		r := &rows[i]
		if f := deniedDevice(r, p); f != nil {
			out = append(out, f)
		}
		if f := closedSegmentDevice(r, p); f != nil {
			out = append(out, f)
		}
	}
	return out
}

func newDeviceFinding(kind string, r *devices.Row) *Finding {
	d := &FindingDevice{MAC: r.MAC, Vendor: r.Vendor, Randomised: r.Randomised, Class: r.Class, IPv4: r.IPv4, IPv6: r.IPv6, Names: []string{}}
	for _, l := range [][]string{r.DHCP.HostNames, r.MDNS.Names, r.LLMNRNames} {
		for _, n := range l {
			if !slices.Contains(d.Names, n) {
				d.Names = append(d.Names, n)
			}
		}
	}
	return &Finding{Kind: kind, Severity: SeverityHigh, FailsPolicy: true, Channel: geo.ChannelNetwork, Scope: destinations.ScopeLabNetwork,
		Device: d, Rules: []Rule{}, zoneIx: -1, inIx: -1}
}

func deniedDevice(r *devices.Row, p Policy) *Finding {
	var f *Finding
	var why []string
	if r.Class != "" && slices.Contains(p.Devices.DenyClasses, r.Class) {
		f = newDeviceFinding(KindDeviceDenied, r)
		f.Rules = append(f.Rules, Rule{Rule: RuleDeviceClass, Value: r.Class, Key: RuleDenyDeviceClasses})
		f.Evidence = deviceEvidence(r.Evidence)
		f.Count = r.FramesOut
		why = append(why, fmt.Sprintf("its maker class %q is denied (%s)", r.Class, strings.Join(r.ClassSigns, "; ")))
	}
	var flows int64
	for _, owner := range r.Owners {
		if !slices.Contains(p.Destinations.DenyOwners, owner) {
			continue
		}
		if f == nil {
			f = newDeviceFinding(KindDeviceDenied, r)
		}
		f.Rules = append(f.Rules, Rule{Rule: RuleOwner, Value: owner, Key: RuleDenyOwners})
		var to []string
		for _, c := range r.Destinations {
			if c.Scope != destinations.ScopeInternet || c.Owner != owner {
				continue
			}
			flows += int64(c.Flows)
			if f.Destination == nil {
				f.Destination, f.Scope = contactDestination(c), destinations.ScopeInternet
				if f.Evidence == nil {
					f.Evidence = deviceEvidence(c.Evidence)
				}
			}
			to = append(to, destText(contactDestination(c)))
		}
		why = append(why, fmt.Sprintf("it contacted %s of the denied owner class %q", listText(to, 3), owner))
	}
	if f == nil {
		return nil
	}
	if flows > 0 {
		f.Count = flows
	}
	f.Rule = f.Rules[0].Key
	f.Summary = fmt.Sprintf("device %s is on the lab segment: %s", deviceText(f.Device), strings.Join(why, "; "))
	return f
}

func closedSegmentDevice(r *devices.Row, p Policy) *Finding {
	if !p.Devices.ClosedSegment || r.InternetContacts == 0 {
		return nil
	}
	f := newDeviceFinding(KindDeviceInternet, r)
	f.Rule = RuleClosedSegment
	f.Scope = destinations.ScopeInternet
	f.Rules = append(f.Rules, Rule{Rule: RuleClosedSegmentName, Value: "true", Key: RuleClosedSegment})
	var to []string
	for _, c := range r.Destinations {
		if c.Scope != destinations.ScopeInternet {
			continue
		}
		f.Count += int64(c.Flows)
		if f.Destination == nil {
			f.Destination, f.Evidence = contactDestination(c), deviceEvidence(c.Evidence)
		}
		to = append(to, destText(contactDestination(c)))
	}
	f.Summary = fmt.Sprintf("device %s reached the internet although the segment must be closed: %s", deviceText(f.Device),
		listText(to, 3))
	return f
}

// contactDestination is the typed destination of a device's contact.
func contactDestination(c devices.Contact) *Destination {
	d := &Destination{IP: c.IP, Port: c.Port, Protocol: c.Protocol, Names: slices.Clone(c.Names), Owner: c.Owner, Country: c.Country, Scope: c.Scope}
	if ip, err := netip.ParseAddr(c.IP); err == nil {
		d.AddressClass = destinations.Class(ip)
	}
	return d
}

// deviceEvidence is the inventory's evidence of a device as the report's evidence.
func deviceEvidence(e *devices.Evidence) *geo.Evidence {
	if e == nil {
		return nil
	}
	return &geo.Evidence{Input: e.Input, SHA256: e.SHA256, Locator: fmt.Sprintf("frame %d", e.Frame), Offset: e.Offset,
		Decoder: "devices", Channel: geo.ChannelNetwork}
}

// deviceText names a device in a sentence: its MAC address (or IP address), vendor, class and
// first name.
func deviceText(d *FindingDevice) string {
	var what []string
	switch {
	case d.Randomised:
		what = append(what, "randomised address")
	case d.Vendor != "":
		what = append(what, d.Vendor)
	}
	if d.Class != "" {
		what = append(what, "class "+d.Class)
	}
	if len(d.Names) > 0 {
		what = append(what, d.Names[0])
	}
	if ip := firstOf(d.IPv4, d.IPv6); ip != "" {
		what = append(what, ip)
	}
	head := d.MAC
	if head == "" {
		head = firstOf(d.IPv4, d.IPv6)
	}
	if len(what) == 0 {
		return head
	}
	return head + " (" + strings.Join(what, ", ") + ")"
}

func firstOf(lists ...[]string) string {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return ""
}

// listText lists at most n items and says how many more there are.
func listText(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
