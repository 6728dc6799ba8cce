package decoders_test

import (
	"fmt"
	"testing"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
)

func TestNoteLimiterCapsEachCode(t *testing.T) {
	sink := &decodertest.Sink{}
	l := decoders.NoteLimiter{Sink: sink, Max: 2, Summary: decoders.NotesNotShown("x.bin")}
	for i := 0; i < 5; i++ {
		l.Note(decoders.Note{Code: decoders.CodeJunk, Offset: int64(i)})
		l.Note(decoders.Note{Code: decoders.CodeTruncated, Offset: int64(i)})
	}
	l.Note(decoders.Note{Code: decoders.CodeBadFmt})
	if got := len(sink.Notes); got != 5 {
		t.Fatalf("%d notes passed, want 2+2+1", got)
	}
	l.Flush()
	if len(sink.Notes) != 7 {
		t.Fatalf("notes %+v", sink.Notes)
	}
	// Summaries come in the order the codes first came, not in map order.
	for i, want := range []string{"x.bin: 3 further junk notes not shown", "x.bin: 3 further truncated notes not shown"} {
		n := sink.Notes[5+i]
		if n.Message != want || n.Offset != -1 || n.Severity != decoders.Warning {
			t.Errorf("summary %d: %+v, want %q", i, n, want)
		}
	}
}

func TestNoteLimiterShared(t *testing.T) {
	sink := &decodertest.Sink{}
	var held []decoders.Held
	l := decoders.NoteLimiter{Sink: sink, Max: 3, Shared: []decoders.Code{decoders.CodeUndecodable, decoders.CodeJunk},
		Summary: func(h decoders.Held) (decoders.Note, bool) { held = append(held, h); return decoders.Note{}, false }}
	for i := 0; i < 4; i++ {
		l.Allow(decoders.CodeJunk)
		l.Allow(decoders.CodeUndecodable)
		l.Allow(decoders.CodeBadCRC)
	}
	l.Flush()
	want := []decoders.Held{{Code: decoders.CodeUndecodable, Listed: 3, Held: 5}, {Code: decoders.CodeBadCRC, Listed: 3, Held: 1}}
	if fmt.Sprint(held) != fmt.Sprint(want) {
		t.Fatalf("held %v, want %v", held, want)
	}
	if len(sink.Notes) != 0 {
		t.Fatalf("a summary that declines must report nothing: %+v", sink.Notes)
	}
	if held[0].Total() != 8 {
		t.Fatalf("total %d", held[0].Total())
	}
}

func TestNoteLimiterNoSummary(t *testing.T) {
	sink := &decodertest.Sink{}
	l := decoders.NoteLimiter{Sink: sink, Max: 1}
	if !l.Allow(decoders.CodeBadValue) || l.Allow(decoders.CodeBadValue) {
		t.Fatal("Max 1 must allow the first note only")
	}
	l.Flush()
	if len(sink.Notes) != 0 {
		t.Fatalf("notes %+v", sink.Notes)
	}
}
