package mqtt

import (
	"droneaudit/netflow"
	"regexp"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/jsonpos"
	"droneaudit/geo"
)

// Name is the decoder name in evidence.
const Name = "mqtt"

// Net finds MQTT in TCP flows of captures and reports the positions of DJI Cloud API messages
// (JSON in PUBLISH payloads, dji-network.md §4.4) as network-channel fixes, and the client
// identifiers and device serial numbers the connection reveals as identity notes.
type Net struct{}

// Name implements decoders.PayloadDecoder.
func (Net) Name() string { return Name }

// Sniff implements decoders.PayloadDecoder: a CONNECT packet.
func (Net) Sniff(p []byte) bool { return LooksLike(p) }

// NewFlow implements decoders.PayloadDecoder.
func (Net) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &flow{in: in, sink: sink, seen: map[string]bool{}}
}

// maxFixesPerMessage bounds what one PUBLISH may yield.
const maxFixesPerMessage = 64

type flow struct {
	in   decoders.Input
	sink decoders.Sink
	conn Conn
	dead bool
	seen map[string]bool // identity values already noted
	// publishes counts the PUBLISH packets of both directions, as the requests command numbers
	// its rows, so that a finding names the message that carried it.
	publishes int
}

// serialRE finds the device serial in Cloud API topics: thing/product/{sn}/…, sys/product/{sn}/….
var serialRE = regexp.MustCompile(`^(?:thing|sys)/product/([A-Za-z0-9]{6,40})/`)

// Segment implements decoders.FlowDecoder.
func (fl *flow) Segment(s decoders.Segment) {
	if fl.dead {
		return
	}
	dir := 0
	if s.Network.Direction == netflow.ServerToClient {
		dir = 1
	}
	if s.Gap {
		// A hole in the stream: packet boundaries are lost for good in this direction.
		fl.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeGap, Locator: s.Locator(), Offset: s.Offset,
			Message: "bytes of the MQTT stream were lost; the rest of this direction is not decoded"})
		fl.dead = true
		return
	}
	err := fl.conn.Feed(dir, s.Payload, func(p *Packet) { fl.packet(s, p) })
	if err != nil {
		fl.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Locator: s.Locator(), Offset: s.Offset, Message: err.Error()})
	}
}

func (fl *flow) identity(s decoders.Segment, key, val string) {
	if val == "" || fl.seen[key+"="+val] || len(fl.seen) > 256 {
		return
	}
	fl.seen[key+"="+val] = true
	fl.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity, Locator: s.Locator(), Offset: s.Offset,
		Message: "MQTT reveals " + key + " " + val, Attrs: map[string]string{key: val}})
}

func (fl *flow) packet(s decoders.Segment, p *Packet) {
	switch p.Type {
	case TypeConnect:
		fl.sink.Count("mqtt_connect", 1)
		fl.identity(s, "mqtt_client_id", p.ClientID)
		fl.identity(s, "mqtt_username", p.Username)
	case TypeSubscribe:
		for _, t := range p.Topics {
			if m := serialRE.FindStringSubmatch(t); m != nil {
				fl.identity(s, "device_serial", m[1])
			}
		}
	case TypePublish:
		fl.publishes++
		fl.sink.Count("mqtt_publish", 1)
		if m := serialRE.FindStringSubmatch(p.Topic); m != nil {
			fl.identity(s, "device_serial", m[1])
		}
		if p.Truncated || !jsonpos.Looks(p.Payload) {
			return
		}
		def := geo.RoleOther
		if hasSuffix(p.Topic, "/osd") || hasSuffix(p.Topic, "/drc/up") {
			def = geo.RoleAircraft
		}
		pos, err := jsonpos.Find(p.Payload, def, maxFixesPerMessage)
		if err != nil {
			return // not JSON after all: nothing to report
		}
		for _, q := range pos {
			ev := fl.in.Evidence(Name, s.Locator(), s.Offset, geo.ChannelNetwork)
			net := s.Network
			ev.Network = &net
			ev.Request = &geo.Request{ID: net.FlowUID + "#" + strconv.Itoa(fl.publishes), Method: "PUBLISH", URL: p.Topic}
			ev.Message = p.Topic + " " + strings.TrimPrefix(q.Path+"."+q.Key, ".")
			f, _ := q.Fix(ev)
			f.Time = s.Time
			if f.Valid() {
				fl.sink.Fix(f)
			}
		}
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

// Close implements decoders.FlowDecoder; nothing is pending at the end of a flow.
func (fl *flow) Close() {}
