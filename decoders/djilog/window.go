package djilog

import (
	"errors"
	"io"
)

// windowSize bounds the memory a decode holds: twice the largest possible record (3-byte header,
// 65535-byte payload, end byte) plus room to refill rarely. Memory stays flat however large the
// file is.
const windowSize = 256 << 10

// window is a forward-only view of [start, limit) of an io.ReaderAt that lets the record walker
// look ahead a bounded number of bytes and step back to any byte it has not yet consumed, which
// byte-by-byte resynchronisation needs and bufio.Reader cannot give.
type window struct {
	r     io.ReaderAt
	limit int64  // absolute end of the region
	base  int64  // absolute offset of buf[0]
	buf   []byte // buf[:n] holds data
	n     int
	pos   int   // next unread byte in buf
	err   error // first read error other than io.EOF
}

// newWindow allocates a buffer of at most max bytes, less when the region is smaller, so that a
// small file costs little.
func newWindow(r io.ReaderAt, start, limit int64, max int) *window {
	n := int64(max)
	if size := limit - start; size < n {
		n = size
	}
	return &window{r: r, base: start, limit: limit, buf: make([]byte, max64(n, 1))}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// offset returns the absolute offset of the next unread byte.
func (w *window) offset() int64 { return w.base + int64(w.pos) }

// remaining returns how many bytes of the region are left.
func (w *window) remaining() int64 { return w.limit - w.offset() }

// peek returns up to k bytes from the current position without consuming them; fewer only at the
// end of the region or on a read error. k must not exceed len(buf)/2 unless the buffer holds the
// whole region.
func (w *window) peek(k int) []byte {
	if w.n-w.pos < k {
		w.fill(k)
	}
	end := min(w.n, w.pos+k)
	return w.buf[w.pos:end]
}

// skip consumes k bytes, which must have been returned by peek.
func (w *window) skip(k int) { w.pos += k }

func (w *window) fill(k int) {
	if w.err != nil || w.base+int64(w.n) >= w.limit {
		return
	}
	if w.pos > 0 {
		copy(w.buf, w.buf[w.pos:w.n])
		w.n -= w.pos
		w.base += int64(w.pos)
		w.pos = 0
	}
	for w.n < k && w.err == nil {
		want := int64(len(w.buf) - w.n)
		if left := w.limit - (w.base + int64(w.n)); left < want {
			want = left
		}
		if want <= 0 {
			return
		}
		m, err := w.r.ReadAt(w.buf[w.n:w.n+int(want)], w.base+int64(w.n))
		w.n += m
		if err != nil {
			if !errors.Is(err, io.EOF) {
				w.err = err
			} else if m == 0 {
				// The region claims more bytes than the reader has: treat as the end.
				w.limit = w.base + int64(w.n)
			}
			return
		}
	}
}
