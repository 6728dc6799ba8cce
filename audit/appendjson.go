package audit

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The appenders below write JSON values byte for byte as encoding/json does with HTML escaping
// off (json.Encoder.SetEscapeHTML(false)), so that the hand-written NDJSON fix writer prints
// exactly what the reflection encoder printed. They follow the behaviour of floatEncoder.encode
// and appendString in $GOROOT/src/encoding/json/encode.go (Go 1.26); the tests compare them with
// encoding/json itself.

// appendJSONFloat appends f as encoding/json writes a float64: the shortest decimal that reads
// back as f, in 'f' form unless |f| < 1e-6 or |f| >= 1e21 (ES6 number-to-string cutoffs), where
// it is 'e' form with a two-digit negative exponent shortened ("e-07" becomes "e-7"). The caller
// rejects NaN and ±Inf, which JSON cannot hold.
func appendJSONFloat(b []byte, f float64) []byte {
	if b, ok := appendShortDecimal(b, f); ok {
		return b
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendShortDecimal is the fast path of appendJSONFloat for the numbers positions are made of:
// degrees×1e7, metres rounded to millimetres, anything with at most seven decimals. It applies
// when 1e-6 <= |f| < 1e7 and m/10⁷, m = round(|f|·10⁷) (an integer), is a decimal that reads back as f
// (float64(m)/1e7, the correctly rounded quotient of two exact values, is |f|). That decimal is
// then the shortest one that reads back as f, which is what strconv prints: any other decimal
// that does lies within an ulp of it (ulp < 2e-9 below 1e7), so off the 10⁻⁸ grid; with at
// least nine digits after the point and its first digit at most one place lower, it has more
// significant digits. Anything else reports false and takes strconv's path.
func appendShortDecimal(b []byte, f float64) ([]byte, bool) {
	const scale = 1e7
	abs := math.Abs(f)
	if !(abs >= 1e-6 && abs < 1e7) {
		return b, false
	}
	// Any integer m with m/10⁷ == |f| will do; RoundToEven is one instruction (ROUNDSD), Round
	// a dozen, and they differ only at ties, where the check fails either way.
	m := math.RoundToEven(abs * scale)
	if m/scale != abs {
		return b, false
	}
	// "-", the whole part without leading zeros, "." and 7 digits without trailing zeros.
	b, d := room(b)
	// Past the check, |f| is m/10⁷ correctly rounded, and within an ulp (< 2e-9) of it: never
	// across a whole number, 1e-7 or more away unless m/10⁷ is one. So the whole part is that of
	// |f|, truncated in parallel with the conversion of m, with no 64-bit division.
	whole := uint32(int32(abs))
	frac := uint32(uint64(int64(m)) - uint64(whole)*scale)
	n := 0
	if f < 0 {
		d[0] = '-'
		n = 1
	}
	switch {
	// Whole parts below 100 (most latitudes and longitudes) need no digits8.
	case whole < 10:
		d[n] = byte('0' + whole)
		n++
	case whole < 100:
		d[n], d[n+1] = twoDigits[2*whole], twoDigits[2*whole+1]
		n += 2
	default:
		n += putTrimmed(d[n:], digits8(whole))
	}
	if frac != 0 {
		// frac < 1e7: its first digit of 8 is '0', replaced by the point.
		w := digits8(frac)&^0xff | '.'
		binary.LittleEndian.PutUint64(d[n:], w)
		n += 8 - bits.LeadingZeros64(w^asciiZeros)/8
	}
	return b[:len(b)+n], true
}

// appendInt appends v in decimal, as strconv.AppendInt(b, v, 10) does, with a short way for
// 0 <= v < 1e16 (every offset in a file).
func appendInt(b []byte, v int64) []byte {
	if v < 0 || v >= 1e16 {
		return strconv.AppendInt(b, v, 10)
	}
	b, d := room(b)
	var n int
	if u := uint64(v); u < 1e8 {
		n = putTrimmed(d[:], digits8(uint32(u)))
	} else {
		n = putTrimmed(d[:], digits8(uint32(u/1e8)))
		binary.LittleEndian.PutUint64(d[n:], digits8(uint32(u%1e8)))
		n += 8
	}
	return b[:len(b)+n]
}

// The digit appenders work on eight ASCII digits packed in a uint64, the first digit in the low
// byte (the order of bytes in memory on a little-endian store). XOR with asciiZeros turns each
// '0' into a zero byte, so that bits.TrailingZeros64 and LeadingZeros64 count leading and
// trailing zero digits.
const asciiZeros = 0x3030303030303030

// digits8 returns the eight decimal digits of x < 1e8, leading zeros included, packed. The
// divisions run on all lanes of the word at once: x splits into two 4-digit halves in 32-bit
// lanes, each into two 2-digit numbers in 16-bit lanes, each into two digits in bytes. Division
// by 100 is (v·5243)>>19, exact for v < 43699, and by 10 is (v·103)>>10, exact for v < 179; no
// product reaches the next lane.
func digits8(x uint32) uint64 {
	v := uint64(x/10000) | uint64(x%10000)<<32
	q := (v * 5243 >> 19) & 0x0000007f0000007f
	v = q | (v-q*100)<<16
	q = (v * 103 >> 10) & 0x000f000f000f000f
	v = q | (v-q*10)<<8
	return v + asciiZeros
}

// putTrimmed stores the packed digits w without their leading zeros (but at least one digit)
// at the start of d, which has room for eight bytes, and returns how many it kept.
func putTrimmed(d []byte, w uint64) int {
	lead := min(bits.TrailingZeros64(w^asciiZeros)/8, 7)
	binary.LittleEndian.PutUint64(d, w>>(8*lead))
	return 8 - lead
}

// smallBuf is the room the number and time appenders write their digits into.
const smallBuf = 24

// room returns b with at least smallBuf bytes of spare capacity, and those bytes: the number
// and time appenders store their digits there, eight at a time, and then extend b over the ones
// they wrote, with no scratch array to copy from. Bytes past the end of b are no part of it.
func room(b []byte) ([]byte, *[smallBuf]byte) {
	if cap(b)-len(b) < smallBuf {
		b = slices.Grow(b, smallBuf)
	}
	return b, (*[smallBuf]byte)(b[len(b) : len(b)+smallBuf])
}

// twoDigits holds "00" to "99": the digit pair of n is twoDigits[2n:2n+2].
const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// jsonSafe marks the ASCII bytes a JSON string holds as they are when HTML escaping is off:
// everything but the control characters, '"' and '\\'. DEL (0x7f) is safe, as in encoding/json.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string: '"' and '\\' escaped with a backslash,
// the control characters as \b \f \n \r \t or \u00XX, each byte of invalid UTF-8 as \ufffd, and
// U+2028 and U+2029 as \u2028 and \u2029 (encoding/json escapes those two always, for JSONP).
// '<', '>' and '&' stay as they are. A string that needs no escaping, the usual case, is
// checked eight bytes at a time and copied whole.
func appendJSONString(b []byte, s string) []byte {
	i := 0
	for i+8 <= len(s) && safeWord(word8(s[i:])) {
		i += 8
	}
	if i+8 > len(s) && len(s) >= 8 && safeWord(word8(s[len(s)-8:])) {
		i = len(s) // the last, overlapping word covers the rest
	}
	for i < len(s) && s[i] < utf8.RuneSelf && jsonSafe[s[i]] {
		i++
	}
	b = append(b, '"')
	if i < len(s) {
		b = appendEscaped(b, s, i)
	} else {
		b = append(b, s...)
	}
	return append(b, '"')
}

// appendEscaped appends s, whose bytes before i need no escaping, escaped as appendJSONString
// describes, without the quotes.
func appendEscaped(b []byte, s string, i int) []byte {
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// word8 is the first 8 bytes of s, the first in the low byte: one load. word8 and safeWord are
// two functions, not one, so that the compiler inlines both into appendJSONString's loop.
func word8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// safeWord reports whether the 8 bytes of x are all jsonSafe, testing them at once: no byte has
// its top bit set (non-ASCII), is below 0x20, or equals '"' or '\\'. Each test is the
// has-zero-byte trick on the word; it may call a safe byte unsafe (the byte loop then decides)
// but never the reverse, because with no top bit set the tests are exact.
func safeWord(x uint64) bool {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := x ^ lsb*'"'
	bs := x ^ lsb*'\\'
	return (x|(x-lsb*0x20)&^x|(q-lsb)&^q|(bs-lsb)&^bs)&msb == 0
}
