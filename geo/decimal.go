package geo

import (
	"bytes"
	"strconv"
)

// DecimalSyntax says what ParseDecimal accepts beyond an optional leading sign, digits and an
// optional fraction after a point.
type DecimalSyntax uint8

const (
	// DecimalExponent accepts an exponent, "4.75e1": XML and JSON writers may print numbers so.
	DecimalExponent DecimalSyntax = 1 << iota
	// DecimalComma accepts a comma for the point, "47,5": CSV exports of European locales.
	DecimalComma
)

// MaxDecimalLen bounds the text ParseDecimal reads: no printed coordinate comes near it, and a
// hostile cell of a million digits costs no more than a short one.
const MaxDecimalLen = 64

// ParseDecimal reads a number printed as plain decimal text and returns its value and its count
// of decimals (the digits after the point, before any exponent), which is the precision the
// writer kept: feed it to PrecisionFromDecimals. Text that strconv would also take but no log
// prints — NaN, Inf, hex floats, underscores, spaces — is refused, as is text longer than
// MaxDecimalLen.
func ParseDecimal(b []byte, syntax DecimalSyntax) (v float64, decimals int, ok bool) {
	if len(b) == 0 || len(b) > MaxDecimalLen {
		return 0, 0, false
	}
	digits, point, exp, comma := 0, false, false, false
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
			if point && !exp {
				decimals++
			}
		case (c == '-' || c == '+') && (i == 0 || b[i-1] == 'e' || b[i-1] == 'E'):
		case c == '.' && !point && !exp:
			point = true
		case c == ',' && syntax&DecimalComma != 0 && !point && !exp:
			point, comma = true, true
		case (c == 'e' || c == 'E') && syntax&DecimalExponent != 0 && digits > 0 && !exp:
			exp = true
		default:
			return 0, 0, false
		}
	}
	if digits == 0 {
		return 0, 0, false
	}
	if comma {
		// strconv knows only the point; the copy stays on the stack.
		var buf [MaxDecimalLen]byte
		s := buf[:copy(buf[:], b)]
		s[bytes.IndexByte(s, ',')] = '.'
		b = s
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, 0, false
	}
	return v, decimals, true
}
