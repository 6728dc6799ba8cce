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

// publishID names the n-th PUBLISH of the flow.
func (st *flowState) publishID(n int) string {
	if st.mqWS {
		return http.WSPublishID(st.flow.UID(), strconv.Itoa(n))
	}
	return st.flow.UID() + "#" + strconv.Itoa(n)
}
