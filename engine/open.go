package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"droneaudit/capture"
	"droneaudit/decoders"
)

// opened is an input whose first bytes have been read to recognise it.
type opened struct {
	src  Source
	in   *Input
	f    ReadAtCloser
	r    io.ReaderAt // f, stopped by the run's context and counted for the progress bar
	head []byte      // the first min(size, decoders.SniffLen) bytes
	// gz is set for a gzip-compressed input: head, r and in.Size are then those of the content.
	gz *gzInput

	ctx       context.Context
	cancelled atomic.Bool
	unwatch   func() bool
}

// open opens a source and reads its head. Every byte is counted for the progress bar once. Every
// read of the input, by the engine or a decoder, fails once ctx is done, so that a cancelled run
// never waits for the rest of a large input to be hashed.
func open(ctx context.Context, cfg *Config, src Source, in *Input) (*opened, error) {
	f, size, err := src.Open()
	if err != nil {
		return nil, err
	}
	in.Size = size
	op := &opened{src: src, in: in, f: f, ctx: ctx}
	op.unwatch = context.AfterFunc(ctx, func() { op.cancelled.Store(true) })
	op.r = &cancelReaderAt{r: f, ctx: ctx, stop: &op.cancelled}
	if cfg.Progress != nil {
		op.r = &countingReaderAt{r: op.r, add: cfg.Progress}
	}
	op.head = make([]byte, min(size, decoders.SniffLen))
	if n, err := op.r.ReadAt(op.head, 0); err != nil && !errors.Is(err, io.EOF) {
		op.close()
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	} else {
		op.head = op.head[:n]
	}
	in.dec = decoders.Input{Path: src.Name, Size: size}
	if isGzip(op.head) {
		if err := op.openGzip(cfg.budget); err != nil {
			op.close()
			return nil, err
		}
	}
	return op, nil
}

func (op *opened) isCapture() bool { return capture.Sniff(op.head) }

func (op *opened) close() {
	op.unwatch()
	if op.gz != nil {
		op.gz.close()
	}
	op.f.Close()
}

// stream returns the input as one sequential stream that starts with the head already read, so
// that no byte of a capture is read twice.
func (op *opened) stream() io.Reader {
	if op.gz != nil {
		return op.gz.stream(op.head)
	}
	n := int64(len(op.head))
	return io.MultiReader(bytes.NewReader(op.head), io.NewSectionReader(op.r, n, op.in.Size-n))
}

// hashAll computes the SHA-256 of the whole input by reading it from start to end. For a
// compressed input it is the SHA-256 of the file as stored.
func (op *opened) hashAll() (string, error) {
	if op.gz != nil {
		return op.gz.storedSHA256()
	}
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(op.r, 0, op.in.Size))
	if err != nil {
		return "", fmt.Errorf("%s: %w", op.src.Name, err)
	}
	if n != op.in.Size {
		return "", fmt.Errorf("%s: size changed while reading (%d, then %d bytes)", op.src.Name, op.in.Size, n)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cancelReaderAt fails every read once the run's context is done. The flag is set by
// context.AfterFunc, so a read costs one atomic load rather than a call into the context.
type cancelReaderAt struct {
	r    io.ReaderAt
	ctx  context.Context
	stop *atomic.Bool
}

func (c *cancelReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if c.stop.Load() {
		return 0, c.ctx.Err()
	}
	return c.r.ReadAt(p, off)
}

// countingReaderAt reports the bytes of the input read through it, each byte once: a log file is
// read by its decoder and by the hash beside it, and a decoder may read a part twice, but the
// progress bar counts bytes of the input, not reads. It counts how far the input has been read
// from its start without a gap (the hash reads every byte in order, so the count reaches the
// size exactly); a read beyond that mark adds only once the mark reaches it.
type countingReaderAt struct {
	r    io.ReaderAt
	add  func(int64)
	mark atomic.Int64 // bytes [0, mark) have been read and counted
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	end := off + int64(n)
	for {
		m := c.mark.Load()
		if off > m || end <= m {
			return n, err
		}
		if c.mark.CompareAndSwap(m, end) {
			c.add(end - m)
			return n, err
		}
	}
}
