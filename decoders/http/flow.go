package http

import (
	"bytes"
	"droneaudit/netflow"
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

type flow struct {
	in   decoders.Input
	sink decoders.Sink
	buf  []byte
	req  *Request // the request whose body is being collected
	need int64    // body bytes still to come
	skip int64    // body bytes to drop (too large to keep)
	seg  decoders.Segment
	dead bool
}

const maxFixesPerRequest = 64

// Segment implements decoders.FlowDecoder.
func (fl *flow) Segment(s decoders.Segment) {
	if fl.dead || s.Network.Direction == netflow.ServerToClient {
		return
	}
	if s.Gap {
		fl.buf, fl.req, fl.need, fl.skip = nil, nil, 0, 0
		fl.dead = true // request boundaries are lost
		return
	}
	p := s.Payload
	for len(p) > 0 || (fl.req == nil && len(fl.buf) > 0) {
		if fl.skip > 0 {
			n := min(fl.skip, int64(len(p)))
			fl.skip -= n
			p = p[n:]
			continue
		}
		if fl.req != nil {
			n := min(fl.need, int64(len(p)))
			fl.buf = append(fl.buf, p[:n]...)
			fl.need -= n
			p = p[n:]
			if fl.need == 0 {
				fl.body(fl.req, fl.buf, fl.seg)
				fl.req, fl.buf = nil, fl.buf[:0]
			}
			continue
		}
		fl.buf = append(fl.buf, p...)
		p = nil
		r, used, complete, err := ParseHead(fl.buf)
		if err != nil {
			fl.dead, fl.buf = true, nil
			return
		}
		if !complete {
			return
		}
		fl.sink.Count("http_requests", 1)
		fl.query(r, s)
		rest := append([]byte(nil), fl.buf[used:]...)
		fl.buf = fl.buf[:0]
		switch {
		case r.ContentLength <= 0:
			// No body (or chunked, which this reader does not follow): next request.
		case r.ContentLength > MaxBody:
			fl.skip = r.ContentLength
		default:
			fl.req, fl.need, fl.seg = r, r.ContentLength, s
		}
		p = rest
	}
}

// query reports positions in the request target's query string.
func (fl *flow) query(r *Request, s decoders.Segment) {
	_, q, ok := strings.Cut(r.Target, "?")
	if !ok {
		return
	}
	fl.emit(r, jsonpos.FindForm(q, geo.RoleOther, maxFixesPerRequest), s, "query")
}

func (fl *flow) body(r *Request, b []byte, s decoders.Segment) {
	ct := strings.ToLower(r.ContentType)
	switch {
	case strings.Contains(ct, "json") || jsonpos.Looks(b):
		pos, err := jsonpos.Find(b, geo.RoleOther, maxFixesPerRequest)
		if err == nil {
			fl.emit(r, pos, s, "json body")
		}
	case strings.Contains(ct, "x-www-form-urlencoded"):
		fl.emit(r, jsonpos.FindForm(string(bytes.TrimSpace(b)), geo.RoleOther, maxFixesPerRequest), s, "form body")
	}
}

func (fl *flow) emit(r *Request, pos []jsonpos.Position, s decoders.Segment, where string) {
	for _, q := range pos {
		ev := fl.in.Evidence(Name, s.Locator(), s.Offset, geo.ChannelNetwork)
		net := s.Network
		if net.Host == "" {
			net.Host = r.Host
		}
		ev.Network = &net
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

// Close implements decoders.FlowDecoder; nothing is pending at the end of a flow.
func (fl *flow) Close() {}
