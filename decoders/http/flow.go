package http

import (
	"cmp"
	"context"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/bodies"
	"droneaudit/decoders/httpbody"
	"droneaudit/decoders/jsonpos"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// Name is the decoder name in evidence.
const Name = "http"

// MaxBody bounds the body of a message kept for the position search (an uploaded flight record
// or picture is read whole up to it); the part of a longer body beyond it is hashed, not read.
const MaxBody = 32 << 20

// Net reads clear-text HTTP/1.x requests in TCP flows of captures and reports the positions their
// query strings and JSON or form bodies carry (e.g. the FlySafe unlock and no-fly-zone requests
// that send the aircraft's coordinates, dji-network.md §2) as network-channel fixes.
type Net struct {
	// Files are the run's file decoders: an object a body carries that one of them recognises (a
	// flight record) is decoded like a file on disk (decoders/bodies).
	Files []decoders.FileDecoder
	// Extract, if set, is the folder every object of a whole body is written to (--extract).
	Extract string
}

// Name implements decoders.PayloadDecoder.
func (Net) Name() string { return Name }

// Sniff implements decoders.PayloadDecoder: a request line's method.
func (Net) Sniff(p []byte) bool { return LooksLike(p) }

// NewFlow implements decoders.PayloadDecoder.
func (n Net) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &flow{in: in, sink: sink, files: n.Files, extract: n.Extract}
}

// H2Net reads the requests of HTTP/2 connections with prior knowledge, which is what a TLS
// session that negotiated "h2" carries once the engine has opened it: the same positions as Net,
// from the path's query and the request body reassembled from its DATA frames.
type H2Net struct {
	Files   []decoders.FileDecoder // as Net.Files
	Extract string                 // as Net.Extract
}

// Name implements decoders.PayloadDecoder: the protocol name the engine recognises HTTP/2 by.
func (H2Net) Name() string { return "http2" }

// Sniff implements decoders.PayloadDecoder: the client connection preface.
func (H2Net) Sniff(p []byte) bool { return LooksLikeH2(p) }

// NewFlow implements decoders.PayloadDecoder.
func (n H2Net) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &flow{in: in, sink: sink, h2: true, files: n.Files, extract: n.Extract}
}

type flow struct {
	in   decoders.Input
	sink decoders.Sink
	conn *H1Conn
	h2   bool
	h2c  *H2Conn
	seg  decoders.Segment // the segment being fed: the one that completes a request
	// files are the file decoders objects in bodies are handed to.
	files   []decoders.FileDecoder
	extract string
	// h2req names the HTTP/2 requests whose response is awaited, by stream.
	h2req map[uint32]*geo.Request
	// ws reads the connection after a WebSocket upgrade (websocket.go).
	ws decoders.FlowDecoder
	// h2ws reads the WebSocket over HTTP/2 streams (RFC 8441), by stream ID.
	h2ws map[uint32]decoders.FlowDecoder
}

const maxFixesPerRequest = 64

// Segment implements decoders.FlowDecoder. Both directions are read, the requests numbered as the
// requests command numbers them (H1Conn), so a finding links to its row; a response's body is
// read as its request's.
func (fl *flow) Segment(s decoders.Segment) {
	fl.seg = s
	if fl.h2 {
		if fl.h2c == nil {
			fl.h2c = NewH2Conn(H2Config{MaxBody: MaxBody, OnMessage: fl.message2, OnTunnel: fl.tunnel2, Recycle: true})
			fl.h2req = map[uint32]*geo.Request{}
		}
		if s.Gap {
			fl.h2 = false // frame boundaries are lost: nothing more is read
			return
		}
		fl.h2c.Feed(s.Network.Direction, s.Payload)
		return
	}
	if fl.ws != nil {
		fl.ws.Segment(s)
		return
	}
	if fl.conn == nil {
		fl.conn = NewH1Conn(H1Config{MaxBody: MaxBody, OnMessage: fl.message, OnExchange: fl.exchange, Recycle: true})
	}
	if s.Gap {
		fl.conn.Gap(s.Network.Direction)
	}
	fl.conn.Feed(s.Network.Direction, s.Payload)
	if fl.ws != nil {
		if dir, rest := fl.conn.TakeRest(); len(rest) > 0 {
			s.Payload, s.Network.Direction = rest, dir
			fl.ws.Segment(s)
		}
	}
}

// message reads the positions of one request: its query string, and its JSON or form body when
// whole (a body over MaxBody is skipped).
func (fl *flow) message(m *Message) {
	if m.Dir != netflow.ClientToServer {
		return
	}
	fl.sink.Count("http_requests", 1)
	r := &Request{Method: m.Method, Target: m.Target, Version: m.Version, Host: m.Host, ContentType: m.ContentType, ContentLength: m.ContentLength}
	rq := lazyRequest{fl: fl, m: m}
	fl.query(r, rq, fl.seg)
	if m.BodyLen > 0 {
		fl.body(r, rq, m.Body, m.ContentEncoding, m.Complete && !m.Truncated, m.SHA256, fl.seg)
	}
}

// exchange reads the body of a response, named by its request (the connection's request 0 when
// its request was not seen).
func (fl *flow) exchange(ex *Exchange) {
	if ex.Response != nil && ex.Response.Status == 101 {
		fl.upgrade(ex)
	}
	m := ex.Response
	if m == nil || m.BodyLen == 0 {
		return
	}
	rq := lazyRequest{fl: fl, m: ex.Request} // the connection's request 0 when m is nil
	r := &Request{Method: "?", Host: m.Host}
	if q := ex.Request; q != nil {
		r = &Request{Method: q.Method, Target: q.Target, Version: q.Version, Host: q.Host}
	}
	r.ContentType = m.ContentType
	fl.body(r, rq, m.Body, m.ContentEncoding, m.Complete && !m.Truncated, m.SHA256, fl.seg)
}

// message2 reads the positions of one HTTP/2 request, named by its stream ID as the requests
// command names it.
func (fl *flow) message2(m *H2Message) {
	if m.Dir != netflow.ClientToServer {
		rq := fl.h2req[m.StreamID]
		delete(fl.h2req, m.StreamID)
		if rq == nil || m.BodyLen == 0 {
			return
		}
		path := rq.URL
		if i := strings.Index(path, "://"); i >= 0 {
			if j := strings.IndexByte(path[i+3:], '/'); j >= 0 {
				path = path[i+3+j:]
			}
		}
		r := &Request{Method: rq.Method, Target: path, Version: "HTTP/2", Host: hostOnly(m.Authority), ContentType: m.Header("content-type")}
		fl.body(r, lazyRequest{rq: rq}, m.Body, m.Header("content-encoding"), m.Complete && !m.Truncated, m.SHA256, fl.seg)
		return
	}
	fl.sink.Count("http_requests", 1)
	r := &Request{Method: m.Method, Target: m.Path, Version: "HTTP/2", Host: hostOnly(m.Authority), ContentType: m.Header("content-type"), ContentLength: m.ContentLength}
	rq := &geo.Request{ID: fl.seg.Network.FlowUID + "#" + strconv.FormatUint(uint64(m.StreamID), 10), Method: m.Method,
		URL: fl.scheme() + cmp.Or(m.Authority, fl.seg.Network.Server().String()) + m.Path}
	if len(fl.h2req) < maxAwaited {
		fl.h2req[m.StreamID] = rq
	}
	fl.query(r, lazyRequest{rq: rq}, fl.seg)
	if m.BodyLen > 0 {
		fl.body(r, lazyRequest{rq: rq}, m.Body, m.Header("content-encoding"), m.Complete && !m.Truncated, m.SHA256, fl.seg)
	}
}

// maxAwaited bounds the HTTP/2 requests remembered for their response.
const maxAwaited = 1024

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
	if m.req != nil {
		return m.req
	}
	url := m.Target
	if !strings.Contains(url, "://") {
		url = fl.scheme() + cmp.Or(m.Get("Host"), fl.seg.Network.Server().String()) + url
	}
	m.req = &geo.Request{ID: fl.seg.Network.FlowUID + "#" + strconv.Itoa(m.Seq), Method: m.Method, URL: url}
	return m.req
}

// query reports positions in the request target's query string.
// lazyRequest names a message's request in evidence, made only when a fix or note needs it (most
// messages report nothing): rq when set, else the request of m, else the connection's request 0.
type lazyRequest struct {
	rq *geo.Request
	fl *flow
	m  *Message
}

func (l lazyRequest) get() *geo.Request {
	switch {
	case l.rq != nil:
		return l.rq
	case l.m != nil:
		return l.fl.request(l.m)
	}
	return &geo.Request{ID: l.fl.seg.Network.FlowUID + "#0", Method: "?"}
}

func (fl *flow) query(r *Request, rq lazyRequest, s decoders.Segment) {
	_, q, ok := strings.Cut(r.Target, "?")
	if !ok {
		return
	}
	fl.emit(r, rq, jsonpos.FindForm(q, geo.RoleOther, maxFixesPerRequest), s, "query")
}

// body opens a message body and reports the positions its objects hold (decoders/bodies): JSON
// documents and forms, picture metadata, and flight records and other files the run's file
// decoders recognise. A body cut by MaxBody or a gap is read as far as it was kept.
func (fl *flow) body(r *Request, rq lazyRequest, b []byte, contentEncoding string, whole bool, sum [32]byte, s decoders.Segment) {
	wire := ""
	if whole && sum != ([32]byte{}) {
		var hx [2 * len(sum)]byte // on the stack: only the string is made
		hex.Encode(hx[:], sum[:])
		wire = string(hx[:])
	}
	o := bodies.Open(r.ContentType, contentEncoding, b, httpbody.Options{}, wire)
	cfg := bodies.Config{Files: fl.files, MaxFixes: maxFixesPerRequest, Time: s.Time}
	if whole {
		cfg.Extract = fl.extract
	}
	o.DecodeWith(context.Background(), cfg, func() geo.Evidence {
		ev := fl.evidence(r, rq.get(), s)
		ev.Message = r.Method + " " + targetPath(r.Target)
		if s.Network.Direction != netflow.ClientToServer {
			ev.Message += " response"
		}
		return ev
	}, fl.sink)
}

// evidence is the evidence of a message of the flow.
func (fl *flow) evidence(r *Request, rq *geo.Request, s decoders.Segment) geo.Evidence {
	ev := fl.in.Evidence(Name, s.Locator(), s.Offset, geo.ChannelNetwork)
	net := s.Network
	if net.Host == "" {
		net.Host = r.Host
	}
	ev.Network = &net
	ev.Request = rq
	return ev
}

func targetPath(t string) string {
	if i := strings.IndexByte(t, '?'); i >= 0 {
		return t[:i]
	}
	return t
}

func (fl *flow) emit(r *Request, rq lazyRequest, pos []jsonpos.Position, s decoders.Segment, where string) {
	if len(pos) == 0 {
		return
	}
	prefix := r.Method + " " + targetPath(r.Target) + " " + where + " "
	ev0 := fl.evidence(r, rq.get(), s) // the positions of one message share its evidence
	for _, q := range pos {
		ev := ev0
		ev.Message = q.Label(prefix)
		f, _ := q.Fix(ev)
		f.Time = s.Time
		if f.Valid() {
			fl.sink.Fix(f)
		}
	}
}

// Close implements decoders.FlowDecoder: a request cut by the end of the flow has its query read.
func (fl *flow) Close() {
	if fl.ws != nil {
		fl.ws.Close()
	}
	if fl.conn != nil {
		fl.conn.Close()
	}
	if fl.h2c != nil {
		fl.h2c.Close()
	}
	for _, id := range slices.Sorted(maps.Keys(fl.h2ws)) {
		fl.h2ws[id].Close()
	}
}
