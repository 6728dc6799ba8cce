package ulog

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format-string facts: PX4/PX4-Autopilot@01486656:docs/en/dev_log/ulog_file_format.md ("Format
// Message" and "Formats" sections), summarised in ../shared/formats/mavlink-dataflash-ulog.md §7.4.

// Kind is a base field type of a format definition.
type Kind uint8

// The base types of the spec. KindNested marks a field whose type is another format.
const (
	KindInvalid Kind = iota
	KindInt8
	KindUint8
	KindInt16
	KindUint16
	KindInt32
	KindUint32
	KindInt64
	KindUint64
	KindFloat
	KindDouble
	KindBool
	KindChar
	KindNested
)

var kindByName = map[string]Kind{
	"int8_t": KindInt8, "uint8_t": KindUint8, "int16_t": KindInt16, "uint16_t": KindUint16,
	"int32_t": KindInt32, "uint32_t": KindUint32, "int64_t": KindInt64, "uint64_t": KindUint64,
	"float": KindFloat, "double": KindDouble, "bool": KindBool, "char": KindChar,
}

var kindSize = [...]int{KindInt8: 1, KindUint8: 1, KindInt16: 2, KindUint16: 2, KindInt32: 4,
	KindUint32: 4, KindInt64: 8, KindUint64: 8, KindFloat: 4, KindDouble: 8, KindBool: 1, KindChar: 1}

// Limits that keep hostile definitions from costing memory or time.
const (
	maxFields     = 1024     // fields in one format
	maxArray      = 65535    // elements of one array field
	maxStructSize = 1 << 16  // bytes of one resolved struct (messages are at most 65535 bytes)
	maxDepth      = 16       // nesting depth
	maxDefBytes   = 16 << 20 // bytes of format definitions kept for one file
)

// fieldDef is one field of a format as written in its F message.
type fieldDef struct {
	Type     string // base type name or nested format name
	ArrayLen int    // 0 for a scalar
	Name     string
}

// def is a format definition (an F message) before its nested types are resolved.
type def struct {
	Name   string
	Fields []fieldDef
}

// parseDef parses "name:type field;type[N] field;...".
func parseDef(s string) (*def, error) {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 {
		return nil, fmt.Errorf("format without name")
	}
	d := &def{Name: s[:colon]}
	for _, part := range strings.Split(s[colon+1:], ";") {
		if part == "" {
			continue
		}
		if len(d.Fields) >= maxFields {
			return nil, fmt.Errorf("format %q has more than %d fields", d.Name, maxFields)
		}
		sp := strings.IndexByte(part, ' ')
		if sp <= 0 || sp == len(part)-1 {
			return nil, fmt.Errorf("format %q: bad field %q", d.Name, part)
		}
		typ, name := part[:sp], part[sp+1:]
		f := fieldDef{Type: typ, Name: name}
		if lb := strings.IndexByte(typ, '['); lb >= 0 {
			rb := strings.IndexByte(typ, ']')
			if rb < lb+2 || rb != len(typ)-1 {
				return nil, fmt.Errorf("format %q: bad array type %q", d.Name, typ)
			}
			n, err := strconv.Atoi(typ[lb+1 : rb])
			if err != nil || n < 1 || n > maxArray {
				return nil, fmt.Errorf("format %q: bad array length in %q", d.Name, typ)
			}
			f.Type, f.ArrayLen = typ[:lb], n
		}
		d.Fields = append(d.Fields, f)
	}
	return d, nil
}

// Field is one field of a resolved layout.
type Field struct {
	Name     string
	Kind     Kind
	ArrayLen int     // 0 for a scalar
	Offset   int     // byte offset inside the struct
	Nested   *Layout // for KindNested
	Padding  bool    // name starts with _padding: ignored when reading
	elemSize int
}

// Size is the field's total size in bytes.
func (f *Field) Size() int {
	if f.ArrayLen > 0 {
		return f.elemSize * f.ArrayLen
	}
	return f.elemSize
}

// Layout is a format with nested types resolved into packed offsets.
type Layout struct {
	Name   string
	Fields []Field
	// Size is the full packed size including padding fields.
	Size int
	// MinSize is Size without the trailing padding fields, which the writer may omit from D
	// payloads (the spec allows it; PX4's logger does it).
	MinSize int
	byName  map[string]int
}

// Field returns the top-level field with the given name, or nil.
func (l *Layout) Field(name string) *Field {
	if i, ok := l.byName[name]; ok {
		return &l.Fields[i]
	}
	return nil
}

// resolver turns definitions into layouts, memoising them; a definition may refer to a nested
// format defined after it, so resolution happens when a subscription needs it.
type resolver struct {
	defs    map[string]*def
	layouts map[string]*Layout
	bytes   int
}

// add keeps a definition; it refuses more than maxDefBytes of them in one file (real logs
// hold well under 1 MB).
func (r *resolver) add(d *def, size int) error {
	if r.defs == nil {
		r.defs = map[string]*def{}
		r.layouts = map[string]*Layout{}
	}
	if r.bytes+size > maxDefBytes {
		return fmt.Errorf("format %q: more than %d bytes of format definitions", d.Name, maxDefBytes)
	}
	r.bytes += size
	r.defs[d.Name] = d
	// A redefinition invalidates every layout that might embed the old one.
	clear(r.layouts)
	return nil
}

func (r *resolver) layout(name string) (*Layout, error) { return r.resolve(name, 0) }

func (r *resolver) resolve(name string, depth int) (*Layout, error) {
	if l, ok := r.layouts[name]; ok {
		if l == nil {
			return nil, fmt.Errorf("format %q refers to itself", name)
		}
		return l, nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("format %q nested deeper than %d", name, maxDepth)
	}
	d, ok := r.defs[name]
	if !ok {
		return nil, fmt.Errorf("no format %q", name)
	}
	r.layouts[name] = nil // marks "in progress" to catch cycles
	l := &Layout{Name: name, Fields: make([]Field, 0, len(d.Fields)), byName: make(map[string]int, len(d.Fields))}
	off := 0
	for _, fd := range d.Fields {
		f := Field{Name: fd.Name, ArrayLen: fd.ArrayLen, Offset: off, Padding: strings.HasPrefix(fd.Name, "_padding")}
		if k, ok := kindByName[fd.Type]; ok {
			f.Kind, f.elemSize = k, kindSize[k]
		} else {
			nl, err := r.resolve(fd.Type, depth+1)
			if err != nil {
				delete(r.layouts, name)
				return nil, err
			}
			f.Kind, f.Nested, f.elemSize = KindNested, nl, nl.Size
		}
		off += f.Size()
		if off > maxStructSize {
			delete(r.layouts, name)
			return nil, fmt.Errorf("format %q larger than %d bytes", name, maxStructSize)
		}
		l.byName[f.Name] = len(l.Fields)
		l.Fields = append(l.Fields, f)
	}
	l.Size = off
	l.MinSize = off
	for i := len(l.Fields) - 1; i >= 0 && l.Fields[i].Padding; i-- {
		l.MinSize = l.Fields[i].Offset
	}
	r.layouts[name] = l
	return l, nil
}

// Float reads element i of a numeric field from a struct's bytes. ok is false when the bytes
// are too short or the field is nested.
func (f *Field) Float(b []byte, i int) (float64, bool) {
	if i < 0 || (f.ArrayLen == 0 && i > 0) || (f.ArrayLen > 0 && i >= f.ArrayLen) || f.Kind == KindNested {
		return 0, false
	}
	off := f.Offset + i*f.elemSize
	if off+f.elemSize > len(b) {
		return 0, false
	}
	return readKind(f.Kind, b[off:]), true
}

// Uint64 reads an unsigned integer field exactly (a float64 would round 64-bit timestamps).
func (f *Field) Uint64(b []byte) (uint64, bool) {
	off := f.Offset
	if off+f.elemSize > len(b) {
		return 0, false
	}
	switch f.Kind {
	case KindUint64, KindInt64:
		return binary.LittleEndian.Uint64(b[off:]), true
	case KindUint32:
		return uint64(binary.LittleEndian.Uint32(b[off:])), true
	}
	v, ok := f.Float(b, 0)
	return uint64(v), ok
}

// String reads a char[N] field; ULog strings are not NUL-terminated, but PX4 pads with NULs.
func (f *Field) String(b []byte) (string, bool) {
	if f.Kind != KindChar {
		return "", false
	}
	end := f.Offset + f.Size()
	if end > len(b) {
		return "", false
	}
	s := b[f.Offset:end]
	if i := indexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return string(s), true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func readKind(k Kind, b []byte) float64 {
	switch k {
	case KindInt8:
		return float64(int8(b[0]))
	case KindUint8, KindBool, KindChar:
		return float64(b[0])
	case KindInt16:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case KindUint16:
		return float64(binary.LittleEndian.Uint16(b))
	case KindInt32:
		return float64(int32(binary.LittleEndian.Uint32(b)))
	case KindUint32:
		return float64(binary.LittleEndian.Uint32(b))
	case KindInt64:
		return float64(int64(binary.LittleEndian.Uint64(b)))
	case KindUint64:
		return float64(binary.LittleEndian.Uint64(b))
	case KindFloat:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case KindDouble:
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return math.NaN()
}

// Lookup finds a field by a dotted path through nested types, e.g. "current.lat".
func (l *Layout) Lookup(path string) (f Field, ok bool) {
	cur := l
	base := 0
	for {
		dot := strings.IndexByte(path, '.')
		name := path
		if dot >= 0 {
			name = path[:dot]
		}
		p := cur.Field(name)
		if p == nil {
			return Field{}, false
		}
		if dot < 0 {
			f = *p
			f.Offset += base
			return f, true
		}
		if p.Kind != KindNested || p.ArrayLen > 0 {
			return Field{}, false
		}
		base += p.Offset
		cur = p.Nested
		path = path[dot+1:]
	}
}
