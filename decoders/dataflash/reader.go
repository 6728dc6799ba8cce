package dataflash

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"droneaudit/decoders"
	"droneaudit/decoders/internal/readahead"
)

// Framing facts: ArduPilot/ardupilot@001064f4:libraries/AP_Logger/LogStructure.h (HEAD_BYTE1 0xA3,
// HEAD_BYTE2 0x95, LOG_FORMAT_MSG = 128) and ../shared/formats/mavlink-dataflash-ulog.md §6.1, §6.5.

const (
	head1   = 0xA3
	head2   = 0x95
	typeFMT = 128
	// lenFMT is the total length of an FMT message: 3 header bytes + BBnNZ (1+1+4+16+64).
	lenFMT = 89
)

// bufSize is the reader's window. Messages are at most 255 bytes, so a small window suffices;
// a large one amortises the copy at each refill.
const bufSize = 256 << 10

// Message is one framed DataFlash message. Body is valid only until the next call to Next.
type Message struct {
	Format *Format
	// Body holds the bytes after the 3-byte header, Format.Length-3 of them.
	Body []byte
	// Offset is the byte offset of the message header in the input file (in a signed container,
	// the file offset, not the offset in the recovered stream).
	Offset int64
	// Index is the 0-based number of the message among the framed messages.
	Index int
}

// Value returns column i scaled to its unit: by the FMTU multiplier when the log gives one for
// the column, otherwise by the format character's own scaling (never both, §6.4). ok is false
// for strings, arrays, undecodable layouts and out-of-range columns.
func (m Message) Value(i int) (v float64, ok bool) {
	f := m.Format
	if !f.Known || i < 0 || i >= len(f.Format) {
		return 0, false
	}
	switch f.Format[i] {
	case 'n', 'N', 'Z', 'a':
		return 0, false
	}
	return f.raw(m.Body, i) * f.scale[i], true
}

// Raw returns column i as stored, without scaling (e.g. an int32 degE7 latitude).
func (m Message) Raw(i int) (v float64, ok bool) {
	f := m.Format
	if !f.Known || i < 0 || i >= len(f.Format) {
		return 0, false
	}
	switch f.Format[i] {
	case 'n', 'N', 'Z', 'a':
		return 0, false
	}
	return f.raw(m.Body, i), true
}

// String returns a string column (n, N, Z) without its NUL padding.
func (m Message) String(i int) (string, bool) {
	f := m.Format
	if !f.Known || i < 0 || i >= len(f.Format) {
		return "", false
	}
	off := f.Offsets[i]
	sz := int(charSize[f.Format[i]])
	switch f.Format[i] {
	case 'n', 'N', 'Z':
		return cstr(m.Body[off : off+sz]), true
	}
	return "", false
}

// Problem is damage the reader stepped over: a junk run it skipped, a truncated last message,
// or a fact about the container.
type Problem struct {
	// Kind is the note code the decoder reports it under: CodeJunk, CodeTruncated, CodeBadFmt, or
	// KindChain for the hash chain of a signed container.
	Kind   decoders.Code
	Offset int64 // file offset
	Len    int64 // bytes concerned
	Detail string
}

// Reader frames the messages of a DataFlash log from a stream, learning layouts from the FMT,
// FMTU and MULT messages as they pass (they may arrive anywhere in the file).
type Reader struct {
	win   readahead.Buffer // over the DataFlash stream (unwrapped from a signed container)
	chain *chainReader     // non-nil for a signed container
	name  string           // for error messages

	fmts     [256]*Format
	fmtu     [256]*fmtuIDs
	mult     map[byte]float64
	index    int
	resync   bool  // after junk: accept a message only when the next one also starts A3 95
	junkAt   int64 // stream offset where the current junk run began, -1 if none
	junkLen  int64
	problems []Problem

	// Skipped counts the bytes stepped over while resynchronising.
	Skipped int64
	// Redefined counts FMT messages that replaced an earlier layout of the same type.
	Redefined int
}

type fmtuIDs struct{ units, mults string }

// NewReader returns a reader over a DataFlash log. name labels errors (usually the file path).
// A signed, hash-chained container (§6.9) is recognised from its first bytes and unwrapped.
func NewReader(src io.Reader, name string) *Reader {
	rd := &Reader{name: name, mult: map[byte]float64{}, junkAt: -1}
	head := make([]byte, signedHeaderLen)
	n, err := io.ReadFull(src, head)
	head = head[:n]
	if n == signedHeaderLen && isSignedHeader(head) {
		rd.chain = newChainReader(src, head)
		rd.win = readahead.New(rd.chain, bufSize)
	} else {
		rd.win = readahead.New(io.MultiReader(bytes.NewReader(head), src), bufSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			rd.win.Err = err
		}
	}
	self := &Format{Type: typeFMT, Length: lenFMT, Name: "FMT", Format: "BBnNZ",
		Columns: []string{"Type", "Length", "Name", "Format", "Columns"}}
	self.layout()
	rd.setFormat(self)
	return rd
}

// Signed reports whether the input is a signed container, and its facts once reading is done.
func (rd *Reader) Signed() (SignedInfo, bool) {
	if rd.chain == nil {
		return SignedInfo{}, false
	}
	return rd.chain.info(), true
}

// Formats returns the layouts known so far, indexed by message type.
func (rd *Reader) Formats() *[256]*Format { return &rd.fmts }

// Problems returns and clears the damage recorded since the last call.
func (rd *Reader) Problems() []Problem {
	p := rd.problems
	rd.problems = nil
	return p
}

func (rd *Reader) problem(p Problem) {
	// Bounded: a hostile file could otherwise make one Problem per byte.
	if len(rd.problems) < 1024 {
		rd.problems = append(rd.problems, p)
	}
}

// fileOffset maps an offset of the recovered stream to a file offset.
func (rd *Reader) fileOffset(stream int64) int64 {
	if rd.chain != nil {
		return rd.chain.fileOffset(stream)
	}
	return stream
}

// endJunk closes a junk run, if one is open.
func (rd *Reader) endJunk() {
	if rd.junkAt >= 0 {
		rd.problem(Problem{Kind: decoders.CodeJunk, Offset: rd.fileOffset(rd.junkAt), Len: rd.junkLen,
			Detail: fmt.Sprintf("%d bytes without a known message header skipped", rd.junkLen)})
		rd.junkAt, rd.junkLen = -1, 0
	}
}

// skip steps over n junk bytes at the current position.
func (rd *Reader) skip(n int) {
	if rd.junkAt < 0 {
		rd.junkAt = rd.win.Pos()
	}
	rd.junkLen += int64(n)
	rd.Skipped += int64(n)
	rd.win.R += n
	rd.resync = true
}

// Next returns the next message. It returns io.EOF at the end of the input; any other error is
// a read error of the source and names the file and offset. Damage is not an error: it is
// recorded as a Problem and reading goes on.
func (rd *Reader) Next() (Message, error) {
	for {
		if rd.win.Len() < 3 {
			rd.win.Fill(3)
			if rd.win.Len() < 3 {
				return Message{}, rd.end()
			}
		}
		b := rd.win.Bytes()
		if b[0] != head1 || b[1] != head2 || rd.fmts[b[2]] == nil {
			// Jump to the next candidate first byte; the common case is a long junk run.
			i := bytes.IndexByte(b[1:], head1)
			if i < 0 {
				rd.skip(len(b) - 2) // keep two bytes: a header may straddle the refill
				rd.win.Fill(3)
				continue
			}
			rd.skip(i + 1)
			continue
		}
		f := rd.fmts[b[2]]
		n := f.Length
		need := n
		if rd.resync {
			need = n + 2
		}
		if len(b) < need {
			rd.win.Fill(need)
			b = rd.win.Bytes()
			if len(b) < n {
				return Message{}, rd.truncated(f, len(b))
			}
		}
		if rd.resync && len(b) >= n+2 && (b[n] != head1 || b[n+1] != head2) {
			rd.skip(1)
			continue
		}
		rd.resync = false
		rd.endJunk()
		m := Message{Format: f, Body: b[3:n:n], Offset: rd.fileOffset(rd.win.Pos()), Index: rd.index}
		rd.win.R += n
		rd.index++
		if f.Type == typeFMT || f.selfDesc != 0 {
			rd.learn(m)
		}
		return m, nil
	}
}

// end finishes the stream: a trailing junk run or partial header is reported.
func (rd *Reader) end() error {
	if left := rd.win.Len(); left > 0 {
		if rd.win.Buf[rd.win.R] == head1 && (left == 1 || rd.win.Buf[rd.win.R+1] == head2) {
			rd.endJunk()
			at := rd.fileOffset(rd.win.Pos())
			rd.problem(Problem{Kind: decoders.CodeTruncated, Offset: at, Len: int64(left),
				Detail: fmt.Sprintf("input ends inside the header of a message at byte %d (%d of 3 bytes)", at, left)})
		} else {
			rd.skip(left)
		}
		rd.win.R = rd.win.W
	}
	rd.endJunk()
	if rd.win.Err != nil {
		return fmt.Errorf("%s: read at offset %d: %w", rd.name, rd.fileOffset(rd.win.Base+int64(rd.win.W)), rd.win.Err)
	}
	if rd.chain != nil {
		rd.chain.finish(rd.problem)
	}
	return io.EOF
}

// truncated reports a last message cut by the end of the input and ends the stream.
func (rd *Reader) truncated(f *Format, have int) error {
	if rd.win.Err != nil {
		return rd.end()
	}
	rd.endJunk()
	at := rd.fileOffset(rd.win.Pos())
	rd.problem(Problem{Kind: decoders.CodeTruncated, Offset: at, Len: int64(have),
		Detail: fmt.Sprintf("last %s message, at byte %d, truncated: %d of %d bytes", f.Name, at, have, f.Length)})
	rd.win.R = rd.win.W
	return rd.end()
}

// Kinds of self-description message besides FMT, recognised by name and layout.
const (
	selfFMTU = 1 + iota
	selfMULT
)

// learn applies a self-description message (FMT, FMTU, MULT) to the format table.
func (rd *Reader) learn(m Message) {
	switch {
	case m.Format.Type == typeFMT:
		nf, ok := parseFMT(m.Body)
		if !ok || (nf.Type == typeFMT && nf.Length != lenFMT) {
			// A second definition of FMT with another length would make every later FMT
			// unreadable: refuse it.
			rd.problem(Problem{Kind: decoders.CodeBadFmt, Offset: m.Offset, Len: int64(m.Format.Length),
				Detail: "FMT message with an impossible layout ignored"})
			return
		}
		if old := rd.fmts[nf.Type]; old != nil && nf.Type != typeFMT {
			rd.Redefined++
		}
		if nf.Type == typeFMT {
			return // the built-in definition stands
		}
		rd.setFormat(nf)
	case m.Format.selfDesc == selfFMTU:
		t, _ := m.Raw(1)
		units, _ := m.String(2)
		mults, _ := m.String(3)
		ids := &fmtuIDs{units: units, mults: mults}
		rd.fmtu[uint8(t)] = ids
		if f := rd.fmts[uint8(t)]; f != nil {
			rd.applyFMTU(f, ids)
		}
	case m.Format.selfDesc == selfMULT:
		id, _ := m.Raw(1)
		v, _ := m.Raw(2)
		rd.mult[byte(int8(id))] = v
	}
}

// setFormat installs a layout and the scale of each of its columns.
func (rd *Reader) setFormat(f *Format) {
	f.scale = make([]float64, len(f.Format))
	for i := range f.scale {
		f.scale[i] = charScale(f.Format[i])
	}
	switch {
	case f.Name == "FMTU" && f.Format == "QBNN":
		f.selfDesc = selfFMTU
	case f.Name == "MULT" && f.Format == "Qbd":
		f.selfDesc = selfMULT
	}
	if ids := rd.fmtu[f.Type]; ids != nil {
		rd.applyFMTU(f, ids)
	}
	rd.fmts[f.Type] = f
}

// applyFMTU replaces format-character scaling by the FMTU multiplier wherever the log names a
// real multiplier: the multiplier applies to the raw stored integer (§6.4).
func (rd *Reader) applyFMTU(f *Format, ids *fmtuIDs) {
	f.Units, f.Mults = ids.units, ids.mults
	for i := range f.scale {
		f.scale[i] = charScale(f.Format[i])
		if i >= len(ids.mults) {
			continue
		}
		id := ids.mults[i]
		if id == '-' || id == '?' {
			continue // no multiplier known: keep the format character's own scaling
		}
		if v, ok := rd.mult[id]; ok {
			f.scale[i] = v
		} else if v, ok := defaultMult[id]; ok {
			f.scale[i] = v
		}
	}
}
