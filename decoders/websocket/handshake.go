package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/textproto"
	"strings"

	"droneaudit/decoders"
)

// acceptGUID is the GUID RFC 6455 §1.3 appends to the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Handshake is what the HTTP Upgrade of a WebSocket connection agreed (RFC 6455 §4).
type Handshake struct {
	// Subprotocol is the server's Sec-WebSocket-Protocol, e.g. "mqtt".
	Subprotocol string
	// Client and Server are the permessage-deflate agreements for the messages each side sends,
	// nil when the server accepted no compression.
	Client, Server *Deflate
	// AcceptOK is set when Sec-WebSocket-Accept matches the client's Sec-WebSocket-Key.
	AcceptOK bool
}

// ErrNoUpgrade means a request and response are not a WebSocket upgrade.
var ErrNoUpgrade = errors.New("websocket: not a WebSocket upgrade (101 with Upgrade: websocket)")

// IsUpgradeRequest reports whether request headers ask for a WebSocket upgrade.
func IsUpgradeRequest(req textproto.MIMEHeader) bool {
	return hasToken(req.Values("Upgrade"), "websocket") && hasToken(req.Values("Connection"), "upgrade")
}

// ParseHandshake reads the handshake from the request's and the response's headers and the
// response's status. A response other than 101 Switching Protocols with Upgrade: websocket is
// ErrNoUpgrade: the connection goes on as HTTP.
func ParseHandshake(status int, req, resp textproto.MIMEHeader) (Handshake, error) {
	var h Handshake
	if status != 101 || !hasToken(resp.Values("Upgrade"), "websocket") {
		return h, ErrNoUpgrade
	}
	h.Subprotocol = strings.TrimSpace(resp.Get("Sec-WebSocket-Protocol"))
	h.Client, h.Server = ParseExtensions(resp.Values("Sec-WebSocket-Extensions"))
	h.AcceptOK = resp.Get("Sec-WebSocket-Accept") == AcceptKey(req.Get("Sec-WebSocket-Key"))
	return h, nil
}

// ParseH2Handshake reads the handshake of WebSocket over HTTP/2 (RFC 8441 §5): a stream opened by
// an extended CONNECT whose :protocol is "websocket", answered with a 2xx status. There is no
// Sec-WebSocket-Key or Accept over HTTP/2 (AcceptOK stays false); the subprotocol and the
// extensions are agreed in the response's headers as over HTTP/1.1. Anything else is
// ErrNoUpgrade.
func ParseH2Handshake(protocol string, status int, resp textproto.MIMEHeader) (Handshake, error) {
	var h Handshake
	if !strings.EqualFold(protocol, "websocket") || status < 200 || status > 299 {
		return h, ErrNoUpgrade
	}
	h.Subprotocol = strings.TrimSpace(resp.Get("Sec-WebSocket-Protocol"))
	h.Client, h.Server = ParseExtensions(resp.Values("Sec-WebSocket-Extensions"))
	return h, nil
}

// AcceptKey is the Sec-WebSocket-Accept a server answers to a client's key (RFC 6455 §4.2.2).
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(strings.TrimSpace(key) + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// Limits bounds a connection's reading.
type Limits struct {
	MaxMessage int                       // DefaultMaxMessage when 0
	Budget     *decoders.ExpansionBudget // decoders.DefaultExpansionBudget when nil
}

// Conn reads both directions of a WebSocket connection: 0 is client to server, 1 server to
// client (the convention of decoders/mqtt.Conn).
type Conn struct {
	Handshake Handshake
	dir       [2]*Stream
}

// NewConn returns the reader of a connection after its handshake. emit gets every message with
// its direction; onNote (may be nil) gets what is wrong but does not stop the reading, with the
// direction in the note's Attrs["direction"].
func NewConn(h Handshake, lim Limits, emit func(dir int, m *Message), onNote func(decoders.Note)) *Conn {
	c := &Conn{Handshake: h}
	for d := range 2 {
		cfg := Config{FromClient: d == 0, Deflate: h.Client, MaxMessage: lim.MaxMessage, Budget: lim.Budget}
		if d == 1 {
			cfg.Deflate = h.Server
		}
		if onNote != nil {
			name := [2]string{"client-to-server", "server-to-client"}[d]
			cfg.OnNote = func(n decoders.Note) {
				n.Attrs = map[string]string{"direction": name}
				onNote(n)
			}
		}
		c.dir[d] = NewStream(cfg, func(m *Message) { emit(d, m) })
	}
	return c
}

// Feed takes the next in-order bytes of one direction.
func (c *Conn) Feed(dir int, b []byte) error { return c.dir[dir&1].Feed(b) }

// Gap says bytes of one direction were lost.
func (c *Conn) Gap(dir int) { c.dir[dir&1].Gap() }

// Stream returns the reader of one direction.
func (c *Conn) Stream(dir int) *Stream { return c.dir[dir&1] }

// Close ends both directions.
func (c *Conn) Close() {
	c.dir[0].Close()
	c.dir[1].Close()
}
