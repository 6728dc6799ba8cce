package audit

import (
	"bytes"
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"droneaudit/geo"
	"droneaudit/geo/scan/scantest"
	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

// clearMixCapture writes about size bytes of clear mixed traffic from scantest.Traffic (HTTP
// with JSON, DNS, telemetry records, protobuf, compressed media as random bytes): payloads up
// to 1,400 bytes as UDP datagrams to one of a few servers, longer ones over a TCP connection.
func clearMixCapture(t testing.TB, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := netip.MustParseAddr("192.168.1.20")
	c, err := w.TCP(netip.AddrPortFrom(dev, 41000), netip.MustParseAddrPort("203.0.113.80:8000"))
	if err != nil {
		t.Fatal(err)
	}
	g := scantest.NewTraffic(21)
	for n := 0; buf.Len() < size; n++ {
		p := g.Next()
		if len(p) <= 1400 {
			dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + n%8)}), 7000)
			err = w.UDP(netip.AddrPortFrom(dev, uint16(50000+n%64)), dst, p)
		} else {
			err = c.Send(n%2 == 0, p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// processCPU is the CPU time (user and system) of the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAuditSearch is the whole audit of 64 MB of clear mixed traffic with the demo zones,
// with the known-value search (with the flown track's region, the default, and without it:
// NoTrackSearch) and without the search (NoSearch). cpu-ms/op is the process's CPU time,
// which the machine's other load changes less than the wall time.
func BenchmarkAuditSearch(b *testing.B) {
	data := clearMixCapture(b, 64<<20)
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name              string
		noSearch, noTrack bool
	}{{"search", false, false}, {"search-no-track", false, true}, {"no-search", true, false}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			cpu := processCPU()
			for b.Loop() {
				if _, err := Run(context.Background(), []Source{BytesSource("mix.pcap", data)},
					Options{Zones: zones, Policy: DefaultPolicy(), NoSearch: c.noSearch, NoTrackSearch: c.noTrack}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(processCPU()-cpu)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
