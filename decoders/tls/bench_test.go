package tls

import (
	"bytes"
	"crypto/tls"
	"sync"
	"testing"

	"droneaudit/decoders/tlskeys"
	"droneaudit/netflow"
)

var (
	benchOnce sync.Once
	benchWire [2][]byte
	benchKeys *tlskeys.Log
)

// benchSession records a TLS 1.3 AES-128-GCM session (Go's choice on CPUs with AES
// instructions) carrying 100 MB from the server.
func benchSession(b *testing.B) {
	benchOnce.Do(func() {
		var kl bytes.Buffer
		c, s := configs(b, &kl)
		c.MaxVersion = tls.VersionTLS13
		w := goSession(b, c, s, []exchange{{[]byte("GET /big HTTP/1.1\r\n\r\n"), randomBytes(100<<20, 9)}})
		benchWire = streams(w)
		benchKeys = tlskeys.NewLog()
		benchKeys.AddText(kl.Bytes())
	})
}

// BenchmarkDecryptTLS13 decrypts the session fed in TCP-segment-sized pieces (1448 bytes, as
// the flow table hands them on) and in 64 KiB pieces.
func BenchmarkDecryptTLS13(b *testing.B) {
	benchSession(b)
	for _, piece := range []int{1448, 64 << 10} {
		name := "segments-1448"
		if piece > 1448 {
			name = "pieces-64KiB"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(benchWire[0]) + len(benchWire[1])))
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				var n int64
				s := NewSession(Config{Keys: benchKeys, OnData: func(d *Data) { n += int64(len(d.Bytes)) }})
				s.Feed(netflow.ClientToServer, benchWire[0])
				for p := benchWire[1]; len(p) > 0; p = p[min(len(p), piece):] {
					s.Feed(netflow.ServerToClient, p[:min(len(p), piece)])
				}
				if sum := s.Close(); sum.Status != StatusDecrypted || n != 100<<20+int64(len("GET /big HTTP/1.1\r\n\r\n")) {
					b.Fatalf("%s, %d bytes", sum.Status, n)
				}
			}
			if d := cpuTime() - cpu; d > 0 {
				b.ReportMetric(float64(d)/1e6/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(len(benchWire[0])+len(benchWire[1]))/1e6/(float64(d)/1e9/float64(b.N)), "cpu-MB/s")
			}
		})
	}
}
