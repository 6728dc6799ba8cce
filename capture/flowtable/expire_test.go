package flowtable

import (
	"net/netip"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// Expire ends each kind of flow after its own idle time (exactly the limit is not yet idle),
// returns them in order of first appearance, and a later packet on the same addresses, even the
// very next one, starts a new flow.
func TestExpireLimitsOrderAndNewFlow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ft := New()
	udp := &capture.Transport{Proto: netflow.UDP, Src: netip.MustParseAddrPort("10.0.0.2:5353"), Dst: netip.MustParseAddrPort("10.0.0.1:53"), Payload: []byte("q")}
	closed := seg(true, 100, capture.FlagSYN, nil)
	open := &capture.Transport{Proto: netflow.TCP, Src: netip.MustParseAddrPort("10.0.0.2:40001"), Dst: netip.MustParseAddrPort("10.0.0.9:443"), TCPFlags: capture.FlagSYN}
	fu := ft.Add(udp, 1, t0).Flow
	fo := ft.Add(open, 2, t0).Flow
	fc := ft.Add(closed, 3, t0).Flow
	ft.Add(seg(false, 500, capture.FlagRST|capture.FlagACK, nil), 4, t0)
	if !fc.Closed() {
		t.Fatal("a reset did not close the flow")
	}
	names := map[*Flow]string{fu: "udp", fo: "open tcp", fc: "closed tcp"}
	expire := func(after time.Duration) (got []string) {
		for _, f := range ft.Expire(t0.Add(after), 5*time.Minute, 2*time.Minute) {
			got = append(got, names[f])
		}
		return got
	}
	steps := []struct {
		after time.Duration
		want  []string
	}{
		{ClosedLinger, nil},
		{ClosedLinger + 1, []string{"closed tcp"}},
		{2 * time.Minute, nil},
		{2*time.Minute + 1, []string{"udp"}},
		{5 * time.Minute, nil},
		{5*time.Minute + 1, []string{"open tcp"}},
	}
	for _, s := range steps {
		if got := expire(s.after); len(got) != len(s.want) || len(got) > 0 && got[0] != s.want[0] {
			t.Fatalf("after %v: ended %v, want %v", s.after, got, s.want)
		}
	}
	// All three end at once in order of first appearance.
	ft = New()
	a, b, c := ft.Add(udp, 1, t0).Flow, ft.Add(open, 2, t0).Flow, ft.Add(closed, 3, t0).Flow
	ft.Add(udp, 4, t0) // the udp flow is the last looked up
	gone := ft.Expire(t0.Add(time.Hour), 5*time.Minute, 2*time.Minute)
	if len(gone) != 3 || gone[0] != a || gone[1] != b || gone[2] != c || len(ft.Flows()) != 0 {
		t.Fatalf("ended %d flows out of order or left %d", len(gone), len(ft.Flows()))
	}
	d := ft.Add(udp, 5, t0.Add(time.Hour))
	if !d.NewFlow || d.Flow == a || d.Flow.FirstFrame != 5 || d.Flow.Packets[0] != 1 {
		t.Fatalf("the packet after the end joined the old flow (new %v, first frame %d)", d.NewFlow, d.Flow.FirstFrame)
	}
}

// Flows come and go by the thousand while a few stay: the table makes its map anew on the way
// (compact), and the flows that stay are still found as themselves.
func TestExpireChurnKeepsLiveFlows(t *testing.T) {
	ft := New()
	t0 := time.Unix(1_700_000_000, 0)
	udp := func(host, port int) *capture.Transport {
		return &capture.Transport{Proto: netflow.UDP, Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(host >> 8), byte(host)}), uint16(port)),
			Dst: netip.MustParseAddrPort("10.0.0.1:53"), Payload: []byte("q")}
	}
	var stay []*Flow
	for i := range 10 {
		stay = append(stay, ft.Add(udp(0, 1000+i), i+1, t0).Flow)
	}
	frame, compacted := 10, false
	for round := range 40 {
		now := t0.Add(time.Duration(round) * time.Minute)
		for i := range 300 {
			frame++
			ft.Add(udp(1+round*300+i, 5000), frame, now)
		}
		for i := range 10 {
			frame++
			if d := ft.Add(udp(0, 1000+i), frame, now.Add(59*time.Second)); d.NewFlow || d.Flow != stay[i] {
				t.Fatalf("round %d: a staying flow was not found", round)
			}
		}
		before := ft.removed
		ft.Expire(now.Add(61*time.Second), 5*time.Minute, time.Minute)
		compacted = compacted || ft.removed < before
		if ft.count() != len(ft.Flows()) || ft.count() != 10 {
			t.Fatalf("round %d: %d flows in the map, %d listed, want the 10 that stay", round, ft.count(), len(ft.Flows()))
		}
	}
	if !compacted {
		t.Fatal("12,000 flows came and went and the map was never made anew")
	}
}
