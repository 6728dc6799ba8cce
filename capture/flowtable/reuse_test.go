package flowtable

import (
	"testing"
	"time"

	"droneaudit/capture"
)

// A SYN on the ports of a connection that closed, or that already carried bytes, starts a new
// flow with a uid of its own; a retransmitted SYN, a SYN+ACK and a data segment do not.
func TestReusedPortsStartANewFlow(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ft := New()
	syn := seg(true, 100, capture.FlagSYN, nil)
	if ft.Reused(syn) != nil {
		t.Fatal("a SYN of an unknown flow ended something")
	}
	first := ft.Add(syn, 1, now).Flow
	if ft.Reused(syn) != nil {
		t.Fatal("a retransmitted SYN (nothing carried yet) ended the flow")
	}
	ft.Add(syn, 2, now)
	if ft.Reused(seg(false, 500, capture.FlagSYN|capture.FlagACK, nil)) != nil {
		t.Fatal("a SYN+ACK ended the flow")
	}
	ft.Add(seg(false, 500, capture.FlagSYN|capture.FlagACK, nil), 3, now)
	ft.Add(seg(true, 101, capture.FlagACK, []byte("hello")), 4, now)
	if ft.Reused(seg(true, 106, capture.FlagACK, []byte("more"))) != nil {
		t.Fatal("a data segment ended the flow")
	}
	// The same ports, a new connection (as the next capture of another session would have it,
	// starting at frame 1 again).
	again := seg(true, 9000, capture.FlagSYN, nil)
	if old := ft.Reused(again); old != first {
		t.Fatalf("the SYN of a new connection ended %v, want the first flow", old)
	}
	d := ft.Add(again, 1, now)
	if !d.NewFlow || d.Flow == first || d.Flow.UID() == first.UID() || len(ft.Flows()) != 1 || ft.Flows()[0] != d.Flow {
		t.Fatalf("new flow %v (uid %s, first %s), table %d flows", d.NewFlow, d.Flow.UID(), first.UID(), len(ft.Flows()))
	}
	d = ft.Add(seg(true, 9001, capture.FlagACK, []byte("x")), 2, now)
	if string(d.Payload) != "x" || d.Flow.Bytes[0] != 1 {
		t.Fatalf("the new flow's first bytes: %q, %d", d.Payload, d.Flow.Bytes[0])
	}
}
