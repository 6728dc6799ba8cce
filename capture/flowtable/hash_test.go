package flowtable

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// collidingFlows returns two UDP flows between IPv6 endpoints whose keys differ but hash alike
// (keyHash): the words of the second key's addresses are solved for from the first's, as a
// hostile capture could.
func collidingFlows(t *testing.T) (x, y *capture.Transport) {
	addr := func(hi, lo uint64) netip.Addr {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], hi)
		binary.BigEndian.PutUint64(b[8:], lo)
		return netip.AddrFrom16(b)
	}
	inv := func(c uint64) uint64 { // c⁻¹ mod 2⁶⁴ for odd c (Newton's iteration)
		v := c
		for range 6 {
			v *= 2 - c*v
		}
		return v
	}
	const c2, c4 = 0x9e3779b97f4a7c15, 0x94d049bb133111eb // keyHash's constants of aLo and bLo
	aLo, bLo, aLo2 := uint64(0x1111), uint64(0x2222), uint64(0x3333)
	bLo2 := (aLo*c2 ^ bLo*c4 ^ aLo2*c2) * inv(c4)
	// aHi 1 < bHi 2 keeps the endpoints in that order in both keys.
	x = &capture.Transport{Proto: netflow.UDP, Src: netip.AddrPortFrom(addr(1, aLo), 1000), Dst: netip.AddrPortFrom(addr(2, bLo), 53), Payload: []byte("x")}
	y = &capture.Transport{Proto: netflow.UDP, Src: netip.AddrPortFrom(addr(1, aLo2), 1000), Dst: netip.AddrPortFrom(addr(2, bLo2), 53), Payload: []byte("y")}
	kx, ky := keyOf(x.Proto, x.Src, x.Dst), keyOf(y.Proto, y.Src, y.Dst)
	if kx == ky || keyHash(kx) != keyHash(ky) {
		t.Fatalf("keys %v and %v: hashes %x, %x, want two keys of one hash", kx, ky, keyHash(kx), keyHash(ky))
	}
	return x, y
}

// Two flows whose keys hash alike stay two flows, each found by its own packets either way,
// through an expiry of the one filed first, a compaction of the map and a new flow on the
// first's addresses.
func TestHashCollisionKeepsFlowsApart(t *testing.T) {
	x, y := collidingFlows(t)
	rev := func(p *capture.Transport) *capture.Transport {
		r := *p
		r.Src, r.Dst = p.Dst, p.Src
		return &r
	}
	t0 := time.Unix(1_700_000_000, 0)
	ft := New()
	fx := ft.Add(x, 1, t0).Flow
	fy := ft.Add(y, 2, t0.Add(time.Minute)).Flow
	if fx == fy || len(ft.over) != 1 {
		t.Fatalf("colliding keys: same flow %v, %d flows in the overflow map, want 1", fx == fy, len(ft.over))
	}
	for i, c := range []struct {
		p    *capture.Transport
		want *Flow
	}{{rev(x), fx}, {rev(y), fy}, {x, fx}, {y, fy}} {
		ft.last = nil // look each up in the maps
		if d := ft.Add(c.p, 3+i, t0.Add(time.Minute)); d.Flow != c.want || d.NewFlow {
			t.Fatalf("packet %d: delivered on another flow (new %v)", i, d.NewFlow)
		}
	}
	// Many short flows, then an expiry that ends them and x (filed first, in the one-word map):
	// the map is made anew with y alone in it.
	for i := range 3000 {
		p := &capture.Transport{Proto: netflow.UDP, Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 5000), Dst: netip.MustParseAddrPort("10.9.9.9:53")}
		ft.Add(p, 10+i, t0)
	}
	ft.Add(y, 5000, t0.Add(3*time.Minute))
	gone := ft.Expire(t0.Add(3*time.Minute), 5*time.Minute, time.Minute)
	if len(gone) != 3001 || gone[0] != fx || ft.count() != 1 || ft.removed != 0 {
		t.Fatalf("expire ended %d flows (first x: %v), %d left, %d removals since compaction; want 3001, x first, 1, 0", len(gone), len(gone) > 0 && gone[0] == fx, ft.count(), ft.removed)
	}
	ft.last = nil
	if d := ft.Add(rev(y), 5001, t0.Add(3*time.Minute)); d.Flow != fy {
		t.Fatal("after compaction y's packet went to another flow")
	}
	ft.last = nil
	if d := ft.Add(x, 5002, t0.Add(3*time.Minute)); !d.NewFlow || d.Flow == fx || d.Flow == fy {
		t.Fatal("a packet on x's addresses after x ended did not start a flow of its own")
	}
	nx := ft.Flows()[1]
	for _, f := range []*Flow{fy, nx} {
		ft.last = nil
		if got := ft.get(flowKey(f), keyHash(flowKey(f))); got != f {
			t.Fatalf("flow %v-%v not found by its key", f.Client, f.Server)
		}
	}
}
