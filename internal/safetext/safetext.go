// Package safetext makes text taken from inputs safe to print for a person. File names and text
// decoded from logs and captures are chosen by whoever made the evidence: an escape sequence in
// them would drive the reader's terminal (rewrite the title, move the cursor, erase a line), a
// newline would start a line of the report that the tool never wrote (a fake verdict), and a
// bidirectional override would show characters in another order than they are stored.
//
// String shows every such character as an escape instead: C0 and C1 controls (newline, tab and
// ESC included), DEL, bidirectional controls and the other Unicode format characters, line and
// paragraph separators, and bytes that are not UTF-8. Everything else, accented letters and
// other scripts included, is left as it is. Every human-readable output (the text report, the
// destination and broadcast tables, `fixes --format text`, logs in text form) passes its
// input-derived text through String; machine formats (JSON, CSV, NDJSON, GeoJSON) keep the exact
// value with their own escaping instead.
package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s with every character that could change how the rest of the output is shown
// replaced by an escape: \n, \r, \t, \xNN for other C0 controls, DEL and bytes that are not
// UTF-8, \u0085-style escapes for C1 controls and \u202e-style escapes for format characters
// (bidirectional controls, zero-width characters, the BOM) and line or paragraph separators.
// A string with nothing to escape is returned as it is, without a copy.
func String(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			writeByte(&b, s[i])
			i++
			continue
		}
		if unsafe(r) {
			writeRune(&b, r)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Needed reports whether String would change s.
func Needed(s string) bool { return firstUnsafe(s) >= 0 }

// firstUnsafe returns the byte index of the first character String escapes, or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || unsafe(r) {
			return i
		}
		i += size
	}
	return -1
}

// unsafe reports the runes String escapes.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f: // C1 controls: U+009B is a one-character CSI on some terminals
		return true
	case r == '\u2028', r == '\u2029': // line and paragraph separators
		return true
	}
	// Cf holds the bidirectional controls (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069,
	// U+061C), zero-width characters, the soft hyphen and the BOM.
	return unicode.Is(unicode.Cf, r)
}

func writeByte(b *strings.Builder, c byte) {
	switch c {
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	default:
		b.WriteString(`\x`)
		if c < 0x10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.FormatUint(uint64(c), 16))
	}
}

func writeRune(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf {
		writeByte(b, byte(r))
		return
	}
	h := strconv.FormatUint(uint64(r), 16)
	if r > 0xffff {
		b.WriteString(`\U`)
		b.WriteString(strings.Repeat("0", 8-len(h)))
	} else {
		b.WriteString(`\u`)
		b.WriteString(strings.Repeat("0", 4-len(h)))
	}
	b.WriteString(h)
}
