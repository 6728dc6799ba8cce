package destinations

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/decoders/dhcp"
	"droneaudit/decoders/dns"
	"droneaudit/decoders/http"
	"droneaudit/decoders/mqtt"
	"droneaudit/decoders/quic"
	"droneaudit/decoders/tls"
	"droneaudit/netflow"
)

// maxNotes bounds the problems reported per capture; the rest are counted.
const maxNotes = 20

// maxDNSAddrs bounds the addresses bound to names from DNS answers (about 100 bytes each).
const maxDNSAddrs = 1 << 20

// flowState is the naming work in progress on one flow.
type flowState struct {
	app    string
	done   bool // nothing more to learn from this flow's payload
	hello  tls.Collector
	quic   *quic.Tracker
	head   []byte // HTTP request head so far
	mqtt   *mqtt.Conn
	dnsTCP [2][]byte
	row    *rowAcc // the flow's destination row, once looked up
}

type fileRun struct {
	st      *state
	name    string
	notes   int
	dropped int
}

func (r *fileRun) note(f *flowtable.Flow, code decoders.Code, format string, args ...any) {
	r.notes++
	if r.notes > maxNotes {
		r.dropped++
		return
	}
	r.st.notes = append(r.st.notes, decoders.Note{Input: r.name, Severity: decoders.Warning, Code: code,
		Locator: "flow " + f.UID(), Offset: -1, Message: fmt.Sprintf(format, args...)})
}

// account adds an ended flow to its destination row.
func (st *state) account(f *flowtable.Flow, slot *any) {
	app := ""
	var a *rowAcc
	switch fs := (*slot).(type) {
	case *flowState:
		st.finishFlow(f, fs)
		app, a = fs.app, fs.row
		st.recycle(fs)
	case *finished:
		app, a = fs.app, fs.row
	}
	if a == nil {
		a = st.rowOf(f)
	}
	a.bytesOut += f.Bytes[netflow.ClientToServer]
	a.bytesIn += f.Bytes[netflow.ServerToClient]
	a.flows++
	if a.first.IsZero() || f.First.Before(a.first) {
		a.first = f.First
	}
	if f.Last.After(a.last) {
		a.last = f.Last
	}
	if ip := f.Client.Addr().Unmap(); ip != a.knownClient {
		mac := a.devices[ip]
		if mac == "" {
			mac = f.ClientMAC
			a.devices[ip] = mac
		}
		if mac != "" {
			a.knownClient = ip // its MAC is set for good: the next flow from it need not look
		}
	}
	if a.app == "" {
		a.app = app
	}
	*slot = nil
}

func (st *state) finishFlow(f *flowtable.Flow, fs *flowState) {
	// A QUIC flow whose ClientHello never completed still says it is QUIC.
	if fs.quic != nil && fs.quic.Initials > 0 && fs.app == "" {
		fs.app = "quic"
	}
}

func (st *state) rowOf(f *flowtable.Flow) *rowAcc {
	return st.acc(rowKey{f.Server.Addr().Unmap(), f.Server.Port(), f.Proto})
}

// flowRow is rowOf, looked up once per flow.
func (st *state) flowRow(f *flowtable.Flow, fs *flowState) *rowAcc {
	if fs.row == nil {
		fs.row = st.rowOf(f)
	}
	return fs.row
}

// finished is what a flow keeps once naming is done: only the application name and the row if
// it was looked up, so that the decoder state can be freed while the flow's bytes are still
// counted. The flows of one row and application share one (finishedFor).
type finished struct {
	app string
	row *rowAcc
}

// maxFinished bounds the shared finished values of flows without a row.
const maxFinished = 64

// finishedFor returns the finished value of app and row, shared with the flows before it: a
// pointer in the flow's slot costs no allocation.
func (st *state) finishedFor(app string, row *rowAcc) *finished {
	if row != nil {
		if row.done == nil || row.done.app != app {
			row.done = &finished{app: app, row: row}
		}
		return row.done
	}
	d := st.finished[app]
	if d == nil {
		d = &finished{app: app}
		if len(st.finished) < maxFinished {
			if st.finished == nil {
				st.finished = map[string]*finished{}
			}
			st.finished[app] = d
		}
	}
	return d
}

// maxFree bounds the flow states kept for reuse.
const maxFree = 256

// newFlowState returns an empty flow state, reused from a flow that is done with its own.
func (st *state) newFlowState() *flowState {
	if n := len(st.free); n > 0 {
		fs := st.free[n-1]
		st.free = st.free[:n-1]
		return fs
	}
	return &flowState{}
}

// recycle keeps a flow state no slot points to any more for the next flow.
func (st *state) recycle(fs *flowState) {
	if len(st.free) < maxFree {
		*fs = flowState{}
		st.free = append(st.free, fs)
	}
}

func (r *fileRun) deliver(d flowtable.Delivery, app string, slot *any) {
	f := d.Flow
	if _, ok := (*slot).(*finished); ok {
		return
	}
	fs, _ := (*slot).(*flowState)
	if fs == nil {
		fs = r.st.newFlowState()
		fs.hello.Parser = &r.st.helloParser
		*slot = fs
	}
	if f.Proto == netflow.UDP {
		r.udp(f, fs, d, app)
	} else {
		r.tcp(f, fs, d, app)
	}
	if fs.done {
		r.st.finishFlow(f, fs)
		*slot = r.st.finishedFor(fs.app, fs.row)
		r.st.recycle(fs)
	}
}

func isPort(f *flowtable.Flow, ports ...uint16) bool {
	for _, p := range ports {
		if f.Server.Port() == p || f.Client.Port() == p {
			return true
		}
	}
	return false
}

// udp names what a UDP flow carries, as the engine recognised it (app).
func (r *fileRun) udp(f *flowtable.Flow, fs *flowState, d flowtable.Delivery, app string) {
	st := r.st
	switch {
	case fs.app == "dns" || (fs.app == "" && app == "dns"):
		fs.app = "dns"
		st.dnsMessage(d.Payload)
		if f.Server.Port() == 53 {
			st.flowRow(f, fs).flag(FlagDNS)
		}
	case fs.app == "dhcp" || (fs.app == "" && app == "dhcp"):
		fs.app = "dhcp"
		if m, err := dhcp.Parse(d.Payload); err == nil && m.ClientMAC != nil {
			mac := m.ClientMAC.String()
			if m.HostName != "" {
				st.dhcp[mac] = m.HostName
			}
			if m.YourIP.IsValid() && m.Type == dhcp.Ack {
				st.arp[m.YourIP] = mac
			}
		}
	case d.Dir == netflow.ClientToServer && (fs.quic != nil || (fs.app == "" && app == "quic")):
		if fs.quic == nil {
			fs.quic = quic.NewTracker()
			fs.quic.Parser = &st.helloParser
		}
		done, err := fs.quic.ClientDatagram(d.Payload)
		if err != nil && fs.quic.Initials == 0 {
			fs.done = true // not QUIC after all, or not decryptable: stop trying
			return
		}
		if done {
			fs.app = "quic"
			ch, _ := fs.quic.Result()
			st.hello(f, fs, ch, true)
			if isPort(f, 853) {
				st.flowRow(f, fs).flag(FlagDoQ)
			}
			fs.quic, fs.done = nil, true
		}
	case fs.app == "":
		if d.Dir == netflow.ClientToServer {
			fs.app = app // a protocol the inventory reads no names from (e.g. "mavlink"), or none
			fs.done = true
		}
	}
}

func (st *state) hello(f *flowtable.Flow, fs *flowState, ch *tls.ClientHello, isQUIC bool) {
	if ch == nil {
		return
	}
	a := st.flowRow(f, fs)
	src := SourceTLSSNI
	if isQUIC {
		src = SourceQUICSNI
	}
	if ch.ECH {
		src = SourceECHOuter
		if _, ok := a.flags[FlagECH]; !ok {
			a.flags[FlagECHGrease] = struct{}{}
		}
	}
	if name := strings.ToLower(strings.TrimSuffix(ch.ServerName, ".")); name != "" {
		a.name(Name{Name: name, Source: src})
	}
	fp := st.fingerprints(ch, isQUIC)
	// A repeat of the fingerprint last added is in the set already, or was left out of a full
	// one (the sets only grow).
	if fp.ja4 != a.lastJA4 || !a.haveJA4 {
		if len(a.ja4) < 16 {
			a.ja4[fp.ja4] = struct{}{}
		}
		a.lastJA4, a.haveJA4 = fp.ja4, true
	}
	if !isQUIC && (fp.ja3 != a.lastJA3 || !a.haveJA3) {
		if len(a.ja3) < 16 {
			a.ja3[fp.ja3] = struct{}{}
		}
		a.lastJA3, a.haveJA3 = fp.ja3, true
	}
}

// tcp names what a TCP flow carries, as the engine recognised it (app).
func (r *fileRun) tcp(f *flowtable.Flow, fs *flowState, d flowtable.Delivery, app string) {
	st := r.st
	if fs.app == "" {
		if d.Dir != netflow.ClientToServer && app != "dns" {
			fs.app = app   // a protocol the inventory reads no names from (e.g. "mavlink"), or none
			fs.done = true // the server spoke first: nothing of ours
			return
		}
		switch app {
		case "dns", "tls", "http":
			fs.app = app
		case "mqtt":
			fs.app = app
			fs.mqtt = &mqtt.Conn{}
		default:
			fs.app = app // a protocol the inventory reads no names from (e.g. "mavlink"), or none
			fs.done = true
			return
		}
	}
	switch fs.app {
	case "tls":
		if d.Dir != netflow.ClientToServer {
			return
		}
		if d.Gap {
			r.note(f, decoders.CodeGap, "bytes lost before the ClientHello was complete")
			fs.done = true
			return
		}
		if fs.hello.Feed(d.Payload) {
			ch, _ := fs.hello.Result()
			st.hello(f, fs, ch, false)
			if isPort(f, 853) {
				st.flowRow(f, fs).flag(FlagDoT)
			}
			fs.hello, fs.done = tls.Collector{}, true
		}
	case "http":
		if d.Dir != netflow.ClientToServer {
			return
		}
		head := d.Payload[:min(len(d.Payload), http.MaxHead)]
		if len(fs.head) > 0 {
			fs.head = append(fs.head, head...)
			head = fs.head
		}
		req, _, complete, err := http.ParseHead(head)
		if err != nil {
			fs.done, fs.head = true, nil
			return
		}
		if !complete && len(fs.head) == 0 {
			// The head goes on in the next segment: only then is it copied.
			fs.head = append([]byte(nil), head...)
		}
		if complete {
			a := st.flowRow(f, fs)
			if req.Host != "" {
				if !mayBeAddr(req.Host) {
					a.name(Name{Name: req.Host, Source: SourceHTTPHost})
				} else if _, err := netip.ParseAddr(req.Host); err != nil {
					a.name(Name{Name: req.Host, Source: SourceHTTPHost})
				}
			}
			if strings.HasPrefix(req.ContentType, "application/dns-message") || strings.HasPrefix(req.Target, "/dns-query") {
				a.flag(FlagDoH)
			}
			fs.done, fs.head = true, nil
		}
	case "mqtt":
		err := fs.mqtt.Feed(int(d.Dir), d.Payload, func(p *mqtt.Packet) {
			if p.Type == mqtt.TypePublish {
				st.brokerNames(p.Payload)
			}
		})
		if err != nil {
			r.note(f, decoders.CodeMalformed, "%v", err)
		}
	case "dns":
		if d.Gap {
			fs.dnsTCP[d.Dir] = nil
		}
		b := append(fs.dnsTCP[d.Dir], d.Payload...)
		msgs, used := dns.SplitTCP(b)
		for _, m := range msgs {
			st.dnsMessage(m)
		}
		if len(b)-used > 64<<10 {
			fs.done = true
			b = nil
		} else {
			b = append(b[:0], b[used:]...)
		}
		fs.dnsTCP[d.Dir] = b
		if f.Server.Port() == 53 {
			st.flowRow(f, fs).flag(FlagDNS)
		}
	}
}

// mayBeAddr reports whether netip.ParseAddr could read s: an IPv6 address has a colon, and an
// IPv4 address is digits and dots. A host name is told without ParseAddr's error allocation.
func mayBeAddr(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// dnsMessage learns address → name bindings from a response: every address answer is bound to
// its owner name and to the names that alias to it through CNAME records.
func (st *state) dnsMessage(b []byte) {
	m, _ := st.dnsParser.Parse(b)
	if m == nil {
		return
	}
	for _, q := range m.Questions {
		if len(st.queries) < 100000 {
			st.queries[q.Name] = struct{}{}
		}
	}
	if !m.Response {
		return
	}
	var alias map[string][]string // canonical name → names pointing at it; most answers have none
	for _, a := range m.Answers {
		switch a.Type {
		case dns.TypeCNAME:
			if alias == nil {
				alias = map[string][]string{}
			}
			alias[a.Target] = append(alias[a.Target], a.Name)
		case dns.TypeHTTPS, dns.TypeSVCB:
			if a.ECH {
				st.echName[a.Name] = true
			}
		}
	}
	for _, a := range m.Answers {
		if !a.Addr.IsValid() {
			continue
		}
		ip := a.Addr.Unmap()
		set := st.dnsName[ip]
		if set == nil && len(st.dnsName) >= maxDNSAddrs {
			continue // a flood of answers: keep the bindings learnt so far
		}
		if set == nil {
			set = map[string]struct{}{}
			st.dnsName[ip] = set
		}
		if alias == nil {
			if len(set) < 64 {
				set[a.Name] = struct{}{}
			}
			continue
		}
		names := []string{a.Name}
		for i := 0; i < len(names) && i < 16; i++ {
			if len(set) < 64 {
				set[names[i]] = struct{}{}
			}
			names = append(names, alias[names[i]]...)
		}
	}
}

// brokerRE finds the broker address that DJI Cloud API's drc_mode_enter hands a device
// (dji-network.md §4.1: mqtt_broker{address, client_id, username, …}).
var brokerRE = regexp.MustCompile(`"mqtt_broker"\s*:\s*\{[^}]*?"address"\s*:\s*"([^"]{1,255})"`)

func (st *state) brokerNames(payload []byte) {
	if !strings.Contains(string(payload), "mqtt_broker") {
		return
	}
	for _, m := range brokerRE.FindAllSubmatch(payload, 4) {
		addr := string(m[1])
		addr = strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(addr, "tcp://"), "ssl://"), "mqtt://")
		host, port := addr, uint16(1883)
		if ap, err := netip.ParseAddrPort(addr); err == nil {
			st.acc(rowKey{ap.Addr().Unmap(), ap.Port(), netflow.TCP}).names[Name{Name: ap.Addr().String(), Source: SourceMQTTBroker}] = struct{}{}
			continue
		}
		if i := strings.LastIndexByte(addr, ':'); i > 0 {
			host = addr[:i]
			fmt.Sscanf(addr[i+1:], "%d", &port)
		}
		if len(st.brokers) < 1024 {
			st.brokers = append(st.brokers, broker{name: strings.ToLower(host), port: port})
		}
	}
}

type fingerprint struct{ ja3, ja4 string }

// maxFingerprints bounds the per-worker cache of fingerprints.
const maxFingerprints = 4096

// maxFingerprintKey bounds the key of a cached fingerprint; a hello with longer lists is
// fingerprinted without the cache.
const maxFingerprintKey = 512

// fingerprints returns the JA3 and JA4 of a ClientHello, from a cache keyed by every field the
// two fingerprints read (GREASE values left out, as both fingerprints do), each list with its
// length, so that two keys are equal only when the fingerprints are: a lab has a handful of
// client stacks, so most hellos repeat one already seen. The key is written in a stack buffer
// and looked up without being copied.
func (st *state) fingerprints(ch *tls.ClientHello, isQUIC bool) fingerprint {
	var buf [maxFingerprintKey]byte
	k := binary.BigEndian.AppendUint16(buf[:0], ch.LegacyVersion)
	for _, l := range [...][]uint16{ch.CipherSuites, ch.Extensions, ch.Groups, ch.SignatureAlgs, ch.SupportedVersions} {
		at := len(k)
		k = append(k, 0, 0, 0, 0)
		n := 0
		for _, v := range l {
			if !tls.IsGREASE(v) {
				k = binary.BigEndian.AppendUint16(k, v)
				n++
			}
		}
		binary.BigEndian.PutUint32(k[at:], uint32(n))
	}
	k = binary.BigEndian.AppendUint32(k, uint32(len(ch.PointFormats)))
	k = append(k, ch.PointFormats...)
	alpn := ""
	if len(ch.ALPN) > 0 {
		alpn = ch.ALPN[0]
	}
	k = binary.BigEndian.AppendUint32(k, uint32(len(alpn)))
	k = append(k, alpn...)
	k = append(k, boolByte(ch.ServerName != ""), boolByte(isQUIC))
	if fp, ok := st.fpCache[string(k)]; ok {
		return fp
	}
	fp := fingerprint{ja3: ch.JA3(), ja4: ch.JA4(isQUIC)}
	if st.fpCache == nil {
		st.fpCache = map[string]fingerprint{}
	}
	if len(st.fpCache) < maxFingerprints && len(k) <= maxFingerprintKey {
		st.fpCache[string(k)] = fp
	}
	return fp
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
