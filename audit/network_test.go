package audit

import (
	"net/netip"
	"strings"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// A generated lab capture (real TLS and QUIC sessions, DJI Cloud API MQTT, HTTP uploads with
// JSON positions) through the whole audit: positions in HTTP and MQTT bodies are network leaks,
// named after the server from the HTTP Host or, where the flow has none, from the inventory.
func TestLabCaptureLeaksNamed(t *testing.T) {
	capture := labCapture(t, netfixture.Pcapng, 3000, 3)
	zones := zonesAround(t, 22.9079, 113.7034, 500, geo.Secret)
	rep, err := Run(t.Context(), []Source{BytesSource("lab.pcapng", capture)},
		Options{Zones: zones, Policy: DefaultPolicy(), Destinations: &destinations.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Result != Fail || len(rep.Destinations) == 0 {
		t.Fatalf("verdict %+v, %d destinations", rep.Verdict, len(rep.Destinations))
	}
	decoders := map[string]bool{}
	named, onLab := 0, 0
	for _, f := range rep.Findings {
		// The lab's MQTT broker is on the lab network: a finding that does not fail.
		decoders[f.First.Evidence.Decoder] = true
		if f.Scope == destinations.ScopeLabNetwork && !f.FailsPolicy && strings.Contains(f.Summary, "on the lab network") {
			onLab++
			continue
		}
		if f.Kind != KindLocationLeak || f.Direction != "outbound" || f.Scope != destinations.ScopeInternet || !f.FailsPolicy ||
			!strings.Contains(f.Summary, "left the site: sent to") {
			t.Fatalf("finding %+v", f)
		}
		if d := f.Destination; d != nil && len(d.Names) > 0 && strings.Contains(d.Names[0], "dji") && d.Owner == destinations.OwnerDJI && d.Country != "" {
			named++
		}
	}
	if !decoders["http"] || !decoders["mqtt"] || named == 0 || onLab == 0 {
		t.Fatalf("decoders %v, %d findings named after a DJI host, %d on the lab network", decoders, named, onLab)
	}
	if rep.Inputs[0].Counts["decryption_secrets_blocks"] == 0 {
		t.Fatal("the pcapng's key log block was not seen")
	}
}

// A position a server sends to the device is reported as held by that server, not as sent to
// the device's own address.
func TestInboundDestination(t *testing.T) {
	ev := geo.Evidence{Channel: geo.ChannelNetwork, Network: &geo.Network{Proto: netflow.TCP, Src: netip.MustParseAddrPort("203.0.113.5:443"),
		Dst: netip.MustParseAddrPort("192.168.1.20:50000"), Direction: netflow.ServerToClient, Host: "api.example"}}
	d, dir := destination(ev)
	if d != "api.example (203.0.113.5:443/tcp)" || dir != "inbound" || partyOf(ev).scope != destinations.ScopeInternet {
		t.Fatalf("%q %q", d, dir)
	}
	ev.Network.Direction = netflow.ClientToServer
	ev.Network.Src, ev.Network.Dst = ev.Network.Dst, ev.Network.Src
	if d, dir := destination(ev); d != "api.example (203.0.113.5:443/tcp)" || dir != "outbound" {
		t.Fatalf("%q %q", d, dir)
	}
}
