package scan

import "math"

// Integers printed as decimal text: degrees scaled by 1e5, 1e6 or 1e7 and written in digits
// ("511693000" is 51.1693000° as degE7, the way MAVLink's integers reach a JSON body or a CSV
// line). The table marks the first two digits that numbers in the targets' bands start with; a
// number is read only where it starts (no letter, digit or decimal point before it), with 6 to
// 11 digits and an optional '-', and two such numbers a separator apart that read, at one scale,
// as a latitude and a longitude inside a target make a pair.

const (
	minIntDigits = 6 // under a million: 1° at E5, 0.1° at E6, 0.01° at E7 — too common in text
	maxIntDigit  = 11
)

var intScales = [3]float64{1e5, 1e6, 1e7}

// intTok is one integer read from text: its value and, per scale (bits 2s and 2s+1), whether it
// is a latitude or a longitude of the targets.
type intTok struct {
	start, end int
	v          float64
	mask       uint8
}

// intTextPrefixes calls f with the windows (two ASCII digits) that the integers of the degree
// interval [lo, hi] start with, at every scale and digit count.
func intTextPrefixes(lo, hi float64, f func(w uint32)) {
	alo, ahi := math.Abs(lo), math.Abs(hi)
	if alo > ahi {
		alo, ahi = ahi, alo
	}
	if lo <= 0 && hi >= 0 {
		alo = 0
	}
	for _, k := range intScales {
		a, b := math.Floor(alo*k), math.Ceil(ahi*k)
		for d := minIntDigits; d <= maxIntDigit; d++ {
			low, high := math.Pow10(d-1), math.Pow10(d)-1
			x, y := math.Max(a, low), math.Min(b, high)
			if x > y {
				continue
			}
			div := math.Pow10(d - 2)
			for p := int(x / div); p <= int(y/div) && p <= 99; p++ {
				f(uint32('0'+p/10)<<8 | uint32('0'+p%10))
			}
		}
	}
}

func isAlnumOrDot(c byte) bool { return isAlnum(c) || c == '.' }

// intText reads the integer whose first two digits are b[i], b[i+1], and pairs it with an
// integer just before it.
func (s *Scanner) intText(b []byte, i int) {
	if i > 0 && isAlnumOrDot(b[i-1]) {
		return
	}
	start, neg := i, false
	if i > 0 && b[i-1] == '-' {
		start, neg = i-1, true
		if i > 1 && isAlnumOrDot(b[i-2]) {
			return // a date or a range, no sign
		}
	}
	j := i
	u := 0.0
	for j < len(b) && isDigit(b[j]) {
		if j-i >= maxIntDigit {
			return
		}
		u = u*10 + float64(b[j]-'0')
		j++
	}
	if j-i < minIntDigits || j < len(b) && isAlnum(b[j]) || j+1 < len(b) && b[j] == '.' && isDigit(b[j+1]) {
		return
	}
	if neg {
		u = -u
	}
	t := intTok{start: start, end: j, v: u}
	for si, k := range intScales {
		deg := u / k
		if s.p.binLat.has(deg) {
			t.mask |= 1 << (2 * si)
		}
		if s.p.binLon.has(deg) {
			t.mask |= 2 << (2 * si)
		}
	}
	if t.mask == 0 {
		return
	}
	s.Stats.Candidates++
	for n := 1; n <= min(s.rn3, textRing); n++ {
		o := &s.ints[(s.rn3-n)%textRing]
		if gap := start - o.end; gap < 1 || gap > maxTextGap {
			continue
		}
		for si, k := range intScales {
			if o.mask&(1<<(2*si)) != 0 && t.mask&(2<<(2*si)) != 0 {
				s.intPair(si, o.v/k, t.v/k, o, &t, LatLon)
			}
			if o.mask&(2<<(2*si)) != 0 && t.mask&(1<<(2*si)) != 0 {
				s.intPair(si, t.v/k, o.v/k, o, &t, LonLat)
			}
		}
	}
	s.ints[s.rn3%textRing] = t
	s.rn3++
}

func (s *Scanner) intPair(si int, lat, lon float64, o, t *intTok, ord Order) {
	s.Stats.Pairs++
	prec := 0.5 / intScales[si] * metresPerDegree
	if name, ok := s.p.t.Match(lat, lon, prec); ok {
		s.hit(Hit{Lat: lat, Lon: lon, Encoding: TextE5 + Encoding(si), Offset: o.start, Len: t.end - o.start, PrecisionM: prec, Order: ord, Target: name})
	}
}
