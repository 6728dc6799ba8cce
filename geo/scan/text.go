package scan

import (
	"math"

	"github.com/paulmach/orb"

	"droneaudit/geo"
)

// token is one decimal number read from text.
type token struct {
	start, end int
	v          float64
	decimals   int
	lat, lon   bool
}

const (
	maxIntDigits  = 3  // degrees have at most three integer digits
	maxFracDigits = 20 // JavaScript prints a float64 with up to 17 significant digits
	// maxTextGap is how many separator bytes may lie between the two numbers of a pair:
	// ",", "%2C", "&lon=", `","lng":`, a DNS label's length byte.
	maxTextGap = 16
	textRing   = 4
)

func isDigit(c byte) bool { return c-'0' < 10 }

// decimal reads the number whose last integer digit is b[i] and whose decimal mark is b[i+1],
// and pairs it with a number just before it.
func (s *Scanner) decimal(b []byte, i int) {
	j := i
	for j > 0 && isDigit(b[j-1]) && i-j+1 < maxIntDigits {
		j--
	}
	if j > 0 && isDigit(b[j-1]) {
		return // four or more integer digits: no degree
	}
	start := j
	if j > 0 && (b[j-1] == '-' || b[j-1] == '+') {
		start = j - 1
	}
	// The integer part alone rules out most numbers of text before any parsing.
	iv := 0.0
	for _, c := range b[j : i+1] {
		iv = iv*10 + float64(c-'0')
	}
	lo, hi := iv, iv+1
	if start < j && b[start] == '-' {
		lo, hi = -iv-1, -iv
	}
	if !s.p.textLat.meets(lo, hi) && !s.p.textLon.meets(lo, hi) {
		return
	}
	k := i + 2
	for k < len(b) && isDigit(b[k]) && k-i-2 < maxFracDigits {
		k++
	}
	d := k - i - 2
	if d < 2 || k < len(b) && isDigit(b[k]) {
		return
	}
	v, _, ok := geo.ParseDecimal(b[start:k], geo.DecimalComma)
	if !ok {
		return
	}
	t := token{start: start, end: k, v: v, decimals: d, lat: s.p.textLat.has(v), lon: s.p.textLon.has(v)}
	if !t.lat && !t.lon {
		return
	}
	s.Stats.Candidates++
	// Pair with an earlier number that ends before this one starts. Numbers that overlap are
	// other readings of the same digits ("5.47,51" read as 47.51): each is kept.
	for n := 1; n <= min(s.rn2, textRing); n++ {
		o := &s.texts[(s.rn2-n)%textRing]
		gap := start - o.end
		if gap < 1 || gap > maxTextGap {
			continue
		}
		prec := geo.PrecisionFromDecimals(min(o.decimals, t.decimals, 9))
		if o.lat && t.lon {
			s.textPair(o.v, t.v, o, &t, prec, LatLon)
		}
		if o.lon && t.lat {
			s.textPair(t.v, o.v, o, &t, prec, LonLat)
		}
	}
	s.texts[s.rn2%textRing] = t
	s.rn2++
}

func (s *Scanner) textPair(lat, lon float64, o, t *token, prec float64, ord Order) {
	s.Stats.Pairs++
	if name, ok := s.p.t.Match(lat, lon, prec); ok {
		s.hit(Hit{Lat: lat, Lon: lon, Encoding: DecimalText, Offset: o.start, Len: t.end - o.start, PrecisionM: prec, Order: ord, Target: name})
	}
}

// geohashAlphabet is the base-32 alphabet of geohash (G. Niemeyer, geohash.org; the public
// description at en.wikipedia.org/wiki/Geohash): digits and lower-case letters without a, i, l, o.
const geohashAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

var geohashValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(geohashAlphabet); i++ {
		t[geohashAlphabet[i]] = int8(i)
	}
	return t
}()

func isAlnum(c byte) bool { return isDigit(c) || c|0x20-'a' < 26 }

// decodeGeohash returns the cell of a geohash: its centre and its half-height and half-width in
// degrees. Bits alternate longitude, latitude, starting with longitude.
func decodeGeohash(g []byte) (lat, lon, dLat, dLon float64, ok bool) {
	latLo, latHi, lonLo, lonHi := -90.0, 90.0, -180.0, 180.0
	even := true
	for _, c := range g {
		v := geohashValue[c]
		if v < 0 {
			return 0, 0, 0, 0, false
		}
		for m := 4; m >= 0; m-- {
			bit := v>>m&1 == 1
			if even {
				mid := (lonLo + lonHi) / 2
				if bit {
					lonLo = mid
				} else {
					lonHi = mid
				}
			} else {
				mid := (latLo + latHi) / 2
				if bit {
					latLo = mid
				} else {
					latHi = mid
				}
			}
			even = !even
		}
	}
	return (latLo + latHi) / 2, (lonLo + lonHi) / 2, (latHi - latLo) / 2, (lonHi - lonLo) / 2, true
}

// geohash reads the geohash token that starts at b[i] (its first two characters are those of
// a target's cell).
func (s *Scanner) geohash(b []byte, i int) {
	if i > 0 && isAlnum(b[i-1]) {
		return
	}
	k := i
	for k < len(b) && k-i <= 12 && geohashValue[b[k]] >= 0 {
		k++
	}
	n := k - i
	if n < 5 || n > 12 || k < len(b) && isAlnum(b[k]) {
		return
	}
	lat, lon, dLat, dLon, ok := decodeGeohash(b[i:k])
	if !ok {
		return
	}
	s.Stats.Candidates++
	s.Stats.Pairs++
	prec := math.Hypot(dLat*metresPerDegree, dLon*metresPerDegree*math.Cos(lat*math.Pi/180))
	if name, ok := s.p.t.Match(lat, lon, prec); ok {
		s.hit(Hit{Lat: lat, Lon: lon, Encoding: Geohash, Offset: i, Len: n, PrecisionM: prec, Target: name})
	}
}

// geohashPrefixes marks the windows of the first two characters of every geohash cell that
// meets the box.
func geohashPrefixes(box orb.Bound, mark func(w uint32)) {
	for a := 0; a < 32; a++ {
		for c := 0; c < 32; c++ {
			g := []byte{geohashAlphabet[a], geohashAlphabet[c]}
			lat, lon, dLat, dLon, _ := decodeGeohash(g)
			if lat+dLat >= box.Min[1] && lat-dLat <= box.Max[1] && lon+dLon >= box.Min[0] && lon-dLon <= box.Max[0] {
				mark(uint32(g[0])<<8 | uint32(g[1]))
			}
		}
	}
}
