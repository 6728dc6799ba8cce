package devices

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/internal/netfixture"
)

// BenchmarkBuild compares the device inventory (which builds the destination inventory in the
// same pass) with the destination inventory alone, on one generated lab capture: 100,000 frames,
// or the capture named by DRONEAUDIT_BENCH_CAPTURE (docs/benchmarks/devices.md uses the
// 1,000,000-frame one).
func BenchmarkBuild(b *testing.B) {
	p := os.Getenv("DRONEAUDIT_BENCH_CAPTURE")
	if p == "" {
		l, err := netfixture.NewLab(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		p = filepath.Join(b.TempDir(), "bench.pcap")
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		w, _ := netfixture.NewWriter(f, netfixture.Pcap, nil)
		if _, err := l.Generate(w, netfixture.Mix{Packets: 100000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
		w.Close()
		f.Close()
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("destinations", func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			if _, err := destinations.Build(context.Background(), []string{p}, destinations.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("devices", func(b *testing.B) {
		b.SetBytes(st.Size())
		for b.Loop() {
			if _, err := Build(context.Background(), []string{p}, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
