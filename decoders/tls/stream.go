package tls

import (
	"errors"
	"fmt"
	"sync"
)

// MaxHelloBytes bounds the client bytes a Collector keeps: a ClientHello with a post-quantum key
// share is about 1.5 KB, and the record layer allows 16 KB plus header per record; a hello that
// needs more than this is treated as hostile.
const MaxHelloBytes = 64 << 10

// Collector gathers the first bytes of a TCP client stream (in order, across any number of
// segments) until a whole ClientHello is there. TLS records of type handshake (22) are unwrapped
// (RFC 8446 §5.1) and their fragments joined, because a ClientHello may span several records
// and several segments. A Collector must not be copied once fed: its buffer goes back to a pool
// when collection ends.
type Collector struct {
	rec   []byte  // raw record-layer bytes not yet consumed
	buf   *[]byte // the pooled buffer rec was cut from, returned when collection ends
	hs    []byte  // handshake bytes joined from records
	done  bool
	err   error
	hello *ClientHello
	// Parser, when set, parses the hello (see HelloParser): Result's hello is then valid until
	// the parser's next use.
	Parser *HelloParser
}

// ErrNotTLS means the stream does not begin with a TLS handshake record.
var ErrNotTLS = errors.New("tls: stream does not start with a handshake record")

// LooksLike reports whether a client's first bytes begin like a TLS handshake record:
// content type 22, major version 3.
func LooksLike(b []byte) bool { return len(b) >= 3 && b[0] == 22 && b[1] == 3 && b[2] <= 4 }

// LooksLikeRecord reports whether bytes begin like any TLS record header (RFC 8446 §5.1): a content
// type from change_cipher_spec to heartbeat, major version 3, and a length within the record
// limit. A connection joined mid-stream starts so; it is a weak sign, to be taken on TLS ports
// only.
func LooksLikeRecord(b []byte) bool {
	return len(b) >= 5 && b[0] >= typeChangeCipherSpec && b[0] <= typeHeartbeat && b[1] == 3 && b[2] <= 4 &&
		int(b[3])<<8|int(b[4]) <= maxRecordLen
}

// Feed adds the next in-order client bytes. It returns true once the collector has finished,
// with a ClientHello or with an error; later calls do nothing.
func (c *Collector) Feed(p []byte) bool {
	if c.done {
		return true
	}
	if len(c.rec) == 0 && len(c.hs) == 0 && c.whole(p) {
		return true
	}
	if len(c.rec)+len(p) > MaxHelloBytes {
		p = p[:max(0, MaxHelloBytes-len(c.rec))]
	}
	if c.rec == nil && len(p) >= 5 {
		// A buffer of the first record's size: a hello split over segments is joined without
		// the buffer growing step by step. It comes from a pool and goes back once the hello
		// is read: nothing parsed from it points into it.
		size := min(max(len(p), 5+(int(p[3])<<8|int(p[4]))), MaxHelloBytes)
		c.buf = recPool.Get().(*[]byte)
		if cap(*c.buf) < size {
			*c.buf = make([]byte, 0, size)
		}
		c.rec = (*c.buf)[:0]
	}
	c.rec = append(c.rec, p...)
	for len(c.rec) >= 5 {
		if c.rec[0] != 22 || c.rec[1] != 3 {
			return c.finish(fmt.Errorf("%w (byte 0x%02x)", ErrNotTLS, c.rec[0]))
		}
		n := int(c.rec[3])<<8 | int(c.rec[4])
		if n > 16384+2048 {
			return c.finish(fmt.Errorf("tls: record length %d over the limit", n))
		}
		if len(c.rec) < 5+n {
			break
		}
		if len(c.hs) == 0 && c.whole(c.rec) {
			return true
		}
		c.hs = append(c.hs, c.rec[5:5+n]...)
		c.rec = c.rec[5+n:]
		if len(c.hs) >= 4 {
			if c.hs[0] != 1 {
				return c.finish(ErrNotClientHello)
			}
			need := 4 + (int(c.hs[1])<<16 | int(c.hs[2])<<8 | int(c.hs[3]))
			if need > MaxHelloBytes {
				return c.finish(fmt.Errorf("tls: ClientHello length %d over the limit", need))
			}
			if len(c.hs) >= need {
				ch, err := c.parse(c.hs[:need])
				c.hello = ch
				return c.finish(err)
			}
		}
	}
	if len(c.rec)+len(c.hs) >= MaxHelloBytes {
		return c.finish(errors.New("tls: no complete ClientHello within the limit"))
	}
	return false
}

// whole handles the common case without copying: the first segment holds one handshake record
// that holds the whole ClientHello. It reports false, having changed nothing, otherwise.
func (c *Collector) whole(p []byte) bool {
	if len(p) < 9 || p[0] != 22 || p[1] != 3 {
		return false
	}
	n := int(p[3])<<8 | int(p[4])
	if n > 16384+2048 || len(p) < 5+n || n < 4 || p[5] != 1 {
		return false
	}
	need := 4 + (int(p[6])<<16 | int(p[7])<<8 | int(p[8]))
	if need > n {
		return false
	}
	ch, err := c.parse(p[5 : 5+need])
	c.hello = ch
	return c.finish(err)
}

func (c *Collector) parse(msg []byte) (*ClientHello, error) {
	if c.Parser != nil {
		return c.Parser.Parse(msg)
	}
	return ParseClientHello(msg)
}

func (c *Collector) finish(err error) bool {
	c.done, c.err = true, err
	c.rec, c.hs = nil, nil
	if c.buf != nil {
		if cap(*c.buf) <= maxPooled {
			recPool.Put(c.buf)
		}
		c.buf = nil
	}
	return true
}

// recPool holds the buffers Collectors join split hellos in; maxPooled bounds what is kept (a
// hello record is at most 16 KB plus header).
var recPool = sync.Pool{New: func() any { return new([]byte) }}

const maxPooled = 18 << 10

// Result returns the ClientHello (nil when none was found) and the error that ended collection.
func (c *Collector) Result() (*ClientHello, error) { return c.hello, c.err }

// Done reports whether the collector needs no more bytes.
func (c *Collector) Done() bool { return c.done }
