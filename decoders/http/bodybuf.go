package http

import (
	"math/bits"
	"sync"
)

// Body buffers. A follower that keeps bodies (MaxBody > 0) allocates one buffer per message and,
// for a chunked or HTTP/2 body of unknown length, grows it by doubling. On an HTTPS capture that
// is most of the bytes read: a fresh allocation, zeroing and the copies of every doubling, and
// the garbage collections that follow. With Recycle set, a follower takes its buffers from
// size-classed pools and gives them back once the message has been handed on, so a capture's
// bodies reuse a handful of buffers.

const (
	minBodyClass = 12 // 4 KiB: the smallest buffer taken from a pool
	maxBodyClass = 26 // 64 MiB: larger buffers are allocated and left to the collector
)

// bodyPools holds free buffers by size class: class c has capacity 1<<c.
var bodyPools [maxBodyClass + 1]sync.Pool

// bodyClass is the smallest class whose buffers hold n bytes.
func bodyClass(n int) int {
	if n <= 1<<minBodyClass {
		return minBodyClass
	}
	return bits.Len(uint(n - 1))
}

// takeBody returns an empty buffer with room for at least n bytes (n is already bounded by the
// caller's MaxBody).
func takeBody(n int) []byte {
	c := bodyClass(n)
	if c > maxBodyClass {
		return make([]byte, 0, n)
	}
	if p, ok := bodyPools[c].Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 1<<c)
}

// giveBody returns a buffer to its pool; the caller no longer uses it. Buffers whose capacity
// is not a class size (made elsewhere) are left to the collector.
func giveBody(b []byte) {
	c := cap(b)
	if c < 1<<minBodyClass || c > 1<<maxBodyClass || c&(c-1) != 0 {
		return
	}
	b = b[:0]
	bodyPools[bits.Len(uint(c))-1].Put(&b)
}

// appendBody appends p to a pooled body buffer, moving it to a larger pooled buffer when full.
func appendBody(b, p []byte) []byte {
	if len(b)+len(p) <= cap(b) {
		return append(b, p...)
	}
	nb := takeBody(max(len(b)+len(p), 2*cap(b)))
	nb = append(append(nb, b...), p...)
	giveBody(b)
	return nb
}
