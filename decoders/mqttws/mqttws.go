// Package mqttws reads MQTT carried over WebSocket (MQTT 5.0 §6, MQTT 3.1.1 §6: binary messages
// whose concatenation is the MQTT byte stream, subprotocol "mqtt"), as DJI's Cloud API may carry
// its telemetry (dji-network.md §4.1). The WebSocket frames are read by decoders/websocket and the
// MQTT stream by decoders/mqtt's flow decoder, so topics, identities and the positions of Cloud API
// JSON payloads come out exactly as they do for MQTT over TCP.
package mqttws

import (
	"strconv"
	"strings"

	"droneaudit/decoders"
	"droneaudit/decoders/mqtt"
	"droneaudit/decoders/websocket"
	"droneaudit/netflow"
)

// Subprotocol reports whether a WebSocket subprotocol names MQTT: "mqtt" (MQTT 3.1.1 and 5.0
// §6) or "mqttv3.1" (MQTT 3.1).
func Subprotocol(p string) bool {
	p = strings.ToLower(strings.TrimSpace(p))
	return p == "mqtt" || p == "mqttv3.1"
}

// Flow hands the binary messages of a WebSocket connection to the MQTT flow decoder.
type Flow struct {
	sink    decoders.Sink
	mq      decoders.FlowDecoder
	texted  bool
	stopped [2]bool
}

// NewFlow returns the MQTT reader of one WebSocket connection; what it finds goes to sink with
// evidence of in.
func NewFlow(in decoders.Input, sink decoders.Sink) *Flow {
	return &Flow{sink: sink, mq: mqtt.Net{}.NewFlow(in, sink)}
}

func dirIndex(d netflow.Direction) int {
	if d == netflow.ServerToClient {
		return 1
	}
	return 0
}

// Message hands on one WebSocket message. s describes the capture bytes that completed it
// (frame, offset, time, network with its direction); its Payload is not read. Control messages
// are ignored; a text message is not MQTT (MQTT §6: binary only) and is noted once; a message cut
// short breaks the MQTT stream of its direction, as a lost segment does.
func (f *Flow) Message(s decoders.Segment, m *websocket.Message) {
	switch {
	case m.Opcode == websocket.OpText:
		if !f.texted {
			f.texted = true
			f.sink.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeMalformed, Locator: s.Locator(), Offset: s.Offset,
				Message: "text WebSocket message on an MQTT connection (MQTT sends binary messages only); not read as MQTT"})
		}
		return
	case m.Opcode != websocket.OpBinary:
		return
	}
	d := dirIndex(s.Network.Direction)
	if f.stopped[d] {
		return
	}
	s.Gap = false
	s.Payload = m.Payload
	f.sink.Count("mqttws_messages", 1)
	f.mq.Segment(s)
	if m.Truncated || m.Incomplete || m.Err != nil {
		f.stopped[d] = true
		f.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeTruncated, Locator: s.Locator(), Offset: s.Offset,
			Message: "WebSocket message of " + strconv.FormatUint(m.WireLength, 10) + " bytes was not read whole; the MQTT stream of this direction ends there"})
		s.Gap, s.Payload = true, nil
		f.mq.Segment(s)
	}
}

// Close ends the flow.
func (f *Flow) Close() { f.mq.Close() }

// Conn is a decoders.FlowDecoder for the bytes that follow a WebSocket upgrade whose
// subprotocol is MQTT: it reads the frames of both directions and hands the messages to a Flow.
type Conn struct {
	sink decoders.Sink
	ws   *websocket.Conn
	flow *Flow
	seg  decoders.Segment // the segment being fed, for the messages it completes
}

// NewConn returns the reader of a connection after its handshake h.
func NewConn(h websocket.Handshake, lim websocket.Limits, in decoders.Input, sink decoders.Sink) *Conn {
	c := &Conn{sink: sink, flow: NewFlow(in, sink)}
	c.ws = websocket.NewConn(h, lim, func(dir int, m *websocket.Message) { c.flow.Message(c.seg, m) },
		func(n decoders.Note) {
			n.Locator = c.seg.Locator() + " " + n.Locator
			n.Offset = c.seg.Offset
			sink.Note(n)
		})
	return c
}

// Segment implements decoders.FlowDecoder: s carries the next bytes of one direction after the
// upgrade.
func (c *Conn) Segment(s decoders.Segment) {
	c.seg = s
	d := dirIndex(s.Network.Direction)
	if s.Gap {
		c.ws.Gap(d)
	}
	if err := c.ws.Feed(d, s.Payload); err != nil {
		c.sink.Note(decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Locator: s.Locator(), Offset: s.Offset, Message: err.Error()})
	}
}

// Close implements decoders.FlowDecoder.
func (c *Conn) Close() {
	c.ws.Close()
	c.flow.Close()
}
