//go:build linux

package session

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
	"droneaudit/capture/evidence/evidencetest"
	"droneaudit/capture/live"
	"droneaudit/internal/netlab"
	"droneaudit/netflow"
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
	// The filter drops port 9998 in the kernel; lo holds each local datagram once, although
	// the loopback passes it to the socket twice (as sent and as received).
	if got[0][9999] != 200 || got[0][9998] != 0 {
		t.Errorf("veth: %v", got[0])
	}
	if got[1][9999] != 30 {
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

// udpFrames reads back the evidence in dir: per interface and UDP destination port, the
// epb_flags of each datagram's frame, in file order.
func udpFrames(t *testing.T, dir string) map[int]map[uint16][]evidence.PacketFlags {
	t.Helper()
	pkts, _, _ := evidencetest.Verify(t, dir)
	out := map[int]map[uint16][]evidence.PacketFlags{}
	nd := capture.NewNetDecoder()
	for _, p := range pkts {
		tr, ok, _ := nd.Decode(&capture.Packet{LinkType: capture.LinkEthernet, Data: p.Data})
		if !ok || tr.Proto != netflow.UDP {
			continue
		}
		if out[p.Iface] == nil {
			out[p.Iface] = map[uint16][]evidence.PacketFlags{}
		}
		out[p.Iface][tr.Dst.Port()] = append(out[p.Iface][tr.Dst.Port()], p.Flags)
	}
	return out
}

// flagCounts counts the frames per epb_flags value, e.g. "0x5:50".
func flagCounts(got []evidence.PacketFlags) string {
	n := map[evidence.PacketFlags]int{}
	for _, f := range got {
		n[f]++
	}
	var parts []string
	for f, c := range n {
		parts = append(parts, fmt.Sprintf("%#x:%d", uint32(f), c))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// tsharkDirections counts, per UDP destination port, the directions tshark reads from the
// epb_flags of the files in dir (1 inbound, 2 outbound); nil when tshark is not installed.
func tsharkDirections(t *testing.T, dir string) map[string]int {
	t.Helper()
	ts, err := exec.LookPath("tshark")
	if err != nil {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	out := map[string]int{}
	for _, f := range files {
		b, err := exec.Command(ts, "-n", "-r", f, "-Y", "udp", "-T", "fields", "-E", "separator=,",
			"-e", "udp.dstport", "-e", "frame.packet_flags_direction").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", f, err)
		}
		for _, l := range strings.Fields(string(b)) {
			port, dir, _ := strings.Cut(l, ",")
			d, _ := strconv.ParseUint(dir, 0, 8) // tshark prints the direction as 0x00000001
			out[port+" "+[]string{"unknown", "in", "out", "?"}[d&3]]++
		}
	}
	return out
}

// TestLiveLoopbackOneCopy sends datagrams over lo, which passes each frame to a capture socket
// twice (as sent and as received): the files must hold each once, marked inbound, and the
// kernel's counter in them must agree.
func TestLiveLoopbackOneCopy(t *testing.T) {
	lab := netlab.New(t)
	src := openIn(t, lab.NSA, "lo", live.Options{Filter: "udp dst port 9997", RingMB: 4})
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() {
		res, err := Run(ctx, Config{Sources: []*live.Source{src}, Writer: evidence.Options{Dir: dir}, Interval: 100 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	time.Sleep(200 * time.Millisecond)
	const n = 150
	a := udpIn(t, lab.NSA)
	for i := range n {
		if _, err := a.WriteToUDPAddrPort([]byte(fmt.Sprintf("datagram %d", i)), netip.MustParseAddrPort("127.0.0.1:9997")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	res := <-done
	got := udpFrames(t, dir)[0][9997]
	if len(got) != n || res.Packets != n {
		t.Errorf("lo: files hold %d frames (summary %d) for %d datagrams", len(got), res.Packets, n)
	}
	if c, want := flagCounts(got), fmt.Sprintf("%#x:%d", uint32(evidence.Inbound|evidence.Unicast), n); c != want {
		t.Errorf("lo frames per epb_flags %s, want all inbound unicast (%s)", c, want)
	}
	// The statistics block says how many frames the kernel passed: one copy each as well.
	if res.Interfaces[0].Received != n || res.Drops != 0 {
		t.Errorf("kernel counters %+v, want %d received", res.Interfaces[0], n)
	}
	if p, _ := src.Counts(); p != n {
		t.Errorf("source delivered %d frames", p)
	}
	if d := tsharkDirections(t, dir); d != nil && (d["9997 in"] != n || len(d) != 1) {
		t.Errorf("tshark reads %v, want %d inbound", d, n)
	}
}

// TestLiveVethDirections captures on one end of a veth pair while that end sends and receives:
// frames it sent are marked outbound, frames it received inbound with how they were addressed.
func TestLiveVethDirections(t *testing.T) {
	lab := netlab.New(t)
	src := openIn(t, lab.NSA, lab.IfA, live.Options{Filter: "udp", RingMB: 4})
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() {
		res, err := Run(ctx, Config{Sources: []*live.Source{src}, Writer: evidence.Options{Dir: dir}, Interval: 100 * time.Millisecond})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	time.Sleep(200 * time.Millisecond)
	const sent, received, broadcast = 70, 50, 20
	a := udpIn(t, lab.NSA)
	b := udpIn(t, lab.NSB)
	bcast := lab.AddrA.As4()
	bcast[3] = 255 // the lab's /24
	for range sent {
		a.WriteToUDPAddrPort([]byte("from A"), netip.AddrPortFrom(lab.AddrB, 9001))
	}
	for range received {
		b.WriteToUDPAddrPort([]byte("to A"), netip.AddrPortFrom(lab.AddrA, 9002))
	}
	for range broadcast {
		if _, err := b.WriteToUDPAddrPort([]byte("to all"), netip.AddrPortFrom(netip.AddrFrom4(bcast), 9003)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	res := <-done
	got := udpFrames(t, dir)[0]
	for _, c := range []struct {
		port  uint16
		n     int
		flags evidence.PacketFlags
	}{
		{9001, sent, evidence.Outbound},
		{9002, received, evidence.Inbound | evidence.Unicast},
		{9003, broadcast, evidence.Inbound | evidence.Broadcast},
	} {
		if got, want := flagCounts(got[c.port]), fmt.Sprintf("%#x:%d", uint32(c.flags), c.n); got != want {
			t.Errorf("port %d: frames per epb_flags %s, want %s", c.port, got, want)
		}
	}
	if res.Packets != sent+received+broadcast || res.Drops != 0 {
		t.Errorf("result %+v", res.Progress)
	}
	if d := tsharkDirections(t, dir); d != nil {
		want := map[string]int{"9001 out": sent, "9002 in": received, "9003 in": broadcast}
		if fmt.Sprint(d) != fmt.Sprint(want) {
			t.Errorf("tshark reads %v, want %v", d, want)
		}
	}
}
