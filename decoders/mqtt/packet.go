// Package mqtt decodes MQTT control packets of versions 3.1, 3.1.1 and 5.0 from the two byte
// streams of a TCP connection: CONNECT (client identifier, user name, will topic), PUBLISH and
// SUBSCRIBE (topic names). DJI's Cloud API speaks MQTT 5 and puts device serial numbers in its
// topics (thing/product/{sn}/osd), so the topics alone identify the aircraft and dock.
//
// Sources: MQTT 3.1.1 (OASIS, http://docs.oasis-open.org/mqtt/mqtt/v3.1.1/os/mqtt-v3.1.1-os.html)
// §2.2 fixed header, §3.1 CONNECT, §3.3 PUBLISH, §3.8 SUBSCRIBE; MQTT 5.0
// (https://docs.oasis-open.org/mqtt/mqtt/v5.0/mqtt-v5.0.html) §2.2.2 properties.
package mqtt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Control packet types (MQTT 3.1.1 §2.2.1).
const (
	TypeConnect   = 1
	TypeConnAck   = 2
	TypePublish   = 3
	TypeSubscribe = 8
)

// MaxBuffered bounds the bytes of one packet that are kept: topics and CONNECT fields are at the
// start of a packet, and a larger PUBLISH payload is skipped, not buffered.
const MaxBuffered = 64 << 10

// MaxPayloadKept is how much of a PUBLISH payload a Packet carries.
const MaxPayloadKept = 16 << 10

// Packet is one decoded control packet.
type Packet struct {
	Type   int
	Flags  byte
	Offset int64 // stream offset of the fixed header
	Length int   // remaining length as declared

	// CONNECT
	ProtocolName  string
	ProtocolLevel byte // 3 = 3.1, 4 = 3.1.1, 5 = 5.0
	ClientID      string
	Username      string
	HasPassword   bool
	WillTopic     string

	// PUBLISH
	Topic     string
	QoS       byte
	Payload   []byte // at most MaxPayloadKept bytes of the payload; valid only during the callback
	Truncated bool   // the payload was longer than Payload

	// SUBSCRIBE
	Topics []string
}

// ErrNotMQTT means a stream does not start with a CONNECT packet.
var ErrNotMQTT = errors.New("mqtt: stream does not start with CONNECT")

// Error says where in the stream decoding stopped.
type Error struct {
	Offset int64
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("mqtt: stream offset %d: %s", e.Offset, e.Reason) }

// LooksLike reports whether a client's first bytes look like an MQTT CONNECT: type 1 with zero
// flags, then the protocol name "MQTT" or "MQIsdp".
func LooksLike(b []byte) bool {
	if len(b) < 2 || b[0] != 0x10 {
		return false
	}
	_, n, ok := remLength(b[1:])
	if !ok || 1+n+8 > len(b) {
		return false
	}
	p := b[1+n:]
	l := int(binary.BigEndian.Uint16(p))
	return (l == 4 && string(p[2:6]) == "MQTT") || (l == 6 && len(p) >= 8 && string(p[2:8]) == "MQIsdp")
}

// remLength reads the Remaining Length varint (MQTT 3.1.1 §2.2.3): at most 4 bytes.
func remLength(b []byte) (v int, n int, ok bool) {
	mult := 1
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, false
		}
		v += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
		mult *= 128
	}
	return 0, -1, false // a fifth length byte is malformed
}
