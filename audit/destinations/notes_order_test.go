package destinations

import (
	"testing"

	"droneaudit/decoders"
	"droneaudit/engine"
)

// The flow shards ask for their sinks in whatever order they first meet an input: the notes come
// out in input order, then lane order, whichever shard asked first.
func TestCaptureNotesLaneOrder(t *testing.T) {
	o := &captureNotes{}
	a, b := &engine.Input{Name: "a.pcap", Index: 0}, &engine.Input{Name: "b.pcap", Index: 1}
	note := func(msg string) decoders.Note {
		return decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: -1, Message: msg}
	}
	o.Sink(b, engine.LaneLink).Note(note("b link"))
	o.Sink(a, engine.LaneShard0+1).Note(note("a shard 1"))
	o.Sink(a, engine.LaneShard0).Note(note("a shard 0"))
	o.Sink(a, engine.LaneLink).Note(note("a link"))
	var got []string
	for _, n := range o.notes() {
		got = append(got, n.Message)
	}
	want := []string{"a link", "a shard 0", "a shard 1", "b link"}
	if len(got) != len(want) {
		t.Fatalf("notes %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("notes %q, want %q", got, want)
		}
	}
}
