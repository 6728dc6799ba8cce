package http

import (
	"cmp"
	"context"
	"net/textproto"
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/bodies"
	"droneaudit/decoders/httpbody"
	"droneaudit/decoders/mqttws"
	"droneaudit/decoders/websocket"
	"droneaudit/geo"
	"droneaudit/netflow"
)

// After a 101 Switching Protocols that is a WebSocket upgrade (RFC 6455 §4), the rest of the
// connection is WebSocket frames: with subprotocol MQTT they go to decoders/mqttws (positions of
// PUBLISH payloads as the MQTT decoder reads them over TCP); other messages are read like bodies
// (decoders/bodies: JSON positions, objects) and, when masked or compressed on the wire, handed to
// the known-value search, which could not read them there.

// WSPublishID names the n-th MQTT PUBLISH of a WebSocket connection as a request: "<flow>#m<n>",
// beside the connection's HTTP requests "<flow>#<n>". The requests command names its rows so.
func WSPublishID(flowUID string, n string) string { return flowUID + "#m" + n }

// H2Handshake reads the handshake of WebSocket over HTTP/2 (RFC 8441) from a tunnel's CONNECT and
// response: false when it is not one, or the server's answer has not come.
func H2Handshake(t *H2Tunnel) (websocket.Handshake, bool) {
	if t.Request == nil || t.Response == nil {
		return websocket.Handshake{}, false
	}
	resp := textproto.MIMEHeader{}
	for _, f := range t.Response.Headers {
		resp.Add(textproto.CanonicalMIMEHeaderKey(f.Name), f.Value)
	}
	h, err := websocket.ParseH2Handshake(t.Request.Protocol, t.Response.Status, resp)
	return h, err == nil
}

// H2WSPublishID names the n-th MQTT PUBLISH of a WebSocket over HTTP/2 stream as a request:
// "<flow>#<stream>m<n>", beside the stream's CONNECT "<flow>#<stream>" (a connection may carry
// several such streams). The requests command names its rows so.
func H2WSPublishID(flowUID string, stream uint32, n string) string {
	return flowUID + "#" + strconv.FormatUint(uint64(stream), 10) + "m" + n
}

// Handshake reads the WebSocket handshake of an exchange whose response is a 101.
func Handshake(ex *Exchange) (websocket.Handshake, bool) {
	if ex.Request == nil || ex.Response == nil || ex.Response.Status != 101 {
		return websocket.Handshake{}, false
	}
	h, err := websocket.ParseHandshake(ex.Response.Status, ex.Request.MIMEHeader(), ex.Response.MIMEHeader())
	return h, err == nil
}

// upgrade starts the reader of the frames after a WebSocket upgrade, and feeds it the bytes that
// came with the 101.
func (fl *flow) upgrade(ex *Exchange) {
	h, ok := Handshake(ex)
	if !ok {
		return
	}
	fl.ws = fl.newWS(h, fl.request(ex.Request), ex.Request.Target, 0)
}

// newWS returns the reader of a WebSocket connection: MQTT over WebSocket by its subprotocol,
// else messages read like bodies. stream is the HTTP/2 stream of a WebSocket over HTTP/2, 0 for
// an HTTP/1.1 upgrade.
func (fl *flow) newWS(h websocket.Handshake, rq *geo.Request, target string, stream uint32) decoders.FlowDecoder {
	if mqttws.Subprotocol(h.Subprotocol) {
		return mqttws.NewConn(h, websocket.Limits{}, fl.in, &wsSink{Sink: fl.sink, stream: stream})
	}
	w := &wsFlow{fl: fl, rq: rq, target: target}
	w.c = websocket.NewConn(h, websocket.Limits{}, w.message, func(n decoders.Note) {
		n.Locator = join2(w.seg.Locator(), n.Locator)
		n.Offset = w.seg.Offset
		fl.sink.Note(n)
	})
	return w
}

// maxH2WebSockets bounds the WebSocket streams of one HTTP/2 connection read at once.
const maxH2WebSockets = 64

// tunnel2 reads the DATA of a stream opened by an extended CONNECT (RFC 8441) as a WebSocket
// connection once the server accepted it with a 2xx, as upgrade does after an HTTP/1.1 101: MQTT
// over WebSocket (PUBLISH named H2WSPublishID), or messages read like bodies, naming the CONNECT
// as their request. DATA before the server's answer cannot be read so and are left out.
func (fl *flow) tunnel2(t *H2Tunnel) {
	id := t.Request.StreamID
	w := fl.h2ws[id]
	if w == nil {
		h, ok := H2Handshake(t)
		if !ok || len(fl.h2ws) >= maxH2WebSockets {
			return
		}
		if fl.h2ws == nil {
			fl.h2ws = map[uint32]decoders.FlowDecoder{}
		}
		q := t.Request
		rq := &geo.Request{ID: fl.seg.Network.FlowUID + "#" + strconv.FormatUint(uint64(id), 10), Method: q.Method,
			URL: fl.scheme() + cmp.Or(q.Authority, fl.seg.Network.Server().String()) + q.Path}
		w = fl.newWS(h, rq, q.Path, id)
		fl.h2ws[id] = w
	}
	s := fl.seg
	s.Payload, s.Network.Direction = t.Data, t.Dir
	w.Segment(s)
}

// wsFlow reads the messages of a WebSocket connection that is not MQTT.
type wsFlow struct {
	fl     *flow
	c      *websocket.Conn
	rq     *geo.Request
	target string
	seg    decoders.Segment
}

func (w *wsFlow) Segment(s decoders.Segment) {
	w.seg = s
	d := int(s.Network.Direction & 1)
	if s.Gap {
		w.c.Gap(d)
	}
	w.c.Feed(d, s.Payload)
}

func (w *wsFlow) Close() { w.c.Close() }

func (w *wsFlow) message(dir int, m *websocket.Message) {
	if m.Opcode != websocket.OpText && m.Opcode != websocket.OpBinary || len(m.Payload) == 0 {
		return
	}
	fl := w.fl
	r := &Request{Method: "GET", Target: w.target, Host: fl.seg.Network.Host}
	ev := fl.evidence(r, w.rq, w.seg)
	ev.Message = "WebSocket " + targetPath(w.target) + " message"
	ct := ""
	if m.Opcode == websocket.OpText {
		ct = "text/plain"
	}
	o := bodies.Open(ct, "", m.Payload, httpbody.Options{}, "")
	o.Decode(context.Background(), bodies.Config{Files: fl.files, MaxFixes: maxFixesPerRequest, Time: w.seg.Time}, ev, fl.sink)
	// A client's frames are masked (RFC 6455 §5.3) and compressed ones deflated: the search of
	// the wire bytes saw neither.
	if s, ok := fl.sink.(bodies.Searcher); ok && (netflow.Direction(dir) == netflow.ClientToServer || m.Compressed) {
		s.SearchDecoded(ev, m.Payload)
	}
}

func join2(a, b string) string { return strings.TrimSpace(a + " " + b) }

// wsSink names the PUBLISH packets of MQTT over WebSocket apart from the connection's HTTP
// requests (WSPublishID).
type wsSink struct {
	decoders.Sink
	stream uint32 // the HTTP/2 stream of a WebSocket over HTTP/2 (H2WSPublishID), else 0
}

func (s *wsSink) Fix(f geo.Fix) {
	if rq := f.Evidence.Request; rq != nil && rq.Method == "PUBLISH" {
		if i := strings.LastIndexByte(rq.ID, '#'); i >= 0 {
			c := *rq
			c.ID = WSPublishID(rq.ID[:i], rq.ID[i+1:])
			if s.stream != 0 {
				c.ID = H2WSPublishID(rq.ID[:i], s.stream, rq.ID[i+1:])
			}
			f.Evidence.Request = &c
		}
	}
	s.Sink.Fix(f)
}
