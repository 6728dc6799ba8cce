package requests

import (
	"strconv"

	"droneaudit/decoders/http"
	"droneaudit/decoders/mqtt"
	"droneaudit/decoders/mqttws"
	"droneaudit/decoders/websocket"
	"droneaudit/engine"
	"droneaudit/netflow"
)

// MQTT over WebSocket: after a 101 upgrade whose subprotocol is MQTT, the binary messages of each
// direction are the MQTT byte stream (MQTT 5.0 §6), read by the same mqtt.Conn as MQTT over TCP;
// each PUBLISH is a row named http.WSPublishID, protocol "mqtt/ws". Other WebSocket connections
// are left to the audit (their messages carry no request of their own).

// wsState follows a connection after its upgrade.
type wsState struct {
	c *websocket.Conn
}

// upgraded is called after the HTTP/1 reader of the flow saw a 101: the reader is dropped, and the
// bytes after the 101 go to the WebSocket reader when the upgrade is MQTT over WebSocket.
func (st *flowState) upgraded() {
	dir, rest := st.h1.TakeRest()
	st.h1 = nil
	ex := st.upgrade
	st.upgrade = nil
	h, ok := http.Handshake(ex)
	if !ok || !mqttws.Subprotocol(h.Subprotocol) {
		st.dead = true
		return
	}
	st.mq = &mqtt.Conn{}
	st.mqWS = true
	st.ws = &wsState{c: websocket.NewConn(h, websocket.Limits{}, func(d int, m *websocket.Message) {
		if m.Opcode != websocket.OpBinary || m.Incomplete || m.Truncated {
			return
		}
		st.mqDir = netflow.Direction(d)
		st.mq.Feed(d, m.Payload, st.publish)
	}, nil)}
	if len(rest) > 0 {
		st.ws.c.Feed(int(dir&1), rest)
	}
}

// feedWS hands the next bytes of a direction to the WebSocket reader.
func (st *flowState) feedWS(c *engine.Chunk) {
	d := int(c.Dir & 1)
	if c.Gap {
		st.ws.c.Gap(d)
	}
	st.ws.c.Feed(d, c.Payload)
}

// maxH2WebSockets bounds the WebSocket streams of one HTTP/2 connection followed at once.
const maxH2WebSockets = 64

// h2WS follows one WebSocket over HTTP/2 stream (RFC 8441) whose subprotocol is MQTT.
type h2WS struct {
	c   *websocket.Conn // nil: the stream is not MQTT over WebSocket
	mq  mqtt.Conn
	n   int
	dir netflow.Direction
}

// tunnel2 takes the next DATA of a stream opened by an extended CONNECT: WebSocket frames once the
// server accepted the CONNECT with a 2xx, read as MQTT when the agreed subprotocol is; each
// PUBLISH is a row named http.H2WSPublishID, protocol "mqtt/ws" (the CONNECT itself is the
// stream's h2 row, its body the tunnel's bytes). DATA before the server's answer cannot be read
// as WebSocket and are left out.
func (st *flowState) tunnel2(t *http.H2Tunnel) {
	id := t.Request.StreamID
	w := st.h2ws[id]
	if w == nil {
		h, ok := http.H2Handshake(t)
		if !ok || len(st.h2ws) >= maxH2WebSockets {
			return
		}
		if st.h2ws == nil {
			st.h2ws = map[uint32]*h2WS{}
		}
		w = &h2WS{}
		st.h2ws[id] = w
		if mqttws.Subprotocol(h.Subprotocol) {
			uid := st.flow.UID()
			w.c = websocket.NewConn(h, websocket.Limits{}, func(d int, m *websocket.Message) {
				if m.Opcode != websocket.OpBinary || m.Incomplete || m.Truncated {
					return
				}
				w.dir = netflow.Direction(d)
				w.mq.Feed(d, m.Payload, func(pk *mqtt.Packet) {
					if pk.Type == mqtt.TypePublish {
						w.n++
						st.publishRow(pk, http.H2WSPublishID(uid, id, strconv.Itoa(w.n)), "mqtt/ws", w.dir)
					}
				})
			}, nil)
		}
	}
	if w.c != nil {
		w.c.Feed(int(t.Dir&1), t.Data)
	}
}

// publishID names the n-th PUBLISH of the flow.
func (st *flowState) publishID(n int) string {
	if st.mqWS {
		return http.WSPublishID(st.flow.UID(), strconv.Itoa(n))
	}
	return st.flow.UID() + "#" + strconv.Itoa(n)
}
