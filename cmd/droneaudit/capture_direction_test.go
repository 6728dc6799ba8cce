package main

import (
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
	"droneaudit/capture/evidence/evidencetest"
	"droneaudit/internal/netlab"
	"droneaudit/netflow"
)

// TestCaptureDirections runs `droneaudit capture -i lo -i <veth>` while the lab device talks
// to itself over lo and to the server over the veth, both ways. lo passes each frame to the
// capture twice (as sent and as received): the files must hold it once, marked inbound, with
// the kernel counter agreeing. On the veth, what the device sent must be marked outbound and
// what it received inbound, in epb_flags as our reader and tshark (when installed) read them.
func TestCaptureDirections(t *testing.T) {
	needRoot(t)
	bin := droneauditBinary(t)
	lab := netlab.New(t)
	dir := filepath.Join(t.TempDir(), "ev")
	p := startCapture(t, bin, lab.NSA, dir, "-i", "lo", "-i", lab.IfA, "--filter", "udp dst port 5005")
	const local, sent, received = 60, 40, 30
	send := func(ns string, dst netip.Addr, n int) {
		var c *net.UDPConn
		inNS(t, ns, func() (err error) { c, err = net.ListenUDP("udp4", nil); return err })
		defer c.Close()
		for i := range n {
			if _, err := c.WriteToUDPAddrPort([]byte(fmt.Sprintf("datagram %d", i)), netip.AddrPortFrom(dst, 5005)); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(lab.NSA, netip.MustParseAddr("127.0.0.1"), local)
	send(lab.NSA, lab.AddrB, sent)
	send(lab.NSB, lab.AddrA, received)
	time.Sleep(500 * time.Millisecond) // let the last frames reach the ring
	sum, code := p.stop(t)
	if code != 0 || sum.StopReason != "signal" {
		t.Fatalf("exit %d, %+v\n%s", code, sum, p.stderr.String())
	}
	if sum.Packets != local+sent+received || len(sum.Interfaces) != 2 {
		t.Fatalf("summary: %d packets, %d interfaces", sum.Packets, len(sum.Interfaces))
	}
	if lo := sum.Interfaces[0]; lo.Packets != local || lo.Kernel != local {
		t.Errorf("lo: %d packets captured, kernel received %d; want %d each", lo.Packets, lo.Kernel, local)
	}
	pkts, _, _ := evidencetest.Verify(t, dir)
	got := map[string]int{}
	nd := capture.NewNetDecoder()
	for _, pk := range pkts {
		tr, ok, _ := nd.Decode(&capture.Packet{LinkType: capture.LinkEthernet, Data: pk.Data})
		if !ok || tr.Proto != netflow.UDP {
			t.Errorf("unexpected frame on interface %d: % x", pk.Iface, pk.Data)
			continue
		}
		got[fmt.Sprintf("%d %v %#x", pk.Iface, tr.Src.Addr(), uint32(pk.Flags))]++
	}
	want := map[string]int{
		fmt.Sprintf("0 127.0.0.1 %#x", uint32(evidence.Inbound|evidence.Unicast)):     local,
		fmt.Sprintf("1 %v %#x", lab.AddrA, uint32(evidence.Outbound)):                 sent,
		fmt.Sprintf("1 %v %#x", lab.AddrB, uint32(evidence.Inbound|evidence.Unicast)): received,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("frames per interface, source and epb_flags:\n%v\nwant\n%v", got, want)
	}
	ts, err := exec.LookPath("tshark")
	if err != nil {
		return
	}
	var lines []string
	for _, f := range sum.Files {
		out, err := exec.Command(ts, "-n", "-r", filepath.Join(dir, f.Name), "-T", "fields", "-E", "separator=,",
			"-e", "frame.interface_id", "-e", "frame.packet_flags_direction").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		lines = append(lines, strings.Fields(string(out))...)
	}
	byDir := map[string]int{}
	for _, l := range lines {
		iface, d, _ := strings.Cut(l, ",")
		n, _ := strconv.ParseUint(d, 0, 8) // printed as 0x00000001
		byDir[iface+" "+[]string{"unknown", "inbound", "outbound", "?"}[n&3]]++
	}
	wantDir := map[string]int{"0 inbound": local, "1 outbound": sent, "1 inbound": received}
	if fmt.Sprint(byDir) != fmt.Sprint(wantDir) {
		t.Errorf("tshark reads %v, want %v", byDir, wantDir)
	}
}
