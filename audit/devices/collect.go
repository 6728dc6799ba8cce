package devices

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/decoders"
	"droneaudit/engine"
)

// Collector builds the device inventory as an observer of the engine's one pass over the
// captures. Each flow shard reads the discovery protocols of its flows (DHCP, mDNS, LLMNR,
// SSDP, WS-Discovery) and, as each flow ends, accounts it to the devices at both ends (packets,
// payload bytes, times, addresses) and to its client's destinations: the per-frame path stays
// the destination inventory's. The reader goroutine only sees the frames no flow carries (ARP,
// ICMP; and the MAC addresses of cooked captures, whose flows have none). The parts are merged
// when the run is over, and the merged result does not depend on the number of shards.
type Collector struct {
	fr    *frames
	mu    sync.Mutex
	parts []*part
}

// NewCollector returns an empty device inventory observer.
func NewCollector() *Collector { return &Collector{fr: newFrames()} }

// Shard implements engine.Observer.
func (c *Collector) Shard(int) engine.FlowObserver {
	p := newPart()
	c.mu.Lock()
	c.parts = append(c.parts, p)
	c.mu.Unlock()
	return p
}

// Packet implements engine.Observer.
func (c *Collector) Packet(ev *engine.PacketEvent) { c.fr.packet(ev) }

// CaptureEnd implements engine.Observer.
func (c *Collector) CaptureEnd(*engine.Input, error) {}

// Options configure Build.
type Options struct {
	// Destinations configures the destination inventory built in the same pass (owner rules,
	// GeoIP, idle timeout, shards).
	Destinations destinations.Options
}

// Build reads the captures and returns their device inventory.
func Build(ctx context.Context, paths []string, opt Options) (*Inventory, error) {
	return BuildSources(ctx, engine.FileSources(paths), opt)
}

// BuildSources reads the captures once, building the destination inventory and the device
// inventory in the same pass, and joins them. As destinations.BuildSources, it returns the
// inventory of the inputs that could be read with an error naming those that could not; a
// cancelled run returns no inventory.
func BuildSources(ctx context.Context, srcs []engine.Source, opt Options) (*Inventory, error) {
	c := NewCollector()
	o := opt.Destinations
	o.Observers = append(append([]engine.Observer(nil), o.Observers...), c)
	o.Protocols = append(append([]decoders.Protocol(nil), o.Protocols...), Protocols...)
	dest, err := destinations.BuildSources(ctx, srcs, o)
	if dest == nil {
		return nil, err
	}
	return c.Inventory(dest), err
}

// Inventory merges the parts and joins each device's contacts to the destination inventory of
// the same pass (nil: contacts are listed with their scope only).
func (c *Collector) Inventory(dest *destinations.Inventory) *Inventory {
	fr := c.fr
	inv := &Inventory{OUI: OUIInfo{Version: OUIVersion, Attribution: OUIAttribution}, Packets: fr.packets, Destinations: dest, Devices: []Row{}}
	if dest != nil {
		inv.GeoIP, inv.Notes = dest.GeoIP, dest.Notes
	}
	// A flow end known only by its IP address (a capture without link-layer addresses, or a
	// cooked one) is the device that claimed that address, where one did: in ARP or cooked
	// frames first, else in flows (the smallest MAC address, so that the shards' order does not
	// matter).
	ipMAC := maps.Clone(fr.ipMAC)
	for _, p := range c.parts {
		for w, in := range p.infos {
			if w.mac == 0 {
				continue
			}
			for a := range in.local {
				if m, ok := ipMAC[a]; !ok || (w.mac < m && fr.ipMAC[a] == 0) {
					ipMAC[a] = w.mac
				}
			}
		}
	}
	resolve := func(w who) who {
		if w.mac == 0 {
			if mac, ok := ipMAC[w.ip]; ok {
				return who{mac: mac}
			}
		}
		return w
	}
	infos := map[who]*info{}
	contacts := map[contactKey]*contact{}
	dropped := 0
	for _, p := range c.parts {
		for w, in := range p.infos {
			w = resolve(w)
			if infos[w] == nil {
				infos[w] = &info{}
			}
			infos[w].merge(in)
		}
		for k, ct := range p.contacts {
			k.client = resolve(k.client)
			to := contacts[k]
			if to == nil {
				to = &contact{first: ct.first}
				contacts[k] = to
			}
			to.at.keep(ct.at)
			to.flows += ct.flows
			to.bytesOut += ct.bytesOut
			to.bytesIn += ct.bytesIn
			if ct.first.Before(to.first) {
				to.first = ct.first
			}
			if ct.last.After(to.last) {
				to.last = ct.last
			}
		}
		dropped += p.dropped
	}
	// Devices: every address that sent a frame, and every one something was announced about.
	keys := map[who]struct{}{}
	for mac, d := range fr.byMAC {
		if d.framesOut > 0 {
			keys[who{mac: mac}] = struct{}{}
		}
	}
	for w, in := range infos {
		if (w.mac != 0 || labScope(w.ip)) && in.listed() {
			keys[w] = struct{}{}
		}
	}
	byDevice := map[who][]Contact{}
	rows := destRows(dest)
	for k, ct := range contacts {
		if _, ok := keys[k.client]; !ok {
			continue
		}
		byDevice[k.client] = append(byDevice[k.client], contactRow(k, ct, rows))
	}
	for w := range keys {
		inv.Devices = append(inv.Devices, deviceRow(w, fr.byMAC[w.mac], infos[w], byDevice[w]))
	}
	slices.SortFunc(inv.Devices, compareDevices)
	if fr.dropped > 0 {
		inv.Notes = append(inv.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: -1,
			Message: fmt.Sprintf("more than %d devices: %d frames of further addresses are not counted", maxDevices, fr.dropped)})
	}
	if dropped > 0 {
		inv.Notes = append(inv.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: -1,
			Message: fmt.Sprintf("more than %d device/destination pairs per shard: %d flows are not in the devices' destination lists", maxContacts, dropped)})
	}
	return inv
}

type rowKey struct {
	ap    netip.AddrPort
	proto string
}

func destRows(dest *destinations.Inventory) map[rowKey]*destinations.Row {
	m := map[rowKey]*destinations.Row{}
	if dest == nil {
		return m
	}
	for i := range dest.Rows {
		r := &dest.Rows[i]
		if ip, err := netip.ParseAddr(r.IP); err == nil {
			m[rowKey{netip.AddrPortFrom(ip, r.Port), r.Protocol}] = r
		}
	}
	return m
}

func contactRow(k contactKey, ct *contact, rows map[rowKey]*destinations.Row) Contact {
	c := Contact{IP: k.server.Addr().String(), Port: k.server.Port(), Protocol: k.proto.String(), Names: []string{},
		Owner: destinations.OwnerUnknown, Scope: destinations.Scope(k.server.Addr()), Flows: ct.flows, BytesOut: ct.bytesOut,
		BytesIn: ct.bytesIn, First: ct.first.UTC(), Last: ct.last.UTC(), Evidence: ct.at.evidence()}
	if r := rows[rowKey{k.server, c.Protocol}]; r != nil {
		c.App, c.Owner, c.Country, c.ASN = r.App, r.Owner, r.Country, r.ASN
		for _, n := range r.Names {
			if n.Source != destinations.SourceECHOuter {
				c.Names = append(c.Names, n.Name)
			}
		}
		slices.Sort(c.Names)
		c.Names = slices.Compact(c.Names)
	}
	return c
}

func compareDevices(a, b Row) int {
	// Devices known by their MAC address first, in address order; then those known only by IP.
	ka, kb := a.MAC, b.MAC
	if ka == "" {
		ka = "~" + first(a.IPv4, a.IPv6)
	}
	if kb == "" {
		kb = "~" + first(b.IPv4, b.IPv6)
	}
	return cmp.Compare(ka, kb)
}

func first(lists ...[]string) string {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return ""
}

// deviceRow assembles one device's row; d or in may be nil.
func deviceRow(w who, d *frameDev, in *info, contacts []Contact) Row {
	if in == nil {
		in = &info{}
	}
	r := Row{Destinations: contacts, Owners: []string{}}
	if r.Destinations == nil {
		r.Destinations = []Contact{}
	}
	if w.mac != 0 {
		r.MAC = macString(w.mac)
		v := lookupBits(w.mac)
		r.Vendor, r.OUI, r.OUIRegistry, r.Randomised = v.Org, v.Assignment, v.Registry, v.Local
	}
	addrs := set{}
	if d == nil {
		d = &frameDev{} // no frames outside flows (or none can be: no MAC address)
	}
	r.FramesOut, r.FramesIn = d.framesOut+in.framesOut, d.framesIn+in.framesIn
	r.BytesOut, r.BytesIn = in.bytesOut, in.bytesIn
	first, last := d.first, d.last
	if in.first != 0 && (first == 0 || in.first < first) {
		first = in.first
	}
	last = max(last, in.last)
	if first != 0 {
		r.First, r.Last = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
	}
	r.Gateway = in.gateway
	at := d.at
	at.keep(in.at)
	r.Evidence = at.evidence()
	for _, l := range []addrSet{d.local, in.local, in.pub} {
		for a := range l {
			addrs.add(a.String(), 1<<10)
		}
	}
	if w.mac == 0 {
		addrs.add(w.ip.String(), 1<<10)
	}
	addrs.merge(in.sets[fAddr], 1<<10)
	var ips []netip.Addr
	for a := range addrs {
		if ip, err := netip.ParseAddr(a); err == nil {
			ips = append(ips, ip)
		}
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	r.IPv4, r.IPv6 = []string{}, []string{}
	for _, ip := range ips {
		if ip.Is4() {
			r.IPv4 = append(r.IPv4, ip.String())
		} else {
			r.IPv6 = append(r.IPv6, ip.String())
		}
	}
	s := &in.sets
	r.DHCP = DHCP{HostNames: s[fHostName].sorted(), FQDNs: s[fFQDN].sorted(), VendorClasses: s[fVendorClass].sorted(),
		Fingerprints: s[fFingerprint].sorted(), Server: in.dhcpServer}
	r.MDNS = MDNS{Names: s[fMDNSName].sortedFold(), Services: s[fMDNSService].sortedFold(), Instances: instances(s[fMDNSInstance], s[fMDNSTXT])}
	r.LLMNRNames = s[fLLMNRName].sortedFold()
	r.SSDP = SSDP{Servers: s[fSSDPServer].sorted(), USNs: s[fSSDPUSN].sorted(), Locations: s[fSSDPLocation].sorted(),
		Types: s[fSSDPType].sorted(), UserAgents: s[fSSDPAgent].sorted()}
	r.UPnP = UPnP{FriendlyNames: s[fUPnPName].sorted(), Manufacturers: s[fUPnPMaker].sorted(), ModelNames: s[fUPnPModel].sorted(),
		ModelNumbers: s[fUPnPModelNumber].sorted(), Serials: s[fUPnPSerial].sorted(), UDNs: s[fUPnPUDN].sorted()}
	r.SADP = SADP{Models: s[fSADPModel].sorted(), Serials: s[fSADPSerial].sorted(), Firmware: s[fSADPFirmware].sorted()}
	r.ONVIF = ONVIF{Endpoints: s[fWSDEndpoint].sorted(), Types: s[fWSDType].sorted(), XAddrs: s[fWSDXAddr].sorted(),
		Models: s[fONVIFModel].sorted(), Names: s[fONVIFName].sorted(), Firmware: s[fONVIFFirmware].sorted(),
		Locations: s[fONVIFLocation].sorted(), Profiles: s[fONVIFProfile].sorted()}
	slices.SortFunc(r.Destinations, func(a, b Contact) int {
		return cmp.Or(a.First.Compare(b.First), netip.MustParseAddr(a.IP).Compare(netip.MustParseAddr(b.IP)),
			cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
	})
	owners := set{}
	for _, c := range r.Destinations {
		if c.Scope == destinations.ScopeInternet {
			r.InternetContacts++
			owners.add(c.Owner, 64)
		}
	}
	r.Owners = owners.sorted()
	r.Class, r.ClassSigns = classify(&r)
	return r
}

// macString formats an address packed by macBits as "aa:bb:cc:dd:ee:ff".
func macString(v uint64) string {
	return net.HardwareAddr{byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}.String()
}

// instances assembles the mDNS service instances from their set members.
func instances(inst, txt set) []Instance {
	out := []Instance{}
	for _, v := range inst.sorted() {
		p := splitNUL(v, 4)
		port, _ := strconv.Atoi(p[3])
		i := Instance{Name: p[0], Service: p[1], Host: p[2], Port: uint16(port)}
		for _, t := range txt.sorted() {
			q := splitNUL(t, 3)
			if q[0] == i.Service && q[1] == i.Name {
				i.TXT = append(i.TXT, q[2])
			}
		}
		out = append(out, i)
	}
	slices.SortFunc(out, func(a, b Instance) int { return cmp.Or(cmp.Compare(a.Service, b.Service), cmp.Compare(a.Name, b.Name)) })
	return out
}
