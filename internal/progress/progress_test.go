package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a bytes.Buffer safe for the bar's goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The bar shows the bytes read against the size of the inputs, and Finish erases its line: no
// "99%" stays on the screen (it did, with a total of twice the size).
func TestBarShowsBytesAndErasesItself(t *testing.T) {
	var out syncBuf
	b := start(&out, "1 input(s)", 1000, time.Millisecond)
	b.Add(500)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), " 50% ") {
		if time.Now().After(deadline) {
			t.Fatalf("no 50%% frame: %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	b.Add(500)
	for !strings.Contains(out.String(), "100% ") {
		if time.Now().After(deadline) {
			t.Fatalf("no 100%% frame: %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
	b.Finish()
	s := out.String()
	if !strings.HasSuffix(s, "\r\x1b[2K") {
		t.Fatalf("the bar's line is not erased at the end: %q", s[max(0, len(s)-80):])
	}
	var nilBar *Bar
	nilBar.Add(1)
	nilBar.Finish()
}
