// Package requests lists what a capture asked of its servers: one row per HTTP request (HTTP/1.x
// with its response, HTTP/2 and HTTP/3 per stream) and per MQTT PUBLISH, over clear TCP or inside
// TLS sessions and QUIC connections the engine opened with the key log (decoders/tlslayer,
// decoders/quic). It is an engine observer that
// runs beside the destination inventory in the same pass; rows do not depend on the shard count.
package requests

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"droneaudit/audit/destinations"
	"droneaudit/decoders"
	"droneaudit/decoders/http"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/netflow"
)

// Body is what a row says of one message body.
type Body struct {
	Size            int64  `json:"size"`
	SHA256          string `json:"sha256,omitempty"` // of the whole body; empty when not all of it was seen
	ContentType     string `json:"content_type,omitempty"`
	ContentEncoding string `json:"content_encoding,omitempty"`
	// ContentLength is the message's content-length header, -1 when it has none.
	ContentLength int64 `json:"content_length"`
	// Complete is false when the body was cut (a gap, the end of the capture).
	Complete bool `json:"complete"`
	// Summary says what the body was found to be (decoders/bodies): the content codings undone,
	// the parts, each object's kind and size; or what the body hook found (Options.OnBody).
	Summary string `json:"summary,omitempty"`
	// Objects are what the body carried, each named and hashed (the decoded body, or each part).
	Objects []Object `json:"objects,omitempty"`
}

// Row is one HTTP request with its response, or one MQTT PUBLISH.
type Row struct {
	// ID names the request: "<flow uid>#<n>", n the request's number in an HTTP/1 connection,
	// the stream ID in HTTP/2 and HTTP/3 (whose flow is the QUIC connection's), the PUBLISH's
	// number in an MQTT connection ("#m<n>" for MQTT over WebSocket, beside the upgrade's HTTP
	// requests); "#0-k" is the k-th response whose request was not seen (method "?").
	ID string `json:"id"`
	// Input is the capture file whose frame Frame carried the start of the request (HTTP/1,
	// HTTP/3), the end of the request (HTTP/2: its END_STREAM), or the PUBLISH; InputSHA256 is that
	// file's SHA-256. A connection split over rotated captures has its rows in the file where each
	// one was.
	Input       string    `json:"input"`
	InputSHA256 string    `json:"input_sha256,omitempty"`
	Flow        string    `json:"flow"`
	Frame       int       `json:"frame"`
	Time        time.Time `json:"time"`
	// Server is the flow's server ip:port; Name the TLS SNI, else the Host or :authority.
	Server   string `json:"server"`
	Name     string `json:"name,omitempty"`
	TLS      bool   `json:"tls"`
	Protocol string `json:"protocol"` // "http/1.1", "h2", "h3", "mqtt", "mqtt/ws"
	// Method is the HTTP method, or PUBLISH; URL the request target as an absolute URL, or the
	// MQTT topic.
	Method   string `json:"method"`
	URL      string `json:"url"`
	Status   int    `json:"status,omitempty"`
	Request  Body   `json:"request"`
	Response *Body  `json:"response,omitempty"`
	// Direction says who sent an MQTT PUBLISH ("client-to-server" or "server-to-client").
	Direction string `json:"direction,omitempty"`

	inIx int
	in   *engine.Input
}

// Content is a message body handed to the body hook: the bytes kept (up to the reader's bound),
// with what the message said of them. It is valid only during the call.
type Content struct {
	Request         string // the row's ID
	Dir             netflow.Direction
	ContentType     string
	ContentEncoding string
	Bytes           []byte
	Size            int64
	Truncated       bool // Size > len(Bytes)
}

// Options configure a Collector.
type Options struct {
	// OnBody, if set, receives every request and response body in place of the collector's own
	// opening of it (decoders/bodies); what it returns is kept as the body's Summary. It is
	// called from the flow shards, concurrently. Content.Bytes is valid only during the call:
	// the HTTP readers reuse body memory, so a hook that keeps the bytes copies them.
	OnBody func(*Content) string
	// Extract, if set, is the folder every whole object of a body is written to
	// (objects.Extract: named by its SHA-256, mode 0600, never overwriting).
	Extract string
	// MaxBody bounds the body bytes kept per message to be opened (http.MaxBody when 0; negative:
	// none are kept, bodies are only counted and hashed); every body is hashed in full whatever
	// its size.
	MaxBody int
}

// Protocols are the flow protocols the rows are read from beyond the inventory's own: HTTP/2
// with prior knowledge, which is what a TLS session negotiated with ALPN "h2" carries inside, and
// TLS sessions the capture joined mid-stream (to report them).
var Protocols = append([]decoders.Protocol{
	{Name: "http2", Transport: netflow.TCP, Sniff: http.LooksLikeH2},
	http.H3Protocol,
}, tlslayer.Protocols...)

// Collector is the engine observer that makes the rows.
type Collector struct {
	opt   Options
	mu    sync.Mutex
	parts []*part
	ex    *extractor
}

// NewCollector returns an empty collector.
func NewCollector(opt Options) *Collector {
	if opt.MaxBody == 0 {
		opt.MaxBody = http.MaxBody
	}
	c := &Collector{opt: opt}
	if opt.Extract != "" {
		c.ex = &extractor{dir: opt.Extract}
	}
	return c
}

// Shard implements engine.Observer.
func (c *Collector) Shard(int) engine.FlowObserver {
	p := &part{opt: &c.opt, c: c, sni: map[any]string{}}
	c.mu.Lock()
	c.parts = append(c.parts, p)
	c.mu.Unlock()
	return p
}

// Packet implements engine.Observer.
func (c *Collector) Packet(*engine.PacketEvent) {}

// CaptureEnd implements engine.Observer.
func (c *Collector) CaptureEnd(*engine.Input, error) {}

// Rows returns every row, in input order, then by time, flow and number.
func (c *Collector) Rows() []Row {
	var out []Row
	for _, p := range c.parts {
		out = append(out, p.rows...)
	}
	slices.SortFunc(out, compareRows)
	for i := range out {
		// Known once the input is read whole (before Build returns).
		out[i].InputSHA256 = out[i].in.SHA256
	}
	if out == nil {
		out = []Row{}
	}
	return out
}

func compareRows(a, b Row) int {
	return cmp.Or(cmp.Compare(a.inIx, b.inIx), a.Time.Compare(b.Time), cmp.Compare(a.Flow, b.Flow),
		cmp.Compare(a.Frame, b.Frame), cmp.Compare(a.ID, b.ID))
}

// Result is the output of Build: the rows, and the destination inventory of the same pass (its
// notes say which TLS sessions were not decrypted, and why).
type Result struct {
	Rows         []Row                   `json:"requests"`
	Destinations *destinations.Inventory `json:"-"`
	Notes        []decoders.Note         `json:"notes"`
}

// Build reads the captures once and returns their requests beside their destination inventory.
// dest.Unwrappers (the TLS layer with the key log) decide which sessions are opened.
func Build(ctx context.Context, srcs []engine.Source, dest destinations.Options, opt Options) (*Result, error) {
	c := NewCollector(opt)
	dest.Observers = append(append([]engine.Observer(nil), dest.Observers...), c)
	dest.Protocols = append(append([]decoders.Protocol(nil), dest.Protocols...), Protocols...)
	inv, err := destinations.BuildSources(ctx, srcs, dest)
	if inv == nil {
		return nil, err
	}
	notes := inv.Notes
	if c.ex != nil {
		notes = append(notes, c.ex.notes...)
	}
	if notes == nil {
		notes = []decoders.Note{}
	}
	return &Result{Rows: c.Rows(), Destinations: inv, Notes: notes}, err
}
