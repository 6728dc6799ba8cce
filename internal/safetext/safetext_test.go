package safetext

import (
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"flight.pcapng", "flight.pcapng"},
		{"Brüssel 北京 café", "Brüssel 北京 café"},
		{"a\nVERDICT: PASS (exit code 0)", `a\nVERDICT: PASS (exit code 0)`},
		{"\x1b]0;owned\x07title", `\x1b]0;owned\x07title`},
		{"\x1b[2K\rerased", `\x1b[2K\rerased`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"iso\u2066x\u2069", `iso\u2066x\u2069`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"tab\there", `tab\there`},
		{"del\x7f", `del\x7f`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"sep\u2028line", `sep\u2028line`},
		{"tag\U000e0041", `tag\U000e0041`},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
		if Needed(c.in) != (c.in != c.want) {
			t.Errorf("Needed(%q) = %v", c.in, Needed(c.in))
		}
	}
}

// What String returns holds no byte a terminal acts on and no line break, whatever it is given.
func FuzzString(f *testing.F) {
	f.Add("a\nb\x1b[31m\u009b\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if Needed(out) {
			t.Fatalf("String(%q) = %q still needs escaping", s, out)
		}
		if strings.ContainsAny(out, "\n\r\x1b") {
			t.Fatalf("String(%q) = %q", s, out)
		}
	})
}
