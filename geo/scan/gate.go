package scan

// The random gate. Eight random bytes read as two int32 × 1e7 fall inside one of the demo's
// Belgian zones (about 0.0035 square degrees of 429.5² possible) with a chance of 2·10⁻⁸, and
// each offset offers four such readings (two byte orders, two pair orders): about 8 chance hits
// per 100 MB of ciphertext or compressed data. Such data tests as uniformly random, and a plain
// integer coordinate written by a program does not make it so, so in a stretch that does the
// weak forms are held back (Stats.HeldRandom). Every other form is rarer than 10⁻⁹ per byte
// and is always reported.

// gateWindow is the stretch around a candidate that is tested; gateMin the least of it that
// must be there for the test to say anything (a short payload is never held back).
const (
	gateWindow = 1024
	gateMin    = 512
)

// gateChi2 is the chi-square threshold (255 degrees of freedom: mean 255, sd 22.6) under
// which a byte histogram counts as uniform: uniform bytes exceed it with a chance under 10⁻⁷,
// and text, telemetry records and protobufs lie far above it.
const gateChi2 = 400

// looksRandom reports whether the bytes around at test as uniformly random.
func looksRandom(b []byte, at int) bool {
	lo, hi := max(at-gateWindow/2, 0), min(at+gateWindow/2, len(b))
	if hi-lo < gateMin {
		return false
	}
	var hist [256]int32
	for _, c := range b[lo:hi] {
		hist[c]++
	}
	n := float64(hi - lo)
	e := n / 256
	var chi2 float64
	for _, h := range hist {
		d := float64(h) - e
		chi2 += d * d
	}
	return chi2/e < gateChi2
}
