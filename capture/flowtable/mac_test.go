package flowtable

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// Each flow names its client's and server's MAC addresses as net.HardwareAddr.String writes
// them, whichever stations came before (more than the table's recent few, in any order), and
// whatever their length.
func TestFlowMACs(t *testing.T) {
	ft := New()
	now := time.Unix(1_700_000_000, 0)
	gw := net.HardwareAddr{0x60, 0x60, 0x1f, 0xaa, 0xbb, 0xcc}
	for i := range 40 {
		src := net.HardwareAddr{2, 0, 0, 0, 0, byte(i % 9)}
		dst := gw
		switch i % 5 {
		case 3:
			dst = net.HardwareAddr{1, 2, 3, 4, 5, 6, 7, 8} // EUI-64
		case 4:
			dst = nil
		}
		tr := &capture.Transport{Proto: netflow.UDP, Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 5000),
			Dst: netip.MustParseAddrPort("10.0.0.1:53"), SrcMAC: src, DstMAC: dst, Payload: []byte("q")}
		f := ft.Add(tr, i+1, now).Flow
		if f.ClientMAC != src.String() || f.ServerMAC != dst.String() {
			t.Fatalf("flow %d: MACs %q %q, want %q %q", i, f.ClientMAC, f.ServerMAC, src, dst)
		}
	}
	// The server's answer does not rename the client.
	tr := &capture.Transport{Proto: netflow.UDP, Src: netip.MustParseAddrPort("10.0.0.1:53"), Dst: netip.MustParseAddrPort("10.0.0.0:5000"),
		SrcMAC: gw, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 0}, Payload: []byte("a")}
	if f := ft.Add(tr, 41, now).Flow; f.ClientMAC != "02:00:00:00:00:00" || f.ServerMAC != gw.String() {
		t.Fatalf("after the answer: %q %q", f.ClientMAC, f.ServerMAC)
	}
}
