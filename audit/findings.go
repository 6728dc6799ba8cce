package audit

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/audit/search"
	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// Finding kinds.
const (
	KindLocationLeak      = "location-leak"      // a zone position that left the device: to a network beyond it, or broadcast
	KindBroadcastPosition = "broadcast-position" // a pilot, home or take-off position broadcast in clear
	KindOnDeviceExposure  = "on-device-exposure" // a zone position that stayed on the device: in a log file, or over loopback
	KindDestinationDenied = "destination-denied" // a contact with a destination the policy forbids
	KindDeviceDenied      = "device-denied"      // a device of a denied maker class, or that contacted a denied owner class
	KindDeviceInternet    = "device-internet"    // a device that reached the internet from a segment that must be closed
)

// Finding says what left the device (or would, if a log were shared) and how bad it is. Equal
// observations are aggregated: one finding per kind, zone, role, channel, input and destination,
// with a count, the first and last observation in time and the extent of all of them.
type Finding struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	Severity    Severity `json:"severity"` // critical, high, medium, low
	FailsPolicy bool     `json:"fails_policy"`
	// Rule is the policy rule that graded the finding: the one that fails it when it fails.
	Rule        RuleName    `json:"rule"`
	Summary     string      `json:"summary"`
	Zone        string      `json:"zone,omitempty"`
	Sensitivity string      `json:"sensitivity,omitempty"`
	Role        geo.Role    `json:"role,omitempty"`
	Channel     geo.Channel `json:"channel"`
	// Scope says how far the position or the contact went: on-device, lab-network, internet or
	// broadcast. The policy's fail_scopes says which scopes fail.
	Scope string `json:"scope"`
	// Destination is the server of a network finding, with what the inventory knows of it.
	Destination *Destination `json:"destination,omitempty"`
	// Transmitter is the 802.11 address that broadcast the position, for broadcast findings.
	Transmitter string `json:"transmitter,omitempty"`
	// Direction is "outbound" (the device sent the position) or "inbound" (a server sent it to
	// the device: the server holds it) for network findings.
	Direction string `json:"direction,omitempty"`
	// Device is the lab device of a device finding; Evidence its first frame behind the finding.
	Device   *FindingDevice `json:"device,omitempty"`
	Evidence *geo.Evidence  `json:"evidence,omitempty"`
	// Request is the HTTP request that carried the first position, when one did.
	Request *geo.Request `json:"request,omitempty"`
	// Rules are the policy rules a denied destination or device breaks, all of them.
	Rules  []Rule         `json:"rules"`
	Input  string         `json:"input,omitempty"`
	Count  int64          `json:"count"`
	Inside int64          `json:"inside"` // how many of Count are inside the zone, not only within tolerance
	First  *Observation   `json:"first,omitempty"`
	Last   *Observation   `json:"last,omitempty"`
	Extent *Extent        `json:"extent,omitempty"`
	zoneIx int            // index of the zone in the zone file, -1 for none
	inIx   int            // index of the input, -1 for none
	key    findingKey     // the aggregation key
	server netip.AddrPort // the flow's server, typed, to join the destination inventory
	proto  netflow.Proto
	// last is the fix Last is to be made of, when lastPending: a run of later positions replaces
	// Last at every one of them, and only the final one is observed (aggregator.settle).
	last        geo.Fix
	lastDist    float64
	lastPending bool
}

// Destination is the other party of a network finding: the flow's server, with every name, the
// owner class, the country and the scope the destination inventory has for it.
type Destination struct {
	IP           string   `json:"ip"`
	Port         uint16   `json:"port"`
	Protocol     string   `json:"protocol"`
	Names        []string `json:"names"`
	Owner        string   `json:"owner,omitempty"`
	Country      string   `json:"country,omitempty"`
	Scope        string   `json:"scope"`
	AddressClass string   `json:"address_class"`
}

// Rule is one policy rule a destination breaks: "owner", "country" or "host", and the denied
// value (the owner class, the country code or the host pattern).
type Rule struct {
	Rule  string `json:"rule"`
	Value string `json:"value"`
	// Key is the policy key of the rule (destinations.deny_owners, …).
	Key RuleName `json:"key"`
}

// Extent is the bounding box of every position behind a finding, and its diagonal in metres.
type Extent struct {
	South float64 `json:"south"`
	West  float64 `json:"west"`
	North float64 `json:"north"`
	East  float64 `json:"east"`
	SpanM float64 `json:"span_m"`
}

// Observation is one fix behind a finding.
type Observation struct {
	Lat  float64  `json:"lat"`
	Lon  float64  `json:"lon"`
	AltM *float64 `json:"alt_m,omitempty"`
	// AltRef says what the altitude is measured from ("msl", "take-off", "ground", "ellipsoid");
	// "unknown" when the decoder could not say.
	AltRef string `json:"alt_ref,omitempty"`
	// Time is RFC 3339 with its offset for a UTC time; a time read from a device's clock in an
	// unknown zone (TimeRef "device-local") has no offset, as it was written.
	Time       string       `json:"time,omitempty"`
	TimeRef    string       `json:"time_ref,omitempty"`
	DistanceM  float64      `json:"distance_m"` // 0 inside the zone, else metres to its edge
	PrecisionM float64      `json:"precision_m"`
	Evidence   geo.Evidence `json:"evidence"`

	t time.Time
}

// DeviceLocalLayout is how a device-local time is written in machine formats: RFC 3339 without
// an offset, since the offset is not known.
const DeviceLocalLayout = "2006-01-02T15:04:05.999999999"

func observe(f geo.Fix, dist float64) *Observation {
	o := &Observation{Lat: f.Lat, Lon: f.Lon, DistanceM: round(dist, 2), PrecisionM: round(f.PrecisionM, 3), Evidence: f.Evidence, t: f.Time}
	if f.HasAlt {
		a := round(f.AltM, 3)
		o.AltM = &a
		o.AltRef = f.AltRef
		if o.AltRef == "" {
			o.AltRef = "unknown"
		}
	}
	if !f.Time.IsZero() {
		o.TimeRef = decoders.TimeRef(f.Time)
		if decoders.IsDeviceClock(f.Time) {
			o.Time = f.Time.Format(DeviceLocalLayout)
		} else {
			o.Time = f.Time.UTC().Format(time.RFC3339Nano)
		}
	}
	return o
}

// earlier reports whether a was observed before b: by time when both have one of the same
// reference, else by where they lie in the input.
func earlier(a, b *Observation) bool {
	if !a.t.IsZero() && !b.t.IsZero() && a.TimeRef == b.TimeRef && !a.t.Equal(b.t) {
		return a.t.Before(b.t)
	}
	return a.Evidence.Offset < b.Evidence.Offset
}

// fixEarlier is earlier(observe(f, dist), b) without making the observation.
func fixEarlier(f *geo.Fix, b *Observation) bool {
	return fixBefore(f, b.t, b.TimeRef, b.Evidence.Offset)
}

// fixBefore is earlier(observe(f, …), b) for b observed at t, with time reference ref, at
// offset off.
func fixBefore(f *geo.Fix, t time.Time, ref string, off int64) bool {
	if !f.Time.IsZero() && !t.IsZero() && decoders.TimeRef(f.Time) == ref && !f.Time.Equal(t) {
		return f.Time.Before(t)
	}
	return f.Evidence.Offset < off
}

// fixBeforeLast is earlier(observe(f, …), fd.Last), Last pending or not.
func (fd *Finding) fixBeforeLast(f *geo.Fix) bool {
	if !fd.lastPending {
		return fixEarlier(f, fd.Last)
	}
	g := &fd.last
	ref := ""
	if !g.Time.IsZero() {
		ref = decoders.TimeRef(g.Time)
	}
	return fixBefore(f, g.Time, ref, g.Evidence.Offset)
}

// settle makes the pending Last observations of the findings: before they are merged or read.
func (a *aggregator) settle() {
	for _, fd := range a.order {
		if fd.lastPending {
			fd.Last, fd.lastPending = observe(fd.last, fd.lastDist), false
			fd.last = geo.Fix{}
		}
	}
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
	dest    string // the server endpoint and host of a network finding, the transmitter of a broadcast
	dir     string
}

// aggregator collects the findings of one input.
type aggregator struct {
	policy     Policy
	input      string
	inputIndex int
	byKey      map[findingKey]*Finding
	order      []*Finding
	// parties remembers the party of each server endpoint met (partyOf on every fix of a flow
	// in a zone costs a destination, its class and its key again).
	parties map[partyKey]party
	// last is the finding record met last, and lastParty the party party gave last: the fixes
	// of a flow come one after another, so most look-ups are of the same key again and skip the
	// hash of its strings.
	last      *Finding
	lastParty struct {
		ok  bool
		key partyKey
		val party
	}
	// clearKey is the finding destination of a cleartext-telemetry fix made last: the party's
	// key and the decoder's name (addTravel).
	clearKey struct{ party, decoder, key string }
}

type partyKey struct {
	server  netip.AddrPort
	proto   netflow.Proto
	host    string
	inbound bool
}

// maxParties bounds the parties an aggregator remembers.
const maxParties = 1024

// party is partyOf(*ev), remembered for the network endpoints. A new finding takes a copy of its
// destination (record), so the findings share nothing through it.
func (a *aggregator) party(ev *geo.Evidence) party {
	n := ev.Network
	if n == nil {
		return partyOf(*ev)
	}
	k := partyKey{n.Server(), n.Proto, n.Host, n.Direction == netflow.ServerToClient}
	if lp := &a.lastParty; lp.ok && lp.key == k {
		return lp.val
	}
	p, ok := a.parties[k]
	if !ok {
		p = partyOf(*ev)
	}
	a.lastParty.ok, a.lastParty.key, a.lastParty.val = true, k, p
	if ok {
		return p
	}
	if a.parties == nil {
		a.parties = map[partyKey]party{}
	}
	if len(a.parties) < maxParties {
		a.parties[k] = p
	}
	return p
}

func newAggregator(p Policy, input string, idx int) *aggregator {
	return &aggregator{policy: p, input: input, inputIndex: idx, byKey: map[findingKey]*Finding{}}
}

// party is the other party of an off-device fix: the server of its flow (whichever way the
// position travelled) or the transmitter of a broadcast, with the scope it puts the fix in.
type party struct {
	key    string
	dir    string
	scope  string
	dest   *Destination
	trans  string
	server netip.AddrPort
	proto  netflow.Proto
}

func partyOf(ev geo.Evidence) party {
	switch {
	case ev.Network != nil:
		n := ev.Network
		p := party{dir: "outbound"}
		if n.Direction == netflow.ServerToClient {
			p.dir = "inbound"
		}
		s := n.Server()
		p.server, p.proto = netip.AddrPortFrom(s.Addr().Unmap(), s.Port()), n.Proto
		class := destinations.Class(p.server.Addr())
		p.scope = destinations.ScopeOfClass(class)
		p.dest = &Destination{IP: p.server.Addr().String(), Port: p.server.Port(), Protocol: n.Proto.String(), Names: []string{},
			Scope: p.scope, AddressClass: class}
		if n.Host != "" {
			p.dest.Names = append(p.dest.Names, n.Host)
		}
		p.key = p.server.String() + "/" + n.Proto.String() + " " + n.Host
		return p
	case ev.Broadcast != nil:
		return party{key: ev.Broadcast.Transmitter, scope: destinations.ScopeBroadcast, trans: ev.Broadcast.Transmitter}
	}
	return party{scope: destinations.ScopeOnDevice}
}

// isTeamPosition reports roles that tell where the police team stands.
func isTeamPosition(r geo.Role) bool {
	return r == geo.RolePilot || r == geo.RoleHome || r == geo.RoleTakeoff || r == geo.RoleController
}

var sensitivityRank = map[geo.Sensitivity]int{geo.Secret: 0, geo.Restricted: 1, geo.Public: 2}

// mostSensitive returns the hit of the most sensitive zone, inside before within tolerance,
// then in zone-file order.
func mostSensitive(hits []geo.Hit) *geo.Hit {
	var best *geo.Hit
	for i := range hits {
		h := &hits[i]
		if best == nil || sensitivityRank[h.Zone.Sensitivity] < sensitivityRank[best.Zone.Sensitivity] ||
			sensitivityRank[h.Zone.Sensitivity] == sensitivityRank[best.Zone.Sensitivity] && h.Inside && !best.Inside {
			best = h
		}
	}
	return best
}

func (a *aggregator) add(f geo.Fix, hits []geo.Hit) {
	a.addTravel(f)
	ch := f.Evidence.Channel
	if len(hits) == 0 && f.Evidence.Message == search.MessageTrack && ch.OffDevice() {
		a.addTrackLeak(f)
		return
	}
	team := ch == geo.ChannelBroadcast && isTeamPosition(f.Role)
	if len(hits) == 0 && !team {
		return // most fixes: no finding, so no need to name the other party
	}
	p := a.party(&f.Evidence)
	if team {
		// One finding per broadcast team position: inside a zone it says which, and fails on
		// either ground; it is never also a location leak.
		if h := mostSensitive(hits); h != nil {
			a.record(findingKey{KindBroadcastPosition, h.Zone.Index, f.Role, ch, p.key, p.dir}, f, p, h.DistanceM, h.Inside, h.Zone)
		} else {
			a.record(findingKey{KindBroadcastPosition, -1, f.Role, ch, p.key, p.dir}, f, p, 0, true, nil)
		}
		return
	}
	for _, h := range hits {
		kind := KindOnDeviceExposure
		if ch.OffDevice() && p.scope != destinations.ScopeOnDevice {
			kind = KindLocationLeak
		}
		a.record(findingKey{kind, h.Zone.Index, f.Role, ch, p.key, p.dir}, f, p, h.DistanceM, h.Inside, h.Zone)
	}
}

func (a *aggregator) record(k findingKey, f geo.Fix, p party, dist float64, inside bool, z *geo.Zone) {
	fd, ok := a.last, a.last != nil && a.last.key == k
	if !ok {
		fd, ok = a.byKey[k]
	}
	if !ok {
		o := observe(f, dist)
		dest := p.dest
		if dest != nil {
			d := *dest
			d.Names = slices.Clone(d.Names)
			dest = &d
		}
		fd = &Finding{Kind: k.kind, Role: k.role, Channel: k.channel, Scope: p.scope, Destination: dest, Transmitter: p.trans, Rules: []Rule{},
			Direction: k.dir, Input: a.input, zoneIx: k.zone, inIx: a.inputIndex, key: k, First: o, Last: o,
			server: p.server, proto: p.proto, Extent: &Extent{South: f.Lat, North: f.Lat, West: f.Lon, East: f.Lon}}
		if z != nil {
			fd.Zone, fd.Sensitivity = z.Name, string(z.Sensitivity)
		}
		switch k.kind {
		case KindCleartextTelemetry, KindFlightLogUpload:
			fd.Severity, fd.FailsPolicy = a.policy.gradeTravel(k.kind, p.scope)
		case KindTrackLeak:
			fd.Severity, fd.FailsPolicy = a.policy.gradeTrackLeak(p.scope)
		default:
			fd.Severity, fd.FailsPolicy = a.policy.grade(k.kind, z, p.scope)
		}
		fd.Rule = a.policy.ruleOf(k.kind, z, p.scope)
		a.byKey[k] = fd
		a.order = append(a.order, fd)
	} else {
		// The observation is made only when it is kept.
		var o *Observation
		laterLast := !fd.fixBeforeLast(&f)
		if fixEarlier(&f, fd.First) {
			o = observe(f, dist)
			fd.First = o
		}
		switch {
		case laterLast && o != nil:
			fd.Last, fd.lastPending, fd.last = o, false, geo.Fix{} // one observation, as before
		case laterLast:
			fd.last, fd.lastDist, fd.lastPending = f, dist, true
		}
		fd.Extent.add(f.Lat, f.Lon)
	}
	a.last = fd
	fd.Count++
	if inside {
		fd.Inside++
	}
}

func (e *Extent) add(lat, lon float64) {
	e.South, e.North = min(e.South, lat), max(e.North, lat)
	e.West, e.East = min(e.West, lon), max(e.East, lon)
}

func (e *Extent) merge(o *Extent) {
	e.add(o.South, o.West)
	e.add(o.North, o.East)
}

// finish computes the span of the box.
func (e *Extent) finish() { e.SpanM = round(haversine(e.South, e.West, e.North, e.East), 1) }

// haversine is the great-circle distance in metres on the WGS84 mean sphere.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// grade gives a finding's severity and whether it fails the policy, from its kind, its zone and
// how far the position went.
func (p *Policy) grade(kind string, z *geo.Zone, scope string) (Severity, bool) {
	sev := map[geo.Sensitivity]Severity{geo.Secret: SeverityCritical, geo.Restricted: SeverityHigh, geo.Public: SeverityLow}
	switch kind {
	case KindBroadcastPosition:
		fails := p.FailOnBroadcastPilot
		if z == nil {
			return SeverityHigh, fails
		}
		fails = fails || p.fails(z.Sensitivity) && p.failsScope(destinations.ScopeBroadcast)
		if z.Sensitivity == geo.Secret {
			return SeverityCritical, fails
		}
		return SeverityHigh, fails
	case KindLocationLeak:
		fails := p.fails(z.Sensitivity) && p.failsScope(scope)
		if scope == destinations.ScopeLabNetwork {
			// Left the device, not the site: one step lower.
			return map[geo.Sensitivity]Severity{geo.Secret: SeverityHigh, geo.Restricted: SeverityMedium, geo.Public: SeverityLow}[z.Sensitivity], fails
		}
		return sev[z.Sensitivity], fails
	default: // on the device: a log file, or loopback
		fails := p.failsScope(destinations.ScopeOnDevice) && p.fails(z.Sensitivity)
		if z.Sensitivity == geo.Public {
			return SeverityLow, fails
		}
		return SeverityMedium, fails
	}
}

// roleNoun names the positions of a finding for a sentence, and a detail to add after the count.
// The "other" role is never printed as such: it is a position whose kind the format does not say
// (a latitude and longitude in a JSON body), named with what the decoder knows of it.
func roleNoun(r geo.Role, ev geo.Evidence) (noun, detail string) {
	switch r {
	case geo.RoleAircraft:
		return "aircraft position", ""
	case geo.RoleHome:
		return "home point", ""
	case geo.RoleTakeoff:
		return "take-off point", ""
	case geo.RolePilot:
		return "pilot position", ""
	case geo.RoleController:
		return "remote-controller position", ""
	case geo.RoleWaypoint:
		return "waypoint", ""
	case geo.RolePhoto:
		return "photo position", ""
	case geo.RoleOther:
		switch {
		case ev.Note != "":
			return "unlabelled position", " (" + ev.Note + ")"
		case ev.Message != "":
			return "unlabelled position", " (" + ev.Message + ")"
		}
		return "unlabelled position", ""
	}
	return string(r) + " position", ""
}

// roleName is the name of a role in the text report.
func roleName(r geo.Role) string {
	if r == geo.RoleOther {
		return "unlabelled"
	}
	return string(r)
}

// plural writes n and a noun, with an s when n is not 1.
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// destText names a destination in a sentence: its first name and its endpoint.
func destText(d *Destination) string {
	if d == nil {
		return "an unknown server"
	}
	ep := fmt.Sprintf("%s:%d/%s", d.IP, d.Port, d.Protocol)
	if strings.Contains(d.IP, ":") {
		ep = fmt.Sprintf("[%s]:%d/%s", d.IP, d.Port, d.Protocol)
	}
	if len(d.Names) > 0 {
		return d.Names[0] + " (" + ep + ")"
	}
	return ep
}

// whereTo says where a destination is, in words.
func whereTo(d *Destination) string {
	switch d.Scope {
	case destinations.ScopeLabNetwork:
		return "the lab network"
	case destinations.ScopeBroadcast:
		return "every host of the local network (broadcast)"
	case destinations.ScopeOnDevice:
		return "the device itself"
	}
	s := "the internet"
	if d.Country != "" {
		s += ", " + d.Country
	}
	if d.Owner != "" && d.Owner != destinations.OwnerUnknown {
		s += ", owner " + d.Owner
	}
	return s
}

// summarise writes the one-line summary of a finding.
func (f *Finding) summarise() {
	noun, detail := roleNoun(f.Role, f.First.Evidence)
	what := plural(f.Count, noun) + detail
	in := ""
	if f.Zone != "" {
		in = fmt.Sprintf(" inside %s zone %q", f.Sensitivity, f.Zone)
	}
	switch f.Kind {
	case KindLocationLeak:
		switch {
		case f.Channel == geo.ChannelBroadcast:
			f.Summary = fmt.Sprintf("%s%s were broadcast in clear by %s: anyone in radio range received them", what, in, f.Transmitter)
		case f.Direction == "inbound":
			f.Summary = fmt.Sprintf("%s%s were sent to the device by %s (%s): that server holds them", what, in, destText(f.Destination), whereTo(f.Destination))
		case f.Scope == destinations.ScopeLabNetwork:
			f.Summary = fmt.Sprintf("%s%s left the device to %s on the lab network (not beyond the site)", what, in, destText(f.Destination))
		default:
			f.Summary = fmt.Sprintf("%s%s left the site: sent to %s (%s)", what, in, destText(f.Destination), whereTo(f.Destination))
		}
	case KindBroadcastPosition:
		f.Summary = fmt.Sprintf("%s%s broadcast in clear by %s: anyone in radio range learns where the team stands", what, in, f.Transmitter)
	case KindOnDeviceExposure:
		if f.Channel == geo.ChannelNetwork {
			f.Summary = fmt.Sprintf("%s%s passed over loopback to %s between programs on the device: they did not leave it", what, in, destText(f.Destination))
		} else {
			f.Summary = fmt.Sprintf("%s%s held in this file: exposed if the file is shared or synced", what, in)
		}
	case KindDestinationDenied:
		return // destinationFindings wrote it
	case KindCleartextTelemetry, KindFlightLogUpload, KindTrackLeak:
		f.summariseTravel()
		return
	}
	if f.Inside < f.Count && f.Zone != "" {
		f.Summary += fmt.Sprintf(" (%d within the precision of the encoding, outside the exact zone edge)", f.Count-f.Inside)
	}
}

// destinationFindings turns the policy's destination violations into findings: one per
// destination, listing every rule it breaks.
func destinationFindings(inv *destinations.Inventory, p destinations.Policy) []*Finding {
	var out []*Finding
	byRow := map[string]*Finding{}
	for _, v := range inv.Violations(p) {
		r := v.Row
		k := fmt.Sprintf("%s %d %s", r.IP, r.Port, r.Protocol)
		f, ok := byRow[k]
		if !ok {
			d := destinationOf(r)
			f = &Finding{Kind: KindDestinationDenied, Severity: SeverityHigh, FailsPolicy: true, Rule: ruleKey[v.Rule], Channel: geo.ChannelNetwork, Scope: r.Scope,
				Destination: d, Count: int64(r.Flows), zoneIx: -1, inIx: -1, Rules: []Rule{}}
			byRow[k] = f
			out = append(out, f)
		}
		f.Rules = append(f.Rules, Rule{Rule: v.Rule, Value: v.Value, Key: ruleKey[v.Rule]})
	}
	for _, f := range out {
		var why, hosts []string
		for _, r := range f.Rules {
			switch r.Rule {
			case "owner":
				why = append(why, fmt.Sprintf("its owner class %q is denied", r.Value))
			case "country":
				why = append(why, fmt.Sprintf("it is located in %s, a denied country", r.Value))
			default:
				hosts = append(hosts, fmt.Sprintf("%q", r.Value))
			}
		}
		switch len(hosts) {
		case 0:
		case 1:
			why = append(why, "it matches the denied host pattern "+hosts[0])
		default:
			why = append(why, "it matches the denied host patterns "+strings.Join(hosts, ", "))
		}
		f.Summary = fmt.Sprintf("the lab devices contacted %s in %s (%s): %s", destText(f.Destination), plural(f.Count, "flow"),
			whereTo(f.Destination), strings.Join(why, "; "))
	}
	return out
}

// destinationOf is the typed destination of an inventory row.
func destinationOf(r destinations.Row) *Destination {
	d := &Destination{IP: r.IP, Port: r.Port, Protocol: r.Protocol, Names: []string{}, Owner: r.Owner, Country: r.Country,
		Scope: r.Scope, AddressClass: r.AddressClass}
	for _, n := range r.Names {
		if n.Source != destinations.SourceECHOuter && !slices.Contains(d.Names, n.Name) {
			d.Names = append(d.Names, n.Name)
		}
	}
	return d
}

// destination names the other party of an off-device fix as text, for the CSV of positions: the
// server of its flow (whichever way the position travelled) as "host (ip:port/proto)", or the
// transmitter of a broadcast; and the direction on a network.
func destination(ev geo.Evidence) (dest, dir string) {
	p := partyOf(ev)
	switch {
	case p.dest != nil:
		return destText(p.dest), p.dir
	case p.trans != "":
		return "broadcast by " + p.trans, ""
	}
	return "", ""
}
