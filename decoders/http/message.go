package http

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"

	"droneaudit/geo"
	"droneaudit/netflow"
)

// HTTP/1.x messages of one connection, both directions (RFC 9112): requests and responses with
// their bodies framed by Content-Length, chunked transfer coding (§7.1) or, for a response, the
// end of the connection (§6.3). Keep-alive and pipelining pair the n-th response with the n-th
// request. Every body is hashed in full (SHA-256) and kept up to a bound; a longer body is
// counted and hashed, not kept.

// Defaults of H1Config.
const (
	DefaultH1MaxBody    = 1 << 20
	DefaultH1MaxPending = 64
	maxFields           = 200
	maxChunkLine        = 1024
)

// Field is one header field as sent.
type Field struct{ Name, Value string }

// Message is one request (Dir client-to-server) or response (server-to-client).
type Message struct {
	Dir netflow.Direction
	// Request line: Method and Target; status line: Status and Reason. Version is "HTTP/1.1".
	Method, Target string
	Status         int
	Reason         string
	Version        string
	Header         []Field
	// Host is the request's Host (lower case, no port); ContentType and ContentEncoding are as
	// sent; ContentLength is -1 when absent or invalid.
	Host, ContentType, ContentEncoding string
	ContentLength                      int64
	Chunked                            bool
	// Body is the message body with the transfer coding removed (de-chunked), up to MaxBody.
	Body []byte
	// BodyLen counts every body byte; SHA256 is the hash of all of them.
	BodyLen int64
	SHA256  [32]byte
	// Truncated is set when BodyLen > len(Body).
	Truncated bool
	// Complete is set when the body ended where its framing says (false: cut by a gap or the end).
	Complete bool
	// Offset is the position of the message's first byte in its direction's byte stream.
	Offset int64
	// Seq is a request's 1-based number in its connection (Exchange.Seq); 0 for a response.
	Seq int

	// req is the request as evidence names it (flow.request), made once for the request and
	// its response.
	req *geo.Request
}

// Get returns the first value of a header field, by case-insensitive name.
func (m *Message) Get(name string) string {
	for _, f := range m.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// Exchange is a request and the response paired with it (nil when none came).
type Exchange struct {
	Seq      int // 1-based position of the request in its connection
	Request  *Message
	Response *Message
}

// H1Config sets up an H1Conn. Zero values take the defaults.
type H1Config struct {
	// OnMessage, if set, receives each message when its body is whole (or cut), before it is
	// paired: the hook where body content is decoded further (content codings, forms, objects).
	OnMessage func(*Message)
	// OnExchange receives each request with its response, in request order. A request still
	// waiting at Close, or pushed out by MaxPending, comes with a nil Response; a response
	// without a request comes with a nil Request.
	OnExchange func(*Exchange)
	// MaxBody bounds the body bytes kept per message. Negative: nothing is kept (bodies are only
	// counted and hashed).
	MaxBody int
	// MaxPending bounds the requests waiting for their response (pipelining).
	MaxPending int
	// Recycle lets the follower reuse body memory: a message's Body is valid only until
	// OnExchange returns for its exchange (a hook that keeps body bytes longer copies them).
	Recycle bool
}

// body framing
const (
	frameNone = iota
	frameLength
	frameChunked
	frameClose
)

// chunked states
const (
	chSize = iota
	chData
	chDataEnd
	chTrailer
)

// h1Dir is the state of one direction.
type h1Dir struct {
	buf     []byte // head bytes, or a chunk-size or trailer line, not yet whole
	pos     int64  // stream offset of the next byte fed
	msg     *Message
	sum     hash.Hash
	framing int
	left    int64 // frameLength: body bytes to come; frameChunked chData: chunk bytes to come
	ch      int   // chunked state
	err     error
	dead    bool
}

// digests are the body digests of messages in progress: one is taken for a message and given back
// when it ends, so that the connections of a capture share a few instead of allocating two each.
var digests = sync.Pool{New: func() any { return sha256.New() }}

// resetSum readies the direction's body digest for a new message.
func (d *h1Dir) resetSum() {
	if d.sum == nil {
		d.sum = digests.Get().(hash.Hash)
	}
	d.sum.Reset()
}

// sumInto writes the body digest of the message that ends and gives the digest back.
func (d *h1Dir) sumInto(m *Message) {
	d.sum.Sum(m.SHA256[:0])
	digests.Put(d.sum)
	d.sum = nil
}

// H1Conn follows the HTTP/1.x messages of one connection.
type H1Conn struct {
	cfg     H1Config
	d       [2]h1Dir
	pending []*Exchange // requests waiting for a response, oldest first
	methods []string    // method of each pending request whose response head is not read yet
	pendBuf [2]*Exchange
	methBuf [2]string
	seq     int
	// Upgraded is set after a 101 (Switching Protocols) response: what follows is not HTTP/1.
	Upgraded bool
	// lines is the slice a head is split into, reused from message to message.
	lines []string
	// rest holds the bytes that came after the 101 response in the segment that carried it
	// (TakeRest).
	rest    []byte
	restDir netflow.Direction
}

// ErrUpgraded means the connection switched protocols (a 101 response); bytes after it are
// not HTTP/1.
var ErrUpgraded = errors.New("http: connection upgraded to another protocol")

// NewH1Conn returns a follower for one connection.
func NewH1Conn(cfg H1Config) *H1Conn {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultH1MaxBody
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultH1MaxPending
	}
	return &H1Conn{cfg: cfg}
}

// Err returns the error that stopped a direction, if any.
func (c *H1Conn) Err(dir netflow.Direction) error { return c.d[dir&1].err }

// Feed adds the next in-order bytes of one direction. It returns the error that stopped the
// direction (its later bytes are ignored).
func (c *H1Conn) Feed(dir netflow.Direction, p []byte) error {
	d := &c.d[dir&1]
	up := c.Upgraded
	for len(p) > 0 && !d.dead {
		if d.msg == nil {
			p = c.head(dir, d, p)
			continue
		}
		p = c.body(dir, d, p)
	}
	if c.Upgraded && !up && len(p) > 0 {
		c.rest, c.restDir = append(c.rest[:0], p...), dir
	}
	d.pos += int64(len(p)) // bytes of a dead direction still advance the offset
	return d.err
}

// TakeRest returns, once, the bytes of the segment that carried the 101 response after its head:
// the first bytes of the protocol the connection switched to (a server's first WebSocket frames
// often travel with the 101).
func (c *H1Conn) TakeRest() (netflow.Direction, []byte) {
	b := c.rest
	c.rest = nil
	return c.restDir, b
}

// MIMEHeader returns the message's header fields as a textproto.MIMEHeader (canonical names, in
// order), for readers of the upgrade such as websocket.ParseHandshake.
func (m *Message) MIMEHeader() textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	for _, f := range m.Header {
		h.Add(f.Name, f.Value)
	}
	return h
}

// InMessage reports whether a message of the direction has begun and not ended: the next bytes
// fed continue it.
func (c *H1Conn) InMessage(dir netflow.Direction) bool {
	d := &c.d[dir&1]
	return d.msg != nil || len(d.buf) > 0
}

// Gap says bytes of one direction were lost: a message in progress ends cut, and the message
// boundaries of that direction are lost with it.
func (c *H1Conn) Gap(dir netflow.Direction) {
	d := &c.d[dir&1]
	if d.dead {
		return
	}
	if d.msg != nil {
		c.finish(dir, d, false)
	}
	c.stop(d, fmt.Errorf("http: bytes lost at offset %d: message boundaries unknown", d.pos))
}

// Close ends both directions: a body read to the end of the connection is complete; any other
// message in progress is cut. Requests still waiting are handed on without a response.
func (c *H1Conn) Close() {
	for i := range c.d {
		d := &c.d[i]
		if d.msg != nil {
			c.finish(netflow.Direction(i), d, d.framing == frameClose)
		}
	}
	c.d[0].dead, c.d[1].dead = true, true
	for len(c.pending) > 0 {
		c.flush()
	}
}

func (c *H1Conn) stop(d *h1Dir, err error) {
	d.dead, d.err, d.buf, d.msg = true, err, nil, nil
}

// head reads a message head; it returns the bytes after the head.
func (c *H1Conn) head(dir netflow.Direction, d *h1Dir, p []byte) []byte {
	if len(d.buf) == 0 {
		// Empty lines before a message are ignored (RFC 9112 §2.2); they are never buffered, so a
		// stream of them costs nothing.
		skip := 0
		for skip < len(p) && (p[skip] == '\r' || p[skip] == '\n') {
			skip++
		}
		d.pos += int64(skip)
		if p = p[skip:]; len(p) == 0 {
			return nil
		}
	}
	b := p
	if len(d.buf) > 0 {
		// Only the new bytes (and the three before them) can end the head: a head fed a byte at
		// a time is not scanned again from its start each time.
		from := max(0, len(d.buf)-3)
		d.buf = append(d.buf, p...)
		b = d.buf
		if tail := b[from:]; len(b) < MaxHead && !bytes.Contains(tail, []byte("\n\n")) && !bytes.Contains(tail, []byte("\n\r\n")) {
			return nil
		}
	}
	lines, used, complete, err := splitHeadInto(c.lines[:0], b)
	c.lines = lines[:0:min(cap(lines), maxFields+1)] // the strings are the message's; the slice is reused
	if err != nil {
		c.stop(d, fmt.Errorf("offset %d: %w", d.pos, err))
		return nil
	}
	if !complete {
		if len(d.buf) == 0 {
			d.buf = append(d.buf, p...)
		}
		return nil
	}
	// Buffered head bytes were not counted in pos yet: the head starts at pos, and pos moves
	// past all of it.
	consumedFromP := used - (len(b) - len(p))
	start := d.pos
	d.buf = d.buf[:0]
	d.pos += int64(used)
	m, err := c.parseMessage(dir, lines)
	if err != nil {
		c.stop(d, fmt.Errorf("offset %d: %w", start, err))
		return nil
	}
	m.Offset = start
	d.msg = m
	d.resetSum()
	d.framing, d.left, d.ch = c.framing(dir, m), m.ContentLength, chSize
	if d.framing == frameNone {
		c.finish(dir, d, true)
	}
	return p[consumedFromP:]
}

// parseMessage reads the start line and the fields of a head.
func (c *H1Conn) parseMessage(dir netflow.Direction, lines []string) (*Message, error) {
	m := &Message{Dir: dir, ContentLength: -1}
	pa, np := splitStart(lines[0])
	parts := pa[:np]
	if dir == netflow.ClientToServer {
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("bad request line %q", truncate(lines[0]))
		}
		m.Method, m.Target, m.Version = parts[0], parts[1], parts[2]
	} else {
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/1.") || len(parts[1]) != 3 {
			return nil, fmt.Errorf("bad status line %q", truncate(lines[0]))
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil || n < 100 {
			return nil, fmt.Errorf("bad status line %q", truncate(lines[0]))
		}
		m.Version, m.Status = parts[0], n
		if len(parts) == 3 {
			m.Reason = parts[2]
		}
	}
	if len(lines)-1 > maxFields {
		return nil, fmt.Errorf("%d header fields, over the limit of %d", len(lines)-1, maxFields)
	}
	for i, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if m.Header == nil {
			m.Header = make([]Field, 0, len(lines)-1-i)
		}
		m.Header = append(m.Header, Field{k, v})
		switch fieldName(k, headFields) {
		case "host":
			m.Host = hostOnly(v)
		case "content-type":
			m.ContentType = v
		case "content-encoding":
			m.ContentEncoding = v
		case "transfer-encoding":
			// The chunked coding is the last one when present (RFC 9112 §6.1).
			codings := strings.Split(strings.ToLower(v), ",")
			m.Chunked = strings.TrimSpace(codings[len(codings)-1]) == "chunked"
		case "content-length":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || (m.ContentLength >= 0 && m.ContentLength != n) {
				return nil, fmt.Errorf("bad content-length %q", truncate(v))
			}
			m.ContentLength = n
		}
	}
	return m, nil
}

// splitStart splits a start line as strings.SplitN(l, " ", 3) does, without a slice: the first
// n of parts.
func splitStart(l string) (parts [3]string, n int) {
	for n < 2 {
		a, b, ok := strings.Cut(l, " ")
		if !ok {
			break
		}
		parts[n], l = a, b
		n++
	}
	parts[n] = l
	return parts, n + 1
}

// framing decides how a message's body is delimited (RFC 9112 §6.3).
func (c *H1Conn) framing(dir netflow.Direction, m *Message) int {
	if dir == netflow.ServerToClient {
		method := ""
		if len(c.methods) > 0 {
			method = c.methods[0]
		}
		if m.Status >= 100 && m.Status < 200 || m.Status == 204 || m.Status == 304 || method == "HEAD" ||
			(method == "CONNECT" && m.Status/100 == 2) {
			return frameNone
		}
	}
	switch {
	case m.Chunked:
		return frameChunked
	case m.ContentLength > 0:
		return frameLength
	case m.ContentLength == 0 || dir == netflow.ClientToServer:
		return frameNone
	}
	return frameClose
}

// body reads body bytes of the current message; it returns the bytes after them.
func (c *H1Conn) body(dir netflow.Direction, d *h1Dir, p []byte) []byte {
	switch d.framing {
	case frameLength:
		n := int(min(d.left, int64(len(p))))
		if d.msg.Body == nil && c.cfg.MaxBody > 0 {
			// The length is known: one allocation of what will be kept, not a doubling per
			// segment. d.left is the sender's claim, so it is bounded by MaxBody first.
			d.msg.Body = c.newBody(int(min(d.left, int64(c.cfg.MaxBody))))
		}
		c.keep(d, p[:n])
		d.left -= int64(n)
		d.pos += int64(n)
		if d.left == 0 {
			c.finish(dir, d, true)
		}
		return p[n:]
	case frameClose:
		c.keep(d, p)
		d.pos += int64(len(p))
		return nil
	}
	return c.chunked(dir, d, p)
}

// chunked reads the chunked transfer coding (RFC 9112 §7.1).
func (c *H1Conn) chunked(dir netflow.Direction, d *h1Dir, p []byte) []byte {
	for len(p) > 0 {
		if d.ch == chData {
			n := int(min(d.left, int64(len(p))))
			c.keep(d, p[:n])
			d.left -= int64(n)
			d.pos += int64(n)
			p = p[n:]
			if d.left == 0 {
				d.ch = chDataEnd
			}
			continue
		}
		// a line: chunk size, the CRLF after chunk data, or a trailer field
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(d.buf)+len(p) > maxChunkLine {
				c.cut(dir, d, "chunk line over the limit")
				return nil
			}
			d.buf = append(d.buf, p...)
			d.pos += int64(len(p))
			return nil
		}
		line := p[:i]
		if len(d.buf) > 0 {
			line = append(d.buf, line...)
		}
		if len(line) > maxChunkLine {
			c.cut(dir, d, "chunk line over the limit")
			return nil
		}
		d.pos += int64(i + 1)
		p = p[i+1:]
		text := strings.TrimRight(string(line), "\r")
		d.buf = d.buf[:0]
		switch d.ch {
		case chDataEnd:
			if text != "" {
				c.cut(dir, d, "chunk data not followed by CRLF")
				return nil
			}
			d.ch = chSize
		case chSize:
			size, _, _ := strings.Cut(text, ";") // chunk extensions are ignored
			n, err := strconv.ParseUint(strings.TrimSpace(size), 16, 63)
			if err != nil {
				c.cut(dir, d, fmt.Sprintf("bad chunk size %q", truncate(text)))
				return nil
			}
			if n == 0 {
				d.ch = chTrailer
				continue
			}
			d.left, d.ch = int64(n), chData
		case chTrailer:
			if text == "" {
				c.finish(dir, d, true)
				return p
			}
			if k, v, ok := strings.Cut(text, ":"); ok && len(d.msg.Header) < maxFields {
				d.msg.Header = append(d.msg.Header, Field{strings.TrimSpace(k), strings.TrimSpace(v)})
			}
		}
	}
	return nil
}

// cut ends a message whose framing broke, and the direction with it.
func (c *H1Conn) cut(dir netflow.Direction, d *h1Dir, why string) {
	pos := d.pos
	c.finish(dir, d, false)
	c.stop(d, fmt.Errorf("http: offset %d: %s", pos, why))
}

func (c *H1Conn) keep(d *h1Dir, b []byte) {
	m := d.msg
	d.sum.Write(b)
	m.BodyLen += int64(len(b))
	if k := min(c.cfg.MaxBody-len(m.Body), len(b)); k > 0 {
		if c.cfg.Recycle {
			m.Body = appendBody(m.Body, b[:k])
		} else {
			m.Body = append(m.Body, b[:k]...)
		}
	}
	m.Truncated = m.BodyLen > int64(len(m.Body))
}

// finish ends the current message of a direction and pairs it.
func (c *H1Conn) finish(dir netflow.Direction, d *h1Dir, complete bool) {
	m := d.msg
	d.msg = nil
	m.Complete = complete
	d.sumInto(m)
	if dir == netflow.ClientToServer {
		c.seq++
		m.Seq = c.seq
	}
	if c.cfg.OnMessage != nil {
		c.cfg.OnMessage(m)
	}
	if dir == netflow.ClientToServer {
		if len(c.pending) >= c.cfg.MaxPending {
			c.flush()
		}
		if c.pending == nil {
			c.pending, c.methods = c.pendBuf[:0], c.methBuf[:0]
		}
		c.pending = append(c.pending, &Exchange{Seq: c.seq, Request: m})
		c.methods = append(c.methods, m.Method)
		return
	}
	if m.Status >= 100 && m.Status < 200 && m.Status != 101 {
		return // interim response; the final one follows
	}
	if len(c.pending) == 0 {
		c.partialRequest()
	}
	if len(c.pending) == 0 {
		c.hand(&Exchange{Response: m})
	} else {
		ex := c.popPending()
		ex.Response = m
		c.hand(ex)
	}
	if m.Status == 101 {
		// What follows is another protocol (a WebSocket, say): neither direction is HTTP/1 now.
		c.Upgraded = true
		c.stop(&c.d[0], ErrUpgraded)
		c.stop(&c.d[1], ErrUpgraded)
	}
}

// partialRequest takes the head a client has begun but not ended, when a response comes first:
// some servers answer at the request line (openssl s_server -www does). The request is paired
// with the response, cut (Complete false).
func (c *H1Conn) partialRequest() {
	d := &c.d[netflow.ClientToServer]
	i := bytes.LastIndexByte(d.buf, '\n')
	if d.dead || d.msg != nil || i < 0 {
		return
	}
	head := strings.TrimLeft(strings.ReplaceAll(string(d.buf[:i]), "\r\n", "\n"), "\n")
	m, err := c.parseMessage(netflow.ClientToServer, strings.Split(head, "\n"))
	if err != nil {
		return
	}
	m.Offset = d.pos
	d.pos += int64(len(d.buf))
	d.buf = d.buf[:0]
	d.msg = m
	d.resetSum()
	c.finish(netflow.ClientToServer, d, false)
}

// popPending takes the oldest waiting request. The queue starts again at the front of its inline
// arrays when it empties: a connection of one request at a time allocates none.
func (c *H1Conn) popPending() *Exchange {
	ex := c.pending[0]
	c.pending, c.methods = c.pending[1:], c.methods[1:]
	if len(c.pending) == 0 {
		clear(c.pendBuf[:])
		c.pending, c.methods = c.pendBuf[:0], c.methBuf[:0]
	}
	return ex
}

// flush hands on the oldest waiting request without a response.
func (c *H1Conn) flush() {
	ex := c.popPending()
	c.hand(ex)
}

func (c *H1Conn) hand(ex *Exchange) {
	if c.cfg.OnExchange != nil {
		c.cfg.OnExchange(ex)
	}
	if c.cfg.Recycle {
		for _, m := range [2]*Message{ex.Request, ex.Response} {
			if m != nil {
				giveBody(m.Body)
				m.Body = nil
			}
		}
	}
}

// newBody returns the buffer for a body of n bytes announced by its content-length.
func (c *H1Conn) newBody(n int) []byte {
	if c.cfg.Recycle {
		return takeBody(n)
	}
	return make([]byte, 0, n)
}

// splitHeadInto finds the end of a message head at the start of b and splits it into lines
// appended to dst. complete is false while the blank line that ends the head has not arrived (and
// b is under MaxHead); used is the length of the head including its blank line.
func splitHeadInto(dst []string, b []byte) (lines []string, used int, complete bool, err error) {
	end, used, err := headEnd(b)
	if end < 0 || err != nil {
		return nil, 0, false, err
	}
	return headLines(dst, string(b[:end])), used, true, nil
}

// headEnd finds the blank line that ends a head at the start of b: end is the length of the
// head without it (-1 while it has not arrived), used the length with it.
func headEnd(b []byte) (end, used int, err error) {
	end = bytes.Index(b, []byte("\r\n\r\n"))
	sep := 4
	if lf := bytes.Index(b, []byte("\n\n")); lf >= 0 && (end < 0 || lf < end) {
		// RFC 9112 §2.2 lets a recipient accept a bare LF as the line terminator.
		end, sep = lf, 2
	}
	if end < 0 {
		if len(b) >= MaxHead {
			return -1, 0, fmt.Errorf("http: no end of head within %d bytes", MaxHead)
		}
		return -1, 0, nil
	}
	if end > MaxHead {
		return -1, 0, fmt.Errorf("http: head of %d bytes over the limit", end)
	}
	return end, end + sep, nil
}

// headLines splits a head at its line ends as strings.Split(strings.ReplaceAll(h, "\r\n", "\n"),
// "\n") does, with no copy of the head: a line keeps a CR that no LF follows.
func headLines(lines []string, h string) []string {
	if lines == nil {
		lines = make([]string, 0, strings.Count(h, "\n")+1)
	}
	for {
		i := strings.IndexByte(h, '\n')
		if i < 0 {
			return append(lines, h)
		}
		l := h[:i]
		if strings.HasSuffix(l, "\r") {
			l = l[:len(l)-1]
		}
		lines = append(lines, l)
		h = h[i+1:]
	}
}

// headFields are the header fields parseMessage reads, requestFields those ParseHead reads.
var (
	headFields    = []string{"host", "content-type", "content-encoding", "transfer-encoding", "content-length"}
	requestFields = []string{"host", "user-agent", "content-type", "content-length"}
)

// fieldName returns the one of names (lower case ASCII) that strings.ToLower(k) is, or "": an
// ASCII name is compared without making its lower-case copy.
func fieldName(k string, names []string) string {
	for i := 0; i < len(k); i++ {
		if k[i] >= 0x80 {
			if lk := strings.ToLower(k); slices.Contains(names, lk) {
				return lk
			}
			return ""
		}
	}
	for _, n := range names {
		if len(n) == len(k) && asciiLowerIs(k, n) {
			return n
		}
	}
	return ""
}

// asciiLowerIs reports whether ASCII k lowered is want, of the same length.
func asciiLowerIs(k, want string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}
