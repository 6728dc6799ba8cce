package scan_test

import (
	"testing"
	"time"

	"droneaudit/geo/scan"
	"droneaudit/geo/scan/scantest"
)

// mixed returns about n bytes of generated traffic as payloads.
func mixed(n int) [][]byte {
	g := scantest.NewTraffic(7)
	var out [][]byte
	for got := 0; got < n; {
		b := append([]byte(nil), g.Next()...)
		out = append(out, b)
		got += len(b)
	}
	return out
}

// BenchmarkScanMixed scans generated mixed traffic (ciphertext, HTTP/JSON, DNS, telemetry,
// protobuf) on one goroutine; MB/s is the search's throughput on one core.
func BenchmarkScanMixed(b *testing.B) {
	p := scan.Compile(demoTargets(b))
	payloads := mixed(32 << 20)
	var size int64
	for _, pl := range payloads {
		size += int64(len(pl))
	}
	s := scan.NewScanner(p)
	b.SetBytes(size)
	defer lockThread()()
	b.ResetTimer()
	cpu := threadCPU()
	for range b.N {
		for _, pl := range payloads {
			s.Scan(pl, func(scan.Hit) {})
		}
	}
	reportCPU(b, size, cpu)
}

// reportCPU adds the throughput by the thread's CPU time: MB/s of one core whatever else runs.
func reportCPU(b *testing.B, size int64, since time.Duration) {
	if d := threadCPU() - since; d > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/d.Seconds(), "cpu-MB/s")
	}
}

// BenchmarkScanRandom scans uniformly random bytes in 64 KiB pieces.
func BenchmarkScanRandom(b *testing.B) {
	p := scan.Compile(demoTargets(b))
	buf := make([]byte, 32<<20)
	scantest.NewTraffic(9).Random(buf)
	s := scan.NewScanner(p)
	b.SetBytes(int64(len(buf)))
	defer lockThread()()
	b.ResetTimer()
	cpu := threadCPU()
	for range b.N {
		for i := 0; i < len(buf); i += 64 << 10 {
			s.Scan(buf[i:i+64<<10], func(scan.Hit) {})
		}
	}
	reportCPU(b, int64(len(buf)), cpu)
}
