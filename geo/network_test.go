package geo

import (
	"encoding/json"
	"net/netip"
	"testing"

	"droneaudit/netflow"
)

// The report form of a typed Network is the one the reports have always had, whatever the
// characters in its names.
func TestNetworkJSON(t *testing.T) {
	n := Network{FlowUID: "Cabc", Proto: netflow.UDP, Src: netip.MustParseAddrPort("192.168.50.23:40000"),
		Dst: netip.MustParseAddrPort("[2001:db8::1]:14550"), Direction: netflow.ServerToClient, Host: "a<b>&\"ü\u2028\x01"}
	got, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(struct {
		FlowUID   string `json:"flow_uid,omitempty"`
		Protocol  string `json:"protocol"`
		SrcIP     string `json:"src_ip"`
		SrcPort   uint16 `json:"src_port"`
		DstIP     string `json:"dst_ip"`
		DstPort   uint16 `json:"dst_port"`
		Direction string `json:"direction,omitempty"`
		Host      string `json:"host,omitempty"`
	}{"Cabc", "udp", "192.168.50.23", 40000, "2001:db8::1", 14550, "server-to-client", n.Host})
	if string(got) != string(want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if s := n.Server(); s != n.Src {
		t.Errorf("server of a server-to-client network is %v", s)
	}
}
