package http3

import (
	"sort"

	"droneaudit/decoders/quic"
)

// Unidirectional stream types (RFC 9114 §6.2, RFC 9204 §4.2).
const (
	StreamControl      = 0x00
	StreamPush         = 0x01
	StreamQPACKEncoder = 0x02
	StreamQPACKDecoder = 0x03
)

// Conn reads the HTTP/3 exchanges of one QUIC connection from its reassembled streams
// (quic.Conn's stream callback): each client-initiated bidirectional stream is a request stream;
// the unidirectional streams are watched only for QPACK encoder instructions, which mean the peer
// fills a dynamic table that header blocks may refer to.
type Conn struct {
	onExchange func(*Exchange)
	maxBody    int
	streams    map[uint64]*Stream
	uni        map[uint64][]byte // the type varint of a unidirectional stream, while incomplete
	uniType    map[uint64]uint64
	// EncoderBytes counts QPACK encoder stream instructions seen, per direction: non-zero means
	// the dynamic table is in use, and header blocks that refer to it are reported unsupported.
	EncoderBytes [2]int64
}

// NewConn returns the reader of one connection. onExchange is called once for each request
// stream, when it ends or when the connection closes; maxBody bounds each body kept (0:
// DefaultMaxBody).
func NewConn(maxBody int, onExchange func(*Exchange)) *Conn {
	return &Conn{onExchange: onExchange, maxBody: maxBody, streams: map[uint64]*Stream{}, uni: map[uint64][]byte{}, uniType: map[uint64]uint64{}}
}

// StreamData takes one in-order piece of a stream.
func (c *Conn) StreamData(d quic.StreamData) {
	if !quic.StreamBidi(d.ID) {
		c.unidirectional(d)
		return
	}
	if !quic.StreamClient(d.ID) {
		return // server-initiated bidirectional streams are not used by HTTP/3 (§6.1)
	}
	s := c.streams[d.ID]
	if s == nil {
		if len(c.streams) >= quic.MaxStreams {
			return
		}
		s = NewStream(d.ID, c.maxBody)
		c.streams[d.ID] = s
	}
	if d.Gap {
		s.Gap(d.Dir)
	}
	s.Feed(d.Dir, d.Data)
	if d.Fin {
		s.Fin(d.Dir)
	}
	if d.Done {
		c.end(d.ID)
	}
}

func (c *Conn) unidirectional(d quic.StreamData) {
	if d.Done {
		defer func() { delete(c.uni, d.ID); delete(c.uniType, d.ID) }()
	}
	data := d.Data
	t, known := c.uniType[d.ID]
	if !known {
		if d.Offset != 0 && len(c.uni[d.ID]) == 0 {
			return // joined after the type: unknown stream
		}
		buf := append(c.uni[d.ID], data...)
		v, n, ok := quic.Varint(buf, 0)
		if !ok {
			if len(buf) < 8 {
				c.uni[d.ID] = buf
			}
			return
		}
		delete(c.uni, d.ID)
		c.uniType[d.ID], t = v, v
		data = buf[n:]
	}
	if t == StreamQPACKEncoder {
		c.EncoderBytes[d.Dir&1] += int64(len(data))
	}
}

func (c *Conn) end(id uint64) {
	s := c.streams[id]
	delete(c.streams, id)
	if s != nil && c.onExchange != nil {
		c.onExchange(s.Exchange())
	}
}

// Close hands on the request streams that did not end, in stream ID order.
func (c *Conn) Close() {
	ids := make([]uint64, 0, len(c.streams))
	for id := range c.streams {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		c.end(id)
	}
}
