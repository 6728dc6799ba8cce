//go:build linux

package session

import (
	"context"
	"droneaudit/netflow"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
	"droneaudit/capture/evidence/evidencetest"
	"droneaudit/capture/live"
	"droneaudit/internal/netlab"
)

// klA is one valid NSS key log line, as a TLS library writes it during the session.
var klA = "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + strings.Repeat("0f", 32) + " " + strings.Repeat("a1", 32)

// openIn opens a live source inside a namespace.
func openIn(t *testing.T, ns, iface string, opts live.Options) *live.Source {
	t.Helper()
	var s *live.Source
	if err := netlab.In(ns, func() (err error) {
		s, err = live.Open(iface, opts)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// udpIn opens a UDP socket inside a namespace.
func udpIn(t *testing.T, ns string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	if err := netlab.In(ns, func() (err error) {
		c, err = net.ListenUDP("udp4", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dstPorts counts UDP destination ports per interface in the files of dir.
func dstPorts(t *testing.T, dir string) map[int]map[uint16]int {
	t.Helper()
	pkts, _, _ := evidencetest.Verify(t, dir)
	out := map[int]map[uint16]int{}
	nd := capture.NewNetDecoder()
	for _, p := range pkts {
		tr, ok, _ := nd.Decode(&capture.Packet{LinkType: capture.LinkEthernet, Data: p.Data})
		if !ok || tr.Proto != netflow.UDP {
			continue
		}
		if out[p.Iface] == nil {
			out[p.Iface] = map[uint16]int{}
		}
		out[p.Iface][tr.Dst.Port()]++
	}
	return out
}

func TestLiveSessionTwoInterfacesFilterKeyLog(t *testing.T) {
	lab := netlab.New(t)
	veth := openIn(t, lab.NSB, lab.IfB, live.Options{Filter: "udp port 9999", RingMB: 4})
	lo := openIn(t, lab.NSB, "lo", live.Options{Filter: "udp and dst port 9999", RingMB: 4})
	if veth.LinkType != capture.LinkEthernet || lo.LinkType != capture.LinkEthernet {
		t.Fatalf("link types %v %v", veth.LinkType, lo.LinkType)
	}
	dir := t.TempDir()
	keylog := filepath.Join(t.TempDir(), "keys.log")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() {
		res, err := Run(ctx, Config{Sources: []*live.Source{veth, lo}, Writer: evidence.Options{Dir: dir}, KeyLog: keylog, Interval: 100 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	time.Sleep(200 * time.Millisecond) // let the readers start
	a := udpIn(t, lab.NSA)
	b := udpIn(t, lab.NSB)
	for i := range 200 {
		a.WriteToUDPAddrPort([]byte("to-9999"), netip.AddrPortFrom(lab.AddrB, 9999))
		if i%4 == 0 {
			a.WriteToUDPAddrPort([]byte("to-9998"), netip.AddrPortFrom(lab.AddrB, 9998))
		}
	}
	for range 30 {
		b.WriteToUDPAddrPort([]byte("local"), netip.MustParseAddrPort("127.0.0.1:9999"))
	}
	os.WriteFile(keylog, []byte(klA+"\n"), 0o600) // written during the session
	time.Sleep(500 * time.Millisecond)
	cancel()
	res := <-done
	if res.StopReason != "signal" || res.Drops != 0 {
		t.Errorf("result %+v", res)
	}
	got := dstPorts(t, dir)
	// The filter drops port 9998 in the kernel; lo shows each local datagram once (dst filter
	// on the loopback sees it leave and arrive, both with dst 9999: 60).
	if got[0][9999] != 200 || got[0][9998] != 0 {
		t.Errorf("veth: %v", got[0])
	}
	if got[1][9999] != 60 {
		t.Errorf("lo: %v", got[1])
	}
	_, secrets, _ := evidencetest.Verify(t, dir)
	if len(secrets) != 1 || string(secrets[0]) != klA+"\n" || res.Secrets != 1 {
		t.Errorf("key log not embedded: %q (%d lines)", secrets, res.Secrets)
	}
}

// TestLiveNoDropsAt50kpps sends 100,000 UDP datagrams at 50,000 per second from one namespace
// to the other and requires every one of them in the files with zero kernel drops.
func TestLiveNoDropsAt50kpps(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	lab := netlab.New(t)
	src := openIn(t, lab.NSB, lab.IfB, live.Options{Filter: "udp dst port 7777"})
	dir := t.TempDir()
	const total, rate = 100000, 50000
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() {
		res, err := Run(ctx, Config{Sources: []*live.Source{src}, Writer: evidence.Options{Dir: dir, RotateSize: 8 << 20}})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	time.Sleep(200 * time.Millisecond)
	a := udpIn(t, lab.NSA)
	dst := netip.AddrPortFrom(lab.AddrB, 7777)
	msg := make([]byte, 64)
	start := time.Now()
	sent := 0
	// Paced in 1 ms slices: 50 datagrams each, catching up if the sender was descheduled.
	for sent < total {
		due := min(int(time.Since(start).Seconds()*rate)+1, total)
		for ; sent < due; sent++ {
			binary.BigEndian.PutUint32(msg, uint32(sent))
			if _, err := a.WriteToUDPAddrPort(msg, dst); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Millisecond)
	}
	took := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	cancel()
	res := <-done
	achieved := float64(total) / took.Seconds()
	t.Logf("sent %d in %v (%.0f packets/s); captured %d, kernel received %d, dropped %d, %d files",
		total, took.Round(time.Millisecond), achieved, res.Packets, res.Interfaces[0].Received, res.Drops, len(res.Files))
	if res.Drops != 0 {
		t.Errorf("%d kernel drops", res.Drops)
	}
	if got := dstPorts(t, dir)[0][7777]; got != total {
		t.Errorf("files hold %d of %d datagrams", got, total)
	}
}
