package audit

import (
	"droneaudit/netflow"
	"fmt"
	"net/netip"

	"droneaudit/audit/destinations"
	"math"
	"time"

	"droneaudit/geo"
)

// Finding kinds.
const (
	KindLocationLeak      = "location-leak"      // a zone position seen on a network or broadcast channel
	KindBroadcastPosition = "broadcast-position" // a pilot or home position broadcast in clear
	KindOnDeviceExposure  = "on-device-exposure" // a zone position held in a log file on the device
	KindDestinationDenied = "destination-denied" // a contact with a destination the policy forbids
)

// Finding says what left the device (or would, if a log were shared) and how bad it is. Equal
// observations are aggregated: one finding per kind, zone, role, channel, input and destination,
// with a count and its first and last evidence.
type Finding struct {
	ID          string      `json:"id"`
	Kind        string      `json:"kind"`
	Severity    string      `json:"severity"` // critical, high, medium, low
	FailsPolicy bool        `json:"fails_policy"`
	Summary     string      `json:"summary"`
	Zone        string      `json:"zone,omitempty"`
	Sensitivity string      `json:"sensitivity,omitempty"`
	Role        geo.Role    `json:"role,omitempty"`
	Channel     geo.Channel `json:"channel"`
	Destination string      `json:"destination,omitempty"`
	// Direction is "outbound" (the device sent the position) or "inbound" (a server sent it to
	// the device: the server holds it) for network findings.
	Direction string       `json:"direction,omitempty"`
	Input     string       `json:"input,omitempty"`
	Count     int64        `json:"count"`
	Inside    int64        `json:"inside"` // how many of Count are inside the zone, not only within tolerance
	First     *Observation `json:"first,omitempty"`
	Last      *Observation `json:"last,omitempty"`

	zoneIndex  int
	inputIndex int
	server     serverKey // the flow's server, typed, to join the destination inventory
}

// serverKey is a flow's server endpoint and transport: the key of a destination inventory row.
type serverKey struct {
	addr  netip.AddrPort
	proto netflow.Proto
}

// Observation is one fix behind a finding.
type Observation struct {
	Lat        float64      `json:"lat"`
	Lon        float64      `json:"lon"`
	AltM       *float64     `json:"alt_m,omitempty"`
	Time       string       `json:"time,omitempty"`
	DistanceM  float64      `json:"distance_m"` // 0 inside the zone, else metres to its edge
	PrecisionM float64      `json:"precision_m"`
	Evidence   geo.Evidence `json:"evidence"`
}

func observe(f geo.Fix, dist float64) *Observation {
	o := &Observation{Lat: f.Lat, Lon: f.Lon, DistanceM: round(dist, 2), PrecisionM: round(f.PrecisionM, 3), Evidence: f.Evidence}
	if f.HasAlt {
		a := round(f.AltM, 3)
		o.AltM = &a
	}
	if !f.Time.IsZero() {
		o.Time = f.Time.UTC().Format(time.RFC3339Nano)
	}
	return o
}

func round(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

type findingKey struct {
	kind    string
	zone    int
	role    geo.Role
	channel geo.Channel
	dest    string
	dir     string
}

// aggregator collects the findings of one input.
type aggregator struct {
	policy     Policy
	input      string
	inputIndex int
	byKey      map[findingKey]*Finding
	order      []*Finding
}

func newAggregator(p Policy, input string, idx int) *aggregator {
	return &aggregator{policy: p, input: input, inputIndex: idx, byKey: map[findingKey]*Finding{}}
}

// destination names the other party of an off-device fix: the server of its flow (whichever way
// the position travelled), or the transmitter of a broadcast; and the direction on a network.
func destination(ev geo.Evidence) (dest, dir string) {
	switch {
	case ev.Network != nil:
		n := ev.Network
		dir := "outbound"
		if n.Direction == netflow.ServerToClient {
			dir = "inbound"
		}
		server := n.Server()
		to := fmt.Sprintf("%s:%d/%s", server.Addr(), server.Port(), n.Proto)
		if n.Host != "" {
			to = n.Host + " (" + to + ")"
		}
		return to, dir
	case ev.Broadcast != nil:
		return "broadcast by " + ev.Broadcast.Transmitter, ""
	}
	return "", ""
}

// isTeamPosition reports roles that tell where the police team stands.
func isTeamPosition(r geo.Role) bool {
	return r == geo.RolePilot || r == geo.RoleHome || r == geo.RoleTakeoff || r == geo.RoleController
}

func (a *aggregator) add(f geo.Fix, hits []geo.Hit) {
	ch := f.Evidence.Channel
	dest, dir := destination(f.Evidence)
	if ch == geo.ChannelBroadcast && isTeamPosition(f.Role) {
		a.record(findingKey{KindBroadcastPosition, -1, f.Role, ch, dest, dir}, f, 0, true, nil)
	}
	for _, h := range hits {
		kind := KindOnDeviceExposure
		if ch.OffDevice() {
			kind = KindLocationLeak
		}
		a.record(findingKey{kind, h.Zone.Index, f.Role, ch, dest, dir}, f, h.DistanceM, h.Inside, h.Zone)
	}
}

func (a *aggregator) record(k findingKey, f geo.Fix, dist float64, inside bool, z *geo.Zone) {
	fd, ok := a.byKey[k]
	if !ok {
		fd = &Finding{Kind: k.kind, Role: k.role, Channel: k.channel, Destination: k.dest, Direction: k.dir, Input: a.input,
			zoneIndex: k.zone, inputIndex: a.inputIndex, First: observe(f, dist)}
		if z != nil {
			fd.Zone, fd.Sensitivity = z.Name, string(z.Sensitivity)
		}
		fd.Severity, fd.FailsPolicy = a.grade(k.kind, z)
		if n := f.Evidence.Network; n != nil && n.Host == "" {
			s := n.Server()
			fd.server = serverKey{netip.AddrPortFrom(s.Addr().Unmap(), s.Port()), n.Proto}
		}
		a.byKey[k] = fd
		a.order = append(a.order, fd)
	}
	fd.Count++
	if inside {
		fd.Inside++
	}
	fd.Last = observe(f, dist)
}

// grade gives a finding's severity and whether it fails the policy.
func (a *aggregator) grade(kind string, z *geo.Zone) (string, bool) {
	switch kind {
	case KindBroadcastPosition:
		return "high", a.policy.FailOnBroadcastPilot
	case KindLocationLeak:
		fails := a.policy.fails(z.Sensitivity)
		switch z.Sensitivity {
		case geo.Secret:
			return "critical", fails
		case geo.Restricted:
			return "high", fails
		}
		return "low", fails
	default: // on-device
		fails := a.policy.FailOnDevice && a.policy.fails(z.Sensitivity)
		if z.Sensitivity == geo.Public {
			return "low", fails
		}
		return "medium", fails
	}
}

// summarise writes the one-line summary of a finding.
func (f *Finding) summarise() {
	what := fmt.Sprintf("%d %s position(s)", f.Count, f.Role)
	switch f.Kind {
	case KindLocationLeak:
		switch {
		case f.Direction == "inbound":
			f.Summary = fmt.Sprintf("%s inside %s zone %q were sent to the device by %s: that server holds them", what, f.Sensitivity, f.Zone, f.Destination)
		case f.Channel == geo.ChannelBroadcast:
			f.Summary = fmt.Sprintf("%s inside %s zone %q were broadcast in clear (%s)", what, f.Sensitivity, f.Zone, f.Destination)
		default:
			f.Summary = fmt.Sprintf("%s inside %s zone %q left the device over the network to %s", what, f.Sensitivity, f.Zone, f.Destination)
		}
	case KindBroadcastPosition:
		f.Summary = fmt.Sprintf("%s broadcast in clear (%s): anyone in radio range learns where the team stands", what, f.Destination)
	case KindOnDeviceExposure:
		f.Summary = fmt.Sprintf("%s inside %s zone %q held in this file: exposed if the file is shared or synced", what, f.Sensitivity, f.Zone)
	case KindDestinationDenied:
		return // the policy check wrote it
	}
	if f.Inside < f.Count && f.Zone != "" {
		f.Summary += fmt.Sprintf(" (%d within the precision of the encoding, outside the exact zone edge)", f.Count-f.Inside)
	}
}

// destinationFindings turns the policy's destination violations into findings.
func destinationFindings(inv *destinations.Inventory, p destinations.Policy) []*Finding {
	var out []*Finding
	for _, v := range inv.Violations(p) {
		out = append(out, &Finding{Kind: KindDestinationDenied, Severity: "high", FailsPolicy: true, Summary: v.Reason,
			Channel: geo.ChannelNetwork, Destination: fmt.Sprintf("%s:%d/%s", v.Row.IP, v.Row.Port, v.Row.Protocol),
			Count: int64(v.Row.Flows), zoneIndex: -1, inputIndex: -1})
	}
	return out
}
