package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/geo/scan"
	"droneaudit/geo/scan/scantest"
	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

// audit searches the payloads for the zones' coordinates by default: a take-off point as
// float64 radians in a datagram no decoder reads is a failing finding; --no-search leaves it out.
func TestAuditSearchFlag(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := scantest.Plant(scan.Float64RadLE, 51.1693, 5.4712, scan.LatLon)
	if err := w.UDP(netip.MustParseAddrPort("192.168.1.20:5000"), netip.MustParseAddrPort("203.0.113.5:6000"), append([]byte("HOME"), pair...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	capture, zones := filepath.Join(dir, "up.pcap"), filepath.Join(dir, "zones.geojson")
	if err := os.WriteFile(capture, buf.Bytes(), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zones, demo.EmbeddedZones, 0o400); err != nil {
		t.Fatal(err)
	}
	code, out, _ := cli(t, "audit", "--zones", zones, "--format", "json", capture)
	if code != exitPolicy || !strings.Contains(out, `"decoder": "search"`) || !strings.Contains(out, `"encoding": "float64le-rad"`) {
		t.Fatalf("exit %d, report:\n%s", code, out)
	}
	code, out, _ = cli(t, "audit", "--zones", zones, "--format", "json", "--no-search", capture)
	if code == exitPolicy || strings.Contains(out, `"decoder": "search"`) {
		t.Fatalf("--no-search: exit %d, report:\n%s", code, out)
	}
}
