package dataflash

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
)

// Format-character facts come from the "Format characters" comment block of
// ArduPilot/ardupilot@001064f4:libraries/AP_Logger/LogStructure.h and pymavlink's
// FORMAT_TO_STRUCT (ArduPilot/pymavlink@b4c7ca29:DFReader.py); see
// ../shared/formats/mavlink-dataflash-ulog.md §6.3.

// charSize is the stored size in bytes of each format character; 0 marks an unknown character.
var charSize = [256]uint8{
	'b': 1, 'B': 1, 'M': 1,
	'h': 2, 'H': 2, 'c': 2, 'C': 2, 'g': 2,
	'i': 4, 'I': 4, 'f': 4, 'e': 4, 'E': 4, 'L': 4, 'n': 4,
	'd': 8, 'q': 8, 'Q': 8,
	'N': 16,
	'Z': 64, 'a': 64,
}

// charScale is the scaling a format character implies when no FMTU multiplier applies:
// c/C/e/E store value×100, L stores degrees×1e7.
func charScale(c byte) float64 {
	switch c {
	case 'c', 'C', 'e', 'E':
		return 0.01
	case 'L':
		return 1e-7
	}
	return 1
}

// defaultMult is the multiplier table of LogStructure.h (`log_Multipliers`), used when a log
// carries FMTU but no MULT message for an id (§6.4).
var defaultMult = map[byte]float64{
	'2': 1e2, '1': 1e1, '0': 1, 'A': 1e-1, 'B': 1e-2, 'C': 1e-3, 'D': 1e-4, 'E': 1e-5,
	'F': 1e-6, 'G': 1e-7, 'I': 1e-9, '!': 3.6, '/': 3600,
}

// Format is one message layout as announced by an FMT message.
type Format struct {
	Type    uint8
	Length  int // total message length including the 3 header bytes
	Name    string
	Format  string
	Columns []string
	// Offsets[i] is the byte offset of column i inside the body (after the 3 header bytes).
	Offsets []int
	// Known is false when the format string holds an unknown character or its sizes do not add
	// up to Length: the message can still be framed by Length but its fields are not decoded.
	Known bool
	// Units and Mults are the per-column FMTU characters, empty until an FMTU names this type.
	Units, Mults string

	scale    []float64 // per column: FMTU multiplier or format-character scaling
	selfDesc int       // selfFMTU or selfMULT when this layout is one of those messages
}

// parseFMT decodes the body of an FMT message (BBnNZ: Type, Length, Name[4], Format[16],
// Columns[64]). It returns false when the body is too short or the length cannot hold a header.
func parseFMT(body []byte) (*Format, bool) {
	if len(body) < 86 {
		return nil, false
	}
	f := &Format{Type: body[0], Length: int(body[1])}
	if f.Length < 3 {
		return nil, false
	}
	f.Name = cstr(body[2:6])
	f.Format = cstr(body[6:22])
	cols := cstr(body[22:86])
	if cols != "" {
		f.Columns = strings.Split(cols, ",")
	}
	f.layout()
	return f, true
}

// layout computes column offsets and decides whether the fields can be decoded.
func (f *Format) layout() {
	f.Offsets = make([]int, len(f.Format))
	off := 0
	f.Known = true
	for i := 0; i < len(f.Format); i++ {
		sz := int(charSize[f.Format[i]])
		if sz == 0 {
			f.Known = false
			break
		}
		f.Offsets[i] = off
		off += sz
	}
	if off != f.Length-3 || len(f.Columns) != len(f.Format) {
		f.Known = false
	}
}

// Column returns the index of a named column, or -1.
func (f *Format) Column(name string) int {
	for i, c := range f.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// cstr returns a NUL-padded string field without its padding.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// raw reads column i of body as a number without any scaling. Strings and arrays read as NaN.
func (f *Format) raw(body []byte, i int) float64 {
	off := f.Offsets[i]
	switch f.Format[i] {
	case 'b':
		return float64(int8(body[off]))
	case 'B', 'M':
		return float64(body[off])
	case 'h', 'c':
		return float64(int16(binary.LittleEndian.Uint16(body[off:])))
	case 'H', 'C':
		return float64(binary.LittleEndian.Uint16(body[off:]))
	case 'i', 'e', 'L':
		return float64(int32(binary.LittleEndian.Uint32(body[off:])))
	case 'I', 'E':
		return float64(binary.LittleEndian.Uint32(body[off:]))
	case 'f':
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(body[off:])))
	case 'd':
		return math.Float64frombits(binary.LittleEndian.Uint64(body[off:]))
	case 'q':
		return float64(int64(binary.LittleEndian.Uint64(body[off:])))
	case 'Q':
		return float64(binary.LittleEndian.Uint64(body[off:]))
	case 'g':
		return float16(binary.LittleEndian.Uint16(body[off:]))
	}
	return math.NaN()
}

// float16 converts an IEEE 754 half-precision value.
func float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}
