// Command coordfp measures the known-value search's false hits and throughput: it streams
// uniformly random bytes and generated non-location traffic (geo/scan/scantest.Traffic)
// through one scanner on one goroutine, with the demo's Belgian zones as targets, and prints
// the hits per 100 MB and the MB/s of each.
//
//	go run ./scripts/coordfp -size 1G
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"droneaudit/geo"
	"droneaudit/geo/scan"
	"droneaudit/geo/scan/scantest"
	"droneaudit/internal/demo"
)

func main() {
	sizeFlag := flag.String("size", "1G", "bytes of each kind to scan (K, M, G suffixes)")
	seed := flag.Uint64("seed", 1, "generator seed")
	verbose := flag.Bool("v", false, "print every false hit")
	flag.Parse()
	runtime.LockOSThread()
	size, err := parseSize(*sizeFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "coordfp:", err)
		os.Exit(2)
	}
	zs, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		fmt.Fprintln(os.Stderr, "coordfp:", err)
		os.Exit(1)
	}
	p := scan.Compile(scan.NewTargets(zs, nil, 0))
	for _, kind := range []string{"random", "traffic"} {
		s := scan.NewScanner(p)
		g := scantest.NewTraffic(*seed)
		var hits int64
		emit := func(h scan.Hit) {
			hits++
			if *verbose {
				fmt.Printf("  %s %s %.7f,%.7f %s off %d wrap %q (%s)\n", kind, h.Encoding, h.Lat, h.Lon, h.Order, h.Offset, h.Wrap, h.Target)
			}
		}
		buf := make([]byte, 64<<10)
		var scanned int64
		var busy, cpu time.Duration
		for scanned < size {
			var b []byte
			if kind == "random" {
				b = buf[:min(int64(len(buf)), size-scanned)]
				g.Random(b)
			} else {
				b = g.Next()
			}
			t0, c0 := time.Now(), threadCPU()
			s.Scan(b, emit)
			busy += time.Since(t0)
			cpu += threadCPU() - c0
			scanned += int64(len(b))
		}
		mb := float64(scanned) / 1e6
		fmt.Printf("%-8s %8.0f MB  hits %d  (%.3f per 100 MB)  held-random %d  pairs checked %d  decoded %d MB  %.0f MB/s scanning wall, %.0f MB/s by thread CPU time\n",
			kind, mb, hits, float64(hits)/mb*100, s.Stats.HeldRandom, s.Stats.Pairs, s.Stats.Decoded>>20, mb/busy.Seconds(), mb/cpu.Seconds())
	}
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
