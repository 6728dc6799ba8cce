package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"sync"
)

// teeHasher hashes the bytes read through it on a goroutine of its own, so that SHA-256 (about a
// fifth of the cost of an audit) runs beside the decoding instead of before it. Chunks are copied
// into pooled buffers: the reader's buffer is reused as soon as Read returns.
type teeHasher struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	ch   chan []byte
	done chan struct{}
}

var chunkPool = sync.Pool{New: func() any { return new([]byte) }}

func newTeeHasher(r io.Reader) *teeHasher {
	t := &teeHasher{r: r, h: sha256.New(), ch: make(chan []byte, 8), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		for b := range t.ch {
			t.h.Write(b)
			b = b[:0]
			chunkPool.Put(&b)
		}
	}()
	return t
}

func (t *teeHasher) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		bp := chunkPool.Get().(*[]byte)
		t.ch <- append((*bp)[:0], p[:n]...) // grows to the reader's chunk size once, then reused
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
