package jsonpos

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"droneaudit/geo"
)

// The scanner below reads a document as encoding/json's Decoder (with UseNumber, into an `any`)
// would, and keeps only what the walk looks at, without building maps and interfaces: it is on
// the path of every JSON body and MQTT message. It accepts exactly what the Decoder accepts
// (RFC 8259's grammar; bytes >= 0x20 in strings, invalid UTF-8 included; one value, then anything:
// the Decoder reads the first value of a stream and leaves the rest), decodes member names and
// strings as the Decoder does (escapes, surrogate pairs, U+FFFD for invalid UTF-8 and lone
// surrogates), keeps the last of duplicate member names as a map does, and walks the members in
// sorted name order as walk does. The differential fuzz target (FuzzFindDifferential) compares
// it with the Decoder-based walk.

// maxNesting is encoding/json's bound on nested arrays and objects: a deeper document is an
// error there, so it is one here.
const maxNesting = 10000

var (
	errEOF     = errors.New("jsonpos: unexpected end of JSON input")
	errSyntax  = errors.New("jsonpos: invalid JSON")
	errNesting = errors.New("jsonpos: JSON nested too deeply")
)

type kind uint8

const (
	kindOther kind = iota // true, false, null
	kindNumber
	kindString
	kindObject
	kindArray
)

// node is one value the walk can reach: the members of objects at most maxDepth deep, and the
// arrays and objects among the elements of such arrays. The nodes of a subtree follow their
// container in document order; end is the index after the subtree.
type node struct {
	key  []byte // the member name, decoded (a member of an object)
	val  []byte // a number's text or a string's decoded bytes
	end  int32
	idx  int32 // the element index (an element of an array)
	kind kind
	// ascii is set when the name is known to be ASCII (read without escapes or other bytes).
	ascii bool
}

type frame struct {
	node   int32 // the container's node, or -1 when it is not kept
	n      int32 // elements read so far (arrays)
	object bool
}

type pathSeg struct {
	key []byte
	idx int32
	elt bool
}

type scanner struct {
	doc   []byte
	pos   int
	nodes []node
	stack []frame
	arena []byte // decoded strings that differ from their bytes in the document
	// walk state
	members [][]int32 // per walk depth: the members of the object being walked, sorted
	path    []pathSeg
	out     []Position
	max     int
	def     geo.Role
	// validOnly keeps no node (Valid).
	validOnly bool
	// strASCII says the last string str read was plain ASCII; keyASCII, the last member name.
	strASCII, keyASCII bool
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

// keepNodes bounds the node slice a pooled scanner keeps for the next document.
const keepNodes = 1 << 12

// findFast is Find on the scanner: the error, if any, is the scanner's own.
func findFast(doc []byte, defaultRole geo.Role, max int) ([]Position, error) {
	s := scanners.Get().(*scanner)
	defer s.release()
	s.doc, s.pos = doc, 0
	if err := s.parse(); err != nil {
		return nil, err
	}
	if len(s.nodes) == 0 {
		return nil, nil // a scalar
	}
	s.max, s.def = max, defaultRole
	s.walk(0, nil, 0)
	out := s.out
	s.out = nil
	return out, nil
}

// Valid reports whether b is one JSON value with only white space around it, as encoding/json's
// Valid does (the same grammar and nesting bound), with the scanner's loops instead of its
// state machine's function call per byte.
func Valid(b []byte) bool {
	s := scanners.Get().(*scanner)
	defer s.release()
	s.doc, s.pos, s.validOnly = b, 0, true
	if s.parse() != nil {
		return false
	}
	s.ws()
	return s.pos == len(b)
}

func (s *scanner) release() {
	s.doc, s.out, s.validOnly = nil, nil, false
	if cap(s.nodes) > keepNodes || cap(s.arena) > 1<<16 || cap(s.stack) > 64 || len(s.members) > maxDepth+1 {
		return // a large document's memory is left to the collector
	}
	for _, m := range s.members {
		if cap(m) > keepNodes {
			return
		}
	}
	clear(s.nodes) // drop references into the document
	s.nodes = s.nodes[:0]
	s.stack = s.stack[:0]
	s.arena = s.arena[:0]
	s.path = s.path[:0]
	scanners.Put(s)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (s *scanner) ws() {
	for s.pos < len(s.doc) && isSpace(s.doc[s.pos]) {
		s.pos++
	}
}

// keep reports whether a value at the current nesting is kept as a node, and with which name or
// index. Members of kept objects are kept if the object is at most maxDepth deep; of arrays, only
// the arrays and objects (walk does nothing with a scalar element).
func (s *scanner) keep(container bool) (parent *frame, ok bool) {
	if s.validOnly {
		return nil, false
	}
	if len(s.stack) == 0 {
		return nil, container
	}
	top := &s.stack[len(s.stack)-1]
	if top.node < 0 || len(s.stack) > maxDepth+1 {
		return top, false
	}
	return top, top.object || container
}

// parse reads the first value of the document.
func (s *scanner) parse() error {
	var key []byte
	for {
		// A value.
		s.ws()
		if s.pos >= len(s.doc) {
			return errEOF
		}
		c := s.doc[s.pos]
		switch {
		case c == '{' || c == '[':
			if len(s.stack) >= maxNesting {
				return errNesting
			}
			ni := int32(-1)
			if top, ok := s.keep(true); ok {
				ni = s.add(top, key, kindArray)
				if c == '{' {
					s.nodes[ni].kind = kindObject
				}
			}
			s.stack = append(s.stack, frame{node: ni, object: c == '{'})
			s.pos++
			s.ws()
			if s.pos >= len(s.doc) {
				return errEOF
			}
			if (c == '{' && s.doc[s.pos] == '}') || (c == '[' && s.doc[s.pos] == ']') {
				break // empty: closed below
			}
			if c == '{' {
				var err error
				if key, err = s.member(); err != nil {
					return err
				}
			}
			continue
		case c == '"':
			top, ok := s.keep(false)
			v, err := s.str(ok)
			if err != nil {
				return err
			}
			if ok {
				ni := s.add(top, key, kindString)
				s.nodes[ni].val = v
			}
		case c == '-' || (c >= '0' && c <= '9'):
			start := s.pos
			if err := s.number(); err != nil {
				return err
			}
			if top, ok := s.keep(false); ok {
				ni := s.add(top, key, kindNumber)
				s.nodes[ni].val = s.doc[start:s.pos:s.pos]
			}
		case c == 't':
			if err := s.literal("true"); err != nil {
				return err
			}
			s.other(key)
		case c == 'f':
			if err := s.literal("false"); err != nil {
				return err
			}
			s.other(key)
		case c == 'n':
			if err := s.literal("null"); err != nil {
				return err
			}
			s.other(key)
		default:
			return errSyntax
		}
		// After a value: a separator, or the end of containers.
		for {
			if len(s.stack) == 0 {
				return nil // the first value is read; the Decoder leaves what follows
			}
			s.ws()
			if s.pos >= len(s.doc) {
				return errEOF
			}
			top := &s.stack[len(s.stack)-1]
			c := s.doc[s.pos]
			if c == ',' {
				s.pos++
				if top.object {
					s.ws()
					var err error
					if key, err = s.member(); err != nil {
						return err
					}
				} else {
					top.n++
				}
				break
			}
			if (top.object && c == '}') || (!top.object && c == ']') {
				s.pos++
				if top.node >= 0 {
					s.nodes[top.node].end = int32(len(s.nodes))
				}
				s.stack = s.stack[:len(s.stack)-1]
				continue
			}
			return errSyntax
		}
	}
}

func (s *scanner) other(key []byte) {
	if top, ok := s.keep(false); ok {
		s.add(top, key, kindOther)
	}
}

// add appends a node for a value in top (nil for the document's own value).
func (s *scanner) add(top *frame, key []byte, k kind) int32 {
	n := node{kind: k, end: int32(len(s.nodes)) + 1}
	if top != nil {
		if top.object {
			n.key, n.ascii = key, s.keyASCII
		} else {
			n.idx = top.n
		}
	}
	s.nodes = append(s.nodes, n)
	return int32(len(s.nodes) - 1)
}

// member reads a member name and its colon, at s.pos after white space.
func (s *scanner) member() ([]byte, error) {
	if s.pos >= len(s.doc) {
		return nil, errEOF
	}
	if s.doc[s.pos] != '"' {
		return nil, errSyntax
	}
	_, keep := s.keep(false)
	k, err := s.str(keep)
	if err != nil {
		return nil, err
	}
	s.keyASCII = s.strASCII
	s.ws()
	if s.pos >= len(s.doc) {
		return nil, errEOF
	}
	if s.doc[s.pos] != ':' {
		return nil, errSyntax
	}
	s.pos++
	return k, nil
}

func (s *scanner) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if s.pos >= len(s.doc) {
			return errEOF
		}
		if s.doc[s.pos] != lit[i] {
			return errSyntax
		}
		s.pos++
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (RFC 8259 §6).
func (s *scanner) number() error {
	d := s.doc
	if d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos >= len(d):
		return errEOF
	case d[s.pos] == '0':
		s.pos++
	case isDigit(d[s.pos]):
		for s.pos < len(d) && isDigit(d[s.pos]) {
			s.pos++
		}
	default:
		return errSyntax
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if err := s.digits(); err != nil {
			return err
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		return s.digits()
	}
	return nil
}

func (s *scanner) digits() error {
	if s.pos >= len(s.doc) {
		return errEOF
	}
	if !isDigit(s.doc[s.pos]) {
		return errSyntax
	}
	for s.pos < len(s.doc) && isDigit(s.doc[s.pos]) {
		s.pos++
	}
	return nil
}

// str reads a string at s.pos (the opening quote) and, if decode is set, returns its contents as
// encoding/json decodes them: a slice of the document when no byte needs decoding.
func (s *scanner) str(decode bool) ([]byte, error) {
	d := s.doc
	start := s.pos + 1
	i := start
	for i < len(d) {
		c := d[i]
		if c == '"' {
			s.pos = i + 1
			s.strASCII = true
			return d[start:i:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	// Escapes or bytes beyond ASCII: validate (and decode) the rest.
	s.strASCII = false
	mark := len(s.arena)
	if decode {
		s.arena = append(s.arena, d[start:i]...)
	}
	for {
		if i >= len(d) {
			return nil, errEOF
		}
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			if !decode {
				return nil, nil
			}
			return s.arena[mark:len(s.arena):len(s.arena)], nil
		case c < 0x20:
			return nil, errSyntax
		case c == '\\':
			if i+1 >= len(d) {
				return nil, errEOF
			}
			var r byte
			switch d[i+1] {
			case '"', '\\', '/':
				r = d[i+1]
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				u, err := hex4(d[i+2:])
				if err != nil {
					return nil, err
				}
				i += 6
				if utf16.IsSurrogate(u) {
					// A pair only if a valid \u escape of the other half follows (as the Decoder).
					if len(d) >= i+6 && d[i] == '\\' && d[i+1] == 'u' {
						if u2, err := hex4(d[i+2:]); err == nil {
							if dec := utf16.DecodeRune(u, u2); dec != utf8.RuneError {
								u = dec
								i += 6
								if decode {
									s.arena = utf8.AppendRune(s.arena, u)
								}
								continue
							}
						}
					}
					u = utf8.RuneError
				}
				if decode {
					s.arena = utf8.AppendRune(s.arena, u)
				}
				continue
			default:
				return nil, errSyntax
			}
			if decode {
				s.arena = append(s.arena, r)
			}
			i += 2
		case c < utf8.RuneSelf:
			if decode {
				s.arena = append(s.arena, c)
			}
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if decode {
				s.arena = utf8.AppendRune(s.arena, r)
			}
			i += size
		}
	}
}

// hex4 reads the four hex digits of a \u escape.
func hex4(b []byte) (rune, error) {
	var r rune
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, errEOF
		}
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, errSyntax
		}
		r = r<<4 | rune(c)
	}
	return r, nil
}

// walk is walk of jsonpos.go on the kept nodes: the positions of an object in sorted member
// order, then its arrays and objects in the same order; the elements of an array in order.
// parent is the name of the member holding the container (not lowered yet).
func (s *scanner) walk(ni int32, parent []byte, depth int) {
	if depth > maxDepth || len(s.out) >= s.max {
		return
	}
	n := &s.nodes[ni]
	end := n.end
	if n.kind == kindArray {
		for c := ni + 1; c < end; c = s.nodes[c].end {
			s.path = append(s.path, pathSeg{idx: s.nodes[c].idx, elt: true})
			s.walk(c, parent, depth+1)
			s.path = s.path[:len(s.path)-1]
		}
		return
	}
	for len(s.members) <= depth {
		s.members = append(s.members, nil)
	}
	ms := s.members[depth][:0]
	for c := ni + 1; c < end; c = s.nodes[c].end {
		ms = append(ms, c)
	}
	ms = s.sortMembers(ms)
	s.members[depth] = ms
	for _, m := range ms {
		if n := &s.nodes[m]; !n.ascii || hasFoldSuffix(n.key, "lat") || hasFoldSuffix(n.key, "latitude") {
			s.position(ms, m, parent)
		}
	}
	for _, m := range ms {
		if k := s.nodes[m].kind; k == kindObject || k == kindArray {
			s.path = append(s.path, pathSeg{key: s.nodes[m].key})
			s.walk(m, s.nodes[m].key, depth+1)
			s.path = s.path[:len(s.path)-1]
		}
	}
}

// sortMembers orders an object's members by name, as walk sorts a map's keys, keeping only the
// last of equal names (the value a map holds).
func (s *scanner) sortMembers(ms []int32) []int32 {
	cmp := func(a, b int32) int { return bytes.Compare(s.nodes[a].key, s.nodes[b].key) }
	if !slices.IsSortedFunc(ms, cmp) {
		slices.SortStableFunc(ms, cmp)
	}
	w := 0
	for i, m := range ms {
		if i+1 < len(ms) && bytes.Equal(s.nodes[m].key, s.nodes[ms[i+1]].key) {
			continue // a later duplicate follows
		}
		ms[w] = m
		w++
	}
	return ms[:w]
}

// hasFoldSuffix reports whether ASCII k ends in lower-case suf, ignoring ASCII case.
func hasFoldSuffix(k []byte, suf string) bool {
	if len(k) < len(suf) {
		return false
	}
	k = k[len(k)-len(suf):]
	for i := 0; i < len(suf); i++ {
		c := k[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != suf[i] {
			return false
		}
	}
	return true
}

// position is the body of walk's member loop for member m of an object with members ms. The
// lower-case name and the names looked up are made in buffers on the stack.
func (s *scanner) position(ms []int32, m int32, parent []byte) {
	n := &s.nodes[m]
	var lbuf [64]byte
	var lk []byte
	if n.ascii {
		lk = lbuf[:0]
		for _, c := range n.key {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lk = append(lk, c)
		}
	} else {
		lk = []byte(strings.ToLower(string(n.key)))
	}
	var nbuf [96]byte
	for _, pk := range latKeys {
		if !bytes.HasSuffix(lk, []byte(pk.lat)) {
			continue
		}
		prefix := lk[:len(lk)-len(pk.lat)]
		lonv, ok := s.lookup(ms, append(append(nbuf[:0], prefix...), pk.lon...))
		if !ok {
			continue
		}
		lat, ld, ok1 := nodeNumber(n)
		lon, od, ok2 := nodeNumber(lonv)
		if !ok1 || !ok2 {
			continue
		}
		p := Position{Lat: lat, Lon: lon, Decimals: min(ld, od), Path: s.pathString(), Key: string(n.key),
			Role: role(string(prefix), strings.ToLower(string(parent)), s.def)}
		for _, alt := range [...]string{"height", "altitude", "alt"} {
			if av, ok := s.lookup(ms, append(append(nbuf[:0], prefix...), alt...)); ok {
				if a, _, ok := nodeNumber(av); ok {
					p.Alt, p.HasAlt = a, true
					break
				}
			}
		}
		if len(s.out) < s.max {
			if s.out == nil {
				s.out = make([]Position, 0, min(s.max, 4))
			}
			s.out = append(s.out, p)
		}
		break
	}
}

// lookup is lookup of jsonpos.go on sorted members: the exact name, else the first name equal
// under Unicode case folding (a map offers them in random order; a document with two such names
// for one lookup is ambiguous there). Two ASCII names of different lengths never fold together.
func (s *scanner) lookup(ms []int32, key []byte) (*node, bool) {
	lo, hi := 0, len(ms)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if bytes.Compare(s.nodes[ms[h]].key, key) < 0 {
			lo = h + 1
		} else {
			hi = h
		}
	}
	if lo < len(ms) && bytes.Equal(s.nodes[ms[lo]].key, key) {
		return &s.nodes[ms[lo]], true
	}
	keyASCII := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			keyASCII = false
			break
		}
	}
	for _, m := range ms {
		n := &s.nodes[m]
		if keyASCII && n.ascii && len(n.key) != len(key) {
			continue
		}
		if bytes.EqualFold(n.key, key) {
			return n, true
		}
	}
	return nil, false
}

func nodeNumber(n *node) (float64, int, bool) {
	if n.kind != kindNumber && n.kind != kindString {
		return 0, 0, false
	}
	return geo.ParseDecimal(n.val, geo.DecimalExponent)
}

// pathString is the JSON path of the object being walked, as walk joins it.
func (s *scanner) pathString() string {
	if len(s.path) == 0 {
		return ""
	}
	var buf [96]byte // most paths fit: only the string is made
	b := buf[:0]
	for _, sg := range s.path {
		if sg.elt {
			b = append(b, '[')
			b = strconv.AppendInt(b, int64(sg.idx), 10)
			b = append(b, ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, sg.key...)
	}
	return string(b)
}
