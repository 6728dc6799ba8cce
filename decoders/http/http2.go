package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"droneaudit/netflow"
)

// HTTP/2 (RFC 9113) from the two byte streams of a connection, clear (h2c with prior knowledge)
// or decrypted: frames are read with golang.org/x/net/http2's Framer, header blocks decoded
// with its hpack package (RFC 7541), and each stream's request and response handed on with its
// DATA reassembled. Every buffer is bounded: a frame, a header block, a body, the streams
// followed at once and the body bytes held in all.

// ClientPreface is the connection preface an HTTP/2 client sends first (RFC 9113 §3.4).
const ClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Defaults of H2Config.
const (
	DefaultH2MaxFrame      = 1 << 20 // larger than any SETTINGS_MAX_FRAME_SIZE seen in practice
	DefaultH2MaxHeaderList = 256 << 10
	DefaultH2MaxBody       = 64 << 20
	DefaultH2MaxHeld       = 256 << 20
	DefaultH2MaxStreams    = 1024
)

// H2Config sets up an H2Conn. Zero values take the defaults.
type H2Config struct {
	// OnMessage receives each request and response when its stream direction ends (END_STREAM),
	// is reset, or the connection is closed.
	OnMessage func(*H2Message)
	// MaxFrame bounds a frame's payload.
	MaxFrame int
	// MaxHeaderList bounds a decoded header block (the sum of name and value lengths).
	MaxHeaderList int
	// MaxBody bounds the body kept per message; later DATA bytes are counted, not kept. Negative:
	// nothing is kept (the body is only counted and hashed).
	MaxBody int
	// MaxHeld bounds the body bytes kept across all open streams.
	MaxHeld int
	// MaxStreams bounds the streams followed at once; HEADERS of further streams are decoded
	// (to keep the HPACK table right) and counted, but not followed.
	MaxStreams int
	// Recycle lets the follower reuse body memory: a message's Body is valid only until
	// OnMessage returns (a hook that keeps body bytes longer copies them).
	Recycle bool
	// OnTunnel, if set, receives as they come the DATA of a stream opened by an extended CONNECT
	// (RFC 8441 §4: :method CONNECT with a :protocol, e.g. "websocket"), whose DATA carry
	// another protocol's bytes rather than a body (WebSocket over HTTP/2, RFC 8441 §5). The
	// bytes still count and hash as the message's body, kept up to MaxBody.
	OnTunnel func(*H2Tunnel)
}

// H2Tunnel is the next DATA of one direction of a stream opened by an extended CONNECT.
type H2Tunnel struct {
	// Request is the CONNECT (Protocol, Path, Authority, headers); Response the server's
	// HEADERS, nil when DATA come before them (not allowed for the server's side).
	Request, Response *H2Message
	Dir               netflow.Direction
	Data              []byte // valid only during the call
}

// H2Message is one request (Dir client-to-server) or response (server-to-client) of a stream.
type H2Message struct {
	StreamID uint32
	Dir      netflow.Direction
	// Pseudo-header fields (RFC 9113 §8.3).
	Method, Scheme, Authority, Path string
	// Protocol is the :protocol of an extended CONNECT (RFC 8441 §4), e.g. "websocket".
	Protocol string
	Status   int // responses; 0 for requests
	// Headers are the regular header fields, in order; Trailers those of a trailing HEADERS.
	Headers  []hpack.HeaderField
	Trailers []hpack.HeaderField
	// Body is the DATA payload, reassembled in order (padding removed), up to MaxBody.
	Body []byte
	// BodyLen counts every DATA byte of the message, kept or not.
	BodyLen int64
	// Truncated is set when BodyLen > len(Body) (a limit was reached).
	Truncated bool
	// SHA256 is the hash of every DATA byte of the message (padding removed), kept or not.
	SHA256 [32]byte
	sum    hash.Hash
	// ContentLength is the content-length header's value, -1 when absent or invalid.
	ContentLength int64
	// Complete is set when the message ended with END_STREAM.
	Complete bool
	// Reset is set when RST_STREAM ended the stream first.
	Reset bool
	// Pushed marks a request made by the server's PUSH_PROMISE.
	Pushed bool
	// Offset is the position of the message's first HEADERS (or PUSH_PROMISE) frame in its
	// direction's byte stream.
	Offset int64
}

// Header returns the first value of a header field (names are lower case in HTTP/2).
func (m *H2Message) Header(name string) string {
	for _, f := range m.Headers {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// h2Stream is one stream's two messages.
type h2Stream struct {
	msg  [2]*H2Message
	done [2]bool // the direction's final message was handed on
	// tunnel holds the CONNECT and its response of a stream opened by an extended CONNECT, for
	// H2Config.OnTunnel, as long as the stream lives (each message is handed on at its end).
	tunnel [2]*H2Message
}

// h2Dir is the state of one direction.
type h2Dir struct {
	buf     []byte // bytes of a frame not yet whole
	pos     int64  // stream offset of the next frame (the start of buf)
	preface int    // client: preface bytes still to check
	src     frameSource
	fr      *http2.Framer
	dec     *hpack.Decoder
	// a header block in progress (HEADERS or PUSH_PROMISE then CONTINUATION)
	block    []byte
	blockFor uint32 // stream the block belongs to (the promised stream for PUSH_PROMISE)
	blockEnd bool   // END_STREAM was set on the HEADERS
	blockOff int64
	blockPP  bool // the block is a PUSH_PROMISE's
	inBlock  bool // a HEADERS or PUSH_PROMISE awaits its CONTINUATION frames
	dat      dataFrame
	err      error
}

// frameSource hands the Framer one whole frame at a time.
type frameSource struct{ b []byte }

func (s *frameSource) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// H2Conn follows one HTTP/2 connection.
type H2Conn struct {
	cfg     H2Config
	d       [2]h2Dir
	streams map[uint32]*h2Stream
	held    int
	// Dropped counts streams not followed (MaxStreams); Frames counts frames read per direction.
	Dropped int
	Frames  [2]int
	// framerData leaves DATA frames to the Framer (whole frames, buffered): the tests compare
	// the two paths.
	framerData bool
}

// ErrNoPreface means the client's bytes do not start with the HTTP/2 connection preface.
var ErrNoPreface = errors.New("http2: no client connection preface")

// NewH2Conn returns a follower for one connection.
func NewH2Conn(cfg H2Config) *H2Conn {
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultH2MaxFrame
	}
	if cfg.MaxHeaderList <= 0 {
		cfg.MaxHeaderList = DefaultH2MaxHeaderList
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultH2MaxBody
	}
	if cfg.MaxHeld <= 0 {
		cfg.MaxHeld = DefaultH2MaxHeld
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultH2MaxStreams
	}
	c := &H2Conn{cfg: cfg, streams: map[uint32]*h2Stream{}}
	c.d[netflow.ClientToServer].preface = len(ClientPreface)
	for i := range c.d {
		d := &c.d[i]
		d.fr = http2.NewFramer(nil, &d.src)
		d.fr.SetMaxReadFrameSize(uint32(min(cfg.MaxFrame, 1<<24-1)))
		d.dec = hpack.NewDecoder(4096, nil)
		d.dec.SetMaxStringLength(cfg.MaxHeaderList)
	}
	return c
}

// Err returns the error that stopped a direction, if any.
func (c *H2Conn) Err(dir netflow.Direction) error { return c.d[dir&1].err }

// Feed adds the next in-order bytes of one direction. It returns the error that stopped the
// direction (later bytes of it are ignored).
func (c *H2Conn) Feed(dir netflow.Direction, p []byte) error {
	d := &c.d[dir&1]
	if d.err != nil {
		return d.err
	}
	if d.preface > 0 {
		k := min(d.preface, len(p))
		done := len(ClientPreface) - d.preface
		if string(p[:k]) != ClientPreface[done:done+k] {
			d.err = ErrNoPreface
			return d.err
		}
		d.preface -= k
		d.pos += int64(k)
		p = p[k:]
	}
	for len(p) > 0 && d.err == nil {
		if d.dat.on {
			p = c.dataPiece(dir, d, p)
			continue
		}
		if len(d.buf) == 0 && len(p) >= 9 {
			n := frameLen(p)
			if n > c.cfg.MaxFrame {
				d.err = fmt.Errorf("http2: frame of %d bytes at offset %d over the limit", n, d.pos)
				return d.err
			}
			if c.startData(d, p[:9]) {
				p = p[9:]
				continue
			}
			if len(p) >= 9+n {
				c.frame(dir, d, p[:9+n])
				p = p[9+n:]
				continue
			}
		}
		need := 9
		if len(d.buf) >= 9 {
			need = 9 + frameLen(d.buf)
		}
		k := min(need-len(d.buf), len(p))
		d.buf = append(d.buf, p[:k]...)
		p = p[k:]
		if len(d.buf) == 9 {
			n := frameLen(d.buf)
			if n > c.cfg.MaxFrame {
				d.err = fmt.Errorf("http2: frame of %d bytes at offset %d over the limit", n, d.pos)
				return d.err
			}
			if c.startData(d, d.buf) {
				d.buf = d.buf[:0]
				continue
			}
			// Room for the whole frame at once (its length is now bounded), not a doubling per
			// TLS record it straddles.
			d.buf = slices.Grow(d.buf, n)
		}
		if len(d.buf) >= 9 && len(d.buf) == 9+frameLen(d.buf) {
			c.frame(dir, d, d.buf)
			d.buf = d.buf[:0]
		}
	}
	if d.err == nil && d.dat.on && d.dat.body == 0 && d.dat.pad == 0 && !d.dat.padded {
		c.endData(dir, d) // a DATA frame whose last bytes came with this call
	}
	return d.err
}

// DATA frames are read here, not by the Framer: their payload, nearly all the bytes of an
// HTTP/2 connection, goes to the stream's body piece by piece as it arrives, where buffering whole
// frames (which straddle TLS records) and the Framer's own copy of each would copy it twice more.
// The checks are those the Framer makes on DATA (RFC 9113 §6.1): not on stream 0, the pad
// length within the frame, and no DATA inside a header block (a frame in that state is left to
// the Framer, which rejects it).

// dataFrame is a DATA frame being read.
type dataFrame struct {
	on     bool
	off    int64 // stream offset of the frame
	stream uint32
	end    bool // END_STREAM
	padded bool // the pad length byte is still to come
	body   int  // payload bytes still to hand on
	pad    int  // padding bytes still to skip
}

// startData begins reading a DATA frame whose 9-byte header is hdr, and reports whether it did.
func (c *H2Conn) startData(d *h2Dir, hdr []byte) bool {
	if http2.FrameType(hdr[3]) != http2.FrameData || d.inBlock || c.framerData {
		return false
	}
	flags := http2.Flags(hdr[4])
	d.dat = dataFrame{on: true, off: d.pos, stream: binary.BigEndian.Uint32(hdr[5:9]) & (1<<31 - 1),
		end: flags.Has(http2.FlagDataEndStream), padded: flags.Has(http2.FlagDataPadded), body: frameLen(hdr)}
	d.pos += 9
	switch {
	case d.dat.stream == 0:
		d.err = fmt.Errorf("http2: frame at offset %d: DATA frame with stream ID 0", d.dat.off)
	case d.dat.padded && d.dat.body == 0:
		d.err = fmt.Errorf("http2: frame at offset %d: padded DATA frame without its pad length", d.dat.off)
	}
	return true
}

// dataPiece reads bytes of the DATA frame in progress; it returns the bytes after it.
func (c *H2Conn) dataPiece(dir netflow.Direction, d *h2Dir, p []byte) []byte {
	f := &d.dat
	if f.padded {
		f.padded, f.pad, f.body = false, int(p[0]), f.body-1
		p = p[1:]
		d.pos++
		if f.pad > f.body {
			d.err = fmt.Errorf("http2: frame at offset %d: pad length %d over the DATA payload", f.off, f.pad)
			return nil
		}
		f.body -= f.pad
	}
	if k := min(f.body, len(p)); k > 0 {
		c.data(dir, f.stream, p[:k], false)
		f.body -= k
		d.pos += int64(k)
		p = p[k:]
	}
	k := min(f.pad, len(p))
	f.pad -= k
	d.pos += int64(k)
	p = p[k:]
	if f.body == 0 && f.pad == 0 && len(p) > 0 {
		c.endData(dir, d)
	}
	return p
}

// endData ends the DATA frame in progress.
func (c *H2Conn) endData(dir netflow.Direction, d *h2Dir) {
	f := d.dat
	d.dat = dataFrame{}
	c.Frames[dir]++
	if f.end {
		c.data(dir, f.stream, nil, true)
	}
}

func frameLen(b []byte) int { return int(b[0])<<16 | int(b[1])<<8 | int(b[2]) }

// frame handles one whole frame.
func (c *H2Conn) frame(dir netflow.Direction, d *h2Dir, b []byte) {
	off := d.pos
	d.pos += int64(len(b))
	d.src.b = b
	switch http2.FrameType(b[3]) {
	case http2.FrameHeaders, http2.FramePushPromise, http2.FrameContinuation:
		// Until END_HEADERS, the Framer accepts only CONTINUATION: a DATA frame then is left
		// to it (startData), to be rejected as it would be.
		d.inBlock = http2.Flags(b[4])&http2.FlagHeadersEndHeaders == 0
	}
	f, err := d.fr.ReadFrame()
	if err != nil {
		var se http2.StreamError
		if errors.As(err, &se) {
			return // a malformed frame of one stream: skip it
		}
		d.err = fmt.Errorf("http2: frame at offset %d: %w", off, err)
		return
	}
	c.Frames[dir]++
	switch f := f.(type) {
	case *http2.HeadersFrame:
		d.block = append(d.block[:0], f.HeaderBlockFragment()...)
		d.blockFor, d.blockEnd, d.blockOff, d.blockPP = f.StreamID, f.StreamEnded(), off, false
		if f.HeadersEnded() {
			c.headerBlock(dir, d)
		}
	case *http2.PushPromiseFrame:
		d.block = append(d.block[:0], f.HeaderBlockFragment()...)
		d.blockFor, d.blockEnd, d.blockOff, d.blockPP = f.PromiseID, false, off, true
		if f.HeadersEnded() {
			c.headerBlock(dir, d)
		}
	case *http2.ContinuationFrame:
		if len(d.block)+len(f.HeaderBlockFragment()) > c.cfg.MaxHeaderList {
			d.err = fmt.Errorf("http2: header block at offset %d over %d bytes", d.blockOff, c.cfg.MaxHeaderList)
			return
		}
		d.block = append(d.block, f.HeaderBlockFragment()...)
		if f.HeadersEnded() {
			c.headerBlock(dir, d)
		}
	case *http2.DataFrame:
		c.data(dir, f.StreamID, f.Data(), f.StreamEnded())
	case *http2.RSTStreamFrame:
		if st := c.streams[f.StreamID]; st != nil {
			for i, m := range st.msg {
				if m != nil {
					m.Reset = true
					c.emit(f.StreamID, netflow.Direction(i))
				}
			}
			delete(c.streams, f.StreamID)
		}
	case *http2.SettingsFrame:
		// The peer's SETTINGS_HEADER_TABLE_SIZE bounds the table the other side's encoder
		// uses (RFC 7541 §4.2).
		if v, ok := f.Value(http2.SettingHeaderTableSize); ok && !f.IsAck() {
			c.d[1-dir].dec.SetAllowedMaxDynamicTableSize(v)
		}
	}
}

// headerBlock decodes a whole header block and applies it to its stream.
func (c *H2Conn) headerBlock(dir netflow.Direction, d *h2Dir) {
	var fields []hpack.HeaderField
	size := 0
	d.dec.SetEmitFunc(func(f hpack.HeaderField) {
		size += len(f.Name) + len(f.Value) + 32
		if size <= c.cfg.MaxHeaderList {
			fields = append(fields, f)
		}
	})
	_, err := d.dec.Write(d.block)
	if err == nil {
		err = d.dec.Close()
	}
	d.block = d.block[:0]
	if err != nil {
		// The compression state is lost: nothing later in this direction can be read.
		d.err = fmt.Errorf("http2: header block at offset %d: %w", d.blockOff, err)
		return
	}
	id := d.blockFor
	mdir := dir
	if d.blockPP {
		mdir = netflow.ClientToServer // a promised request
	}
	st := c.streams[id]
	if st == nil {
		if len(c.streams) >= c.cfg.MaxStreams {
			c.Dropped++
			return
		}
		st = &h2Stream{}
		c.streams[id] = st
	}
	m := st.msg[mdir]
	if m == nil && st.done[mdir] {
		return // HEADERS after the direction ended: a protocol error, ignored
	}
	if m == nil {
		m = &H2Message{StreamID: id, Dir: mdir, ContentLength: -1, Offset: d.blockOff, Pushed: d.blockPP}
		st.msg[mdir] = m
		for _, f := range fields {
			switch f.Name {
			case ":method":
				m.Method = f.Value
			case ":scheme":
				m.Scheme = f.Value
			case ":authority":
				m.Authority = f.Value
			case ":path":
				m.Path = f.Value
			case ":protocol":
				m.Protocol = f.Value
			case ":status":
				m.Status, _ = strconv.Atoi(f.Value)
			default:
				if strings.HasPrefix(f.Name, ":") {
					continue
				}
				if f.Name == "content-length" {
					if n, err := strconv.ParseInt(f.Value, 10, 64); err == nil && n >= 0 {
						m.ContentLength = n
					}
				}
				m.Headers = append(m.Headers, f)
			}
		}
		if m.Status >= 100 && m.Status < 200 {
			// An informational response: a final one follows on the stream.
			m.Complete = true
			c.emit(id, mdir)
			return
		}
		if mdir == netflow.ClientToServer && m.Method == "CONNECT" && m.Protocol != "" || st.tunnel[0] != nil {
			st.tunnel[mdir] = m
		}
	} else {
		m.Trailers = append(m.Trailers, fields...)
	}
	if d.blockEnd {
		m.Complete = true
		c.emit(id, mdir)
	}
}

func (c *H2Conn) data(dir netflow.Direction, id uint32, p []byte, end bool) {
	st := c.streams[id]
	if st == nil || st.msg[dir] == nil {
		return // a stream not followed, or DATA before HEADERS (a protocol error)
	}
	m := st.msg[dir]
	m.BodyLen += int64(len(p))
	if m.sum == nil {
		m.sum = sha256.New()
	}
	m.sum.Write(p)
	room := min(c.cfg.MaxBody-len(m.Body), c.cfg.MaxHeld-c.held)
	k := max(0, min(room, len(p)))
	switch {
	case k == 0:
	case !c.cfg.Recycle:
		m.Body = append(m.Body, p[:k]...)
	case m.Body == nil && m.ContentLength > 0:
		// The length is announced: one buffer of what will be kept (the claim bounded by room).
		m.Body = append(takeBody(int(min(m.ContentLength, int64(room)))), p[:k]...)
	default:
		m.Body = appendBody(m.Body, p[:k])
	}
	c.held += k
	if k < len(p) {
		m.Truncated = true
	}
	if st.tunnel[0] != nil && c.cfg.OnTunnel != nil && len(p) > 0 {
		c.cfg.OnTunnel(&H2Tunnel{Request: st.tunnel[0], Response: st.tunnel[1], Dir: dir, Data: p})
	}
	if end {
		m.Complete = true
		c.emit(id, dir)
	}
}

// emit hands on a stream direction's message and forgets it.
func (c *H2Conn) emit(id uint32, dir netflow.Direction) {
	st := c.streams[id]
	if st == nil || st.msg[dir] == nil {
		return
	}
	m := st.msg[dir]
	st.msg[dir] = nil
	c.held -= len(m.Body)
	if m.sum != nil {
		m.sum.Sum(m.SHA256[:0])
		m.sum = nil
	} else {
		m.SHA256 = sha256.Sum256(nil)
	}
	if !(m.Status >= 100 && m.Status < 200) {
		st.done[dir] = true // an informational response leaves room for the final one
	}
	if (st.done[0] && st.done[1]) || m.Reset {
		delete(c.streams, id)
	}
	if c.cfg.OnMessage != nil {
		c.cfg.OnMessage(m)
	}
	if c.cfg.Recycle {
		giveBody(m.Body)
		m.Body = nil
	}
}

// Close hands on the messages still open, incomplete, in stream order.
func (c *H2Conn) Close() {
	ids := make([]uint32, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j] < ids[j-1]; j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	for _, id := range ids {
		c.emit(id, netflow.ClientToServer)
		c.emit(id, netflow.ServerToClient)
	}
	c.streams = map[uint32]*h2Stream{}
}

// LooksLikeH2 reports whether a client's first bytes start the HTTP/2 preface.
func LooksLikeH2(b []byte) bool {
	n := min(len(b), len(ClientPreface))
	return n >= 4 && bytes.Equal(b[:n], []byte(ClientPreface[:n]))
}
