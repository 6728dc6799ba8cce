package geo

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	const (
		exp   = DecimalExponent
		comma = DecimalComma
		both  = DecimalExponent | DecimalComma
	)
	for _, c := range []struct {
		in     string
		syntax DecimalSyntax
		v      float64
		dec    int
		ok     bool
	}{
		{"47.5726976524126", 0, 47.5726976524126, 13, true},
		{"-122.62662", 0, -122.62662, 5, true},
		{"+8.5", 0, 8.5, 1, true},
		{"47", 0, 47, 0, true},
		{"47.", 0, 47, 0, true},
		{".5", 0, 0.5, 1, true},
		{"0.000000", 0, 0, 6, true},
		// The exponent does not count as decimals: 4.75e1 was printed with two.
		{"4.75e1", exp, 47.5, 2, true},
		{"4.75E+1", exp, 47.5, 2, true},
		{"475e-1", exp, 47.5, 0, true},
		{"4.75e1", 0, 0, 0, false},
		{"47,57", comma, 47.57, 2, true},
		{"-4,757e1", both, -47.57, 3, true},
		{"47,57", exp, 0, 0, false},
		{"47.5,7", comma, 0, 0, false},
		// What strconv takes but no log prints.
		{"NaN", both, 0, 0, false},
		{"Inf", both, 0, 0, false},
		{"-Infinity", both, 0, 0, false},
		{"0x1p4", both, 0, 0, false},
		{"1_000.5", both, 0, 0, false},
		{" 47.5", both, 0, 0, false},
		{"47.5 ", both, 0, 0, false},
		// Malformed.
		{"", both, 0, 0, false},
		{"-", both, 0, 0, false},
		{".", both, 0, 0, false},
		{"--47", both, 0, 0, false},
		{"4-7", both, 0, 0, false},
		{"47.5.1", both, 0, 0, false},
		{"e5", both, 0, 0, false},
		{"1e", both, 0, 0, false},
		{"1e5e5", both, 0, 0, false},
		{"1e5.5", both, 0, 0, false},
		{"1e999", both, 0, 0, false}, // out of float64 range
		{strings.Repeat("1", MaxDecimalLen), 0, 1.1111111111111111e63, 0, true},
		{strings.Repeat("1", MaxDecimalLen+1), 0, 0, 0, false},
	} {
		v, dec, ok := ParseDecimal([]byte(c.in), c.syntax)
		if v != c.v || dec != c.dec || ok != c.ok {
			t.Errorf("ParseDecimal(%q, %b) = %v, %d, %v; want %v, %d, %v", c.in, c.syntax, v, dec, ok, c.v, c.dec, c.ok)
		}
	}
}

// FuzzParseDecimal checks ParseDecimal against strconv: what it accepts strconv reads to the same
// finite value, the decimals are the digits after the point, and it never reads a comma or an
// exponent it was not asked to.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"47.5726976524126", "-122.6", "4.75e1", "47,57", "NaN", "0x1p4", "1e999", "+.5", "-4,757E-1"} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(DecimalExponent|DecimalComma))
	}
	f.Fuzz(func(t *testing.T, b []byte, syntax uint8) {
		sx := DecimalSyntax(syntax) & (DecimalExponent | DecimalComma)
		v, dec, ok := ParseDecimal(b, sx)
		if !ok {
			if v != 0 || dec != 0 {
				t.Fatalf("refused %q but returned %v, %d", b, v, dec)
			}
			return
		}
		s := string(b)
		if sx&DecimalComma == 0 && strings.Contains(s, ",") || sx&DecimalExponent == 0 && strings.ContainsAny(s, "eE") {
			t.Fatalf("%q accepted with syntax %b", s, sx)
		}
		s = strings.Replace(s, ",", ".", 1)
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || want != v || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%q: got %v, strconv says %v, %v", b, v, want, err)
		}
		mantissa, _, _ := strings.Cut(strings.ToLower(s), "e")
		wantDec := 0
		if _, frac, found := strings.Cut(mantissa, "."); found {
			wantDec = len(frac)
		}
		if dec != wantDec {
			t.Fatalf("%q: %d decimals, want %d", b, dec, wantDec)
		}
	})
}
