package intern

import (
	"strconv"
	"testing"
	"unsafe"
)

func TestStringSharesRepeats(t *testing.T) {
	var tb Table
	a := tb.String([]byte("flysafe-api.dji.com"))
	for i := range 10 { // push it out of the recent ring: the map must still find it
		tb.String([]byte("other" + strconv.Itoa(i)))
	}
	b := tb.String([]byte("flysafe-api.dji.com"))
	if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("a repeat was not shared: %q at %p, %q at %p", a, unsafe.StringData(a), b, unsafe.StringData(b))
	}
}

func TestBounds(t *testing.T) {
	var tb Table
	for i := range maxStrings + 100 {
		s := "n" + strconv.Itoa(i)
		if got := tb.String([]byte(s)); got != s {
			t.Fatalf("String(%q) = %q", s, got)
		}
	}
	if len(tb.m) != maxStrings {
		t.Fatalf("kept %d strings, want the bound %d", len(tb.m), maxStrings)
	}
	long := make([]byte, maxLen+1)
	for i := range long {
		long[i] = 'a'
	}
	var small Table
	if got := small.String(long); got != string(long) {
		t.Fatal("a long string came back changed")
	}
	if len(small.m) != 0 {
		t.Fatalf("a %d-byte string was kept", len(long))
	}
}

func TestStringDoesNotAliasInput(t *testing.T) {
	var tb Table
	b := []byte("example.com")
	s := tb.String(b)
	copy(b, "XXXXXXXXXXX")
	if s != "example.com" || tb.String([]byte("example.com")) != "example.com" {
		t.Fatalf("the returned string changed with its input: %q", s)
	}
}
