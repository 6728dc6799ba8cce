// Package readahead holds the buffer that the autopilot log readers (DataFlash, ULog) frame
// messages from: a window over a stream that keeps the bytes of the next message in memory,
// however long the file, and slides forward as messages are consumed.
package readahead

import "io"

// Buffer is a window over a stream. Buf[R:W] holds the bytes read and not yet consumed, and
// Buf[R] lies at stream offset Base+R. The fields are open because framing loops read and
// advance them once per message, where even an inlined accessor obscures what the loop does.
type Buffer struct {
	Buf  []byte
	R, W int
	Base int64 // stream offset of Buf[0]
	EOF  bool  // the source returned io.EOF
	Err  error // the source's first read error other than io.EOF; reading stops there
	src  io.Reader
}

// New returns a buffer of size bytes over src. size bounds the longest run of bytes that Fill
// can make available at once.
func New(src io.Reader, size int) Buffer {
	return Buffer{Buf: make([]byte, size), src: src}
}

// Bytes returns the bytes available, Buf[R:W].
func (b *Buffer) Bytes() []byte { return b.Buf[b.R:b.W] }

// Len returns how many bytes are available.
func (b *Buffer) Len() int { return b.W - b.R }

// Pos returns the stream offset of the first available byte.
func (b *Buffer) Pos() int64 { return b.Base + int64(b.R) }

// Ended reports whether the source can give no more bytes: it ended, or failed.
func (b *Buffer) Ended() bool { return b.EOF || b.Err != nil }

// Fill makes at least need bytes available unless the source ends or fails first; need must not
// exceed the buffer's size. The bytes consumed so far are dropped to make room, so slices of
// the buffer taken before the call must not be used after it.
func (b *Buffer) Fill(need int) {
	for b.W-b.R < need && !b.EOF && b.Err == nil {
		if b.R > 0 {
			n := copy(b.Buf, b.Buf[b.R:b.W])
			b.Base += int64(b.R)
			b.R, b.W = 0, n
		}
		n, err := b.src.Read(b.Buf[b.W:])
		b.W += n
		if err == io.EOF {
			b.EOF = true
		} else if err != nil {
			b.Err = err
		}
	}
}

// Discard consumes n bytes, reading past the buffer if needed; it stops early when the source
// ends.
func (b *Buffer) Discard(n int64) {
	for n > 0 {
		if b.W == b.R {
			b.Fill(1)
			if b.W == b.R {
				return
			}
		}
		k := min(int64(b.W-b.R), n)
		b.R += int(k)
		n -= k
	}
}
