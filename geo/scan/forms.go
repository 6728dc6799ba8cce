package scan

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// kind is how a fixed-width form stores its number.
type kind uint8

const (
	kInt32 kind = iota
	kInt64      // a scaled integer that fits 32 bits, sign-extended to 64
	kF32
	kF64
)

// form is one fixed-width binary encoding of a single coordinate.
type form struct {
	enc   Encoding
	kind  kind
	size  int
	unit  float64 // degrees per raw unit (integers) or per float unit (1 for degrees)
	be    bool
	keyAt int      // where the two bytes that hold the value's top 16 bits (of its low 32 for int64) start
	pb    Encoding // the protobuf name of the form with field keys, DecimalText when none
	// weak forms are the 4-byte ones, which random bytes hit by chance most often (an int32 ×
	// 1e7 spans 429°, so 8 random bytes fall in the demo's zones about once in 5·10⁷): they are
	// held back in stretches that test as uniformly random (gate.go).
	weak bool
}

const rad = radToDeg

// forms lists the fixed-width forms; index i has the table bits 2i (latitude) and 2i+1 (longitude).
var forms = [...]form{
	{Int32E5LE, kInt32, 4, 1e-5, false, 2, PBSfixed32E5, true},
	{Int32E5BE, kInt32, 4, 1e-5, true, 0, DecimalText, true},
	{Int32E6LE, kInt32, 4, 1e-6, false, 2, PBSfixed32E6, true},
	{Int32E6BE, kInt32, 4, 1e-6, true, 0, DecimalText, true},
	{Int32E7LE, kInt32, 4, 1e-7, false, 2, PBSfixed32E7, true},
	{Int32E7BE, kInt32, 4, 1e-7, true, 0, DecimalText, true},
	{Int64E5LE, kInt64, 8, 1e-5, false, 2, PBSfixed64E5, false},
	{Int64E5BE, kInt64, 8, 1e-5, true, 4, DecimalText, false},
	{Int64E6LE, kInt64, 8, 1e-6, false, 2, PBSfixed64E6, false},
	{Int64E6BE, kInt64, 8, 1e-6, true, 4, DecimalText, false},
	{Int64E7LE, kInt64, 8, 1e-7, false, 2, PBSfixed64E7, false},
	{Int64E7BE, kInt64, 8, 1e-7, true, 4, DecimalText, false},
	{Int32RadE7LE, kInt32, 4, 1e-7 * rad, false, 2, DecimalText, true},
	{Int32RadE7BE, kInt32, 4, 1e-7 * rad, true, 0, DecimalText, true},
	{Float32DegLE, kF32, 4, 1, false, 2, PBFloat, true},
	{Float32DegBE, kF32, 4, 1, true, 0, DecimalText, true},
	{Float64DegLE, kF64, 8, 1, false, 6, PBDouble, false},
	{Float64DegBE, kF64, 8, 1, true, 0, DecimalText, false},
	{Float32RadLE, kF32, 4, rad, false, 2, DecimalText, true},
	{Float32RadBE, kF32, 4, rad, true, 0, DecimalText, true},
	{Float64RadLE, kF64, 8, rad, false, 6, DecimalText, false},
	{Float64RadBE, kF64, 8, rad, true, 0, DecimalText, false},
}

// varintForm is a protobuf varint encoding of a scaled integer.
type varintForm struct {
	enc    Encoding
	unit   float64
	zigzag bool
}

// varints lists the varint forms; index i has the table bits varintBit0+2i and varintBit0+2i+1.
var varints = [...]varintForm{
	{PBVarintE5, 1e-5, false}, {PBVarintE6, 1e-6, false}, {PBVarintE7, 1e-7, false},
	{PBZigzagE5, 1e-5, true}, {PBZigzagE6, 1e-6, true}, {PBZigzagE7, 1e-7, true},
}

const (
	varintBit0 = 2 * len(forms)
	bitText    = varintBit0 + 2*len(varints)
	bitGeohash = bitText + 1
	bitIntText = bitGeohash + 1 // the first two digits of a scaled integer printed as text
	bitPercent = bitIntText + 1 // '%' and a hex digit: a percent-encoded stretch may be there
)

// decode reads the form's value at b[s:] in degrees.
func (f *form) decode(b []byte, s int) (float64, bool) {
	var u64 uint64
	if f.size == 4 {
		if f.be {
			u64 = uint64(binary.BigEndian.Uint32(b[s:]))
		} else {
			u64 = uint64(binary.LittleEndian.Uint32(b[s:]))
		}
	} else if f.be {
		u64 = binary.BigEndian.Uint64(b[s:])
	} else {
		u64 = binary.LittleEndian.Uint64(b[s:])
	}
	switch f.kind {
	case kInt32:
		return float64(int32(uint32(u64))) * f.unit, true
	case kInt64:
		v := int64(u64)
		if v != int64(int32(v)) {
			return 0, false
		}
		return float64(v) * f.unit, true
	case kF32:
		x := float64(math.Float32frombits(uint32(u64)))
		return x * f.unit, !math.IsNaN(x) && !math.IsInf(x, 0)
	default:
		x := math.Float64frombits(u64)
		return x * f.unit, !math.IsNaN(x) && !math.IsInf(x, 0)
	}
}

// precisionM is the half-cell in metres of the form's value v (degrees).
func (f *form) precisionM(v float64) float64 {
	switch f.kind {
	case kF32:
		x := float32(math.Abs(v / f.unit))
		return 0.5 * float64(math.Nextafter32(x, float32(math.Inf(1)))-x) * f.unit * metresPerDegree
	case kF64:
		x := math.Abs(v / f.unit)
		return 0.5 * (math.Nextafter(x, math.Inf(1)) - x) * f.unit * metresPerDegree
	}
	return 0.5 * f.unit * metresPerDegree
}

// keys calls mark with every top-16-bit key (in the form's most-significant-first order) a
// value in [a, b] degrees can have.
func (f *form) keys(a, b float64, mark func(key uint32)) {
	a, b = a/f.unit, b/f.unit
	switch f.kind {
	case kInt32, kInt64:
		lo, hi := math.Ceil(a), math.Floor(b)
		lo, hi = math.Max(lo, math.MinInt32), math.Min(hi, math.MaxInt32)
		if lo > hi {
			return
		}
		l, h := int64(lo), int64(hi)
		if l < 0 && h >= 0 {
			markRange(uint64(uint32(int32(l))), 0xffffffff, 16, mark)
			l = 0
		}
		markRange(uint64(uint32(int32(l))), uint64(uint32(int32(h))), 16, mark)
	case kF32:
		floatKeys(a, b, func(x float64) uint64 { return uint64(math.Float32bits(float32(x))) }, 1<<31, 16, mark)
	case kF64:
		floatKeys(a, b, math.Float64bits, 1<<63, 48, mark)
	}
}

// floatKeys marks the keys of the IEEE 754 values in [a, b]: the bits of non-negative floats
// grow with their value, those of negative floats with their magnitude.
func floatKeys(a, b float64, bits func(float64) uint64, sign uint64, shift uint, mark func(uint32)) {
	if b >= 0 {
		markRange(bits(math.Max(a, 0)), bits(b), shift, mark)
	}
	if a < 0 {
		markRange(sign|bits(math.Max(-b, 0)), sign|bits(-a), shift, mark)
	}
}

func markRange(lo, hi uint64, shift uint, mark func(uint32)) {
	for k := lo >> shift; k <= hi>>shift; k++ {
		mark(uint32(k))
	}
}

// varintKeys marks every pair of last two bytes (as the 16-bit window prev<<8|last) that the
// varint of a value whose raw (two's complement or zig-zag) uint64 lies in [lo, hi] can end with.
func varintKeys(lo, hi uint64, mark func(w uint32)) {
	for n := 2; n <= 10; n++ {
		min := uint64(1) << (7 * (n - 1))
		max := uint64(math.MaxUint64)
		if n < 10 {
			max = uint64(1)<<(7*n) - 1
		}
		l, h := maxU(lo, min), minU(hi, max)
		if l > h {
			continue
		}
		shift := uint(7 * (n - 2))
		for k := l >> shift; k <= h>>shift; k++ {
			mark(uint32(0x80|k&0x7f)<<8 | uint32(k>>7))
			if k == math.MaxUint64>>shift {
				break
			}
		}
	}
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func minU(a, b uint64) uint64 {
	if a < b {
		return a
	}
	return b
}

// keys marks the windows a varint of a value in [a, b] degrees can end with.
func (v *varintForm) keys(a, b float64, mark func(uint32)) {
	v.raws(a, b, func(lo, hi uint64) { varintKeys(lo, hi, mark) })
}

// raws calls f with the intervals of raw varint values (two's complement or zig-zag, as
// uint64) of the values in [a, b] degrees.
func (v *varintForm) raws(a, b float64, f func(lo, hi uint64)) {
	lo, hi := math.Ceil(a/v.unit), math.Floor(b/v.unit)
	if lo > hi {
		return
	}
	l, h := int64(lo), int64(hi)
	if !v.zigzag {
		if l < 0 {
			f(uint64(l), uint64(min(h, -1)))
			l = 0
		}
		if h >= 0 {
			f(uint64(l), uint64(h))
		}
		return
	}
	if l < 0 { // zig-zag of v < 0 is -2v-1
		f(uint64(-2*min(h, -1)-1), uint64(-2*l-1))
		l = 0
	}
	if h >= 0 {
		f(uint64(2*l), uint64(2*h))
	}
}

// value converts a decoded varint to degrees.
func (v *varintForm) value(u uint64) float64 {
	if v.zigzag {
		return float64(int64(u>>1)^-int64(u&1)) * v.unit
	}
	return float64(int64(u)) * v.unit
}

// band is an interval of degrees.
type band struct{ lo, hi float64 }

// bandSet is a few disjoint intervals in ascending order: the latitudes (or longitudes) of the
// targets, so that a value between two zones is refused without a zone lookup.
type bandSet []band

func (s bandSet) has(v float64) bool {
	for _, b := range s {
		if v < b.lo {
			return false
		}
		if v <= b.hi {
			return true
		}
	}
	return false
}

// meets reports whether any interval meets [lo, hi].
func (s bandSet) meets(lo, hi float64) bool {
	for _, b := range s {
		if b.lo <= hi && lo <= b.hi {
			return true
		}
	}
	return false
}

// maxBands bounds a set: beyond it the nearest intervals are merged (a long track).
const maxBands = 16

// bandsOf returns the latitude and longitude sets of the boxes.
func bandsOf(boxes []orb.Bound) (lat, lon bandSet) {
	for _, b := range boxes {
		lat = append(lat, band{b.Min[1], b.Max[1]})
		lon = append(lon, band{b.Min[0], b.Max[0]})
	}
	return merge(lat), merge(lon)
}

func merge(s bandSet) bandSet {
	slices.SortFunc(s, func(a, b band) int { return cmp.Compare(a.lo, b.lo) })
	for {
		var out bandSet
		for _, b := range s {
			if n := len(out); n > 0 && b.lo <= out[n-1].hi {
				out[n-1].hi = math.Max(out[n-1].hi, b.hi)
				continue
			}
			out = append(out, b)
		}
		if len(out) <= maxBands {
			return out
		}
		// Merge the closest neighbours: widen every interval by half the smallest gap.
		gap := math.Inf(1)
		for i := 1; i < len(out); i++ {
			gap = math.Min(gap, out[i].lo-out[i-1].hi)
		}
		for i := range out {
			out[i].hi += gap
		}
		s = out
	}
}
