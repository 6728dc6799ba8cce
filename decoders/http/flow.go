package http

import (
	"bytes"
	"cmp"
	"droneaudit/netflow"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/jsonpos"
	"droneaudit/geo"
)

// Name is the decoder name in evidence.
const Name = "http"

// MaxBody bounds the request body kept for the position search; a longer body is skipped.
const MaxBody = jsonpos.MaxDocument

// Net reads clear-text HTTP/1.x requests in TCP flows of captures and reports the positions their
// query strings and JSON or form bodies carry (e.g. the FlySafe unlock and no-fly-zone requests
// that send the aircraft's coordinates, dji-network.md §2) as network-channel fixes.
type Net struct{}

// Name implements decoders.PayloadDecoder.
func (Net) Name() string { return Name }

// Sniff implements decoders.PayloadDecoder: a request line's method.
func (Net) Sniff(p []byte) bool { return LooksLike(p) }

// NewFlow implements decoders.PayloadDecoder.
func (Net) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &flow{in: in, sink: sink}
}

// H2Net reads the requests of HTTP/2 connections with prior knowledge, which is what a TLS
// session that negotiated "h2" carries once the engine has opened it: the same positions as Net,
// from the path's query and the request body reassembled from its DATA frames.
type H2Net struct{}

// Name implements decoders.PayloadDecoder: the protocol name the engine recognises HTTP/2 by.
func (H2Net) Name() string { return "http2" }

// Sniff implements decoders.PayloadDecoder: the client connection preface.
func (H2Net) Sniff(p []byte) bool { return LooksLikeH2(p) }

// NewFlow implements decoders.PayloadDecoder.
func (H2Net) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &flow{in: in, sink: sink, h2: true}
}

type flow struct {
	in   decoders.Input
	sink decoders.Sink
	conn *H1Conn
	h2   bool
	h2c  *H2Conn
	seg  decoders.Segment // the segment being fed: the one that completes a request
}

const maxFixesPerRequest = 64

// Segment implements decoders.FlowDecoder. Only the client's direction is read: the requests are
// numbered as the requests command numbers them (H1Conn), so a finding links to its row.
func (fl *flow) Segment(s decoders.Segment) {
	if s.Network.Direction == netflow.ServerToClient {
		return
	}
	fl.seg = s
	if fl.h2 {
		// Only the client's frames: its HPACK state depends on nothing the server sends.
		if fl.h2c == nil {
			fl.h2c = NewH2Conn(H2Config{MaxBody: MaxBody, OnMessage: fl.message2})
		}
		if s.Gap {
			fl.h2 = false // frame boundaries are lost: nothing more is read
			return
		}
		fl.h2c.Feed(s.Network.Direction, s.Payload)
		return
	}
	if fl.conn == nil {
		fl.conn = NewH1Conn(H1Config{MaxBody: MaxBody, OnMessage: fl.message})
	}
	if s.Gap {
		fl.conn.Gap(s.Network.Direction)
	}
	fl.conn.Feed(s.Network.Direction, s.Payload)
}

// message reads the positions of one request: its query string, and its JSON or form body when
// whole (a body over MaxBody is skipped).
func (fl *flow) message(m *Message) {
	if m.Dir != netflow.ClientToServer {
		return
	}
	fl.sink.Count("http_requests", 1)
	r := &Request{Method: m.Method, Target: m.Target, Version: m.Version, Host: m.Host, ContentType: m.ContentType, ContentLength: m.ContentLength}
	rq := fl.request(m)
	fl.query(r, rq, fl.seg)
	if m.BodyLen > 0 && m.Complete && !m.Truncated {
		fl.body(r, rq, m.Body, fl.seg)
	}
}

// message2 reads the positions of one HTTP/2 request, named by its stream ID as the requests
// command names it.
func (fl *flow) message2(m *H2Message) {
	if m.Dir != netflow.ClientToServer {
		return
	}
	fl.sink.Count("http_requests", 1)
	r := &Request{Method: m.Method, Target: m.Path, Version: "HTTP/2", Host: hostOnly(m.Authority), ContentType: m.Header("content-type"), ContentLength: m.ContentLength}
	rq := &geo.Request{ID: fl.seg.Network.FlowUID + "#" + strconv.FormatUint(uint64(m.StreamID), 10), Method: m.Method,
		URL: fl.scheme() + cmp.Or(m.Authority, fl.seg.Network.Server().String()) + m.Path}
	fl.query(r, rq, fl.seg)
	if m.BodyLen > 0 && m.Complete && !m.Truncated {
		fl.body(r, rq, m.Body, fl.seg)
	}
}

// scheme is https for an inner flow of the TLS layer (uid "…-tls").
func (fl *flow) scheme() string {
	if strings.HasSuffix(fl.seg.Network.FlowUID, "-tls") {
		return "https://"
	}
	return "http://"
}

// request names the request in evidence as the requests command's row does: "<flow uid>#<n>", and
// the URL with the Host as sent. An inner flow of the TLS layer (uid "…-tls") is https.
func (fl *flow) request(m *Message) *geo.Request {
	url := m.Target
	if !strings.Contains(url, "://") {
		url = fl.scheme() + cmp.Or(m.Get("Host"), fl.seg.Network.Server().String()) + url
	}
	return &geo.Request{ID: fl.seg.Network.FlowUID + "#" + strconv.Itoa(m.Seq), Method: m.Method, URL: url}
}

// query reports positions in the request target's query string.
func (fl *flow) query(r *Request, rq *geo.Request, s decoders.Segment) {
	_, q, ok := strings.Cut(r.Target, "?")
	if !ok {
		return
	}
	fl.emit(r, rq, jsonpos.FindForm(q, geo.RoleOther, maxFixesPerRequest), s, "query")
}

func (fl *flow) body(r *Request, rq *geo.Request, b []byte, s decoders.Segment) {
	ct := strings.ToLower(r.ContentType)
	switch {
	case strings.Contains(ct, "json") || jsonpos.Looks(b):
		pos, err := jsonpos.Find(b, geo.RoleOther, maxFixesPerRequest)
		if err == nil {
			fl.emit(r, rq, pos, s, "json body")
		}
	case strings.Contains(ct, "x-www-form-urlencoded"):
		fl.emit(r, rq, jsonpos.FindForm(string(bytes.TrimSpace(b)), geo.RoleOther, maxFixesPerRequest), s, "form body")
	}
}

func (fl *flow) emit(r *Request, rq *geo.Request, pos []jsonpos.Position, s decoders.Segment, where string) {
	for _, q := range pos {
		ev := fl.in.Evidence(Name, s.Locator(), s.Offset, geo.ChannelNetwork)
		net := s.Network
		if net.Host == "" {
			net.Host = r.Host
		}
		ev.Network = &net
		ev.Request = rq
		path := r.Target
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		ev.Message = r.Method + " " + path + " " + where + " " + strings.TrimPrefix(q.Path+"."+q.Key, ".")
		f, _ := q.Fix(ev)
		f.Time = s.Time
		if f.Valid() {
			fl.sink.Fix(f)
		}
	}
}

// Close implements decoders.FlowDecoder: a request cut by the end of the flow has its query read.
func (fl *flow) Close() {
	if fl.conn != nil {
		fl.conn.Close()
	}
	if fl.h2c != nil {
		fl.h2c.Close()
	}
}
