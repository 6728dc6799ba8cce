package flowtable

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// FuzzTable drives a TCP flow (and, from the second bit of a segment's first byte on, another
// TCP flow on other ports and a UDP flow) with segments an attacker chose: any order, overlap,
// flags, sequence jumps, port reuse and expiry, as an engine shard does (Reused, then Add). The
// table must not panic, it never delivers more bytes in a direction than the segments carried,
// every delivery belongs to its packet's flow, and the table's map and list agree.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 0, 2, 0, 10, 0, 10, 10, 1, 0, 20, 5, 0, 4, 0, 30, 0, 0})
	f.Add([]byte{0, 0x10, 0, 0, 0, 0, 10, 0, 0x10, 0x80, 0, 0, 0, 10}) // a segment 2^31 behind the expected byte
	f.Add([]byte{1, 0x12, 0xff, 0xff, 0xff, 0, 200, 0, 0, 0x10, 0, 5, 7, 1, 0x11, 0, 0, 0})
	// Three flows interleaved, a reset, a new SYN on the closed ports, expiry.
	f.Add([]byte{0, 0x02, 0, 0, 0, 0, 0, 2, 0x10, 0, 0, 0, 1, 9, 4, 0x10, 0, 0, 0, 0, 5, 1, 0x14, 0, 0, 0, 9, 0, 0, 0x02, 0, 0, 1, 0, 0, 4, 0x50, 0, 0, 0, 0, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		ft := New()
		ft.Slots = 1
		var delivered, fed [2]int64
		ft.EnableReassembly(func(d Delivery) { delivered[d.Dir] += int64(len(d.Payload)) })
		now := time.Unix(1700000000, 0)
		payload := make([]byte, 256)
		for i := 0; len(b) >= 7 && i < 2000; i++ {
			// The whole 32-bit sequence space: jumps of 2^31 are where signed differences break.
			dir, flags, seq, n := b[0]&1, b[1], uint32(b[2])<<24|uint32(b[3])<<16|uint32(b[4])<<8|uint32(b[5]), int(b[6])
			tr := seg(dir == 0, 1000+seq, flags&(capture.FlagSYN|capture.FlagFIN|capture.FlagRST|capture.FlagACK), payload[:n])
			sel := b[0]
			switch sel >> 1 & 3 {
			case 1:
				tr.Src = netip.AddrPortFrom(tr.Src.Addr(), tr.Src.Port()+1)
			case 2:
				tr.Proto = netflow.UDP
			}
			b = b[7:]
			now = now.Add(time.Duration(flags) * time.Second)
			if old := ft.Reused(tr); old != nil && len(ft.Flows()) != ft.count() {
				t.Fatalf("after Reused: %d flows listed, %d in the map", len(ft.Flows()), ft.count())
			}
			d := ft.Add(tr, i+1, now)
			if !d.Flow.carries(tr) || ft.get(flowKey(d.Flow), keyHash(flowKey(d.Flow))) != d.Flow || ft.order[d.Flow.pos] != d.Flow || ft.keys[d.Flow.pos] != flowKey(d.Flow) {
				t.Fatalf("packet %d delivered on flow %v %v-%v, not in the table as its own", i, d.Flow.Proto, d.Flow.Client, d.Flow.Server)
			}
			if m := ft.idle[d.Flow.pos]; m.last != d.Flow.Last || m.kind != d.Flow.idleKind() {
				t.Fatalf("packet %d: idle mark %v %d, flow %v %d", i, m.last, m.kind, d.Flow.Last, d.Flow.idleKind())
			}
			fed[d.Dir] += int64(n) // the table names directions after the first sender
			delivered[d.Dir] += int64(len(d.Payload))
			if flags&0x40 != 0 {
				// The flows ended are those the first Expire ended: idle past their kind's
				// limit, in order of first appearance.
				idle, udpIdle := time.Minute, time.Duration(sel>>3)*time.Second
				var want []*Flow
				for _, f := range ft.order {
					limit := idle
					if f == nil {
						continue
					} else if f.Proto == netflow.UDP {
						limit = udpIdle
					} else if f.Closed() {
						limit = min(idle, ClosedLinger)
					}
					if now.Sub(f.Last) > limit {
						want = append(want, f)
					}
				}
				if got := ft.Expire(now, idle, udpIdle); !slices.Equal(got, want) {
					t.Fatalf("packet %d: Expire ended %d flows, want %d", i, len(got), len(want))
				}
			}
		}
		ft.Flush()
		if len(ft.Flows()) != ft.count() {
			t.Fatalf("%d flows listed, %d in the map", len(ft.Flows()), ft.count())
		}
		for i, fl := range ft.Flows() {
			if fl.pos != i || ft.get(flowKey(fl), keyHash(flowKey(fl))) != fl || ft.keys[i] != flowKey(fl) || i > 0 && ft.order[i-1].FirstFrame >= fl.FirstFrame {
				t.Fatalf("flow %d of %d out of place (pos %d, first frame %d)", i, len(ft.order), fl.pos, fl.FirstFrame)
			}
		}
		for d := range 2 {
			if delivered[d] > fed[d] {
				t.Fatalf("direction %d: delivered %d bytes of %d fed", d, delivered[d], fed[d])
			}
		}
	})
}
