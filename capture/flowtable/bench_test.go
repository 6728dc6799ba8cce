//go:build unix

package flowtable

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// labTraffic is a lab capture's mix in the small: short DNS exchanges and TCP connections
// (handshake, a few data segments each way, FINs) from a handful of stations, a packet a
// millisecond, about fifty new flows a second, many flows open at once.
func labTraffic(n int) ([]capture.Transport, []time.Time) {
	rng := rand.New(rand.NewPCG(7, 9))
	macs := []net.HardwareAddr{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 3}, {0x60, 0x60, 0x1f, 1, 2, 3}}
	type conn struct {
		cli, srv netip.AddrPort
		proto    netflow.Proto
		left     int
		seq      [2]uint32
		mac      int
	}
	var open []*conn
	var out []capture.Transport
	var ts []time.Time
	now := time.Unix(1_700_000_000, 0)
	payload := make([]byte, 300)
	port := uint16(20000)
	for len(out) < n {
		now = now.Add(time.Millisecond)
		if len(open) == 0 || rng.IntN(20) == 0 {
			port++
			c := &conn{cli: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 1, byte(2 + rng.IntN(4))}), port), mac: rng.IntN(3)}
			if rng.IntN(2) == 0 {
				c.proto, c.left = netflow.UDP, 2
				c.srv = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 1, 1}), 53)
			} else {
				c.proto, c.left = netflow.TCP, 8+rng.IntN(30)
				c.srv = netip.AddrPortFrom(netip.AddrFrom4([4]byte{47, 91, byte(rng.IntN(256)), 230}), 443)
			}
			open = append(open, c)
		}
		i := rng.IntN(len(open))
		c := open[i]
		fromCli := c.left%2 == 0
		t := capture.Transport{Proto: c.proto, Src: c.cli, Dst: c.srv, SrcMAC: macs[c.mac], DstMAC: macs[3]}
		if !fromCli {
			t.Src, t.Dst, t.SrcMAC, t.DstMAC = t.Dst, t.Src, t.DstMAC, t.SrcMAC
		}
		d := 0
		if !fromCli {
			d = 1
		}
		n := 20 + rng.IntN(len(payload)-20)
		if c.proto == netflow.TCP {
			t.Seq, t.TCPFlags = c.seq[d], capture.FlagACK
			switch {
			case c.seq[d] == 0 && d == 0:
				t.TCPFlags, n = capture.FlagSYN, 0
			case c.seq[d] == 0:
				t.TCPFlags, n = capture.FlagSYN|capture.FlagACK, 0
			case c.left <= 2:
				t.TCPFlags |= capture.FlagFIN
				n = 0
			}
			c.seq[d] += uint32(n) + 1
		}
		t.Payload = payload[:n]
		out, ts = append(out, t), append(ts, now)
		if c.left--; c.left == 0 {
			open[i] = open[len(open)-1]
			open = open[:len(open)-1]
		}
	}
	return out, ts
}

// BenchmarkTable runs the lab mix through a table as an engine shard does: Reused and Add for
// every packet, Expire every 30 s of capture time, the uid of every tenth flow.
func BenchmarkTable(b *testing.B) {
	pkts, ts := labTraffic(200_000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		ft := New()
		ft.Slots = 4
		var last time.Time
		flows := 0
		for i := range pkts {
			if ts[i].Sub(last) > 30*time.Second {
				ft.Expire(ts[i], 5*time.Minute, 2*time.Minute)
				last = ts[i]
			}
			ft.Reused(&pkts[i])
			if d := ft.Add(&pkts[i], i+1, ts[i]); d.NewFlow {
				if flows++; flows%10 == 0 {
					_ = d.Flow.UID()
				}
			}
		}
		ft.Expire(time.Unix(1<<40, 0), 0, 0)
	}
	// CPU time per packet, of the whole process (the garbage collector too): on a machine
	// shared with other work wall time says little.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*len(pkts)), "cpu-ns/packet")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
