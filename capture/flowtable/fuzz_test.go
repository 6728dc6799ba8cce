package flowtable

import (
	"testing"
	"time"

	"droneaudit/capture"
)

// FuzzTable drives one TCP flow with segments an attacker chose: any order, overlap, flags and
// sequence jumps. The table must not panic, and it never delivers more bytes in a direction than
// the segments carried.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 0, 2, 0, 10, 0, 10, 10, 1, 0, 20, 5, 0, 4, 0, 30, 0, 0})
	f.Add([]byte{0, 0x10, 0, 0, 0, 0, 10, 0, 0x10, 0x80, 0, 0, 0, 10}) // a segment 2^31 behind the expected byte
	f.Add([]byte{1, 0x12, 0xff, 0xff, 0xff, 0, 200, 0, 0, 0x10, 0, 5, 7, 1, 0x11, 0, 0, 0})
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
			b = b[7:]
			tr := seg(dir == 0, 1000+seq, flags&(capture.FlagSYN|capture.FlagFIN|capture.FlagRST|capture.FlagACK), payload[:n])
			now = now.Add(time.Duration(flags) * time.Second)
			d := ft.Add(tr, i+1, now)
			fed[d.Dir] += int64(n) // the table names directions after the first sender
			delivered[d.Dir] += int64(len(d.Payload))
			if flags&0x40 != 0 {
				ft.Expire(now, time.Minute, time.Minute)
			}
		}
		ft.Flush()
		for d := range 2 {
			if delivered[d] > fed[d] {
				t.Fatalf("direction %d: delivered %d bytes of %d fed", d, delivered[d], fed[d])
			}
		}
	})
}
