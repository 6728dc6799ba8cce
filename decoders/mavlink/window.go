package mavlink

import (
	"errors"
	"fmt"
	"io"
)

// window is a sliding read buffer over an io.ReaderAt: the record walker looks a few hundred
// bytes ahead of its position and never back past it, so memory stays at one buffer whatever the
// file size.
type window struct {
	r    io.ReaderAt
	size int64
	name string
	buf  []byte
	base int64 // file offset of buf[0]
}

const windowSize = 1 << 20

func newWindow(r io.ReaderAt, size int64, name string) *window {
	// No bigger than the input: Sniff walks a head of a few KiB, for every body of a capture
	// (decoders/bodies), and clearing a 1 MiB buffer each time cost more than the walk.
	return &window{r: r, size: size, name: name, buf: make([]byte, 0, min(windowSize, max(size, 1)))}
}

// at returns the bytes from file offset pos to at least pos+need (fewer at the end of the file).
func (w *window) at(pos int64, need int) ([]byte, error) {
	end := w.base + int64(len(w.buf))
	if pos >= w.base && pos+int64(need) <= end || end >= w.size && pos >= w.base {
		return w.buf[pos-w.base:], nil
	}
	// Refill starting at pos.
	n := int64(cap(w.buf))
	if rem := w.size - pos; rem < n {
		n = rem
	}
	if n < 0 {
		n = 0
	}
	w.buf = w.buf[:n]
	k, err := w.r.ReadAt(w.buf, pos)
	w.base = pos
	w.buf = w.buf[:k]
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: read at offset %d: %w", w.name, pos, err)
	}
	if int64(k) < n {
		w.size = pos + int64(k) // the file is shorter than it said
	}
	return w.buf, nil
}
