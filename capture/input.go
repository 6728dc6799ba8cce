package capture

import (
	"bufio"
	"io"
	"sync"
	"sync/atomic"
)

// Tee is lent every byte a Reader reads from its source, in order and without a copy: the engine
// hashes the capture this way on a goroutine of its own while the Reader decodes the same bytes.
// Lend is called on the Reader's goroutine; b must not be written, and the Reader does not write
// it either until done.Done() has been called, which the Tee does once it is through with b.
type Tee interface {
	Lend(b []byte, done *sync.WaitGroup)
}

// teeChunks is the number of read buffers a Reader with a Tee rotates through, so that the Tee
// has the time of several refills to finish with a buffer before the Reader needs it again.
const teeChunks = 6

// Buffer is one of a Reader's read buffers when it has a Tee. Besides the Tee's lends it can be
// held (Buffer.Hold on what Reader.DataBuffer returns): a held buffer is never written again;
// when the Reader comes round to it while it is still held it leaves it to its holders (and the
// garbage collector) and reads into a new one, so a holder never makes the Reader wait.
type Buffer struct {
	b    []byte
	lent sync.WaitGroup // lends to the Tee not yet done
	held atomic.Int32   // holds not yet released
}

// Bytes returns the whole buffer.
func (b *Buffer) Bytes() []byte { return b.b }

// Hold takes a hold on the buffer. It is called on the Reader's goroutine, for the buffer
// Reader.DataBuffer returned, before the next call to Next.
func (b *Buffer) Hold() { b.held.Add(1) }

// Release gives back a hold; the holder must not use the bytes afterwards. Any goroutine may call
// it.
func (b *Buffer) Release() { b.held.Add(-1) }

// input is the Reader's read buffer: the Peek, Discard, Buffered, Size and Read of bufio.Reader
// that reader.go uses, with bufio's semantics (errors, short reads, the bytes Peek returns), over
// its own memory so that the bytes read can be lent to a Tee. Without a Tee it is one buffer that
// slides as bufio's does; with one, a refill that would overwrite bytes already read moves the
// unread rest to the next of teeChunks buffers instead, after waiting for the Tee to give it back.
type input struct {
	src    io.Reader
	tee    Tee
	size   int
	chunks []*Buffer // allocated as they are first needed
	cur    int
	buf    []byte // chunks[cur].b
	r, w   int    // buf[r:w] is buffered
	err    error
}

func newInput(src io.Reader, size int, tee Tee) *input {
	size = max(size, 16) // as bufio's smallest buffer
	in := &input{src: src, tee: tee, size: size}
	n := 1
	if tee != nil {
		n = teeChunks
	}
	in.chunks = make([]*Buffer, n)
	in.chunks[0] = &Buffer{b: make([]byte, size)}
	in.buf = in.chunks[0].b
	return in
}

// current returns the buffer the buffered bytes are in; nil without a Tee (the one buffer
// slides, so it cannot be held).
func (in *input) current() *Buffer {
	if in.tee == nil {
		return nil
	}
	return in.chunks[in.cur]
}

// Size returns the size of the buffer: the longest Peek.
func (in *input) Size() int { return in.size }

// Buffered returns how many bytes can be read without a read from the source.
func (in *input) Buffered() int { return in.w - in.r }

func (in *input) readErr() error {
	err := in.err
	in.err = nil
	return err
}

// fill reads more bytes into the buffer, as bufio.Reader.fill.
func (in *input) fill() {
	if in.r > 0 {
		if in.tee == nil {
			copy(in.buf, in.buf[in.r:in.w]) // slide, as bufio
		} else {
			// The bytes before r were lent: the rest moves to the next buffer, once it is free.
			next := (in.cur + 1) % len(in.chunks)
			c := in.chunks[next]
			if c == nil || c.held.Load() > 0 {
				// A held buffer is left to its holders; holds are only taken on this goroutine,
				// so one seen free stays free.
				c = &Buffer{b: make([]byte, in.size)}
				in.chunks[next] = c
			} else {
				c.lent.Wait()
			}
			copy(c.b, in.buf[in.r:in.w])
			in.cur, in.buf = next, c.b
		}
		in.w -= in.r
		in.r = 0
	}
	// Read new data: try a limited number of times, as bufio.
	for range 100 {
		n, err := in.src.Read(in.buf[in.w:])
		if n < 0 || n > len(in.buf)-in.w {
			panic("capture: source returned an invalid count")
		}
		if n > 0 && in.tee != nil {
			c := in.chunks[in.cur]
			c.lent.Add(1)
			in.tee.Lend(in.buf[in.w:in.w+n], &c.lent)
		}
		in.w += n
		if err != nil {
			in.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	in.err = io.ErrNoProgress
}

// Peek returns the next n bytes without consuming them, as bufio.Reader.Peek: fewer with the
// error that stopped the reading (bufio.ErrBufferFull when n exceeds the buffer).
func (in *input) Peek(n int) ([]byte, error) {
	if n < 0 {
		return nil, bufio.ErrNegativeCount
	}
	for in.w-in.r < n && in.w-in.r < len(in.buf) && in.err == nil {
		in.fill()
	}
	if n > len(in.buf) {
		return in.buf[in.r:in.w], bufio.ErrBufferFull
	}
	var err error
	if avail := in.w - in.r; avail < n {
		n = avail
		err = in.readErr()
		if err == nil {
			err = bufio.ErrBufferFull
		}
	}
	return in.buf[in.r : in.r+n], err
}

// Discard skips the next n bytes, as bufio.Reader.Discard.
func (in *input) Discard(n int) (int, error) {
	if n < 0 {
		return 0, bufio.ErrNegativeCount
	}
	remain := n
	for remain > 0 {
		skip := in.w - in.r
		if skip == 0 {
			in.fill()
			skip = in.w - in.r
		}
		skip = min(skip, remain)
		in.r += skip
		remain -= skip
		if remain > 0 && in.err != nil {
			return n - remain, in.readErr()
		}
	}
	return n, nil
}

// Read reads up to len(p) bytes, as bufio.Reader.Read, except that it always reads through the
// buffer (so that every byte is lent to the Tee) and that a source returning no bytes and no
// error a hundred times in a row ends with io.ErrNoProgress.
func (in *input) Read(p []byte) (int, error) {
	if len(p) == 0 {
		if in.w > in.r {
			return 0, nil
		}
		return 0, in.readErr()
	}
	if in.r == in.w {
		if in.err != nil {
			return 0, in.readErr()
		}
		in.fill()
		if in.r == in.w {
			return 0, in.readErr()
		}
	}
	n := copy(p, in.buf[in.r:in.w])
	in.r += n
	return n, nil
}
