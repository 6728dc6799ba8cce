package devices

import (
	"maps"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestAddrSetRepeatSkip backs Ended's lastLocal: offering a bounded address set the address it
// was offered last changes nothing, whatever came before, so the offer can be skipped.
func TestAddrSetRepeatSkip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		var all, skipping addrSet
		var last netip.Addr
		for range 400 {
			a := netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(2)), byte(rng.IntN(90))})
			if rng.IntN(3) == 0 && last.IsValid() {
				a = last // a repeat
			}
			all.add(a)
			if a != last {
				skipping.add(a)
				last = a
			}
			if !maps.Equal(all, skipping) {
				t.Fatalf("sets differ after %v", a)
			}
		}
	}
}
