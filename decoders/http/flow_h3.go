package http

import (
	"cmp"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/http3"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// H3Protocol recognises HTTP/3 request streams: the inner flows of the streams of a QUIC
// connection the engine opened with the key log (decoders/quic Layer) whose client starts with
// a HEADERS frame.
var H3Protocol = decoders.Protocol{Name: "http3", Transport: netflow.UDP, Streams: true, Sniff: http3.LooksLikeRequest}

// H3Net reads the request of one HTTP/3 request stream (an inner flow of an opened QUIC
// connection): the same positions as Net, from the :path's query and the request body.
type H3Net struct {
	Files   []decoders.FileDecoder // as Net.Files
	Extract string                 // as Net.Extract
}

// Name implements decoders.PayloadDecoder: the protocol name of H3Protocol.
func (H3Net) Name() string { return H3Protocol.Name }

// Sniff implements decoders.PayloadDecoder.
func (H3Net) Sniff(p []byte) bool { return H3Protocol.Sniff(p) }

// NewFlow implements decoders.PayloadDecoder.
func (n H3Net) NewFlow(in decoders.Input, sink decoders.Sink) decoders.FlowDecoder {
	return &flow3{flow: flow{in: in, sink: sink, files: n.Files, extract: n.Extract}}
}

// flow3 follows the client's half of one request stream; the request is read when the stream
// ends (Close), its body whole.
type flow3 struct {
	flow
	s *http3.Stream
}

// H3RequestID names an HTTP/3 request as the requests command's row does: the QUIC connection's
// flow uid and the stream ID, "<flow>#<stream id>", from the uid of the stream's inner flow
// ("<flow>-quic-<stream id>"). ok is false for a uid of another form.
func H3RequestID(streamFlowUID string) (conn string, streamID uint64, ok bool) {
	i := strings.LastIndex(streamFlowUID, "-quic-")
	if i < 0 {
		return "", 0, false
	}
	id, err := strconv.ParseUint(streamFlowUID[i+len("-quic-"):], 10, 62)
	return streamFlowUID[:i], id, err == nil
}

// Segment implements decoders.FlowDecoder.
func (fl *flow3) Segment(s decoders.Segment) {
	if s.Network.Direction == netflow.ServerToClient {
		return
	}
	fl.seg = s
	if fl.s == nil {
		_, id, _ := H3RequestID(s.Network.FlowUID)
		fl.s = http3.NewStream(id, MaxBody)
	}
	if s.Gap {
		fl.s.Gap(s.Network.Direction)
	}
	fl.s.Feed(s.Network.Direction, s.Payload)
}

// Close implements decoders.FlowDecoder: the request's positions, its body read only when whole
// (not cut by a gap or the bound, and as long as its content-length says when it gives one).
func (fl *flow3) Close() {
	if fl.s == nil {
		return
	}
	ex := fl.s.Exchange()
	m := &ex.Request
	if m.Method == "" {
		return // not a request stream after all (a push or unidirectional stream)
	}
	fl.sink.Count("http_requests", 1)
	cl := ParseContentLength(m.Header("content-length"))
	r := &Request{Method: m.Method, Target: m.Path, Version: "HTTP/3", Host: hostOnly(m.Authority), ContentType: m.Header("content-type"), ContentLength: cl}
	conn, id, _ := H3RequestID(fl.seg.Network.FlowUID)
	rq := &geo.Request{ID: conn + "#" + strconv.FormatUint(id, 10), Method: m.Method,
		URL: "https://" + cmp.Or(m.Authority, fl.seg.Network.Server().String()) + m.Path}
	fl.query(r, lazyRequest{rq: rq}, fl.seg)
	if m.BodyLen > 0 && !m.Gap && !m.BodyTruncated && (cl < 0 || cl == m.BodyLen) {
		fl.body(r, lazyRequest{rq: rq}, m.Body, m.Header("content-encoding"), true, [32]byte{}, fl.seg) // whole; hashed by the objects
	}
}

// ParseContentLength parses a content-length field, -1 when absent or invalid.
func ParseContentLength(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
