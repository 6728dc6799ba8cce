package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// jsonDoc walks a JSON document that encoding/json has already found valid. Walking it by hand
// keeps the byte offset of every part of a zone file, so that an error names a line and column,
// and reads coordinates without building a tree of interfaces: a 1 M-vertex file costs one pass.
type jsonDoc struct {
	b    []byte
	ends map[int]int // the end of every large array or object already skipped once, by start
}

// bigValue is the size from which the end of a skipped array or object is remembered: the walk
// then skips the coordinates of a large polygon once, not once per level of the document.
const bigValue = 256

// at is an error at a byte offset of the document.
type at struct {
	off int
	msg string
}

func errAt(off int, format string, args ...any) *at {
	return &at{off: off, msg: fmt.Sprintf(format, args...)}
}

// lineCol turns a byte offset into a 1-based line and a 1-based column counted in characters.
func lineCol(b []byte, off int) (line, col int) {
	off = max(0, min(off, len(b)))
	line = 1 + bytes.Count(b[:off], []byte{'\n'})
	start := bytes.LastIndexByte(b[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(b[start:off])
}

// jsonErrorOffset is where encoding/json found the document wrong.
func jsonErrorOffset(err error) (int, bool) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if strings.HasPrefix(se.Error(), "invalid character") {
			return int(se.Offset) - 1, true // the offset is past the character
		}
		return int(se.Offset), true
	case errors.As(err, &te):
		return int(te.Offset), true
	}
	return 0, false
}

func (d jsonDoc) ws(i int) int {
	for i < len(d.b) {
		switch d.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// end is the offset just past the value that starts at i.
func (d jsonDoc) end(i int) int {
	switch d.b[i] {
	case '"':
		return d.strEnd(i)
	case '{', '[':
		if e, ok := d.ends[i]; ok {
			return e
		}
		var open [64]int
		stack := open[:0]
		for ; i < len(d.b); i++ {
			switch d.b[i] {
			case '"':
				i = d.strEnd(i) - 1
			case '{', '[':
				stack = append(stack, i)
			case '}', ']':
				start := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if i+1-start >= bigValue && d.ends != nil {
					d.ends[start] = i + 1
				}
				if len(stack) == 0 {
					return i + 1
				}
			}
		}
		return len(d.b)
	}
	for i < len(d.b) {
		switch d.b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

func (d jsonDoc) strEnd(i int) int {
	for i++; i < len(d.b); i++ {
		switch d.b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(d.b)
}

// kind names the JSON type of the value at i for messages.
func (d jsonDoc) kind(i int) string {
	switch d.b[i] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// members calls fn with the key and value offset of each member of the object at i, until fn
// returns false.
func (d jsonDoc) members(i int, fn func(key string, v int) bool) {
	i = d.ws(i + 1)
	if d.b[i] == '}' {
		return
	}
	for {
		ke := d.strEnd(i)
		key := d.str(i, ke)
		v := d.ws(d.ws(ke) + 1)
		if !fn(key, v) {
			return
		}
		i = d.ws(d.end(v))
		if d.b[i] == '}' {
			return
		}
		i = d.ws(i + 1)
	}
}

// elements calls fn with the offset of each element of the array at i. fn returns where the
// element ends if it has read it, 0 to have it skipped, or -1 to stop.
func (d jsonDoc) elements(i int, fn func(v int) int) {
	i = d.ws(i + 1)
	if d.b[i] == ']' {
		return
	}
	for {
		e := fn(i)
		if e < 0 {
			return
		}
		if e == 0 {
			e = d.end(i)
		}
		i = d.ws(e)
		if d.b[i] == ']' {
			return
		}
		i = d.ws(i + 1)
	}
}

// str decodes the string d.b[s:e], quotes included.
func (d jsonDoc) str(s, e int) string {
	raw := d.b[s+1 : e-1]
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	var v string
	json.Unmarshal(d.b[s:e], &v)
	return v
}

// stringAt decodes the value at i if it is a string.
func (d jsonDoc) stringAt(i int) (string, bool) {
	if d.b[i] != '"' {
		return "", false
	}
	return d.str(i, d.strEnd(i)), true
}

// numberAt decodes the value at i if it is a number. A number too large for a float64 is ±Inf.
func (d jsonDoc) numberAt(i int) (float64, int, bool) {
	c := d.b[i]
	if c != '-' && (c < '0' || c > '9') {
		return 0, i, false
	}
	if v, e, ok := d.plainDecimal(i); ok {
		return v, e, true
	}
	e := i + 1
	for e < len(d.b) {
		c := d.b[e]
		if (c < '0' || c > '9') && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			break
		}
		e++
	}
	v, err := strconv.ParseFloat(string(d.b[i:e]), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, e, false
	}
	return v, e, true
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// plainDecimal reads the common coordinate, -?digits[.digits] with at most 15 digits, without
// strconv: the digits as an integer are exact in a float64, and so is the power of ten, so their
// quotient is the correctly rounded value (Clinger's fast path), as strconv would give.
func (d jsonDoc) plainDecimal(i int) (float64, int, bool) {
	neg := d.b[i] == '-'
	if neg {
		i++
	}
	var m uint64
	digits, frac := 0, -1
	e := i
	for ; e < len(d.b); e++ {
		c := d.b[e]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		case c == 'e' || c == 'E':
			return 0, 0, false
		default:
			goto done
		}
	}
done:
	if digits == 0 || digits > 15 {
		return 0, 0, false
	}
	v := float64(m)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, e, true
}

// position is one GeoJSON position: up to three of its numbers and how many there were.
type position struct {
	v [3]float64
	n int
}

func (p position) point() orb.Point { return orb.Point{p.v[0], p.v[1]} }

func (p position) String() string {
	return fmtPosition(p.v[:min(p.n, 3)]...)
}

// fmtPosition prints a position as the file would: [lon, lat].
func fmtPosition(v ...float64) string {
	b := []byte{'['}
	for i, x := range v {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	return string(append(b, ']'))
}

// position reads the position at i and checks that it is a longitude and latitude in range.
// It returns where the position ends.
func (d jsonDoc) position(i int) (position, int, *at) {
	var p position
	if d.b[i] != '[' {
		return p, 0, errAt(i, "is %s, want an array [longitude, latitude]", d.kind(i))
	}
	var bad *at
	end := 0
	d.elements(i, func(v int) int {
		x, e, ok := d.numberAt(v)
		if !ok {
			bad = errAt(v, "holds %s, want numbers [longitude, latitude]", d.kind(v))
			return -1
		}
		if p.n < 3 {
			p.v[p.n] = x
		}
		p.n++
		end = e
		return e
	})
	if bad != nil {
		return p, 0, bad
	}
	if p.n < 2 {
		return p, 0, errAt(i, "%s has %d number(s), want [longitude, latitude]", p, p.n)
	}
	return p, d.ws(end) + 1, nil
}

// lonLatReason says why a position is not a longitude and latitude in range, or "" if it is;
// when the numbers would be in range the other way round it says so.
func lonLatReason(p orb.Point) string {
	lon, lat := p[0], p[1]
	inRange := func(lon, lat float64) bool {
		return !math.IsInf(lon, 0) && !math.IsInf(lat, 0) && lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90
	}
	if inRange(lon, lat) {
		return ""
	}
	if inRange(lat, lon) {
		return fmt.Sprintf("latitude %g is outside ±90; as %s it would be in range: are longitude and latitude swapped? GeoJSON gives [longitude, latitude]", lat, fmtPosition(lat, lon))
	}
	return "longitude must be within ±180 and latitude within ±90"
}

// errTooMany marks the error of a file with more positions than maxZoneVertices.
const errTooMany = "too many positions"

// rawRing is a ring as the file gives it.
type rawRing struct {
	off int // of the ring's array
	pts orb.Ring
}

// ring reads the array of positions at i. budget counts the positions left in the whole file.
func (d jsonDoc) ring(i int, budget *int) (rawRing, *at) {
	r := rawRing{off: i}
	if d.b[i] != '[' {
		return r, errAt(i, "is %s, want an array of positions", d.kind(i))
	}
	if e, ok := d.ends[i]; ok {
		r.pts = make(orb.Ring, 0, (e-i)/16+1) // a position takes 16 bytes or more, as [5.47,51.16],
	}
	var first, last position
	var bad *at
	d.elements(i, func(v int) int {
		if *budget--; *budget < 0 {
			bad = errAt(v, errTooMany)
			return -1
		}
		p, end, err := d.position(v)
		if err != nil {
			err.msg = fmt.Sprintf("position %d %s", len(r.pts), err.msg)
			bad = err
			return -1
		}
		if reason := lonLatReason(p.point()); reason != "" {
			bad = errAt(v, "position %d %s: %s", len(r.pts), p, reason)
			return -1
		}
		if len(r.pts) == 0 {
			first = p
		}
		last = p
		r.pts = append(r.pts, p.point())
		return end
	})
	if bad != nil {
		return r, bad
	}
	if len(r.pts) < 4 {
		return r, errAt(i, "has %d positions, a closed ring needs at least 4", len(r.pts))
	}
	if first != last {
		return r, errAt(i, "is not closed (first and last positions differ: %s and %s; RFC 7946 §3.1.6)", first, last)
	}
	return r, nil
}

// nth is the offset of position k of the ring array at i, for messages.
func (d jsonDoc) nth(i, k int) int {
	off := i
	d.elements(i, func(v int) int {
		off = v
		if k--; k < 0 {
			return -1
		}
		return 0
	})
	return off
}
