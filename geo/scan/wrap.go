package scan

import "math/bits"

// Wrapped runs: binary bytes written as hex (two digits a byte), base64 (RFC 4648 §4 standard
// and §5 URL alphabets, padded or not) or percent-encoding (RFC 3986 §2.1). The plain pass
// has already looked at their characters; here each run is decoded, bounded, and the decoded
// bytes are searched with the same table. Hits are given the offset and length of their encoded
// form in the outer bytes.

const (
	clsB64 = 1 << iota
	clsHex
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case isDigit(byte(c)) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			t[c] = clsB64 | clsHex
		case c >= 'g' && c <= 'z' || c >= 'G' && c <= 'Z' || c == '+' || c == '/' || c == '-' || c == '_':
			t[c] = clsB64
		}
	}
	return t
}()

var b64Value = func() (t [256]int8) {
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < 64; i++ {
		t[std[i]] = int8(i)
	}
	t['-'], t['_'] = 62, 63
	return t
}()

const (
	minB64Run = 12 // 9 bytes: two int32 and a key
	minHexRun = 16 // 8 bytes
	// maxDecoded bounds what one run is decoded to: a larger run is searched in its first part.
	maxDecoded = 1 << 20
	// runStride samples the bytes the plain pass's blocks did not cover for runs: a run of
	// minB64Run or more holds three samples runStride apart, and all three must be run
	// characters before the run is measured.
	runStride = 4
)

// wrapped searches the hex, base64 and percent-encoded runs of b, after the plain pass (scan)
// has marked in s.runs where runs of 12 or more characters may be.
func (s *Scanner) wrapped(b []byte) {
	last := 0
	for q, word := range s.runs {
		for word != 0 {
			at := (q<<6 + bits.TrailingZeros64(word)) << 3
			word &= word - 1
			if at >= last {
				s.runAround(b, at, &last)
			}
		}
	}
	// A run that reaches past the blocks the plain pass covered (runsEnd) may have fewer than
	// two groups before it, and then starts at most 10 bytes before: sample from 16 before.
	i := max(s.runsEnd-16, 0) &^ (runStride - 1)
	for ; i+2*runStride < len(b); i += runStride {
		if class[b[i]]&class[b[i+runStride]]&class[b[i+2*runStride]] == 0 || i < last {
			continue
		}
		i = s.runAround(b, i, &last)
	}
	if i < len(b) && i >= last && class[b[i]] != 0 {
		s.runAround(b, i, &last)
	}
	// Percent-encoded stretches: each '%' before a hex digit, in the blocks the plain pass
	// marked, unless a stretch already took it in.
	next := 0
	for q, word := range s.pcts {
		for word != 0 {
			at := (q<<6 + bits.TrailingZeros64(word)) << 3
			word &= word - 1
			for j := max(at, next); j < min(at+8, len(b)); j++ {
				if b[j] == '%' {
					next = s.percent(b, j)
					j = next - 1
				}
			}
		}
	}
}

// runAround measures the run of base64/hex characters around b[i], searches it when it is long
// enough, and returns the sample index to go on from.
func (s *Scanner) runAround(b []byte, i int, last *int) int {
	lo, hi := i, i+1
	for lo > *last && class[b[lo-1]] != 0 {
		lo--
	}
	for hi < len(b) && class[b[hi]] != 0 {
		hi++
	}
	*last = hi
	if hi-lo >= minB64Run {
		s.run(b, lo, hi)
	}
	return (hi+runStride-1)/runStride*runStride - runStride
}

// run decodes one run of base64/hex characters b[lo:hi].
func (s *Scanner) run(b []byte, lo, hi int) {
	hex := true
	for _, c := range b[lo:hi] {
		if class[c]&clsHex == 0 {
			hex = false
			break
		}
	}
	if hex && hi-lo >= minHexRun {
		n := min((hi-lo)/2, maxDecoded)
		s.buf = s.buf[:0]
		for j := 0; j < n; j++ {
			s.buf = append(s.buf, unhex(b[lo+2*j])<<4|unhex(b[lo+2*j+1]))
		}
		s.inner(s.buf, Hex, lo)
		return
	}
	if hex {
		return
	}
	// base64: groups of four characters to three bytes, stopping at the first character that
	// is no base64 digit ('=' padding ends the run).
	s.buf = s.buf[:0]
	var acc uint32
	nc := 0
	for _, c := range b[lo:hi] {
		v := b64Value[c]
		if v < 0 || len(s.buf) >= maxDecoded {
			break
		}
		acc = acc<<6 | uint32(v)
		nc++
		if nc == 4 {
			s.buf = append(s.buf, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, nc = 0, 0
		}
	}
	switch nc {
	case 2:
		s.buf = append(s.buf, byte(acc>>4))
	case 3:
		s.buf = append(s.buf, byte(acc>>10), byte(acc>>2))
	}
	s.inner(s.buf, Base64, lo)
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// percent decodes the percent-encoded stretch around the '%' at b[at] and returns where to look
// for the next '%'.
func (s *Scanner) percent(b []byte, at int) int {
	if at+2 >= len(b) || class[b[at+1]]&clsHex == 0 || class[b[at+2]]&clsHex == 0 {
		return at + 1
	}
	lo, hi := at, at
	for lo > 0 && b[lo-1] > 0x20 && b[lo-1] < 0x7f && at-lo < maxDecoded {
		lo--
	}
	for hi < len(b) && b[hi] > 0x20 && b[hi] < 0x7f && hi-at < maxDecoded {
		hi++
	}
	s.buf, s.omap = s.buf[:0], s.omap[:0]
	escapes := 0
	for j := lo; j < hi; {
		if b[j] == '%' && j+2 < hi && class[b[j+1]]&clsHex != 0 && class[b[j+2]]&clsHex != 0 {
			s.buf = append(s.buf, unhex(b[j+1])<<4|unhex(b[j+2]))
			s.omap = append(s.omap, int32(j))
			j += 3
			escapes++
			continue
		}
		s.buf = append(s.buf, b[j])
		s.omap = append(s.omap, int32(j))
		j++
	}
	if escapes >= 2 {
		s.omap = append(s.omap, int32(hi))
		s.inner(s.buf, Percent, lo)
	}
	return hi
}

// inner searches decoded bytes; their hits are mapped back by outerHit. lo is where the run
// starts in the outer bytes.
func (s *Scanner) inner(dec []byte, w Wrapping, lo int) {
	if s.depth > 0 || len(dec) < 8 {
		return
	}
	s.Stats.Decoded += int64(len(dec))
	s.depth, s.wrap, s.runAt = 1, w, lo
	s.scan(dec)
	s.depth, s.wrap = 0, Plain
}

// outerHit maps a hit in decoded bytes to the offset and length of its encoded form, and says
// whether it is new: a pair the plain pass found already (decimal text around a %2C) is not.
func (s *Scanner) outerHit(h *Hit) bool {
	lo, off, ln := s.runAt, h.Offset, h.Len
	switch s.wrap {
	case Hex:
		h.Offset, h.Len = lo+2*off, 2*ln
	case Base64:
		h.Offset = lo + off*4/3
		h.Len = lo + ((off+ln)*4+2)/3 - h.Offset
	case Percent:
		h.Offset = int(s.omap[off])
		h.Len = int(s.omap[off+ln]) - h.Offset
	}
	for _, p := range s.plain {
		if p.Encoding == h.Encoding && p.Offset < h.Offset+h.Len && h.Offset < p.Offset+p.Len {
			return false
		}
	}
	return true
}
