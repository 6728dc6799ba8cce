// Package fakenet is the offline lab's "fake internet": a listener that accepts every TCP
// connection the lab's nftables rules redirect to it and datagrams on the common UDP ports,
// records what each client sends first (TLS ClientHello, HTTP request, MQTT CONNECT/PUBLISH),
// answers just enough that the client goes on talking, and logs one NDJSON record per
// connection. Malware labs do the same with INetSim or FakeNet-NG; this one reuses droneaudit's
// own decoders so the log names clients and servers exactly as the audit does.
package fakenet

import (
	"encoding/hex"
	"unicode/utf8"

	"droneaudit/decoders/http"
	"droneaudit/decoders/mqtt"
	"droneaudit/decoders/quic"
	dtls "droneaudit/decoders/tls"
)

// MaxFirst bounds the client bytes kept per connection for classification: a ClientHello, an
// HTTP head with a small body, or an MQTT CONNECT and first PUBLISH fit well inside it.
const MaxFirst = 16 << 10

// maxText bounds the body, payload and hex excerpts a record carries.
const maxText = 2048

// Summary is what a client's first bytes say.
type Summary struct {
	Protocol string   `json:"protocol"` // tls, http, mqtt, quic, unknown
	Bytes    int      `json:"bytes"`    // client bytes looked at
	SNI      string   `json:"sni,omitempty"`
	ALPN     []string `json:"alpn,omitempty"`
	JA4      string   `json:"ja4,omitempty"`
	// HTTP request head and body.
	Method      string `json:"method,omitempty"`
	Target      string `json:"target,omitempty"`
	Host        string `json:"host,omitempty"`
	UserAgent   string `json:"user_agent,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Body        string `json:"body,omitempty"` // as text when valid UTF-8, else hex; at most maxText
	// MQTT CONNECT and PUBLISH.
	ClientID string   `json:"client_id,omitempty"`
	Username string   `json:"username,omitempty"`
	Topics   []string `json:"topics,omitempty"`
	Payload  string   `json:"payload,omitempty"` // first PUBLISH payload, as Body
	// First is the hex of the first bytes, for protocols not recognised.
	First string `json:"first_hex,omitempty"`
	// Error says why a recognised protocol could not be read whole.
	Error string `json:"error,omitempty"`
}

// Name is the server name the client asked for: the TLS SNI or the HTTP Host.
func (s Summary) Name() string {
	if s.SNI != "" {
		return s.SNI
	}
	return s.Host
}

// Complete reports whether b (a client's first bytes, in order) holds enough to classify: a
// whole ClientHello, a whole HTTP head and its declared body, a whole MQTT CONNECT,
// or anything that is none of these. Servers call it to decide whether to read on.
func Complete(b []byte) bool {
	if len(b) >= MaxFirst {
		return true
	}
	switch {
	case dtls.LooksLike(b):
		var c dtls.Collector
		return c.Feed(b)
	case http.LooksLike(b):
		r, used, complete, err := http.ParseHead(b)
		if err != nil || !complete {
			return err != nil
		}
		return r.ContentLength <= 0 || int64(len(b)-used) >= min(r.ContentLength, int64(MaxFirst-used))
	case mqtt.LooksLike(b):
		// The CONNECT alone: the client waits for CONNACK before it publishes.
		return mqttPackets(b) >= 1
	}
	return len(b) > 0
}

// mqttPackets counts the whole MQTT packets at the start of b.
func mqttPackets(b []byte) int {
	n := 0
	var c mqtt.Conn
	c.Feed(0, b, func(*mqtt.Packet) { n++ })
	return n
}

// Classify reads a client's first bytes. It never fails: bytes it cannot read are described by
// their hex and an error.
func Classify(b []byte) Summary {
	b = b[:min(len(b), MaxFirst)]
	s := Summary{Protocol: "unknown", Bytes: len(b)}
	switch {
	case dtls.LooksLike(b):
		s.Protocol = "tls"
		var c dtls.Collector
		c.Feed(b)
		ch, err := c.Result()
		if ch != nil {
			s.SNI, s.ALPN, s.JA4 = ch.ServerName, ch.ALPN[:min(len(ch.ALPN), 16)], ch.JA4(false)
		}
		if err != nil {
			s.Error = err.Error()
		} else if ch == nil {
			s.Error = "ClientHello incomplete"
		}
	case http.LooksLike(b):
		s.Protocol = "http"
		r, used, complete, err := http.ParseHead(b)
		switch {
		case err != nil:
			s.Error = err.Error()
		case !complete:
			s.Error = "request head incomplete"
		default:
			s.Method, s.Target, s.Host, s.UserAgent, s.ContentType = r.Method, r.Target, r.Host, r.UserAgent, r.ContentType
			// RFC 9112 §6.3: without Content-Length (or chunked coding, not followed here) a
			// request has no body.
			body := b[used:used]
			if r.ContentLength > 0 {
				body = b[used:min(len(b), used+int(min(r.ContentLength, MaxFirst)))]
			}
			s.Body = text(body)
		}
	case mqtt.LooksLike(b):
		s.Protocol = "mqtt"
		var c mqtt.Conn
		err := c.Feed(0, b, func(p *mqtt.Packet) {
			switch p.Type {
			case mqtt.TypeConnect:
				s.ClientID, s.Username = p.ClientID, p.Username
			case mqtt.TypePublish:
				if s.Payload == "" {
					s.Payload = text(p.Payload)
				}
				s.Topics = append(s.Topics, p.Topic)
			case mqtt.TypeSubscribe:
				s.Topics = append(s.Topics, p.Topics...)
			}
			if len(s.Topics) > 16 {
				s.Topics = s.Topics[:16]
			}
		})
		if err != nil {
			s.Error = err.Error()
		}
	case quic.IsLongHeader(b):
		t := quic.NewTracker()
		t.ClientDatagram(b)
		s.quic(t)
	default:
		s.First = hex.EncodeToString(b[:min(len(b), 64)])
	}
	return s
}

// quic fills s from a QUIC client's Initial packets (RFC 9001 §5.2: their keys derive from the
// connection ID, so the ClientHello is readable by anyone).
func (s *Summary) quic(t *quic.Tracker) {
	s.Protocol = "quic"
	ch, err := t.Result()
	if ch != nil {
		s.SNI, s.ALPN, s.JA4, s.First = ch.ServerName, ch.ALPN[:min(len(ch.ALPN), 16)], ch.JA4(true), ""
	}
	switch {
	case err != nil:
		s.Error = err.Error()
	case ch == nil:
		s.Error = "ClientHello incomplete"
	}
}

// text keeps b as text when it is valid UTF-8 and as hex otherwise, bounded.
func text(b []byte) string {
	if len(b) > maxText {
		b = b[:maxText]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return "hex:" + hex.EncodeToString(b)
}
