package dataflash

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/blake2b"

	"droneaudit/decoders"
)

// The signed, hash-chained container wraps the DataFlash byte stream (format facts from
// Manikanth-N/TARAlytics@0b2af034:core/signature_verifier.py, summarised with the verified
// layout in ../shared/formats/mavlink-dataflash-ulog.md §6.9):
//
//	header 64 B: A5 01 alg _ devid u16 fw u16 unix u32 counter u16 _ H0[32] _[16]
//	then data spans, each followed by a chunk record "1HCH" offset u32 length u32 hash[32],
//	and at the very end an end record "GOLS" finalhash[32] siglen u8 sig[64].
//
// Chunk records land in the middle of DataFlash messages, so they must be removed before
// framing. The chain is walked by its own consistency (a record's offset and length must
// describe the span before it), never by fixed 4 KiB arithmetic.

const (
	signedHeaderLen = 64
	chunkRecordLen  = 44
	endRecordLen    = 101
)

var (
	chunkMagic = []byte("1HCH") // u32 0x48434831 little-endian
	endMagic   = []byte("GOLS") // u32 0x534C4F47 as it lies on disk
)

// isSignedHeader recognises the 64-byte container header.
func isSignedHeader(h []byte) bool {
	return len(h) >= signedHeaderLen && h[0] == 0xA5 && h[1] == 0x01 && (h[2] == 1 || h[2] == 2)
}

// SignedInfo describes a signed container after it has been read.
type SignedInfo struct {
	Algorithm string // "sha256" or "blake2b-256"
	DeviceID  uint16
	Firmware  uint16 // major<<8 | minor
	UnixTime  uint32 // container creation time, seconds
	Counter   uint16 // log counter
	Chunks    int    // chunk records removed
	// ChainIntact is true when H0, every chunk hash and the final hash matched and an end record
	// closed the file. The Ed25519 signature itself is not verified (it needs the vehicle key).
	ChainIntact bool
	EndRecord   bool
}

// KindChain is the Problem kind of damage to a signed container's hash chain. The decoder reports
// it as CodeSignedChain: a bare "chain" would not say which chain.
const KindChain decoders.Code = "chain"

// spanMap ties the start of a data span in the recovered stream to its file offset.
type spanMap struct{ stream, file int64 }

// chainReader strips chunk and end records and yields the DataFlash stream.
type chainReader struct {
	src    io.Reader
	buf    []byte
	r, w   int
	pos    int64 // file offset of buf[r]
	srcEOF bool
	srcErr error

	hdr       SignedInfo
	h         hash.Hash
	prev      [32]byte // hash that the next chunk record chains from
	spanStart int64    // file offset of the first byte of the current span
	stream    int64    // recovered-stream offset of the next byte handed out
	broken    int      // mismatched hashes, missed records
	ended     bool     // end record seen
	trailing  int64    // bytes after the end record
	finished  bool

	spans    [1024]spanMap // ring of recent span starts, for offset mapping
	nspans   int
	problems []Problem
}

func newChainReader(src io.Reader, head []byte) *chainReader {
	c := &chainReader{src: src, buf: make([]byte, 128<<10), pos: signedHeaderLen, spanStart: signedHeaderLen}
	c.hdr = SignedInfo{
		DeviceID: binary.LittleEndian.Uint16(head[4:]),
		Firmware: binary.LittleEndian.Uint16(head[6:]),
		UnixTime: binary.LittleEndian.Uint32(head[8:]),
		Counter:  binary.LittleEndian.Uint16(head[12:]),
	}
	if head[2] == 2 {
		c.hdr.Algorithm = "blake2b-256"
		c.h, _ = blake2b.New256(nil) // cannot fail without a key
	} else {
		c.hdr.Algorithm = "sha256"
		c.h = sha256.New()
	}
	copy(c.prev[:], head[16:48])
	c.h.Write(head[:16])
	if !bytes.Equal(c.h.Sum(nil), head[16:48]) {
		c.broken++
		c.problems = append(c.problems, Problem{Kind: KindChain, Offset: 16, Len: 32,
			Detail: "header hash H0 does not match the header bytes"})
	}
	c.h.Reset()
	c.addSpan()
	return c
}

func (c *chainReader) addSpan() {
	c.spans[c.nspans%len(c.spans)] = spanMap{stream: c.stream, file: c.spanStart}
	c.nspans++
}

// fileOffset maps a recovered-stream offset to the file; -1 when it is too old to remember.
func (c *chainReader) fileOffset(s int64) int64 {
	lo := c.nspans - len(c.spans)
	if lo < 0 {
		lo = 0
	}
	for i := c.nspans - 1; i >= lo; i-- {
		sp := c.spans[i%len(c.spans)]
		if sp.stream <= s {
			return sp.file + (s - sp.stream)
		}
	}
	return -1
}

func (c *chainReader) fill(need int) {
	for c.w-c.r < need && !c.srcEOF && c.srcErr == nil {
		if c.r > 0 {
			n := copy(c.buf, c.buf[c.r:c.w])
			c.r, c.w = 0, n
		}
		n, err := c.src.Read(c.buf[c.w:])
		c.w += n
		if err == io.EOF {
			c.srcEOF = true
		} else if err != nil {
			c.srcErr = err
		}
	}
}

// Read hands out span bytes, removing the records between them.
func (c *chainReader) Read(p []byte) (int, error) {
	for {
		if c.ended {
			c.fill(1)
			c.trailing += int64(c.w - c.r)
			c.pos += int64(c.w - c.r)
			c.r = c.w
			if c.srcEOF || c.srcErr != nil {
				return 0, c.eof()
			}
			continue
		}
		c.fill(endRecordLen)
		b := c.buf[c.r:c.w]
		if len(b) == 0 {
			return 0, c.eof()
		}
		if c.pos == c.spanStart && c.nspans > 1 && len(b) >= endRecordLen && bytes.Equal(b[:4], endMagic) {
			c.endRecord(b[:endRecordLen])
			continue
		}
		if len(b) >= chunkRecordLen && bytes.Equal(b[:4], chunkMagic) && c.chunkRecord(b[:chunkRecordLen]) {
			continue
		}
		// Hand out bytes up to the next candidate record; keep a short tail when no candidate
		// is in sight, because a record may straddle the refill. Only the part that can be
		// handed out now is searched, so a small p does not make the search quadratic.
		win := b
		if len(win) > len(p)+4 {
			win = win[:len(p)+4]
		}
		n := len(win)
		if i := bytes.Index(win[1:], chunkMagic); i >= 0 {
			n = i + 1
		} else if len(win) == len(b) && !c.srcEOF && c.srcErr == nil {
			n = len(b) - 3
			if n < 1 {
				n = 1
			}
		}
		if n > len(p) {
			n = len(p)
		}
		copy(p, b[:n])
		c.h.Write(b[:n])
		c.r += n
		c.pos += int64(n)
		c.stream += int64(n)
		return n, nil
	}
}

// chunkRecord accepts a chunk record at the current position if its offset and length describe
// the span before it. Two damaged forms are accepted too, and mark the chain broken: a record
// that describes a longer span (an earlier record was missed or damaged), and a record whose
// length fits the span but whose offset field does not (a damaged offset).
func (c *chainReader) chunkRecord(rec []byte) bool {
	off := int64(binary.LittleEndian.Uint32(rec[4:]))
	length := int64(binary.LittleEndian.Uint32(rec[8:]))
	fits := off+length == c.pos && off >= c.spanStart
	if !fits && length != c.pos-c.spanStart {
		return false
	}
	if off != c.spanStart {
		c.broken++
		c.problems = append(c.problems, Problem{Kind: KindChain, Offset: c.pos, Len: chunkRecordLen,
			Detail: fmt.Sprintf("chunk record says its span starts at %d but it began at %d", off, c.spanStart)})
	}
	c.h.Write(c.prev[:])
	sum := c.h.Sum(nil)
	if !bytes.Equal(sum, rec[12:44]) {
		c.broken++
		if len(c.problems) < 64 {
			c.problems = append(c.problems, Problem{Kind: KindChain, Offset: c.pos, Len: chunkRecordLen,
				Detail: "chunk hash does not match its span"})
		}
	}
	copy(c.prev[:], rec[12:44])
	c.h.Reset()
	c.hdr.Chunks++
	c.r += chunkRecordLen
	c.pos += chunkRecordLen
	c.spanStart = c.pos
	c.addSpan()
	return true
}

func (c *chainReader) endRecord(rec []byte) {
	if !bytes.Equal(rec[4:36], c.prev[:]) {
		c.broken++
		c.problems = append(c.problems, Problem{Kind: KindChain, Offset: c.pos, Len: endRecordLen,
			Detail: "final hash differs from the last chunk hash"})
	}
	c.ended = true
	c.hdr.EndRecord = true
	c.r += endRecordLen
	c.pos += endRecordLen
}

func (c *chainReader) eof() error {
	if c.srcErr != nil {
		return c.srcErr
	}
	return io.EOF
}

// finish reports the container facts through report once the stream has been read.
func (c *chainReader) finish(report func(Problem)) {
	if c.finished {
		return
	}
	c.finished = true
	for _, p := range c.problems {
		report(p)
	}
	if !c.ended {
		c.broken++
		report(Problem{Kind: KindChain, Offset: c.pos, Detail: "no end record: the signed log is incomplete"})
	}
	if c.trailing > 0 {
		report(Problem{Kind: KindChain, Offset: c.pos - c.trailing, Len: c.trailing,
			Detail: fmt.Sprintf("%d bytes after the end record", c.trailing)})
	}
	c.hdr.ChainIntact = c.broken == 0
}

func (c *chainReader) info() SignedInfo { return c.hdr }
