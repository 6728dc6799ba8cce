package search

import (
	"bytes"
	"testing"

	"droneaudit/capture/flowtable"
	"droneaudit/engine"
	"droneaudit/netflow"
)

// oldKeep is how a direction's tail was kept before it shared one array per flow: appended and
// cut, growing a new array whenever the chunk did not fit.
func oldKeep(tail, pl []byte) []byte {
	if len(pl) >= overlap {
		return append(tail[:0], pl[len(pl)-overlap:]...)
	}
	keep := append(tail, pl...)
	return append(tail[:0], keep[max(len(keep)-overlap, 0):]...)
}

// FuzzKeep feeds chunks of any sizes to both directions of a flow and compares each tail with
// the old way of keeping it; a gap empties a tail. The flow's state is a bare one (its tails
// made by keep) or a TCP flow's from newFlowState (its tails in the array allocated with it,
// which they must never leave).
func FuzzKeep(f *testing.F) {
	f.Add([]byte{3, 0, 200, 1, 5, 0, 127, 0, 1, 0, 0, 128, 129, 1})
	f.Add([]byte{255, 0, 255, 1, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tcp := newFlowState(&engine.Chunk{Delivery: flowtable.Delivery{Flow: &flowtable.Flow{Proto: netflow.TCP}}})
		if len(b) > 0 && b[0]&1 != 0 {
			tcp = &flowState{}
		}
		fs := tcp
		var arr [2][]byte // the array the tails must stay in, when newFlowState made it
		if fs.tail[0] != nil {
			arr = [2][]byte{fs.tail[0][:overlap], fs.tail[1][:overlap]}
		}
		var old [2][]byte
		data := make([]byte, 256+7)
		for i := range data {
			data[i] = byte(i * 7)
		}
		for i := 0; i+1 < len(b); i += 2 {
			n, d := int(b[i]), netflow.Direction(b[i+1]&1)
			if b[i+1]&2 != 0 { // a gap
				fs.tail[d], old[d] = fs.tail[d][:0], old[d][:0]
			}
			pl := data[n%7 : n%7+n] // shifting bytes, so that a wrong cut shows
			fs.keep(d, pl)
			old[d] = oldKeep(old[d], pl)
			if !bytes.Equal(fs.tail[d], old[d]) || len(fs.tail[d]) > overlap {
				t.Fatalf("chunk %d of %d bytes: tail %x, want %x", i/2, n, fs.tail[d], old[d])
			}
			if arr[d] != nil && len(fs.tail[d]) > 0 && &fs.tail[d][0] != &arr[d][0] {
				t.Fatalf("chunk %d: the tail of direction %d left the flow state's array", i/2, d)
			}
		}
	})
}
