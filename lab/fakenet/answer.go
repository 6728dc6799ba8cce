package fakenet

import (
	"encoding/binary"
	"net"
	"time"

	"droneaudit/decoders/http"
)

// maxBuffered bounds what the answering loops keep of a client's stream.
const maxBuffered = 256 << 10

// httpOK is the one answer of the fake web: 200 with an empty JSON object, which most API
// clients accept as "nothing to do" and go on.
const httpOK = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"

// serveHTTP answers every HTTP/1 request on the connection (RFC 9112: the head, then a body of
// Content-Length bytes; chunked bodies are not followed and end the loop).
func serveHTTP(c net.Conn, buf []byte, idle time.Duration) {
	buf = append([]byte(nil), buf...)
	for {
		r, used, complete, err := http.ParseHead(buf)
		if err != nil && len(buf) > 0 {
			drain(c, idle)
			return
		}
		if complete {
			need := used + int(max(r.ContentLength, 0))
			if need > maxBuffered {
				drain(c, idle)
				return
			}
			if len(buf) >= need {
				if _, err := c.Write([]byte(httpOK)); err != nil {
					return
				}
				buf = buf[need:]
				continue
			}
		}
		var ok bool
		if buf, ok = readMore(c, buf, idle); !ok {
			return
		}
	}
}

// readMore appends the next bytes the client sends; false when it closed or went idle.
func readMore(c net.Conn, buf []byte, idle time.Duration) ([]byte, bool) {
	if len(buf) >= maxBuffered {
		return buf, false
	}
	var chunk [4096]byte
	c.SetReadDeadline(time.Now().Add(idle))
	n, err := c.Read(chunk[:])
	if n == 0 && err != nil {
		return buf, false
	}
	return append(buf, chunk[:n]...), true
}

// MQTT control packet types answered (MQTT 3.1.1 §2.2.1, MQTT 5.0 §2.1.2).
const (
	mqttConnect    = 1
	mqttPublish    = 3
	mqttPubRel     = 6
	mqttSubscribe  = 8
	mqttPingReq    = 12
	mqttDisconnect = 14
)

// serveMQTT plays a broker that accepts everything: CONNACK (§3.2), PUBACK/PUBREC for QoS 1/2
// PUBLISH (§3.4, §3.5), PUBCOMP for PUBREL (§3.7), SUBACK granting QoS 0 (§3.9) and PINGRESP
// (§3.13). MQTT 5 adds a properties length after the reason code of CONNACK and SUBACK.
//
// onRead, when set, sees every chunk read after buf.
func serveMQTT(c net.Conn, buf []byte, idle time.Duration, onRead func([]byte)) {
	buf = append([]byte(nil), buf...)
	var level byte
	for {
		for len(buf) >= 2 {
			rl, n, ok := mqttRemLength(buf[1:])
			if n < 0 || 1+n+rl > maxBuffered {
				drain(c, idle)
				return
			}
			if !ok || len(buf) < 1+n+rl {
				break
			}
			pkt, body := buf[0], buf[1+n:1+n+rl]
			reply, stop := mqttReply(pkt, body, &level)
			if stop {
				return
			}
			if reply != nil {
				if _, err := c.Write(reply); err != nil {
					return
				}
			}
			buf = buf[1+n+rl:]
		}
		var ok bool
		n := len(buf)
		if buf, ok = readMore(c, buf, idle); !ok {
			return
		}
		if onRead != nil {
			onRead(buf[n:])
		}
	}
}

// mqttReply is the answer to one packet (nil for none); stop after DISCONNECT.
func mqttReply(first byte, body []byte, level *byte) (reply []byte, stop bool) {
	switch first >> 4 {
	case mqttConnect:
		if len(body) >= 2 {
			if l := int(binary.BigEndian.Uint16(body)); 2+l < len(body) {
				*level = body[2+l]
			}
		}
		if *level == 5 {
			return []byte{0x20, 3, 0, 0, 0}, false
		}
		return []byte{0x20, 2, 0, 0}, false
	case mqttPublish:
		qos := first >> 1 & 3
		if qos == 0 || len(body) < 2 {
			return nil, false
		}
		off := 2 + int(binary.BigEndian.Uint16(body))
		if off+2 > len(body) {
			return nil, false
		}
		if qos == 1 {
			return []byte{0x40, 2, body[off], body[off+1]}, false
		}
		return []byte{0x50, 2, body[off], body[off+1]}, false
	case mqttPubRel:
		if len(body) >= 2 {
			return []byte{0x70, 2, body[0], body[1]}, false
		}
	case mqttSubscribe:
		return mqttSubAck(body, *level == 5), false
	case mqttPingReq:
		return []byte{0xd0, 0}, false
	case mqttDisconnect:
		return nil, true
	}
	return nil, false
}

// mqttSubAck grants QoS 0 to every topic filter of a SUBSCRIBE.
func mqttSubAck(body []byte, v5 bool) []byte {
	if len(body) < 2 {
		return nil
	}
	payload := []byte{body[0], body[1]}
	off := 2
	if v5 {
		pl, n, ok := mqttRemLength(body[off:])
		if !ok || n < 0 {
			return nil
		}
		off += n + pl
		payload = append(payload, 0)
	}
	for off+2 <= len(body) && len(payload) < 1024 {
		off += 2 + int(binary.BigEndian.Uint16(body[off:])) + 1 // filter, options byte
		if off > len(body) {
			break
		}
		payload = append(payload, 0)
	}
	if len(payload) > 127 {
		payload = payload[:127]
	}
	return append([]byte{0x90, byte(len(payload))}, payload...)
}

// mqttRemLength reads the variable-length remaining length (MQTT 3.1.1 §2.2.3): at most four
// bytes; n < 0 when a fifth would be needed, ok false when b ends first.
func mqttRemLength(b []byte) (v, n int, ok bool) {
	mul := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, i, false
		}
		v += int(b[i]&0x7f) * mul
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
		mul *= 128
	}
	return 0, -1, false
}
