package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"droneaudit/capture"
	"droneaudit/decoders"
)

// opened is an input whose first bytes have been read to recognise it.
type opened struct {
	src  Source
	in   *Input
	f    ReadAtCloser
	r    io.ReaderAt // f, counted for the progress bar
	head []byte      // the first min(size, decoders.SniffLen) bytes
}

// open opens a source and reads its head. Every byte is counted for the progress bar once.
func open(cfg *Config, src Source, in *Input) (*opened, error) {
	f, size, err := src.Open()
	if err != nil {
		return nil, err
	}
	in.Size = size
	op := &opened{src: src, in: in, f: f, r: f}
	if cfg.Progress != nil {
		op.r = &countingReaderAt{r: f, add: cfg.Progress}
	}
	op.head = make([]byte, min(size, decoders.SniffLen))
	if n, err := op.r.ReadAt(op.head, 0); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("%s: %w", src.Name, err)
	} else {
		op.head = op.head[:n]
	}
	in.dec = decoders.Input{Path: src.Name, Size: size}
	return op, nil
}

func (op *opened) isCapture() bool { return capture.Sniff(op.head) }

func (op *opened) close() { op.f.Close() }

// stream returns the input as one sequential stream that starts with the head already read, so
// that no byte of a capture is read twice.
func (op *opened) stream() io.Reader {
	n := int64(len(op.head))
	return io.MultiReader(bytes.NewReader(op.head), io.NewSectionReader(op.r, n, op.in.Size-n))
}

// hashAll computes the SHA-256 of the whole input by reading it from start to end.
func (op *opened) hashAll() (string, error) {
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

// countingReaderAt reports the bytes read through it.
type countingReaderAt struct {
	r   io.ReaderAt
	add func(int64)
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.add(int64(n))
	return n, err
}
