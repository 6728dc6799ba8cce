package quic

import (
	"testing"

	"droneaudit/netflow"
)

// A stream direction's end says how it ended: a FIN is a clean end, a RESET_STREAM is marked
// Reset (what came before may be cut), and a stream the connection's close ends has neither.
func TestStreamEnds(t *testing.T) {
	var got []StreamData
	s := newStreams(func(d StreamData) { d.Data = nil; got = append(got, d) })
	s.frame(netflow.ClientToServer, 0, 0, []byte("GET"), true)       // request: FIN
	s.frame(netflow.ServerToClient, 0, 0, []byte("200"), false)      // response: reset below
	s.reset(netflow.ServerToClient, 0)                               //
	s.frame(netflow.ClientToServer, 4, 0, []byte("POST ..."), false) // cut by the close
	s.close()
	type end struct {
		id               uint64
		dir              netflow.Direction
		fin, reset, done bool
	}
	var ends []end
	for _, d := range got {
		if d.Fin || d.Done {
			ends = append(ends, end{d.ID, d.Dir, d.Fin, d.Reset, d.Done})
		}
	}
	want := []end{
		{0, netflow.ClientToServer, true, false, false},
		{0, netflow.ServerToClient, true, true, true},
		{4, netflow.ClientToServer, false, false, true},
	}
	if len(ends) != len(want) {
		t.Fatalf("ends %+v", ends)
	}
	for i := range want {
		if ends[i] != want[i] {
			t.Errorf("end %d: %+v, want %+v", i, ends[i], want[i])
		}
	}
}
