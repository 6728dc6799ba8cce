package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"sync"
)

// teeHasher hashes an input on a goroutine of its own, so that SHA-256 (about a fifth of the cost
// of an audit) runs beside the decoding instead of before it. The capture reader lends it the
// bytes it reads, in its own buffers (capture.Tee: no copy); whatever the reader leaves unread is
// read through Read, whose chunks are copied into pooled buffers.
type teeHasher struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	ch   chan hashChunk
	done chan struct{}
}

// hashChunk is bytes to hash: lent by the capture reader (given back through lent), or a pooled
// copy made by Read.
type hashChunk struct {
	b    []byte
	lent *sync.WaitGroup
}

var chunkPool = sync.Pool{New: func() any { return new([]byte) }}

func newTeeHasher(r io.Reader) *teeHasher {
	t := &teeHasher{r: r, h: sha256.New(), ch: make(chan hashChunk, 8), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		for c := range t.ch {
			t.h.Write(c.b)
			if c.lent != nil {
				c.lent.Done()
				continue
			}
			b := c.b[:0]
			chunkPool.Put(&b)
		}
	}()
	return t
}

// Lend implements capture.Tee: b is hashed in place and given back.
func (t *teeHasher) Lend(b []byte, done *sync.WaitGroup) {
	t.n += int64(len(b))
	t.ch <- hashChunk{b: b, lent: done}
}

func (t *teeHasher) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		bp := chunkPool.Get().(*[]byte)
		t.ch <- hashChunk{b: append((*bp)[:0], p[:n]...)} // grows to the reader's chunk size once, then reused
		t.n += int64(n)
	}
	return n, err
}

// finish reads whatever the decoder left unread (a capture cut by damage is still hashed whole),
// waits for the hashing goroutine and returns the hex digest and the byte count.
func (t *teeHasher) finish() (string, int64, error) {
	_, err := io.Copy(io.Discard, t)
	close(t.ch)
	<-t.done
	return hex.EncodeToString(t.h.Sum(nil)), t.n, err
}
