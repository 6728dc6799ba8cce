package ulog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"droneaudit/decoders"
	"droneaudit/decoders/internal/readahead"
)

// Framing facts: PX4/PX4-Autopilot@01486656:docs/en/dev_log/ulog_file_format.md and the
// reference reader PX4/pyulog@3cf17793:pyulog/core.py, summarised in
// ../shared/formats/mavlink-dataflash-ulog.md §7.1–§7.3.

// ErrCutHeader says that the input ends inside the 16-byte file header, after bytes that match it.
var ErrCutHeader = errors.New("the file ends inside its ULog header")

// Magic is the first 7 bytes of every ULog file.
var Magic = []byte{'U', 'L', 'o', 'g', 0x01, 0x12, 0x35}

// syncMagic is the body of an S message: a reader may resynchronise on it.
var syncMagic = []byte{0x2F, 0x73, 0x13, 0x20, 0x25, 0x0C, 0xBB, 0x12}

const (
	headerLen = 16
	// maxPlausible is the largest message pyulog accepts before declaring the header corrupt.
	maxPlausible = 10000
	bufSize      = 256 << 10
	// maxTopicName bounds a subscription's topic name (PX4's are under 64 bytes).
	maxTopicName = 255
)

// ErrIncompat is returned for a log whose flag bits set an incompatible feature this reader
// does not know: the spec requires refusing it.
var ErrIncompat = errors.New("unknown incompatible flag bits set")

// Message is one framed ULog message. Body is valid until the next call to Next.
type Message struct {
	Type   byte
	Body   []byte
	Offset int64 // file offset of the 3-byte message header
	// Index is the 0-based number of the message among the framed messages of the file.
	Index int
	// Sub is the subscription of a D message, nil for other types and unknown msg_ids.
	Sub *Subscription
	// Data is a D message's struct bytes (after the msg_id), possibly without trailing padding.
	Data []byte
}

// Subscription is an A message: a topic instance whose D messages carry msg_id.
type Subscription struct {
	MsgID   uint16
	MultiID uint8
	Name    string
	Layout  *Layout // nil when the format could not be resolved
	// Count is the number of valid D messages read so far.
	Count int
	// Invalid counts D messages whose size did not fit the layout.
	Invalid int
	tsField *Field
	ext     *extractor // positions of this topic, set by the decoder on first use
	extDone bool
}

// Timestamp returns a D message's timestamp field, if the layout has one.
func (s *Subscription) Timestamp(data []byte) (uint64, bool) {
	if s.tsField == nil {
		return 0, false
	}
	return s.tsField.Uint64(data)
}

// Problem is damage stepped over: a corrupt header, a truncated last message, a message cut by
// an appended-data boundary, a D message of an unknown msg_id.
type Problem struct {
	Kind   decoders.Code // the note code: CodeCorrupt, CodeTruncated, CodeAppendedCut, CodeUnknownMsgID, CodeBadFormat, CodeBadSize
	Offset int64
	Detail string
}

// Reader frames a ULog file and keeps the definitions needed to read its data.
type Reader struct {
	win  readahead.Buffer
	name string

	// Version is the file format version byte; StartTime the header timestamp (µs).
	Version   uint8
	StartTime uint64
	// Compat and Incompat are the B message flag bytes; Appended the non-zero appended-data
	// offsets.
	Compat, Incompat [8]byte
	Appended         []int64
	nextAppend       int

	res      resolver
	subs     []*Subscription // indexed by msg_id
	all      []*Subscription // every subscription in file order, also replaced ones
	problems []Problem
	first    bool // no message read yet
	index    int  // messages framed so far
	unknown  map[uint16]bool

	// Skipped counts bytes stepped over to resynchronise.
	Skipped int64
}

// NewReader reads the 16-byte header. It fails when the input is not a ULog file.
func NewReader(src io.Reader, name string) (*Reader, error) {
	rd := &Reader{win: readahead.New(src, bufSize), name: name, first: true}
	rd.win.Fill(headerLen)
	if rd.win.W < headerLen || !bytes.Equal(rd.win.Buf[:7], Magic) {
		if rd.win.Err != nil {
			return nil, fmt.Errorf("%s: read header: %w", name, rd.win.Err)
		}
		if got := rd.win.Buf[:rd.win.W]; len(got) > 0 && len(got) < headerLen && bytes.HasPrefix(got, Magic[:min(len(got), len(Magic))]) {
			return nil, fmt.Errorf("%s: %w: %d of its %d bytes", name, ErrCutHeader, len(got), headerLen)
		}
		return nil, fmt.Errorf("%s: offset 0: not a ULog file (bad magic)", name)
	}
	rd.Version = rd.win.Buf[7]
	rd.StartTime = binary.LittleEndian.Uint64(rd.win.Buf[8:16])
	rd.win.R = headerLen
	return rd, nil
}

// Subscriptions returns every subscription seen so far, in file order (a msg_id subscribed
// twice appears twice).
func (rd *Reader) Subscriptions() []*Subscription { return rd.all }

// Layout resolves a format by name.
func (rd *Reader) Layout(name string) (*Layout, error) { return rd.res.layout(name) }

// Problems returns and clears the damage recorded since the last call.
func (rd *Reader) Problems() []Problem {
	p := rd.problems
	rd.problems = nil
	return p
}

func (rd *Reader) problem(p Problem) {
	if len(rd.problems) < 1024 {
		rd.problems = append(rd.problems, p)
	}
}

// known message types (§7.2).
func knownType(t byte) bool {
	switch t {
	case 'B', 'F', 'I', 'M', 'P', 'Q', 'A', 'R', 'D', 'L', 'C', 'S', 'O':
		return true
	}
	return false
}

// Next returns the next message. Definitions (F, A, B) are applied before it is returned. It
// returns io.EOF at the end, ErrIncompat (wrapped) for a log it must refuse, and otherwise
// only read errors of the source.
func (rd *Reader) Next() (Message, error) {
	for {
		limit := int64(math.MaxInt64)
		if rd.nextAppend < len(rd.Appended) {
			limit = rd.Appended[rd.nextAppend]
		}
		p := rd.win.Pos()
		if p >= limit {
			// Appended data starts here: a reader continues at the offset (pyulog seeks there).
			if p > limit {
				rd.problem(Problem{Kind: decoders.CodeAppendedCut, Offset: limit,
					Detail: fmt.Sprintf("appended-data offset %d lies behind the read position %d", limit, p)})
			}
			rd.nextAppend++
			continue
		}
		if rd.win.Len() < 3 {
			rd.win.Fill(3)
			if rd.win.Len() < 3 {
				return Message{}, rd.end()
			}
		}
		b := rd.win.Bytes()
		size := int(binary.LittleEndian.Uint16(b))
		typ := b[2]
		if typ == 0 || size == 0 || size > maxPlausible {
			rd.corrupt()
			continue
		}
		if len(b) < 3+size {
			rd.win.Fill(3 + size)
			b = rd.win.Bytes()
			if len(b) < 3+size {
				if rd.win.Err != nil {
					return Message{}, rd.end()
				}
				rd.problem(Problem{Kind: decoders.CodeTruncated, Offset: p,
					Detail: fmt.Sprintf("last message (type %q, at byte %d) truncated: %d of %d bytes", typ, p, len(b), 3+size)})
				rd.win.R = rd.win.W
				return Message{}, rd.end()
			}
		}
		if p+3+int64(size) > limit {
			rd.problem(Problem{Kind: decoders.CodeAppendedCut, Offset: p,
				Detail: fmt.Sprintf("message cut by the appended-data boundary at %d", limit)})
			rd.win.Discard(limit - p)
			continue
		}
		m := Message{Type: typ, Body: b[3 : 3+size : 3+size], Offset: p, Index: rd.index}
		rd.index++
		rd.win.R += 3 + size
		wasFirst := rd.first
		rd.first = false
		if !knownType(typ) {
			continue // a future message type: skipped whole, as the spec requires
		}
		if err := rd.apply(&m, wasFirst); err != nil {
			return Message{}, err
		}
		return m, nil
	}
}

// corrupt steps one byte past a corrupt header and resumes at the first of: the end of a sync
// message's magic (pyulog resynchronises on it), or a plausible header followed by another
// plausible header. Without seeking back, this finds the same resumption points as pyulog's
// sync search followed by its byte-wise advance.
func (rd *Reader) corrupt() {
	at := rd.win.Pos()
	rd.win.R++
	skipped := int64(1)
	const window = 2*maxPlausible + 32
	for {
		rd.win.Fill(window)
		b := rd.win.Bytes()
		atEOF := rd.win.Ended()
		limit := len(b)
		if !atEOF {
			limit = len(b) - (maxPlausible + 16) // leave room for the lookahead
		}
		if i := rd.resyncPoint(b, limit, atEOF); i >= 0 {
			rd.win.R += i
			skipped += int64(i)
			break
		}
		if limit <= 0 {
			limit = len(b)
		}
		rd.win.R += limit
		skipped += int64(limit)
		if atEOF {
			break
		}
	}
	rd.Skipped += skipped
	rd.problem(Problem{Kind: decoders.CodeCorrupt, Offset: at, Detail: fmt.Sprintf("corrupt message header: %d bytes skipped", skipped)})
}

// resyncPoint returns where reading can resume in b (scanning starts before limit), or -1.
func (rd *Reader) resyncPoint(b []byte, limit int, atEOF bool) int {
	for i := 0; i < limit && i+3 <= len(b); i++ {
		if bytes.HasPrefix(b[i:], syncMagic) {
			return i + len(syncMagic)
		}
		if !rd.plausible(b[i:]) {
			continue
		}
		next := i + 3 + int(binary.LittleEndian.Uint16(b[i:]))
		if next+3 <= len(b) && rd.plausible(b[next:]) || atEOF && next == len(b) {
			return i
		}
	}
	return -1
}

// plausible reports whether h starts with a header that a writer could have produced.
func (rd *Reader) plausible(h []byte) bool {
	if len(h) < 3 {
		return false
	}
	size := int(binary.LittleEndian.Uint16(h))
	if size == 0 || size > maxPlausible || !knownType(h[2]) {
		return false
	}
	if h[2] == 'D' {
		if size < 2 || len(h) < 5 {
			return false
		}
		id := int(binary.LittleEndian.Uint16(h[3:]))
		if id >= len(rd.subs) || rd.subs[id] == nil || rd.subs[id].Layout == nil {
			return false
		}
		l := rd.subs[id].Layout
		return size-2 >= l.MinSize && size-2 <= l.Size
	}
	return true
}

func (rd *Reader) end() error {
	if rd.win.Err != nil {
		return fmt.Errorf("%s: read at offset %d: %w", rd.name, rd.win.Base+int64(rd.win.W), rd.win.Err)
	}
	if left := rd.win.Len(); left > 0 {
		rd.problem(Problem{Kind: decoders.CodeTruncated, Offset: rd.win.Pos(),
			Detail: fmt.Sprintf("%d trailing bytes at byte %d: a cut message header", left, rd.win.Pos())})
		rd.win.R = rd.win.W
	}
	return io.EOF
}

// apply updates the reader's definitions from m and resolves D messages.
func (rd *Reader) apply(m *Message, first bool) error {
	switch m.Type {
	case 'B':
		if !first {
			rd.problem(Problem{Kind: decoders.CodeBadFormat, Offset: m.Offset, Detail: "flag bits message is not the first message; ignored"})
			return nil
		}
		if len(m.Body) < 40 {
			rd.problem(Problem{Kind: decoders.CodeBadFormat, Offset: m.Offset, Detail: "flag bits message shorter than 40 bytes"})
			return nil
		}
		copy(rd.Compat[:], m.Body[0:8])
		copy(rd.Incompat[:], m.Body[8:16])
		if rd.Incompat[0]&^1 != 0 || binary.LittleEndian.Uint64(m.Body[8:16])>>8 != 0 {
			return fmt.Errorf("%s: offset %d: %w (incompat %x)", rd.name, m.Offset, ErrIncompat, rd.Incompat)
		}
		if rd.Incompat[0]&1 != 0 {
			offs := make([]int64, 0, 3)
			for i := 0; i < 3; i++ {
				offs = append(offs, int64(binary.LittleEndian.Uint64(m.Body[16+8*i:])))
			}
			for len(offs) > 0 && offs[len(offs)-1] == 0 {
				offs = offs[:len(offs)-1]
			}
			// A hostile or damaged B message may point anywhere: offsets that are negative or not
			// after this message are reported and ignored, and the log is read on in order.
			kept := offs[:0]
			for _, o := range offs {
				if o <= m.Offset {
					rd.problem(Problem{Kind: decoders.CodeBadFormat, Offset: m.Offset,
						Detail: fmt.Sprintf("appended-data offset %d is not after the flag bits message; ignored", o)})
					continue
				}
				kept = append(kept, o)
			}
			rd.Appended = kept
		}
	case 'F':
		d, err := parseDef(string(m.Body))
		if err == nil {
			err = rd.res.add(d, len(m.Body))
		}
		if err != nil {
			rd.problem(Problem{Kind: decoders.CodeBadFormat, Offset: m.Offset, Detail: err.Error()})
			return nil
		}
	case 'A':
		if len(m.Body) < 4 || len(m.Body) > 3+maxTopicName {
			rd.problem(Problem{Kind: decoders.CodeBadFormat, Offset: m.Offset, Detail: "subscription message with an impossible topic name length"})
			return nil
		}
		s := &Subscription{MultiID: m.Body[0], MsgID: binary.LittleEndian.Uint16(m.Body[1:]), Name: string(m.Body[3:])}
		l, err := rd.res.layout(s.Name)
		if err != nil {
			rd.problem(Problem{Kind: decoders.CodeBadFormat, Offset: m.Offset, Detail: fmt.Sprintf("subscription %s: %v", s.Name, err)})
		} else {
			s.Layout = l
			if f := l.Field("timestamp"); f != nil && f.Kind != KindNested && f.ArrayLen == 0 {
				s.tsField = f
			}
		}
		if int(s.MsgID) >= len(rd.subs) {
			n := int(s.MsgID) + 1
			if n < 2*len(rd.subs) {
				n = 2 * len(rd.subs)
			}
			if n > 1<<16 {
				n = 1 << 16
			}
			grown := make([]*Subscription, n)
			copy(grown, rd.subs)
			rd.subs = grown
		}
		if len(rd.all) < 1<<16 {
			rd.all = append(rd.all, s)
		}
		rd.subs[s.MsgID] = s
	case 'R':
		// Unsubscription: pyulog ignores it and so do we; a valid writer sends no further data
		// for the id, and a D after it is still better read than dropped.
	case 'D':
		if len(m.Body) < 2 {
			return nil
		}
		id := binary.LittleEndian.Uint16(m.Body)
		var s *Subscription
		if int(id) < len(rd.subs) {
			s = rd.subs[id]
		}
		if s == nil {
			if rd.unknown == nil {
				rd.unknown = map[uint16]bool{}
			}
			if !rd.unknown[id] && len(rd.unknown) < 256 {
				rd.unknown[id] = true
				rd.problem(Problem{Kind: decoders.CodeUnknownMsgID, Offset: m.Offset, Detail: fmt.Sprintf("data for msg_id %d without a subscription", id)})
			}
			return nil
		}
		data := m.Body[2:]
		if s.Layout == nil || len(data) < s.Layout.MinSize || len(data) > s.Layout.Size {
			s.Invalid++
			if s.Invalid == 1 {
				rd.problem(Problem{Kind: decoders.CodeBadSize, Offset: m.Offset, Detail: fmt.Sprintf("data for %s has %d bytes, format needs %d", s.Name, len(data), layoutSize(s.Layout))})
			}
			return nil
		}
		s.Count++
		m.Sub, m.Data = s, data
	}
	return nil
}

func layoutSize(l *Layout) int {
	if l == nil {
		return -1
	}
	return l.MinSize
}

// Value is the decoded value of an I, M, P or Q message.
type Value struct {
	Type string // the declared type, e.g. "char[36]", "int32_t", "float"
	Key  string
	// Str holds char[N] values; Num numeric ones; Raw anything else (arrays, nested types).
	Str   string
	Num   float64
	IsNum bool
	Raw   []byte
}

// String formats the value as pyulog prints it.
func (v Value) String() string {
	switch {
	case v.IsNum:
		if v.Type == "float" || v.Type == "double" {
			return fmt.Sprint(v.Num)
		}
		return fmt.Sprintf("%d", int64(v.Num))
	case v.Raw != nil:
		return fmt.Sprintf("%x", v.Raw)
	}
	return v.Str
}

// ParseInfo decodes the body of an I or P message (for M, skip the is_continued byte first; for
// Q, the default_types byte).
func ParseInfo(b []byte) (Value, error) {
	if len(b) < 1 || int(b[0]) > len(b)-1 {
		return Value{}, errors.New("info key length beyond the message")
	}
	kl := int(b[0])
	key := string(b[1 : 1+kl])
	sp := bytes.IndexByte([]byte(key), ' ')
	if sp <= 0 {
		return Value{}, fmt.Errorf("info key %q without a type", key)
	}
	v := Value{Type: key[:sp], Key: key[sp+1:]}
	val := b[1+kl:]
	if len(v.Type) > 5 && v.Type[:5] == "char[" {
		v.Str = string(val)
		return v, nil
	}
	if k, ok := kindByName[v.Type]; ok && k != KindChar {
		if len(val) != kindSize[k] {
			return Value{}, fmt.Errorf("info %q: %d value bytes for %s", v.Key, len(val), v.Type)
		}
		v.Num, v.IsNum = readKind(k, val), true
		return v, nil
	}
	v.Raw = append([]byte(nil), val...)
	return v, nil
}
