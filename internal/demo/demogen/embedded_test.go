//go:debug cryptocustomrand=1

package demogen

import (
	"bytes"
	"testing"

	"droneaudit/internal/demo"
)

// The embedded files must be exactly what the generator produces today, and the generator must
// be deterministic.
func TestEmbeddedUpToDate(t *testing.T) {
	a, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	embedded := map[string][]byte{"lab-ap-2026-05-12.pcapng": demo.EmbeddedCapture, "monitor-ch6-2026-05-12.pcapng": demo.EmbeddedMonitor,
		"DJIFlightRecord_2026-05-12_09-00-00.txt": demo.EmbeddedFlightRecord, "belgian-sensitive-sites.geojson": demo.EmbeddedZones,
		"droneaudit.yaml": demo.EmbeddedPolicy}
	if len(a) != len(embedded) {
		t.Fatalf("%d files generated, %d embedded", len(a), len(embedded))
	}
	for i, f := range a {
		if !bytes.Equal(f.Data, b[i].Data) {
			t.Errorf("%s: the generator is not deterministic", f.Name)
		}
		e, ok := embedded[f.Name]
		if !ok {
			t.Errorf("%s is generated but not embedded", f.Name)
		} else if !bytes.Equal(f.Data, e) {
			t.Errorf("embedded %s is stale: run `go generate ./internal/demo`", f.Name)
		}
	}
}
