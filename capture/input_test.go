package capture

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
	"testing/iotest"
)

// checkTee is a Tee that hands each lend to a goroutine of its own, as the engine's hasher does;
// the goroutine gives it back after a few scheduler yields and fails the test if the buffer was
// written meanwhile (go test -race sees such a write as well). got is everything lent, in order.
type checkTee struct {
	t    *testing.T
	ch   chan lend
	wg   sync.WaitGroup
	bad  bool
	got  []byte
	hold int
}

type lend struct {
	b, copy []byte
	done    *sync.WaitGroup
}

func newCheckTee(t *testing.T, hold int) *checkTee {
	c := &checkTee{t: t, ch: make(chan lend, 64), hold: hold}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for l := range c.ch {
			for range c.hold {
				runtime.Gosched()
			}
			if !bytes.Equal(l.b, l.copy) {
				c.bad = true
			}
			l.done.Done()
		}
	}()
	return c
}

func (c *checkTee) Lend(b []byte, done *sync.WaitGroup) {
	c.got = append(c.got, b...)
	c.ch <- lend{b, append([]byte(nil), b...), done}
}

// close waits for the goroutine and fails the test if a lent buffer was written.
func (c *checkTee) close() {
	close(c.ch)
	c.wg.Wait()
	if c.bad {
		c.t.Fatal("a lent buffer was written before it was given back")
	}
}

// source returns a reader of data of the kind mode picks: whole reads, one byte at a time, half
// reads, the data with its last read returning io.EOF, or an error in the middle.
func source(data []byte, mode uint8) io.Reader {
	r := io.Reader(bytes.NewReader(data))
	switch mode % 5 {
	case 1:
		r = iotest.OneByteReader(r)
	case 2:
		r = iotest.HalfReader(r)
	case 3:
		r = iotest.DataErrReader(r)
	case 4:
		r = io.MultiReader(io.LimitReader(r, int64(len(data)/2)), iotest.ErrReader(errors.New("disk error")))
	}
	return r
}

// inputOps runs the same operations, decoded from ops, on a bufio.Reader and on an input over
// two copies of one source, and fails when any result differs. With a Tee it also checks that
// the Tee was lent exactly the bytes read from the source, in order.
func inputOps(t *testing.T, data, ops []byte, size int, mode uint8, tee bool) {
	t.Helper()
	size = max(size, 16)
	br := bufio.NewReaderSize(source(data, mode), size)
	var ct *checkTee
	var in *input
	if tee {
		ct = newCheckTee(t, int(mode/5%8))
		defer ct.close()
		in = newInput(source(data, mode), size, ct)
	} else {
		in = newInput(source(data, mode), size, nil)
	}
	res := func(b []byte, n int, err error) string { return fmt.Sprintf("% x %d %v", b, n, err) }
	// bufio reads a Read of a buffer's size or more straight into the caller's slice when it has
	// nothing buffered; input reads it through its buffer (to lend it to the Tee), and so may
	// have more buffered afterwards: from then on Buffered is not compared (the bytes, counts and
	// errors still are).
	bypassed := false
	for i, op := range ops {
		n := int(op >> 2)
		if op&0x80 != 0 {
			n = size - 16 + n&0x1f // near the buffer size
		}
		var a, b string
		switch op & 3 {
		case 0:
			x, err := br.Peek(n)
			a = res(x, 0, err)
			y, err := in.Peek(n)
			b = res(y, 0, err)
		case 1:
			x, err := br.Discard(n)
			a = res(nil, x, err)
			y, err := in.Discard(n)
			b = res(nil, y, err)
		case 2:
			bypassed = bypassed || n >= size
			p, q := make([]byte, n), make([]byte, n)
			x, errx := io.ReadFull(br, p)
			y, erry := io.ReadFull(in, q)
			a, b = res(p[:x], x, errx), res(q[:y], y, erry)
		case 3:
			a, b = fmt.Sprint(br.Size()), fmt.Sprint(in.Size())
			if !bypassed {
				a, b = fmt.Sprint(br.Buffered(), a), fmt.Sprint(in.Buffered(), b)
			}
		}
		if a != b {
			t.Fatalf("op %d (%#x) on %d bytes, buffer %d, source %d: bufio %s, input %s", i, op, len(data), size, mode%5, a, b)
		}
	}
	if ct != nil {
		io.ReadAll(in) // the rest: the Tee then holds everything the source gave
		want := data
		if mode%5 == 4 {
			want = data[:len(data)/2]
		}
		if !bytes.Equal(ct.got, want) {
			t.Fatalf("lent %d bytes, the source gave %d", len(ct.got), len(want))
		}
	}
}

func TestInputAsBufio(t *testing.T) {
	data := make([]byte, 5000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	ops := []byte{0x10, 0x3, 0x41, 0x82, 0x80 | 0x7c, 0x1, 0xfe, 0x22, 0x3, 0xff, 0xfd, 0x80, 0x9d, 0x5, 0xfa}
	for mode := range uint8(40) {
		for _, size := range []int{16, 17, 64, 1000} {
			inputOps(t, data, ops, size, mode, false)
			inputOps(t, data, ops, size, mode, true)
			inputOps(t, data[:33], ops, size, mode, true)
		}
	}
}

// FuzzInput is the differential fuzz target of the Reader's read buffer against bufio.Reader,
// with and without a Tee.
func FuzzInput(f *testing.F) {
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), []byte{0x10, 0x3, 0x41, 0x82, 0x9f, 0x1}, uint8(16), uint8(0))
	f.Add(make([]byte, 300), []byte{0xfc, 0xfd, 0xfe, 0xff, 0x80, 0x81}, uint8(20), uint8(11))
	f.Fuzz(func(t *testing.T, data, ops []byte, size, mode uint8) {
		inputOps(t, data, ops, int(size), mode, false)
		inputOps(t, data, ops, int(size), mode, true)
	})
}
