package devices

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders/dhcp"
	"droneaudit/decoders/llmnr"
	"droneaudit/decoders/mdns"
	"droneaudit/decoders/sadp"
	"droneaudit/decoders/ssdp"
	"droneaudit/decoders/upnp"
	"droneaudit/decoders/wsdiscovery"
	"droneaudit/engine"
	"droneaudit/netflow"
)

// field names one kind of thing a device announced.
type field int

const (
	fHostName        field = iota // DHCP option 12
	fFQDN                         // DHCP option 81
	fVendorClass                  // DHCP option 60
	fFingerprint                  // DHCP option 55, as "1,3,6,…"
	fAddr                         // addresses the device was given (DHCP ACK) or claimed (mDNS, LLMNR)
	fMDNSName                     // host names of A/AAAA records and SRV targets
	fMDNSService                  // service types
	fMDNSInstance                 // "name\x00service\x00host\x00port"
	fMDNSTXT                      // "service\x00name\x00key=value"
	fLLMNRName                    // names the device answered for
	fSSDPServer                   // SERVER headers
	fSSDPUSN                      // USN headers
	fSSDPLocation                 // LOCATION headers
	fSSDPType                     // NT of a NOTIFY, ST of an answer
	fSSDPAgent                    // USER-AGENT of an M-SEARCH
	fWSDEndpoint                  // WS-Discovery endpoint addresses
	fWSDType                      // WS-Discovery types (local names) and ONVIF "type" scopes
	fWSDXAddr                     // service addresses
	fONVIFModel                   // "hardware" scope
	fONVIFName                    // "name" scope
	fONVIFFirmware                // "firmware" scope
	fONVIFLocation                // "location" scopes
	fONVIFProfile                 // "Profile" scopes
	fUPnPName                     // UPnP description: friendlyName
	fUPnPMaker                    // manufacturer
	fUPnPModel                    // modelName
	fUPnPModelNumber              // modelNumber
	fUPnPSerial                   // serialNumber
	fUPnPUDN                      // UDN
	fSADPModel                    // SADP ProbeMatch: DeviceDescription
	fSADPSerial                   // DeviceSN
	fSADPFirmware                 // SoftwareVersion
	nFields
)

// limits bounds each field's members per device.
var limits = [nFields]int{fAddr: 64, fMDNSTXT: 64, fSSDPUSN: 16, fSSDPLocation: 16}

func limit(f field) int {
	if limits[f] > 0 {
		return limits[f]
	}
	return 32
}

// who identifies the sender of a message: its MAC address, or its IP address in captures
// without link-layer addresses.
type who struct {
	mac uint64
	ip  netip.Addr
}

// info is what one device announced.
type info struct {
	sets  [nFields]set
	local addrSet // lab-scope addresses it sent flows from
	// lastLocal is the address last offered to local from a flow's end: offered again it
	// changes nothing (once in, it stays unless a smaller one evicts it, and an address left
	// out or evicted is never let in later), so the set is not looked up again.
	lastLocal  netip.Addr
	pub        addrSet // internet addresses it opened flows from (global IPv6)
	dhcpServer bool
	gateway    bool // internet servers answered through it
	// Its TCP and UDP traffic: packets and payload bytes each way, and the first and last
	// packet of its flows (Unix nanoseconds).
	framesOut, framesIn int64
	bytesOut, bytesIn   int64
	first, last         int64
	at                  seenAt // the first frame it sent that was seen
}

// traffic adds one flow's packets and bytes, seen from the device's end.
func (in *info) traffic(out, inn, bout, bin, first, last int64) {
	in.framesOut += out
	in.framesIn += inn
	in.bytesOut += bout
	in.bytesIn += bin
	if in.first == 0 || first < in.first {
		in.first = first
	}
	if last > in.last {
		in.last = last
	}
}

// addrSet is a set of addresses bounded, like set, to its smallest members; an address already
// in it is found without formatting it (once per flow).
type addrSet map[netip.Addr]struct{}

const maxPub = 64

func (s *addrSet) add(a netip.Addr) {
	if _, ok := (*s)[a]; ok {
		return
	}
	if *s == nil {
		*s = addrSet{}
	}
	if len(*s) < maxPub {
		(*s)[a] = struct{}{}
		return
	}
	var greatest netip.Addr
	for k := range *s {
		if k.Compare(greatest) > 0 {
			greatest = k
		}
	}
	if a.Less(greatest) {
		delete(*s, greatest)
		(*s)[a] = struct{}{}
	}
}

func (in *info) add(f field, v string) { in.sets[f].add(v, limit(f)) }

// listed reports whether the device is one of the segment's: it sent something, or something
// was announced about it (a DHCP server acknowledged an address for it).
func (in *info) listed() bool {
	if in.framesOut > 0 || in.dhcpServer || in.gateway || len(in.pub) > 0 {
		return true
	}
	for f := range nFields {
		if len(in.sets[f]) > 0 {
			return true
		}
	}
	return false
}

func (in *info) merge(o *info) {
	for f := range nFields {
		in.sets[f].merge(o.sets[f], limit(f))
	}
	for a := range o.pub {
		in.pub.add(a)
	}
	for a := range o.local {
		in.local.add(a)
	}
	if o.framesOut+o.framesIn > 0 {
		in.traffic(o.framesOut, o.framesIn, o.bytesOut, o.bytesIn, o.first, o.last)
	}
	in.at.keep(o.at)
	in.dhcpServer = in.dhcpServer || o.dhcpServer
	in.gateway = in.gateway || o.gateway
}

// contactKey is a destination one device opened flows to.
type contactKey struct {
	client who
	server netip.AddrPort
	proto  netflow.Proto
}

// contact is what one device sent to and received from one destination.
type contact struct {
	flows             int
	bytesOut, bytesIn int64
	first, last       time.Time
	at                seenAt // the first frame of its first flow
}

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// maxContacts bounds the device/destination pairs one shard follows.
const maxContacts = 1 << 18

// part is the inventory's state in one flow shard.
type part struct {
	infos    map[who]*info
	contacts map[contactKey]*contact
	dropped  int // contacts not followed beyond maxContacts
	// macs remembers the last addresses parsed: a capture's flows come from a few devices.
	macs [2]struct {
		s string
		w who
	}
	next int
	// last remembers the infos looked up last: a flow's ends are mostly the same few devices
	// and the gateway.
	last [2]struct {
		w  who
		in *info
	}
	nextInfo int
}

// whoOf is the package whoOf with a two-entry cache of the flow table's MAC strings.
func (p *part) whoOf(mac string, ip netip.Addr) who {
	for _, c := range p.macs {
		if c.s == mac && mac != "" {
			return c.w
		}
	}
	w := whoOf(mac, ip)
	if w.mac != 0 {
		p.macs[p.next].s, p.macs[p.next].w = mac, w
		p.next ^= 1
	}
	return w
}

func newPart() *part { return &part{infos: map[who]*info{}, contacts: map[contactKey]*contact{}} }

// device returns the info of a flow end that can be a device of the segment: one with a MAC
// address, or a lab-scope address in a capture without them; nil for an internet host.
func (p *part) device(w who) *info {
	if w.mac == 0 && !labScope(w.ip) {
		return nil
	}
	return p.info(w)
}

func (p *part) info(w who) *info {
	for i := range p.last {
		if c := &p.last[i]; c.in != nil && c.w == w {
			return c.in
		}
	}
	in := p.infos[w]
	if in == nil {
		in = &info{}
		p.infos[w] = in
	}
	p.last[p.nextInfo].w, p.last[p.nextInfo].in = w, in
	p.nextInfo ^= 1
	return in
}

// endpoints is a flow's two ends as message senders, worked out once per flow.
type endpoints struct{ client, server who }

// flowState is the inventory's state on a flow that carries a discovery protocol.
type flowState struct {
	ends  endpoints
	marks flowMark
	// shared is set on a flow from the unspecified address (0.0.0.0:68 → 255.255.255.255:67):
	// every DHCP client of the segment sends on it, so its datagrams are accounted to their
	// senders one by one rather than to the flow's first client; counted lists those that have
	// a contact on it already.
	shared  bool
	counted map[who]struct{}
	// resp holds the first bytes a lab-scope HTTP server sent on the flow, read at its end for a
	// UPnP device description (upnpResponses); respDone stops the copy (a hole, too many bytes,
	// no HTTP response).
	resp     []byte
	respDone bool
}

func (p *part) state(f *flowtable.Flow, slot *any) *flowState {
	if st, ok := (*slot).(*flowState); ok {
		return st
	}
	m, _ := (*slot).(flowMark)
	st := &flowState{ends: endpoints{client: p.whoOf(f.ClientMAC, f.Client.Addr()), server: p.whoOf(f.ServerMAC, f.Server.Addr())},
		shared: f.Client.Addr().IsUnspecified(), marks: m}
	*slot = st
	return st
}

func whoOf(mac string, ip netip.Addr) who {
	if v, ok := parseMAC(mac); ok && v != 0 && v&groupBit == 0 {
		return who{mac: v}
	}
	return who{ip: ip.Unmap()}
}

// parseMAC reads the "aa:bb:cc:dd:ee:ff" form net.HardwareAddr.String writes (the flow table's
// ClientMAC and ServerMAC), once per flow without allocating.
func parseMAC(s string) (uint64, bool) {
	if len(s) != 17 {
		if hw, err := net.ParseMAC(s); err == nil {
			return macBits(hw)
		}
		return 0, false
	}
	var v uint64
	for i := 0; i < 17; i += 3 {
		if i > 0 && s[i-1] != ':' {
			return 0, false
		}
		hi, ok1 := unhex(s[i])
		lo, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return 0, false
		}
		v = v<<8 | uint64(hi<<4|lo)
	}
	return v, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// flowMark is the slot of a flow that carries no discovery protocol: which directions have had
// their first payload, whose frame is the evidence of the sender and of the contact. A one-byte
// value stored in an interface does not allocate.
type flowMark uint8

// mark records, on the first payload of each direction of an outer flow, where its sender was
// seen; and on the first payload of the flow where its contact was. Per flow, not per frame.
func (p *part) mark(c *engine.Chunk, slot *any) {
	f := c.Flow
	bit := flowMark(1) << (c.Dir & 1)
	var m flowMark
	st, _ := (*slot).(*flowState)
	if st != nil {
		m = st.marks
	} else {
		m, _ = (*slot).(flowMark)
	}
	if m&bit != 0 {
		return
	}
	at := seenAt{in: c.Input, frame: c.Frame, offset: c.Offset}
	if !f.Client.Addr().IsUnspecified() { // a shared flow's datagrams are its senders' (sharedDatagram)
		// The server end of a flow to the internet is the gateway's MAC address: its own
		// flows (DNS, DHCP answers) locate it, so the lookup is saved on every internet flow.
		var client who
		if c.Dir == netflow.ClientToServer || m == 0 {
			client = p.whoOf(f.ClientMAC, f.Client.Addr())
		}
		if c.Dir == netflow.ClientToServer {
			if in := p.device(client); in != nil {
				in.at.keep(at)
			}
		} else if labScope(f.Server.Addr().Unmap()) {
			if in := p.device(p.whoOf(f.ServerMAC, f.Server.Addr())); in != nil {
				in.at.keep(at)
			}
		}
		if m == 0 {
			k := contactKey{client: client, server: netip.AddrPortFrom(f.Server.Addr().Unmap(), f.Server.Port()), proto: f.Proto}
			if ct := p.contact(k, f.First); ct != nil {
				ct.at.keep(at)
			}
		}
	}
	m |= bit
	if st != nil {
		st.marks = m
	} else {
		*slot = m
	}
}

// Chunk implements engine.FlowObserver: the first payload of each flow is located (mark), and
// the datagrams of the discovery protocols are read.
func (p *part) Chunk(c *engine.Chunk, slot *any) {
	f := c.Flow
	if len(c.Payload) == 0 || f.Outer != nil {
		return
	}
	p.mark(c, slot)
	if f.Proto == netflow.TCP && c.App == AppHTTP && c.Dir == netflow.ServerToClient {
		p.httpResponse(c, slot)
		return
	}
	if f.Proto != netflow.UDP {
		return
	}
	switch c.App {
	case AppDHCP, AppMDNS, AppLLMNR, AppSSDP, AppWSDiscovery, AppSADP:
	default:
		return
	}
	st := p.state(f, slot)
	sender := st.ends.client
	if c.Dir == netflow.ServerToClient {
		sender = st.ends.server
	}
	switch c.App {
	case AppDHCP:
		sender = p.dhcp(c.Payload, sender)
	case AppMDNS:
		p.mdns(c.Payload, sender)
	case AppLLMNR:
		p.llmnr(c.Payload, sender)
	case AppSSDP:
		p.ssdp(c.Payload, sender)
	case AppWSDiscovery:
		p.wsd(c.Payload, sender)
	case AppSADP:
		p.sadp(c.Payload, sender)
	}
	if st.shared && c.Dir == netflow.ClientToServer {
		p.sharedDatagram(f, st, sender, int64(len(c.Payload)), c.Time, seenAt{in: c.Input, frame: c.Frame, offset: c.Offset})
	}
}

// sharedDatagram accounts one datagram of a shared flow to its sender.
func (p *part) sharedDatagram(f *flowtable.Flow, st *flowState, sender who, n int64, at time.Time, where seenAt) {
	in := p.device(sender)
	if in == nil {
		return
	}
	ts := at.UnixNano()
	in.traffic(1, 0, n, 0, ts, ts)
	in.at.keep(where)
	k := contactKey{client: sender, server: netip.AddrPortFrom(f.Server.Addr().Unmap(), f.Server.Port()), proto: f.Proto}
	ct := p.contact(k, at)
	if ct == nil {
		return
	}
	ct.at.keep(where)
	if _, ok := st.counted[sender]; !ok {
		if st.counted == nil {
			st.counted = map[who]struct{}{}
		}
		st.counted[sender] = struct{}{}
		ct.flows++
	}
	ct.bytesOut += n
	if at.After(ct.last) {
		ct.last = at
	}
}

// contact returns the contact of k, or nil when too many are followed already.
func (p *part) contact(k contactKey, first time.Time) *contact {
	ct := p.contacts[k]
	if ct == nil {
		if len(p.contacts) >= maxContacts {
			p.dropped++
			return nil
		}
		ct = &contact{first: first}
		p.contacts[k] = ct
	}
	if first.Before(ct.first) {
		ct.first = first
	}
	return ct
}

// Ended implements engine.FlowObserver: the flow is accounted to the devices at both ends (their
// packets, payload bytes, times and lab-scope addresses) and counts as a contact of its
// client. A flow to an internet server also tells the client's own internet address (a global
// IPv6 address), and that the link-layer address the server's frames come from is a gateway's.
func (p *part) Ended(f *flowtable.Flow, slot *any) {
	var e endpoints
	shared := false
	if st, ok := (*slot).(*flowState); ok {
		e, shared = st.ends, st.shared
		if len(st.resp) > 0 {
			p.upnpResponses(st.resp, e.server)
		}
	} else {
		e = endpoints{client: p.whoOf(f.ClientMAC, f.Client.Addr()), server: p.whoOf(f.ServerMAC, f.Server.Addr())}
	}
	*slot = nil
	c2s, s2c := netflow.ClientToServer, netflow.ServerToClient
	first, last := f.First.UnixNano(), f.Last.UnixNano()
	cl, srv := f.Client.Addr().Unmap(), f.Server.Addr().Unmap()
	if shared {
		// Its datagrams were accounted to their senders as they came (sharedDatagram); what
		// the server end sent (nothing, to a broadcast address) is all that is left.
		if si := p.device(e.server); si != nil && f.Packets[s2c] > 0 {
			si.traffic(f.Packets[s2c], 0, f.Bytes[s2c], 0, first, last)
		}
		return
	}
	if ci := p.device(e.client); ci != nil {
		ci.traffic(f.Packets[c2s], f.Packets[s2c], f.Bytes[c2s], f.Bytes[s2c], first, last)
		if labScope(cl) && cl != ci.lastLocal {
			ci.local.add(cl)
			ci.lastLocal = cl
		}
	}
	if si := p.device(e.server); si != nil {
		si.traffic(f.Packets[s2c], f.Packets[c2s], f.Bytes[s2c], f.Bytes[c2s], first, last)
		if labScope(srv) && f.Packets[s2c] > 0 && srv != si.lastLocal {
			si.local.add(srv)
			si.lastLocal = srv
		}
	}
	if !labScope(srv) && !srv.IsLoopback() && !srv.IsMulticast() && srv != broadcast4 {
		if e.client.mac != 0 && !labScope(cl) && cl.IsGlobalUnicast() {
			p.info(e.client).pub.add(cl)
		}
		if e.server.mac != 0 && f.Packets[s2c] > 0 {
			p.info(e.server).gateway = true
		}
	}
	ct := p.contact(contactKey{client: e.client, server: netip.AddrPortFrom(srv, f.Server.Port()), proto: f.Proto}, f.First)
	if ct == nil {
		return
	}
	ct.flows++
	ct.bytesOut += f.Bytes[c2s]
	ct.bytesIn += f.Bytes[s2c]
	if f.Last.After(ct.last) {
		ct.last = f.Last
	}
}

// InputEnd implements engine.FlowObserver.
func (p *part) InputEnd(*engine.Input) {}

// dhcp reads a DHCP message and returns who sent it: the client its hardware address names, or
// the flow's end for a server's answer.
func (p *part) dhcp(b []byte, sender who) who {
	m, _ := dhcp.Parse(b)
	if m == nil {
		return sender
	}
	client := sender
	if v, ok := macBits(m.ClientMAC); ok && v != 0 && v&groupBit == 0 {
		client = who{mac: v}
	}
	if m.Op == 2 {
		p.info(sender).dhcpServer = true
		if m.Type == dhcp.Ack && m.YourIP.IsValid() {
			p.info(client).add(fAddr, m.YourIP.String())
		}
		return sender
	}
	in := p.info(client)
	in.add(fHostName, m.HostName)
	in.add(fFQDN, m.FQDN)
	in.add(fVendorClass, m.VendorClass)
	in.add(fFingerprint, m.Fingerprint())
	if m.ClientIP.IsValid() {
		in.add(fAddr, m.ClientIP.String())
	}
	return client
}

func (p *part) mdns(b []byte, sender who) {
	m, _ := mdns.Parse(b)
	if m == nil {
		return
	}
	a := m.Announcement()
	if len(a.Hosts)+len(a.Services)+len(a.Instances) == 0 {
		return
	}
	in := p.info(sender)
	for _, h := range a.Hosts {
		in.add(fMDNSName, h)
	}
	for _, s := range a.Services {
		in.add(fMDNSService, s)
	}
	for _, ad := range a.Addrs {
		in.add(fAddr, ad.Unmap().String())
	}
	for _, i := range a.Instances {
		in.add(fMDNSInstance, i.Name+"\x00"+i.Service+"\x00"+i.Host+"\x00"+strconv.Itoa(int(i.Port)))
		for _, kv := range i.TXT {
			in.add(fMDNSTXT, i.Service+"\x00"+i.Name+"\x00"+kv)
		}
	}
}

func (p *part) llmnr(b []byte, sender who) {
	m, _ := llmnr.Parse(b)
	if m == nil || !m.Response || m.Name == "" {
		return
	}
	in := p.info(sender)
	in.add(fLLMNRName, m.Name)
	for _, a := range m.Addrs {
		in.add(fAddr, a.Unmap().String())
	}
}

func (p *part) ssdp(b []byte, sender who) {
	m, _ := ssdp.Parse(b)
	if m == nil {
		return
	}
	in := p.info(sender)
	if m.Kind == ssdp.Search {
		in.add(fSSDPAgent, m.UserAgent)
		return
	}
	in.add(fSSDPServer, m.Server)
	in.add(fSSDPUSN, m.USN)
	in.add(fSSDPLocation, m.Location)
	in.add(fSSDPType, m.Type())
}

func (p *part) wsd(b []byte, sender who) {
	m, _ := wsdiscovery.Parse(b)
	if m == nil {
		return
	}
	switch m.Action {
	case wsdiscovery.Hello, wsdiscovery.Bye, wsdiscovery.ProbeMatches, wsdiscovery.ResolveMatches:
	default:
		return // a Probe or Resolve says what the sender looks for, not what it is
	}
	in := p.info(sender)
	for i := range m.Matches {
		x := &m.Matches[i]
		in.add(fWSDEndpoint, x.Address)
		for _, a := range x.XAddrs {
			in.add(fWSDXAddr, a)
		}
		o, ok := x.ONVIF()
		for _, t := range o.Types {
			in.add(fWSDType, t)
		}
		if !ok {
			continue
		}
		in.add(fONVIFModel, o.Hardware)
		in.add(fONVIFName, o.Name)
		in.add(fONVIFFirmware, o.Firmware)
		for _, l := range o.Location {
			in.add(fONVIFLocation, l)
		}
		for _, pr := range o.Profiles {
			in.add(fONVIFProfile, pr)
		}
	}
}

// maxResp bounds the HTTP bytes kept per flow for a UPnP description: a description and its
// response head.
const maxResp = upnp.MaxSize + 8<<10

// httpResponse keeps what an HTTP server on the lab segment sends, for a UPnP device description
// (the document an SSDP LOCATION names, fetched in clear on the segment).
func (p *part) httpResponse(c *engine.Chunk, slot *any) {
	f := c.Flow
	if !labScope(f.Server.Addr().Unmap()) {
		return
	}
	st := p.state(f, slot)
	switch {
	case st.respDone:
		return
	case c.Gap, len(st.resp)+len(c.Payload) > maxResp, len(st.resp) == 0 && !bytes.HasPrefix(c.Payload, []byte("HTTP/1.")):
		st.resp, st.respDone = nil, true
		return
	}
	st.resp = append(st.resp, c.Payload...)
}

// upnpResponses reads the HTTP responses a lab-scope server sent on one connection and takes
// each UPnP device description among them as what the server says of itself.
func (p *part) upnpResponses(b []byte, server who) {
	br := bufio.NewReader(bytes.NewReader(b))
	for range 8 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, upnp.MaxSize+1))
		resp.Body.Close()
		if len(body) == 0 || !upnp.LooksLike(body) {
			if err != nil {
				return
			}
			continue
		}
		d, _ := upnp.ParseDescription(body)
		if d == nil {
			continue
		}
		in := p.info(server)
		in.add(fUPnPName, d.FriendlyName)
		in.add(fUPnPMaker, d.Manufacturer)
		in.add(fUPnPModel, d.ModelName)
		in.add(fUPnPModelNumber, d.ModelNumber)
		in.add(fUPnPSerial, d.SerialNumber)
		in.add(fUPnPUDN, d.UDN)
	}
}

// sadp reads a SADP ProbeMatch: what a Hikvision device says of itself to any host that asks.
func (p *part) sadp(b []byte, sender who) {
	m, _ := sadp.Parse(b)
	if m == nil || m.Kind != sadp.KindProbeMatch {
		return // a Probe says what the sender looks for, not what it is
	}
	in := p.info(sender)
	in.add(fSADPModel, m.Description)
	in.add(fSADPSerial, m.Serial)
	in.add(fSADPFirmware, m.Software)
	if a, err := netip.ParseAddr(m.IPv4); err == nil && a.Is4() {
		in.add(fAddr, a.String())
	}
}

// splitNUL splits a composite member of a set.
func splitNUL(s string, n int) []string {
	parts := strings.SplitN(s, "\x00", n)
	for len(parts) < n {
		parts = append(parts, "")
	}
	return parts
}
