package readahead

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// The window slides: after consuming bytes, Fill keeps Pos on the stream offset of Bytes()[0],
// whatever the size of the source's reads.
func TestFillSlides(t *testing.T) {
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i)
	}
	b := New(iotest.OneByteReader(bytes.NewReader(data)), 64)
	var pos int64
	for step := 1; pos < int64(len(data)); step = step%37 + 1 {
		b.Fill(step)
		if b.Len() == 0 {
			t.Fatalf("no bytes at %d", pos)
		}
		if b.Pos() != pos || b.Bytes()[0] != byte(pos) {
			t.Fatalf("pos %d (want %d), first byte %d", b.Pos(), pos, b.Bytes()[0])
		}
		n := min(step, b.Len())
		b.R += n
		pos += int64(n)
	}
	b.Fill(1)
	if b.Len() != 0 || !b.EOF || b.Err != nil || !b.Ended() {
		t.Fatalf("at the end: len %d EOF %v err %v", b.Len(), b.EOF, b.Err)
	}
}

func TestFillStopsAtError(t *testing.T) {
	boom := errors.New("boom")
	b := New(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 16)
	b.Fill(10)
	if string(b.Bytes()) != "abc" || !errors.Is(b.Err, boom) || b.EOF || !b.Ended() {
		t.Fatalf("bytes %q err %v eof %v", b.Bytes(), b.Err, b.EOF)
	}
}

func TestDiscard(t *testing.T) {
	b := New(bytes.NewReader(make([]byte, 100)), 8)
	b.Discard(50)
	if b.Pos() != 50 {
		t.Fatalf("pos %d after discarding 50", b.Pos())
	}
	b.Discard(1000)
	if b.Pos() != 100 || !b.EOF {
		t.Fatalf("pos %d after discarding past the end", b.Pos())
	}
}
