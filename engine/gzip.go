package engine

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync/atomic"

	"droneaudit/decoders"
)

// A gzip-compressed input is recognised by its content (the gzip magic), never by its name, and
// read as the content it holds: a capture as a stream, decompressed as the pipeline reads it; a
// log file, which its decoder reads at random, from a private temporary copy of the content. The
// input's SHA-256 and size stay those of the file as stored: that is the evidence. A note gives
// the decompressed size and, when it was computed on the way, the content's SHA-256.
//
// Decompression is bounded: an input may expand to gzipRatio times its stored size (at least
// gzipFloor bytes), and all compressed inputs of a run together to Config.ExpandBudget bytes.
// Past either, the input stops with an error naming it: what was decoded before stands.
const (
	gzipRatio           = 100
	gzipFloor           = 8 << 20
	defaultExpandBudget = 64 << 30
)

// isGzip reports whether head starts like a gzip member (magic and the deflate method).
func isGzip(head []byte) bool {
	return len(head) >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8
}

// expandBudget is what the compressed inputs of one run may still expand to, together.
type expandBudget struct {
	total int64
	left  atomic.Int64
}

func newExpandBudget(n int64) *expandBudget {
	if n <= 0 {
		n = defaultExpandBudget
	}
	b := &expandBudget{total: n}
	b.left.Store(n)
	return b
}

func (b *expandBudget) take(n int64) bool { return b.left.Add(-n) >= 0 }

// gzInput is the decompressed content of a gzip input. It is an io.Reader of the content after
// the head; its errors are sticky and name the input.
type gzInput struct {
	name    string
	stored  int64       // size as stored
	r       io.ReaderAt // the stored file, for hashing it apart from decompression
	raw     *hashReader // the stored bytes from offset 0, hashed as the decompressor takes them
	br      *bufio.Reader
	zr      *gzip.Reader
	stop    *atomic.Bool
	ctx     context.Context
	limit   int64 // content bytes this input may expand to
	budget  *expandBudget
	n       int64 // content bytes decompressed so far
	err     error // io.EOF once the content ended cleanly
	members int
	junk    bool // bytes after the last member that are no gzip member (hashed, not read)
	onEOF   func(int64)

	complete   bool   // the content was read to its end without error
	streamed   bool   // read as a stream by the capture pipeline (which hashes what it reads)
	storedSum  string // SHA-256 of the stored file, once known
	contentSum string // SHA-256 of the content, when computed on the way
	spool      *os.File
}

// hashReader hashes and counts what is read through it.
type hashReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// openGzip starts decompressing a gzip input and replaces the head by the content's head.
func (op *opened) openGzip(budget *expandBudget) error {
	stored := op.in.Size
	g := &gzInput{name: op.src.Name, stored: stored, r: op.r, stop: &op.cancelled, ctx: op.ctx, budget: budget,
		limit: max(gzipRatio*stored, gzipFloor)}
	g.raw = &hashReader{r: io.NewSectionReader(op.r, 0, stored), h: sha256.New()}
	g.br = bufio.NewReaderSize(g.raw, 256<<10)
	zr, err := gzip.NewReader(g.br)
	if err != nil {
		return fmt.Errorf("%s: gzip: %w", g.name, err)
	}
	zr.Multistream(false)
	g.zr, g.members = zr, 1
	g.onEOF = func(n int64) { op.in.Size, op.in.dec.Size = n, n }
	head := make([]byte, decoders.SniffLen)
	n, _ := io.ReadFull(g, head)
	if n == 0 && g.err != nil && g.err != io.EOF {
		return g.err
	}
	op.head, op.gz, op.in.gz = head[:n], g, g
	if g.complete {
		// The whole content is in the head: nothing more to decompress or to copy.
		op.in.Size, op.in.dec.Size = int64(n), int64(n)
		op.r = bytes.NewReader(op.head)
		c := sha256.Sum256(op.head)
		g.contentSum = hex.EncodeToString(c[:])
	}
	return nil
}

// Read decompresses the next content bytes.
func (g *gzInput) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.stop.Load() {
		g.fail(fmt.Errorf("%s: %w", g.name, g.ctx.Err()))
		return 0, g.err
	}
	n, err := g.zr.Read(p)
	if n > 0 {
		g.n += int64(n)
		if g.n > g.limit || !g.budget.take(int64(n)) {
			g.fail(fmt.Errorf("%s: gzip content expands past %d bytes (%d stored; limit %d× the stored size, at least %d bytes, and %d bytes for all compressed inputs of the run): decompression stopped",
				g.name, g.n-int64(n), g.stored, gzipRatio, gzipFloor, g.budget.total))
			return n, g.err
		}
	}
	if errors.Is(err, io.EOF) {
		// One member ended; another may follow, as in a concatenation of gzip files.
		if err = g.nextMember(); errors.Is(err, io.EOF) {
			g.end()
			return n, g.err
		}
	}
	if err != nil {
		var pe *os.PathError
		if g.stop.Load() || errors.As(err, &pe) {
			g.fail(fmt.Errorf("%s: %w", g.name, err))
		} else {
			g.fail(fmt.Errorf("%s: gzip: %w", g.name, err))
		}
		return n, g.err
	}
	return n, nil
}

// nextMember starts the next gzip member, or returns io.EOF at the end of the data. Bytes after
// the last member that do not start another (padding, appended data) end the content too: they
// are hashed with the stored file and named in the note.
func (g *gzInput) nextMember() error {
	err := g.zr.Reset(g.br)
	switch {
	case err == nil:
		g.zr.Multistream(false)
		g.members++
		return nil
	case errors.Is(err, io.EOF):
		return io.EOF
	case g.stop.Load():
		return err
	}
	g.junk = true
	return io.EOF
}

func (g *gzInput) end() {
	g.err, g.complete = io.EOF, true
	g.finishStored()
	if g.onEOF != nil {
		g.onEOF(g.n)
	}
}

func (g *gzInput) fail(err error) {
	g.err = err
	g.finishStored()
}

// finishStored hashes the stored bytes the decompressor did not take, so that the stored file's
// SHA-256 is known from the one read.
func (g *gzInput) finishStored() {
	if _, err := io.Copy(io.Discard, g.raw); err == nil && g.raw.n == g.stored {
		g.storedSum = hex.EncodeToString(g.raw.h.Sum(nil))
	}
}

// storedSHA256 returns the SHA-256 of the file as stored, reading it apart from the
// decompression when it is not known yet (a capture hashed before it is read, a file no decoder
// claims).
func (g *gzInput) storedSHA256() (string, error) {
	if g.storedSum != "" {
		return g.storedSum, nil
	}
	sum, err := g.hashStored()
	if err == nil {
		g.storedSum = sum
	}
	return sum, err
}

// hashStored reads the stored file apart from the decompression and returns its SHA-256; it
// changes nothing, so it may run beside the decompression (HashFirst).
func (g *gzInput) hashStored() (string, error) {
	h := sha256.New()
	n, err := io.Copy(h, io.NewSectionReader(g.r, 0, g.stored))
	if err != nil {
		return "", fmt.Errorf("%s: %w", g.name, err)
	}
	if n != g.stored {
		return "", fmt.Errorf("%s: size changed while reading (%d, then %d bytes)", g.name, g.stored, n)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stream returns the content as one stream starting with head. When it ends, the input's size
// becomes the content's, which the pipeline checks its byte count against.
func (g *gzInput) stream(head []byte) io.Reader {
	g.streamed = true
	if g.complete {
		return bytes.NewReader(head)
	}
	return io.MultiReader(bytes.NewReader(head), g)
}

// random makes the content readable at random for a file decoder: content longer than the head
// is decompressed into a private, unlinked temporary file, hashed on the way.
func (op *opened) random() error {
	g := op.gz
	if g == nil || g.complete {
		return nil
	}
	tmp, err := os.CreateTemp("", "droneaudit-content-*")
	if err != nil {
		return fmt.Errorf("%s: decompressing: %w", g.name, err)
	}
	os.Remove(tmp.Name())
	g.spool = tmp
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	w.Write(op.head)
	if _, err := io.Copy(w, g); err != nil {
		return err
	}
	g.contentSum = hex.EncodeToString(h.Sum(nil))
	op.in.Size, op.in.dec.Size = g.n, g.n
	op.r = &cancelReaderAt{r: tmp, ctx: op.ctx, stop: &op.cancelled}
	return nil
}

func (g *gzInput) close() {
	if g.spool != nil {
		g.spool.Close()
	}
}

// report turns the input back into the file as stored (SHA-256 and size) before the audit sees
// it, and notes what the content was. contentHashed says whether in.SHA256 is the pipeline's
// hash of the content it read.
func (g *gzInput) report(in *Input, out Output, contentHashed bool) {
	content := g.contentSum
	if content == "" && g.streamed && g.complete && contentHashed {
		content = in.SHA256
	}
	contentSize := in.Size
	in.SHA256, in.Size = g.storedSum, g.stored
	if in.Skipped != "" {
		return
	}
	msg := fmt.Sprintf("gzip-compressed (%d member(s)): decoded from its content", g.members)
	if g.complete {
		msg += fmt.Sprintf(", %d bytes", contentSize)
		if content != "" {
			msg += ", SHA-256 " + content
		}
	}
	msg += fmt.Sprintf("; the SHA-256 and size reported are of the file as stored (%d bytes), offsets are in the content", g.stored)
	if g.junk {
		msg += "; bytes after the compressed data were not decompressed"
	}
	out.Sink(in, LaneLink).Note(decoders.Note{Severity: decoders.Info, Code: "gzip", Offset: -1, Message: msg})
}
