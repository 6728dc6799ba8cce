package scan

import "math"

// The random gate. Eight random bytes read as two int32 × 1e7 fall inside one of the demo's
// Belgian zones (about 0.0035 square degrees of 429.5² possible) with a chance of 2·10⁻⁸, and
// each offset offers four such readings (two byte orders, two pair orders): about 8 chance hits
// per 100 MB of ciphertext or compressed data. Such data tests as uniformly random, and a plain
// integer coordinate written by a program does not make it so, so in a stretch that does the
// weak forms are held back (Stats.HeldRandom). Every other form is rarer than 10⁻⁹ per byte
// and is always reported.

// gateWindow is the stretch around a candidate that is tested. Under chiMin bytes of it the
// histogram test says little and the count of distinct byte values is used instead, down to
// distinctMin bytes; a shorter payload is never held back.
const (
	gateWindow  = 1024
	chiMin      = 512
	distinctMin = 128
)

// gateChi2 is the chi-square threshold (255 degrees of freedom: mean 255, sd 22.6) under
// which a byte histogram counts as uniform: uniform bytes exceed it with a chance under 10⁻⁷,
// and text, telemetry records and protobufs lie far above it.
const gateChi2 = 400

// looksRandom reports whether the bytes around at test as uniformly random.
func looksRandom(b []byte, at int) bool {
	lo, hi := max(at-gateWindow/2, 0), min(at+gateWindow/2, len(b))
	if hi-lo < chiMin {
		// Centre a shorter window on the candidate as far as the bytes allow.
		lo, hi = max(min(at-distinctMin/2, len(b)-distinctMin), 0), min(max(at+distinctMin/2, distinctMin), len(b))
		if hi-lo < distinctMin {
			return false
		}
	}
	var hist [256]int32
	for _, c := range b[lo:hi] {
		hist[c]++
	}
	n := float64(hi - lo)
	if hi-lo < chiMin {
		// n uniform bytes show 256(1-q) distinct values, q = e^(-n/256), with a standard
		// deviation under sqrt(256 q (1-q)); bytes that show nearly as many look random.
		distinct := 0
		for _, h := range hist {
			if h > 0 {
				distinct++
			}
		}
		q := math.Exp(-n / 256)
		return float64(distinct) >= 256*(1-q)-3*math.Sqrt(256*q*(1-q))
	}
	e := n / 256
	var chi2 float64
	for _, h := range hist {
		d := float64(h) - e
		chi2 += d * d
	}
	return chi2/e < gateChi2
}
