package flowtable

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

var (
	cli = netip.MustParseAddrPort("192.168.50.23:40000")
	srv = netip.MustParseAddrPort("47.91.161.230:443")
)

func seg(client bool, seq uint32, flags uint8, p []byte) *capture.Transport {
	t := &capture.Transport{Proto: netflow.TCP, Src: cli, Dst: srv, Seq: seq, TCPFlags: flags, Payload: p}
	if !client {
		t.Src, t.Dst = srv, cli
	}
	return t
}

// streamOf replays a client stream cut into segments, in the given order (indices into the cut),
// with optional duplicates, and returns what the table delivered in order.
func streamOf(t *testing.T, data []byte, cuts []int, order []int, reasm bool) ([]byte, *Flow, bool) {
	t.Helper()
	ft := New()
	if reasm {
		ft.EnableReassembly(nil)
	}
	now := time.Unix(1700000000, 0)
	ft.Add(seg(true, 999, capture.FlagSYN, nil), 1, now)
	ft.Add(seg(false, 4999, capture.FlagSYN|capture.FlagACK, nil), 2, now)
	var got []byte
	gap := false
	for i, k := range order {
		lo, hi := cuts[k], cuts[k+1]
		d := ft.Add(seg(true, 1000+uint32(lo), capture.FlagACK, data[lo:hi]), 3+i, now.Add(time.Duration(i)*time.Millisecond))
		got = append(got, d.Payload...)
		gap = gap || d.Gap
	}
	return got, ft.Flows()[0], gap
}

func TestReassemblyOutOfOrderAndOverlap(t *testing.T) {
	data := make([]byte, 20000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.IntN(256))
	}
	cuts := []int{0}
	for cuts[len(cuts)-1] < len(data) {
		cuts = append(cuts, min(len(data), cuts[len(cuts)-1]+1+rng.IntN(1448)))
	}
	n := len(cuts) - 1
	for trial := 0; trial < 20; trial++ {
		order := rng.Perm(n)
		// Repeat a few segments to add retransmissions and overlaps.
		for j := 0; j < 5; j++ {
			order = append(order, rng.IntN(n))
		}
		got, f, gap := streamOf(t, data, cuts, order, true)
		if !bytes.Equal(got, data) {
			t.Fatalf("trial %d: delivered %d bytes, want %d in order", trial, len(got), len(data))
		}
		if gap || f.Bytes[0] != int64(len(data)) || f.SkippedBytes[0] != 0 {
			t.Fatalf("trial %d: gap %v bytes %d skipped %d", trial, gap, f.Bytes[0], f.SkippedBytes[0])
		}
	}
	// Without reassembly the same reordering loses bytes on the fast path.
	got, f, gap := streamOf(t, data, cuts, []int{1, 0, 2}, false)
	if !gap || f.SkippedBytes[0] == 0 || bytes.Equal(got, data[:cuts[3]]) {
		t.Fatalf("fast path: gap %v skipped %d", gap, f.SkippedBytes[0])
	}
}

func TestInOrderStaysOnFastPath(t *testing.T) {
	data := bytes.Repeat([]byte("abc"), 3000)
	cuts := []int{0, 1448, 2896, 4344, 5792, 7240, 8688, 9000}
	got, f, gap := streamOf(t, data, cuts, []int{0, 1, 2, 2, 3, 4, 5, 6}, true)
	if !bytes.Equal(got, data) || gap || f.reasm[0] {
		t.Fatalf("gap %v reassembling %v", gap, f.reasm[0])
	}
}

func TestExpireFlushesHole(t *testing.T) {
	var flushed []Delivery
	ft := New()
	ft.EnableReassembly(func(d Delivery) {
		flushed = append(flushed, Delivery{Flow: d.Flow, Dir: d.Dir, Gap: d.Gap, Payload: bytes.Clone(d.Payload)})
	})
	now := time.Unix(1700000000, 0)
	ft.Add(seg(true, 999, capture.FlagSYN, nil), 1, now)
	ft.Add(seg(true, 1000, capture.FlagACK, []byte("hello ")), 2, now)
	d := ft.Add(seg(true, 1010, capture.FlagACK, []byte("world")), 3, now) // bytes 1006..1009 never arrive
	if len(d.Payload) != 0 {
		t.Fatalf("released %q across a hole", d.Payload)
	}
	u := &capture.Transport{Proto: netflow.UDP, Src: cli, Dst: netip.MustParseAddrPort("8.8.8.8:53"), Payload: []byte{1}}
	ft.Add(u, 4, now.Add(10*time.Minute))
	gone := ft.Expire(now.Add(10*time.Minute), 5*time.Minute, 2*time.Minute)
	if len(gone) != 1 || gone[0].Proto != netflow.TCP || len(ft.Flows()) != 1 {
		t.Fatalf("expired %d, left %d", len(gone), len(ft.Flows()))
	}
	if len(flushed) != 1 || string(flushed[0].Payload) != "world" || !flushed[0].Gap {
		t.Fatalf("flushed %+v", flushed)
	}
	// The same addresses later make a new flow.
	if d := ft.Add(seg(true, 5000, capture.FlagSYN, nil), 5, now.Add(11*time.Minute)); !d.NewFlow {
		t.Fatal("no new flow after expiry")
	}
}
