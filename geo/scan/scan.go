package scan

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// Hit is one latitude/longitude pair found in the bytes and inside a target.
type Hit struct {
	Lat, Lon float64
	Encoding Encoding
	// Offset is where the pair's first byte is in the scanned bytes; Len how many bytes it
	// spans. A hit found inside a hex, base64 or percent-encoded run (Wrap) has the offset and
	// length of its encoded form.
	Offset, Len int
	PrecisionM  float64 // half-cell of the encoding, metres
	Order       Order
	Wrap        Wrapping
	Target      string // the zone's name, or TargetTrack
}

// Pattern is the compiled search for a set of targets: the window table and the bands. It is
// read-only and shared by every Scanner.
type Pattern struct {
	t *Targets
	// hot is the first test, indexed by a window read as a little-endian uint16 (b[i] |
	// b[i+1]<<8, one load from the bytes). Its low seven bits (hotEntry) are 0 when nothing may
	// be there (98 % of the windows of random bytes), else an index into masks, or hotFull to
	// read tab. A byte per window (64 KiB, L2-resident) costs about three instructions a
	// position, where a bit per window (8 KiB, in L1) cost about eight and was slower. Bit 7 (hotRun) says that both bytes are base64 (or hex)
	// characters: the same loads find the hex and base64 runs (wrap.go).
	hot [1 << 16]uint8
	// masks holds the distinct non-zero table entries (a few dozen), so that the entry of a
	// set window is read from a few hundred bytes in L1 instead of the 512 KiB tab.
	masks   []uint64
	tab     [1 << 16]uint64 // per 16-bit window b[i]<<8 | b[i+1]: the table bits of what may be there
	binLat  bandSet         // latitudes of the targets for the binary forms
	binLon  bandSet
	textLat bandSet // for decimal text, widened by its coarser cells
	textLon bandSet
	// rawLo, rawHi bound the raw values (uint64 before scaling) of each varint form inside the
	// bands: one integer test refuses the varints of random bytes, which a window's 14 bits
	// place in the band only for one length of the varint, before any float conversion.
	rawLo, rawHi [len(varints)]uint64
}

// MaxSpan is the most bytes one hit spans in plain form (two decimal numbers of 3+20 digits and
// a sign, 16 bytes apart): a stream searched in pieces must overlap them by at least this much,
// plus the longest wrapped run it wants to see whole.
const MaxSpan = 64

// binaryWidenM widens the box for the binary forms: more than the half-cell of any of them
// (float32 radians near π: 1.5 m).
const binaryWidenM = 10

// textWidenM widens it for decimal text: a coordinate printed with 2 decimals is ±556 m.
const textWidenM = 600

// geohashWidenM widens it for geohashes: a 5-character cell is 4.9 km × 4.9 km.
const geohashWidenM = 5000

// Compile prepares the search for the targets.
func Compile(t *Targets) *Pattern {
	p := &Pattern{t: t}
	if t.Empty() {
		return p
	}
	p.binLat, p.binLon = bandsOf(t.Boxes(binaryWidenM))
	p.textLat, p.textLon = bandsOf(t.Boxes(textWidenM))
	for i := range forms {
		f := &forms[i]
		for k, bs := range [2]bandSet{p.binLat, p.binLon} {
			bit := uint64(1) << (2*i + k)
			for _, bd := range bs {
				f.keys(bd.lo, bd.hi, func(key uint32) {
					w := key
					if !f.be { // the window reads the two key bytes least significant first
						w = key>>8 | key&0xff<<8
					}
					p.tab[w&0xffff] |= bit
				})
			}
		}
	}
	for i := range varints {
		v := &varints[i]
		p.rawLo[i], p.rawHi[i] = math.MaxUint64, 0
		for k, bs := range [2]bandSet{p.binLat, p.binLon} {
			bit := uint64(1) << (varintBit0 + 2*i + k)
			for _, bd := range bs {
				v.keys(bd.lo, bd.hi, func(w uint32) { p.tab[w&0xffff] |= bit })
				v.raws(bd.lo, bd.hi, func(lo, hi uint64) {
					// Two units of slack: a raw value just outside the rounded interval may
					// still scale into the band.
					p.rawLo[i], p.rawHi[i] = min(p.rawLo[i], max(lo, 2)-2), max(p.rawHi[i], min(hi, math.MaxUint64-2)+2)
				})
			}
		}
	}
	// Decimal text: a digit before a decimal mark.
	for d := '0'; d <= '9'; d++ {
		p.tab[uint32(d)<<8|'.'] |= 1 << bitText
		p.tab[uint32(d)<<8|','] |= 1 << bitText
	}
	for _, bs := range [2]bandSet{p.binLat, p.binLon} {
		for _, bd := range bs {
			intTextPrefixes(bd.lo, bd.hi, func(w uint32) { p.tab[w] |= 1 << bitIntText })
		}
	}
	for _, gbox := range t.Boxes(geohashWidenM) {
		geohashPrefixes(gbox, func(w uint32) { p.tab[w] |= 1 << bitGeohash })
	}
	for c := range 256 {
		if class[c]&clsHex != 0 {
			p.tab['%'<<8|c] |= 1 << bitPercent
		}
	}
	p.masks = []uint64{0}
	index := map[uint64]uint8{}
	for w, m := range p.tab {
		b0, b1 := byte(w>>8), byte(w)
		var h uint8
		if class[b0]&class[b1] != 0 {
			h = hotRun
		}
		if m != 0 {
			e, ok := index[m]
			if !ok {
				e = hotFull
				if len(p.masks) < hotFull {
					e = uint8(len(p.masks))
					p.masks = append(p.masks, m)
				}
				index[m] = e
			}
			h |= e
		}
		p.hot[uint16(b0)|uint16(b1)<<8] = h
	}
	return p
}

// The bits of a hot byte.
const (
	hotEntry = 0x7f // index into masks, 0 for none
	// hotFull as entry sends the lookup to tab: more distinct entries than the bits index (a
	// long track with many bands could make them).
	hotFull = hotEntry
	hotRun  = 0x80 // both bytes of the window are base64/hex characters
)

// Targets returns the targets the pattern was compiled for.
func (p *Pattern) Targets() *Targets { return p.t }

// Stats counts what a scanner did.
type Stats struct {
	Bytes      int64 // scanned, wrapped runs not counted again
	Candidates int64 // single values that passed the range check
	Pairs      int64 // pairs checked against the targets
	Hits       int64
	// HeldRandom counts pairs of the weak forms (int32 scaled) that matched a target inside a
	// stretch of bytes that tests as uniformly random, and were not reported.
	HeldRandom int64
	Decoded    int64 // bytes of hex, base64 and percent-encoded runs decoded and scanned
}

// cand is one value that passed the range check, kept to pair it with the next.
type cand struct {
	form       uint8 // index into forms, or len(forms)+index into varints
	lat, lon   bool  // which band it is in
	start, end int32
	v          float64
}

const ringLen = 32

// Scanner searches byte slices for a Pattern. It keeps scratch space and is used by one
// goroutine; make one per goroutine with NewScanner.
type Scanner struct {
	p     *Pattern
	Stats Stats
	ring  [ringLen]cand
	rn    int
	texts [textRing]token // the last decimal tokens, for pairing
	rn2   int
	ints  [textRing]intTok // the last integer tokens, for pairing
	rn3   int
	buf   []byte
	omap  []int32
	// runs marks the blocks of 8 bytes of the plain pass where a hex or base64 run of 12 or more
	// characters may be (bit q for the block at 8q), up to runsEnd; wrapped measures them.
	runs    []uint64
	runsEnd int
	// pcts marks the blocks of the plain pass that hold a '%' followed by a hex digit (bit q
	// for the block at 8q), where wrapped looks for percent-encoded stretches.
	pcts []uint64
	emit func(Hit)
	// depth 1 while scanning decoded bytes: no wrapped runs inside wrapped runs.
	depth int
	wrap  Wrapping // of the run being scanned at depth 1
	runAt int      // where that run starts in the outer bytes
	// plain keeps the first hits of the plain pass of this Scan, to leave out what a wrapped
	// run repeats.
	plain []Hit
}

// maxPlainKept bounds the plain hits kept for that.
const maxPlainKept = 64

// NewScanner returns a scanner for the pattern.
func NewScanner(p *Pattern) *Scanner { return &Scanner{p: p} }

// Scan reports every hit in b to emit, in the order found: the plain bytes first, then what
// hex, base64 and percent-encoded runs hold. It never keeps b.
func (s *Scanner) Scan(b []byte, emit func(Hit)) {
	if s.p.t.Empty() {
		return
	}
	s.Stats.Bytes += int64(len(b))
	s.emit, s.plain = emit, s.plain[:0]
	s.scan(b)
	s.wrapped(b)
	s.emit = nil
}

// scan runs the window table over b (plain bytes, or decoded bytes at depth 1).
func (s *Scanner) scan(b []byte) {
	s.rn, s.rn2, s.rn3 = 0, 0, 0
	if s.depth == 0 {
		// One bit per block of 8 bytes; only the plain pass marks them (wrapped reads them
		// while the decoded bytes of a run are scanned at depth 1).
		n := len(b)/512 + 1
		s.runs, s.runsEnd = slices.Grow(s.runs[:0], n)[:n], 0
		s.pcts = slices.Grow(s.pcts[:0], n)[:n]
		clear(s.runs)
		clear(s.pcts)
	}
	p := s.p
	if len(b) < 2 {
		return
	}
	// The hot loop: per position, one 16-bit load of the window and one byte of hot; the eight
	// bytes of a block are or-ed, so the common block (no window set, no run) costs one branch.
	// A set block is looked at again position by position (in random bytes one block in seven).
	//
	// The same bytes find the hex and base64 runs: a run of minB64Run (12) characters or more
	// covers two consecutive aligned groups of four bytes (its first full group starts at most
	// 3 bytes in, and 3+8 < 12). A group is all run characters when the hotRun bits of its
	// windows at 0 and 2 are; the groups of a block are its halves. A block where the last
	// group of the one before and its first, or both of its own, are run characters marks its
	// first byte in s.runs for wrapped, which measures the run there after the plain pass (in
	// random bytes, where a quarter of the bytes are base64 characters, about one block in
	// 30,000; the separate sampling pass this replaces cost a fifth of the search).
	hot := &p.hot
	var runs []uint64 // nil at depth 1
	if s.depth == 0 {
		runs = s.runs
	}
	var prevGroup uint8 // the hotRun bit of the last group of the block before
	i := 0
	for ; i+9 <= len(b); i += 8 {
		c := b[i : i+9 : i+9] // the block's eight windows; constant indexes below, no bounds checks
		h0, h2 := hot[binary.LittleEndian.Uint16(c[0:])], hot[binary.LittleEndian.Uint16(c[2:])]
		h4, h6 := hot[binary.LittleEndian.Uint16(c[4:])], hot[binary.LittleEndian.Uint16(c[6:])]
		h := h0 | h2 | h4 | h6 |
			hot[binary.LittleEndian.Uint16(c[1:])] | hot[binary.LittleEndian.Uint16(c[3:])] |
			hot[binary.LittleEndian.Uint16(c[5:])] | hot[binary.LittleEndian.Uint16(c[7:])]
		first, second := h0&h2, h4&h6
		run := (prevGroup | second) & first & hotRun
		prevGroup = second
		if h&hotEntry|run == 0 {
			continue
		}
		if run != 0 && len(runs) > 0 {
			runs[i>>9] |= 1 << (i >> 3 & 63)
		}
		if h&hotEntry == 0 {
			continue
		}
		// The set windows as bits, without a branch per position (which would mispredict at
		// each set one); usually one bit.
		var set uint
		for k := range 8 {
			set |= (uint(hot[binary.LittleEndian.Uint16(c[k:])]&hotEntry) + hotEntry) >> 7 << k
		}
		for set != 0 {
			k := bits.TrailingZeros(set)
			set &= set - 1
			s.at(b, i+k, p.entry(c[k], c[k+1], hot[binary.LittleEndian.Uint16(c[k:])]&hotEntry))
		}
	}
	if s.depth == 0 {
		s.runsEnd = i
	}
	for ; i < len(b)-1; i++ {
		if h := hot[uint16(b[i])|uint16(b[i+1])<<8] & hotEntry; h != 0 {
			s.at(b, i, p.entry(b[i], b[i+1], h))
		}
	}
}

// entry returns the table bits of the window b0, b1 whose hot byte is h (not 0).
func (p *Pattern) entry(b0, b1 byte, h uint8) uint64 {
	if h == hotFull {
		return p.tab[uint16(b0)<<8|uint16(b1)]
	}
	return p.masks[h]
}

// at checks the window b[i], b[i+1] for the forms whose bits are in m, in the order of the
// bits (candidates enter the pairing ring in that order).
func (s *Scanner) at(b []byte, i int, m uint64) {
	for f := m & (1<<varintBit0 - 1); f != 0; {
		fi := bits.TrailingZeros64(f) >> 1
		f &^= 3 << (2 * fi)
		s.fixed(b, i, fi)
	}
	if v := m >> varintBit0 & (1<<(2*len(varints)) - 1); v != 0 {
		s.varint(b, i, v)
	}
	if m&(1<<bitText) != 0 {
		s.decimal(b, i)
	}
	if m&(1<<bitGeohash) != 0 {
		s.geohash(b, i)
	}
	if m&(1<<bitIntText) != 0 {
		s.intText(b, i)
	}
	if m&(1<<bitPercent) != 0 && s.depth == 0 {
		s.pcts[i>>9] |= 1 << (i >> 3 & 63)
	}
}

// fixed decodes the fixed-width form fi whose key bytes start at i.
func (s *Scanner) fixed(b []byte, i, fi int) {
	f := &forms[fi]
	st := i - f.keyAt
	if st < 0 || st+f.size > len(b) {
		return
	}
	v, ok := f.decode(b, st)
	if !ok {
		return
	}
	c := cand{form: uint8(fi), lat: s.p.binLat.has(v), lon: s.p.binLon.has(v), start: int32(st), end: int32(st + f.size), v: v}
	if c.lat || c.lon {
		s.add(b, c)
	}
}

// varint decodes the varint whose last two bytes are b[i], b[i+1] once, and checks it as each
// varint form whose bit pair is in vm (bits 2vi, 2vi+1).
func (s *Scanner) varint(b []byte, i int, vm uint64) {
	st, u, ok := varintEndingAt(b, i+1)
	if !ok {
		return
	}
	for vm != 0 {
		vi := bits.TrailingZeros64(vm) >> 1
		vm &^= 3 << (2 * vi)
		if u-s.p.rawLo[vi] > s.p.rawHi[vi]-s.p.rawLo[vi] { // u outside [rawLo, rawHi]
			continue
		}
		v := varints[vi].value(u)
		c := cand{form: uint8(len(forms) + vi), lat: s.p.binLat.has(v), lon: s.p.binLon.has(v), start: int32(st), end: int32(i + 2), v: v}
		if c.lat || c.lon {
			s.add(b, c)
		}
	}
}

// varintEndingAt reads the protobuf varint whose last byte is b[e] (which has no continuation
// bit) and whose field starts after a key: the byte before the varint has no continuation bit
// either. It returns where the varint starts and its value; ok is false when there is no key
// byte before it or it would be longer than 10 bytes.
//
// In random bytes one window in a hundred is a varint key, so this is hot: up to 7 bytes are
// read with one load and no branch per byte (a loop over continuation bits mispredicts at its
// random end).
func varintEndingAt(b []byte, e int) (st int, u uint64, ok bool) {
	if e >= 7 {
		x := binary.LittleEndian.Uint64(b[e-7 : e+1]) // b[e] is the top byte
		// Bytes 0..5 (b[e-7]..b[e-2]) without continuation bit; b[e-1] has one (the window).
		if y := ^x & 0x0000_8080_8080_8080; y != 0 {
			j := (63 - bits.LeadingZeros64(y)) >> 3 // b[e-7+j] ends the key
			// Pack the 7-bit groups of the eight bytes: byte k's group lands at bit 7k.
			v := x & 0x7f7f_7f7f_7f7f_7f7f
			v = v&0x007f_007f_007f_007f | v&0x7f00_7f00_7f00_7f00>>1
			v = v&0x0000_3fff_0000_3fff | v&0x3fff_0000_3fff_0000>>2
			v = v&0x0000_0000_0fff_ffff | v&0x0fff_ffff_0000_0000>>4
			return e - 6 + j, v >> (7 * (j + 1)), true
		}
	}
	// Near the start of b, or a varint of 8 or more bytes.
	st = e - 1
	for st > 0 && b[st-1]&0x80 != 0 && e+1-st < 10 {
		st--
	}
	if st == 0 || b[st-1]&0x80 != 0 {
		return 0, 0, false // a protobuf varint field starts after its key, whose last byte has no continuation bit
	}
	n := e + 1 - st
	for k := n - 1; k >= 0; k-- {
		u = u<<7 | uint64(b[st+k]&0x7f)
	}
	if n == 10 && b[e] > 1 {
		return 0, 0, false
	}
	return st, u, true
}

// maxGap is how many bytes may lie between the two values of a fixed-width pair: none in a
// packed record, a protobuf field key between fields.
const maxGap = 2

// add pairs a new candidate with an earlier one just before it, then keeps it.
func (s *Scanner) add(b []byte, c cand) {
	s.Stats.Candidates++
	for k := 1; k <= min(s.rn, ringLen); k++ {
		o := &s.ring[(s.rn-k)%ringLen]
		if o.start < c.start-24 {
			// The ring is in the order of the key windows. A partner starts at most 8+2 bytes
			// (fixed) or 10+2 (varint) before c, and its window is after that of any entry
			// starting 24 bytes before c: past such an entry there is none.
			break
		}
		if o.form != c.form || o.end > c.start {
			continue
		}
		gap := int(c.start - o.end)
		enc, ok := s.pairEncoding(b, o, &c, gap)
		if !ok {
			continue
		}
		if o.lat && c.lon {
			s.pair(b, enc, o.v, c.v, o, &c, LatLon)
		}
		if o.lon && c.lat {
			s.pair(b, enc, c.v, o.v, o, &c, LonLat)
		}
	}
	s.ring[s.rn%ringLen] = c
	s.rn++
}

// pairEncoding says whether two candidates of one form at that gap make a pair, and names it.
func (s *Scanner) pairEncoding(b []byte, o, c *cand, gap int) (Encoding, bool) {
	if int(o.form) >= len(forms) { // varints: a key of wire type 0 between them
		if gap < 1 || gap > 2 || b[o.end]&7 != 0 || b[c.start-1]&0x80 != 0 {
			return 0, false
		}
		return varints[int(o.form)-len(forms)].enc, true
	}
	f := &forms[o.form]
	if gap == 0 {
		return f.enc, true // a packed record
	}
	// Between two values only a protobuf field key: each gap offered to random bytes is one
	// more chance of a false pair.
	if f.pb != DecimalText && gap <= maxGap && isPBKey(b, int(o.start), f.size) && isPBKey(b, int(c.start), f.size) {
		return f.pb, true
	}
	return 0, false
}

// isPBKey reports whether a one-byte protobuf key of the fixed wire type of a size-byte value
// ends just before at (wire type 5 for 4 bytes, 1 for 8).
func isPBKey(b []byte, at, size int) bool {
	if at == 0 {
		return false
	}
	k := b[at-1]
	wt := byte(5)
	if size == 8 {
		wt = 1
	}
	return k&0x80 == 0 && k&7 == wt && k>>3 != 0
}

// pair checks one lat/lon pair against the targets and reports it.
func (s *Scanner) pair(b []byte, enc Encoding, lat, lon float64, o, c *cand, ord Order) {
	s.Stats.Pairs++
	var prec float64
	if int(o.form) < len(forms) {
		f := &forms[o.form]
		prec = max(f.precisionM(lat), f.precisionM(lon))
	} else {
		prec = 0.5 * varints[int(o.form)-len(forms)].unit * metresPerDegree
	}
	name, ok := s.p.t.Match(lat, lon, prec)
	if !ok {
		return
	}
	if int(o.form) < len(forms) && forms[o.form].weak && looksRandom(b, int(o.start)) {
		s.Stats.HeldRandom++
		return
	}
	s.hit(Hit{Lat: lat, Lon: lon, Encoding: enc, Offset: int(o.start), Len: int(c.end - o.start), PrecisionM: prec, Order: ord, Target: name})
}

// hit reports a hit, with the wrapping of the bytes being scanned.
func (s *Scanner) hit(h Hit) {
	h.Wrap = s.wrap
	if s.depth > 0 {
		if !s.outerHit(&h) {
			return
		}
	} else if len(s.plain) < maxPlainKept {
		s.plain = append(s.plain, h)
	}
	s.Stats.Hits++
	s.emit(h)
}
