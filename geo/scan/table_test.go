package scan

import (
	"math/rand/v2"
	"testing"

	"droneaudit/geo"
	"droneaudit/internal/demo"
)

// TestHotTable: the first-level table says exactly which windows have table bits, gives
// each its entry (from masks or, past their count, from tab), and marks the windows of two
// base64/hex characters.
func TestHotTable(t *testing.T) {
	zs, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	var wide []geo.Fix // a track over both hemispheres: many bands, many distinct entries
	for range 400 {
		wide = append(wide, geo.Fix{Lat: r.Float64()*170 - 85, Lon: r.Float64()*360 - 180})
	}
	for _, c := range []struct {
		name string
		t    *Targets
	}{
		{"demo zones", NewTargets(zs, nil, 0)},
		{"zones and a short track", NewTargets(zs, []geo.Fix{{Lat: 50.85, Lon: 4.35}, {Lat: 50.86, Lon: 4.36}}, 2000)},
		{"wide track", NewTargets(nil, wide, 5000)},
	} {
		p := Compile(c.t)
		full := 0
		for w := range 1 << 16 {
			b0, b1 := byte(w>>8), byte(w)
			h := p.hot[uint16(b0)|uint16(b1)<<8]
			if (h&hotEntry != 0) != (p.tab[w] != 0) {
				t.Fatalf("%s: window %02x %02x: hot %02x, tab %x", c.name, b0, b1, h, p.tab[w])
			}
			if e := h & hotEntry; e != 0 {
				if e == hotFull {
					full++
				}
				if got := p.entry(b0, b1, e); got != p.tab[w] {
					t.Fatalf("%s: window %02x %02x: entry %x, tab %x", c.name, b0, b1, got, p.tab[w])
				}
			}
			if (h&hotRun != 0) != (class[b0] != 0 && class[b1] != 0) {
				t.Fatalf("%s: window %q: run bit %v", c.name, []byte{b0, b1}, h&hotRun != 0)
			}
		}
		t.Logf("%s: %d distinct entries, %d windows read from tab", c.name, len(p.masks)-1, full)
	}
}
