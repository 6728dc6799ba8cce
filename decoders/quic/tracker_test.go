package quic

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestSortFuncOrder backs the tracker's use of slices.SortFunc where it used sort.Slice: on
// pieces with many equal offsets, both leave them in the same order.
func TestSortFuncOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 60; n++ {
		for range 50 {
			a := make([]CryptoFrame, n)
			for i := range a {
				a[i] = CryptoFrame{Offset: uint64(rng.IntN(5)), Data: []byte{byte(i)}}
			}
			b := slices.Clone(a)
			sort.Slice(a, func(i, j int) bool { return a[i].Offset < a[j].Offset })
			slices.SortFunc(b, byOffset)
			for i := range a {
				if a[i].Data[0] != b[i].Data[0] {
					t.Fatalf("%d pieces: orders differ at %d", n, i)
				}
			}
		}
	}
}
