package tls

import (
	"fmt"

	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

// Passive decryption of one TLS connection. A Session is fed the in-order TCP bytes of both
// directions (any segmentation, in capture order or one direction after the other), follows the
// handshake in the clear, finds the connection's secrets in a tlskeys.Log by the ClientHello
// random, and hands on the application data of each direction in order. Every byte it hands on
// was authenticated (AEAD tag or CBC padding and HMAC): a session without keys, with wrong keys,
// cut or joined mid-stream is reported with the reason and skipped, never turned into garbage.

// Config sets up a Session.
type Config struct {
	// Keys holds the key log's secrets; nil means no keys (every session reports NoKeys).
	Keys *tlskeys.Log
	// OnData receives the application data of each decrypted record, in order per direction.
	OnData func(*Data)
	// OnEvent, if set, receives every event as it happens (Summary keeps the first few).
	OnEvent func(Event)
	// MaxPending bounds the bytes of one direction held while it waits for the other side's
	// hello (DefaultMaxPending when 0). Records past it are skipped and reported.
	MaxPending int
}

// DefaultMaxPending is the default of Config.MaxPending. In capture order nothing waits: each
// hello precedes the records that need it.
const DefaultMaxPending = 1 << 20

// Data is one record's application data.
type Data struct {
	Dir netflow.Direction
	// Offset is the position of the record's header in this direction's byte stream (the bytes
	// fed to the Session, counted from 0).
	Offset int64
	// Record is the record's number in its direction, from 0, counting every record.
	Record int
	// Early marks TLS 1.3 0-RTT data.
	Early bool
	// Bytes is the plaintext. The Data and its Bytes are valid only until OnData returns.
	Bytes []byte
}

// EventKind says what happened.
type EventKind uint8

// The events a Session reports.
const (
	// EventKeys: the session's keys were found; its records are being decrypted.
	EventKeys EventKind = iota + 1
	// EventNoKeys: no secret for the session's client random (or resumed session) is known.
	EventNoKeys
	// EventWrongKeys: the secrets do not open the records (AEAD tag or MAC check failed).
	EventWrongKeys
	// EventUnsupported: a protocol version or cipher suite this package does not decrypt.
	EventUnsupported
	// EventNotTLS: the bytes are not TLS records.
	EventNotTLS
	// EventMidStream: the connection was joined after its start; no handshake to follow.
	EventMidStream
	// EventGap: bytes of the direction were lost; the rest of it cannot be framed.
	EventGap
	// EventTruncated: the direction ended inside a record.
	EventTruncated
	// EventSkipped: records were skipped for another reason (given in the event).
	EventSkipped
	// EventAlert: a TLS alert was received (close_notify included).
	EventAlert
	// EventKeyUpdate: a TLS 1.3 KeyUpdate changed one direction's keys.
	EventKeyUpdate
)

var eventNames = map[EventKind]string{
	EventKeys: "keys", EventNoKeys: "no-keys", EventWrongKeys: "wrong-keys", EventUnsupported: "unsupported",
	EventNotTLS: "not-tls", EventMidStream: "mid-stream", EventGap: "gap", EventTruncated: "truncated",
	EventSkipped: "skipped", EventAlert: "alert", EventKeyUpdate: "key-update",
}

func (k EventKind) String() string {
	if s, ok := eventNames[k]; ok {
		return s
	}
	return fmt.Sprintf("event-%d", uint8(k))
}

// Event is something a Session reports about one direction.
type Event struct {
	Kind   EventKind
	Dir    netflow.Direction
	Offset int64 // position in the direction's byte stream, -1 when not tied to a byte
	Reason string
}

func (e Event) String() string {
	return fmt.Sprintf("%s %s at %d: %s", e.Kind, e.Dir, e.Offset, e.Reason)
}

// Status is the outcome of a session.
type Status uint8

// Session outcomes.
const (
	// StatusIncomplete: nothing encrypted was seen yet (no data, or the handshake only).
	StatusIncomplete Status = iota
	// StatusDecrypted: every protected record seen was decrypted.
	StatusDecrypted
	// StatusPartial: records were decrypted, but some were skipped (a gap, a cut record).
	StatusPartial
	// StatusNoKeys: the key log has no secret for this session.
	StatusNoKeys
	// StatusWrongKeys: the secrets found do not decrypt this session.
	StatusWrongKeys
	// StatusUnsupported: version or cipher suite not supported.
	StatusUnsupported
	// StatusNoHandshake: joined mid-stream, or the hellos were lost.
	StatusNoHandshake
	// StatusNotTLS: the connection does not carry TLS records.
	StatusNotTLS
)

var statusNames = [...]string{"incomplete", "decrypted", "partial", "no-keys", "wrong-keys", "unsupported", "no-handshake", "not-tls"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status-%d", uint8(s))
}

// maxEvents bounds the events a Summary keeps.
const maxEvents = 16

// Summary describes a session: what was negotiated and what could be decrypted.
type Summary struct {
	Status Status
	// Reason explains a status other than Decrypted (the first decisive event).
	Reason       string
	Version      uint16 // negotiated version (0x7fNN for a TLS 1.3 draft)
	Suite        uint16
	SuiteName    string
	ClientRandom []byte
	ServerName   string // SNI of the ClientHello
	ALPN         string // protocol the server selected
	Resumed      bool   // TLS 1.2 abbreviated handshake, or TLS 1.3 with a PSK
	HelloRetry   bool
	KeyUpdates   int
	Records      [2]int   // records seen, per direction
	Decrypted    [2]int   // records decrypted, per direction
	AppBytes     [2]int64 // application data bytes handed on, per direction
	Skipped      [2]int64 // bytes not decrypted (lost in holes included), per direction
	Events       []Event  // the first events
	DroppedEvent int      // events past the first maxEvents
}
