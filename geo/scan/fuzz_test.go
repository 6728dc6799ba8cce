package scan_test

import (
	"testing"

	"droneaudit/geo/scan"
	"droneaudit/geo/scan/scantest"
)

// FuzzScan runs the search over hostile bytes: it must not panic, and every hit must lie within
// the bytes, decode to a valid position inside a target and name a known encoding.
func FuzzScan(f *testing.F) {
	for _, enc := range scan.Encodings() {
		b, _ := scantest.Plant(enc, kbLat, kbLon, scan.LatLon)
		f.Add(b)
	}
	g := scantest.NewTraffic(3)
	for range 20 {
		b := g.Next()
		f.Add(append([]byte(nil), b[:min(len(b), 2048)]...))
	}
	f.Add([]byte("lat=51.1693%2C5.4712&g=u1hx7b3n&h=%1E%7F%2D%13%03%43%E1%80"))
	p := scan.Compile(demoTargets(f))
	t := p.Targets()
	s := scan.NewScanner(p)
	f.Fuzz(func(tt *testing.T, b []byte) {
		s.Scan(b, func(h scan.Hit) {
			if h.Offset < 0 || h.Len <= 0 || h.Offset+h.Len > len(b) {
				tt.Fatalf("hit %+v outside %d bytes", h, len(b))
			}
			if _, ok := t.Match(h.Lat, h.Lon, h.PrecisionM); !ok || h.Encoding.String() == "unknown" {
				tt.Fatalf("hit %+v is in no target", h)
			}
		})
	})
}
