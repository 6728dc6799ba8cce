// Package intern keeps one copy of the strings a parser makes again and again: the lab's clients
// ask for and name the same few hosts in packet after packet, so a DNS name or a TLS server name
// seen before costs a comparison or a map lookup instead of an allocation.
package intern

// Bounds on what a Table keeps, so that hostile input (many distinct or long names) cannot make
// it grow without limit: past them strings are still returned, only not kept.
const (
	maxStrings = 8192
	maxLen     = 255 // a DNS name's wire limit; longer TLS server names are rare and not kept
)

// Table returns strings for byte slices, one shared copy per distinct value it keeps. The zero
// value is ready; not for concurrent use.
type Table struct {
	m map[string]string
	// recent holds the last strings returned: an answer's name is mostly its question's, a
	// hello's ALPN list repeats the last one, and a comparison is cheaper than the map's hash.
	recent [4]string
	next   int
}

// String returns b as a string: a kept copy when b was seen before.
func (t *Table) String(b []byte) string {
	for _, s := range t.recent {
		if s == string(b) {
			return s
		}
	}
	s, ok := t.m[string(b)]
	if !ok {
		s = string(b)
		if len(s) <= maxLen && len(t.m) < maxStrings {
			if t.m == nil {
				t.m = map[string]string{}
			}
			t.m[s] = s
		}
	}
	t.recent[t.next] = s
	t.next = (t.next + 1) % len(t.recent)
	return s
}
