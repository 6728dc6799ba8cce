package mqtt

import (
	"slices"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/jsonpos"
	"droneaudit/geo"
	"droneaudit/netflow"
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
	return &flow{in: in, sink: sink}
}

// maxFixesPerMessage bounds what one PUBLISH may yield.
const maxFixesPerMessage = 64

type flow struct {
	in      decoders.Input
	sink    decoders.Sink
	conn    Conn
	dead    bool
	seen    []identityKey // identity values already noted
	seenBuf [4]identityKey
	// publishes counts the PUBLISH packets of both directions, as the requests command numbers
	// its rows, so that a finding names the message that carried it.
	publishes int
}

type identityKey struct{ key, val string }

// topicSerial returns the device serial of a Cloud API topic, thing/product/{sn}/… or
// sys/product/{sn}/…: what `^(?:thing|sys)/product/([A-Za-z0-9]{6,40})/` matches, without a
// regexp on every PUBLISH.
func topicSerial(t string) (string, bool) {
	rest, ok := strings.CutPrefix(t, "thing/product/")
	if !ok {
		if rest, ok = strings.CutPrefix(t, "sys/product/"); !ok {
			return "", false
		}
	}
	n := 0
	for n < len(rest) && n <= 40 && isAlnum(rest[n]) {
		n++
	}
	if n < 6 || n > 40 || n >= len(rest) || rest[n] != '/' {
		return "", false
	}
	return rest[:n], true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

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
	k := identityKey{key, val}
	if val == "" || slices.Contains(fl.seen, k) || len(fl.seen) > 256 {
		return
	}
	if fl.seen == nil {
		fl.seen = fl.seenBuf[:0] // a connection reveals a few: no map for them
	}
	fl.seen = append(fl.seen, k)
	if nk, ok := fl.sink.(decoders.NoteKeeper); ok && !nk.KeepsNote(decoders.Info) {
		fl.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity}) // only counted
		return
	}
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
			if sn, ok := topicSerial(t); ok {
				fl.identity(s, "device_serial", sn)
			}
		}
	case TypePublish:
		fl.publishes++
		fl.sink.Count("mqtt_publish", 1)
		if sn, ok := topicSerial(p.Topic); ok {
			fl.identity(s, "device_serial", sn)
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
		if len(pos) == 0 {
			return
		}
		loc := s.Locator()
		// The fixes of one message share its request (as an HTTP message's fixes do).
		rq := &geo.Request{ID: s.Network.FlowUID + "#" + strconv.Itoa(fl.publishes), Method: "PUBLISH", URL: p.Topic}
		prefix := p.Topic + " "
		net := s.Network // shared too: evidence is not changed once made
		for _, q := range pos {
			ev := fl.in.Evidence(Name, loc, s.Offset, geo.ChannelNetwork)
			ev.Network = &net
			ev.Request = rq
			ev.Message = q.Label(prefix)
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
