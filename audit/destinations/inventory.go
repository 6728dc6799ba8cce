// Package destinations builds the destination inventory of lab captures: one row per
// destination (server IP, port, transport) a lab device sent bytes to, with every name learnt for
// it and where from (DNS answers, TLS and QUIC server names, HTTP Host headers), its owner class
// from a documented host table, its country and AS number from an offline database, the bytes
// each way, the flows, first and last time, and the lab devices (MAC, IP, DHCP host name) that
// used it. A Policy turns rows into violations.
package destinations

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/dns"
	"droneaudit/decoders/tls"
	"droneaudit/engine"
	"droneaudit/netflow"
)

// Name sources.
const (
	SourceDNS        = "dns"
	SourceTLSSNI     = "tls-sni"
	SourceQUICSNI    = "quic-sni"
	SourceHTTPHost   = "http-host"
	SourceMQTTBroker = "mqtt-broker"
	// SourceECHOuter is the outer (public) server name of a ClientHello that carries Encrypted
	// Client Hello: the name of the ECH provider, not of the destination (dji-network.md §7).
	SourceECHOuter = "tls-ech-outer"
)

// Flags on a row.
const (
	FlagECH       = "ech"           // ECH offered and the DNS HTTPS record for the name had an ECH config
	FlagECHGrease = "ech-or-grease" // ECH extension without a DNS record proving ECH: maybe GREASE
	FlagDoH       = "doh"           // DNS over HTTPS resolver (RFC 8484)
	FlagDoT       = "dot"           // DNS over TLS (RFC 7858), TCP 853
	FlagDoQ       = "doq"           // DNS over QUIC (RFC 9250), UDP 853
	FlagDNS       = "dns"           // a plain DNS resolver the lab device used
)

// Name is one name learnt for a destination and where it was learnt.
type Name struct {
	Name   string `json:"name"`
	Source string `json:"source"`
}

// Device is a lab device that used a destination.
type Device struct {
	MAC      string `json:"mac,omitempty"`
	IP       string `json:"ip"`
	HostName string `json:"host_name,omitempty"`
}

// Row is one destination. The JSON field names are a stable interface.
type Row struct {
	IP       string `json:"ip"`
	Port     uint16 `json:"port"`
	Protocol string `json:"protocol"` // "tcp" or "udp"
	Names    []Name `json:"names"`
	Owner    string `json:"owner"`
	Country  string `json:"country"`
	ASN      uint32 `json:"asn"`
	ASOrg    string `json:"as_org"`
	// Scope says how far the bytes went: on-device, lab-network, internet or broadcast;
	// AddressClass what kind of address it is (public, private, loopback, multicast, …).
	Scope        string    `json:"scope"`
	AddressClass string    `json:"address_class"`
	BytesOut     int64     `json:"bytes_out"` // payload bytes lab device → destination
	BytesIn      int64     `json:"bytes_in"`  // payload bytes destination → lab device
	Flows        int       `json:"flows"`
	First        time.Time `json:"first"`
	Last         time.Time `json:"last"`
	Devices      []Device  `json:"devices"`
	// App is the application protocol recognised in the flows ("tls", "quic", "http", "mqtt",
	// "dns", "dhcp"), empty when none was.
	App   string   `json:"app,omitempty"`
	Flags []string `json:"flags"`
	// JA3 and JA4 list the fingerprints of the ClientHellos sent to this destination.
	JA3 []string `json:"ja3"`
	JA4 []string `json:"ja4"`
	// OwnerRule is the pattern of the owner rule that matched, with its confidence.
	OwnerRule string `json:"owner_rule,omitempty"`
}

// Proto returns the row's transport as a typed value.
func (r *Row) Proto() netflow.Proto {
	if r.Protocol == "udp" {
		return netflow.UDP
	}
	return netflow.TCP
}

// Inventory is the result of Build.
type Inventory struct {
	Rows  []Row   `json:"destinations"`
	GeoIP GeoInfo `json:"geoip"`
	// Notes are problems met on the way: flows whose names could not be read and, when the
	// inventory is built on its own, damaged capture files with the offset.
	Notes []decoders.Note `json:"notes"`
	// DNSQueries lists every name asked for in DNS (answered or not), sorted.
	DNSQueries []string `json:"dns_queries"`
	// Packets counts the frames read from all inputs.
	Packets int64 `json:"packets"`
}

// Options configure Build.
type Options struct {
	Owners []OwnerRule // extra owner rules, tried before the built-in table
	GeoIP  *GeoIP      // nil: NewGeoIP(GeoConfig{})
	// IdleTimeout ends a flow after this long without packets (default 5 minutes; UDP 2
	// minutes), as flow tables of capture tools do.
	IdleTimeout time.Duration
	// Observers watch the same pass over the captures (the device inventory), and Protocols are
	// the further flow protocols they read, recognised beside the inventory's own.
	Observers []engine.Observer
	Protocols []decoders.Protocol
	// Unwrappers open layers (TLS with a key log) whose inner flows the observers see too; the
	// inventory itself counts the outer flows only.
	Unwrappers []decoders.Unwrapper
	// Shards is the number of flow shards (0: one per CPU, at most 4); the inventory does not
	// depend on it.
	Shards int
}

type rowKey struct {
	ip    netip.Addr
	port  uint16
	proto netflow.Proto
}

type rowAcc struct {
	key      rowKey
	names    map[Name]struct{}
	bytesOut int64
	bytesIn  int64
	flows    int
	first    time.Time
	last     time.Time
	devices  map[netip.Addr]string // client IP → MAC
	app      string
	flags    map[string]struct{}
	ja3      map[string]struct{}
	ja4      map[string]struct{}
	// What was added last to names, flags, ja3 and ja4, and the last client whose MAC address is
	// set in devices: a destination's flows repeat them, and a repeat is in its set already (the
	// sets only grow while flows are read), so it is not hashed in again.
	lastName         Name
	lastFlag         string
	lastJA3, lastJA4 string
	haveJA3, haveJA4 bool
	knownClient      netip.Addr
	done             *finished // the finished value its flows share (finishedFor)
}

// name adds n to the row's names.
func (a *rowAcc) name(n Name) {
	if n != a.lastName {
		a.names[n] = struct{}{}
		a.lastName = n
	}
}

// flag sets a flag of the row.
func (a *rowAcc) flag(f string) {
	if f != a.lastFlag {
		a.flags[f] = struct{}{}
		a.lastFlag = f
	}
}

// state is what all inputs of one Build share.
type state struct {
	rows    map[rowKey]*rowAcc
	dnsName map[netip.Addr]map[string]struct{} // address → names from DNS answers
	echName map[string]bool                    // names whose HTTPS/SVCB record carried ECH
	dhcp    map[string]string                  // MAC → host name
	arp     map[netip.Addr]string              // IPv4 → MAC
	notes   []decoders.Note
	packets int64
	brokers []broker // broker names announced in MQTT payloads
	queries map[string]struct{}
	fpCache map[string]fingerprint
	// helloParser parses the shard's ClientHellos: each is read (hello) as soon as it is whole.
	helloParser tls.HelloParser
	// dnsParser decodes the shard's DNS messages, each read (dnsMessage) before the next.
	dnsParser dns.Parser
	finished  map[string]*finished // shared finished values of flows without a row
	free      []*flowState         // flow states to reuse
}

type broker struct {
	name string
	port uint16
}

// compareRows orders rows by first contact, then address, port and protocol, so the output is
// the same on every run.
func compareRows(a, b Row) int {
	return cmp.Or(a.First.Compare(b.First), netip.MustParseAddr(a.IP).Compare(netip.MustParseAddr(b.IP)),
		cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
}

func (st *state) acc(k rowKey) *rowAcc {
	a, ok := st.rows[k]
	if !ok {
		a = &rowAcc{key: k, names: map[Name]struct{}{}, devices: map[netip.Addr]string{}, flags: map[string]struct{}{}, ja3: map[string]struct{}{}, ja4: map[string]struct{}{}}
		st.rows[k] = a
	}
	return a
}

func (st *state) row(acc *rowAcc, ipdb *GeoIP, owners *Owners) Row {
	r := Row{IP: acc.key.ip.String(), Port: acc.key.port, Protocol: protoName(acc.key.proto), AddressClass: Class(acc.key.ip),
		BytesOut: acc.bytesOut, BytesIn: acc.bytesIn, Flows: acc.flows, First: acc.first.UTC(), Last: acc.last.UTC(), App: acc.app,
		Names: []Name{}, Devices: []Device{}}
	for n := range st.dnsName[acc.key.ip] {
		acc.names[Name{Name: n, Source: SourceDNS}] = struct{}{}
		for _, b := range st.brokers {
			if b.name == n && b.port == acc.key.port && acc.key.proto == netflow.TCP {
				acc.names[Name{Name: n, Source: SourceMQTTBroker}] = struct{}{}
			}
		}
	}
	var plain []string
	for n := range acc.names {
		r.Names = append(r.Names, n)
		if n.Source != SourceECHOuter {
			plain = append(plain, n.Name)
		}
		if n.Source == SourceTLSSNI || n.Source == SourceQUICSNI {
			if isDoHResolver(n.Name) {
				acc.flags[FlagDoH] = struct{}{}
			}
		}
	}
	if _, ech := acc.flags[FlagECHGrease]; ech {
		for _, n := range plain {
			if st.echName[n] {
				delete(acc.flags, FlagECHGrease)
				acc.flags[FlagECH] = struct{}{}
				break
			}
		}
	}
	slices.SortFunc(r.Names, func(a, b Name) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Source, b.Source)) })
	slices.Sort(plain)
	owner, rule := owners.Classify(slices.Compact(plain), acc.key.ip, acc.app)
	r.Owner = owner
	if rule != nil {
		r.OwnerRule = rule.Pattern + " (" + rule.Confidence + ")"
	}
	r.Scope = ScopeOfClass(r.AddressClass)
	if r.AddressClass == ClassPublic {
		r.Country = ipdb.Country(acc.key.ip)
		r.ASN, r.ASOrg = ipdb.ASN(acc.key.ip)
	}
	for ip, mac := range acc.devices {
		if mac == "" {
			mac = st.arp[ip]
		}
		r.Devices = append(r.Devices, Device{MAC: mac, IP: ip.String(), HostName: st.dhcp[mac]})
	}
	slices.SortFunc(r.Devices, func(a, b Device) int { return cmp.Or(cmp.Compare(a.IP, b.IP), cmp.Compare(a.MAC, b.MAC)) })
	for f := range acc.flags {
		r.Flags = append(r.Flags, f)
	}
	slices.Sort(r.Flags)
	for j := range acc.ja4 {
		r.JA4 = append(r.JA4, j)
	}
	slices.Sort(r.JA4)
	for j := range acc.ja3 {
		r.JA3 = append(r.JA3, j)
	}
	slices.Sort(r.JA3)
	return r
}

func protoName(p netflow.Proto) string { return p.String() }

// dohResolvers are public DNS-over-HTTPS/TLS resolver names (dji-network.md §7).
var dohResolvers = []string{"dns.google", "dns.google.com", "cloudflare-dns.com", "mozilla.cloudflare-dns.com", "one.one.one.one",
	"dns.quad9.net", "dns.alidns.com", "doh.pub", "dot.pub", "dns.nextdns.io", "doh.opendns.com", "dns.adguard-dns.com"}

func isDoHResolver(name string) bool {
	for _, r := range dohResolvers {
		if name == r || strings.HasSuffix(name, "."+r) {
			return true
		}
	}
	return false
}
