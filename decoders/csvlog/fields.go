package csvlog

import (
	"bytes"
	"time"

	"droneaudit/geo"
)

// splitRecord splits one record into fields, reusing out. Quoted fields ("a,b") keep their
// commas; doubled quotes inside are left as they are, since no value this decoder reads holds
// one. It reports whether a quote was left open (the record continues on the next line).
func splitRecord(line []byte, delim byte, out [][]byte) ([][]byte, bool) {
	out = out[:0]
	for {
		if len(out) >= maxColumns {
			return out, false
		}
		if len(line) > 0 && line[0] == '"' {
			// Find the closing quote that is not doubled.
			i := 1
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					return append(out, line[1:]), true
				}
				i += j + 1
				if i < len(line) && line[i] == '"' {
					i++
					continue
				}
				break
			}
			out = append(out, line[1:i-1])
			line = line[i:]
			if k := bytes.IndexByte(line, delim); k >= 0 {
				line = line[k+1:]
				continue
			}
			return out, false
		}
		k := bytes.IndexByte(line, delim)
		if k < 0 {
			return append(out, line), false
		}
		out = append(out, line[:k])
		line = line[k+1:]
	}
}

// number is a parsed decimal with the count of its printed decimals.
type number struct {
	v   float64
	dec int
	ok  bool
}

// parseNumber reads a plain decimal (optional sign, digits, fraction, exponent) around spaces.
// commaDecimal accepts "47,57" for files that use ';' as the delimiter (European locales).
func parseNumber(b []byte, commaDecimal bool) number {
	syntax := geo.DecimalExponent
	if commaDecimal {
		syntax |= geo.DecimalComma
	}
	v, dec, ok := geo.ParseDecimal(bytes.TrimSpace(b), syntax)
	return number{v: v, dec: dec, ok: ok}
}

// timeKind says how much of an instant a cell holds.
type timeKind int

const (
	noTime timeKind = iota
	dateOnly
	clockOnly
	fullTime
)

// Layouts seen in drone CSV exports: Airdata "2021-09-06 02:23:48" (formats §14.1), node-djiparsetxt
// "2019/02/22 10:11:12.345" (§14.2), dji-log-parser ISO 8601 (§14.3), PhantomHelp US locale
// dates "8/29/2017" with a separate clock column (§14.2), and RFC 3339.
var (
	fullLayouts = []string{
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999",
		"2006/01/02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05Z",
		"1/2/2006 3:04:05.999999999 PM", "1/2/2006 15:04:05.999999999", "2006.01.02 15:04:05.999999999",
	}
	dateLayouts  = []string{"2006-01-02", "2006/01/02", "1/2/2006", "2006.01.02"}
	clockLayouts = []string{"15:04:05.999999999", "3:04:05.999999999 PM", "3:04:05.999999999PM"}
)

// parseTime reads one time cell. Epoch numbers are accepted when they are plausible instants
// (seconds or milliseconds between 2001 and 2100); other numbers are relative times.
func parseTime(b []byte) (time.Time, timeKind) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 64 {
		return time.Time{}, noTime
	}
	if n := parseNumber(b, false); n.ok {
		// Only instants between 2001 and 2100: boot-relative micro- and milliseconds (PX4,
		// Airdata's time(millisecond)) must not pass for dates.
		switch {
		case n.v >= 1e12 && n.v < 4.1e12:
			return time.UnixMilli(int64(n.v)).UTC(), fullTime
		case n.v >= 1e9 && n.v < 4.1e9:
			sec := int64(n.v)
			return time.Unix(sec, int64((n.v-float64(sec))*1e9)).UTC(), fullTime
		}
		return time.Time{}, noTime
	}
	s := string(b)
	for _, l := range fullLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, fullTime
		}
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, dateOnly
		}
	}
	for _, l := range clockLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, clockOnly
		}
	}
	return time.Time{}, noTime
}

// combine joins a date cell and a clock cell (PhantomHelp writes them apart).
func combine(d, c time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), time.UTC)
}
