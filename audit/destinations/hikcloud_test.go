package destinations

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"droneaudit/internal/netfixture"
)

// TestHikvisionByContent classifies, without any lookup naming them, an EZVIZ VTM relay on its
// usual port and one on a port handed out at run time as hikvision-cloud by the protocol, and
// names an EHome 2.0 registration without giving its platform an owner: the device sends it to
// whatever server it is set to.
func TestHikvisionByContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hik.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := netfixture.GenerateHikCloud(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()
	inv, err := Build(t.Context(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ owner, rule, app string }{
		netfixture.HikVTMRelays[0].String(): {OwnerHikvision, "app:hik-vtm (M)", "hik-vtm"},
		netfixture.HikVTMRelays[1].String(): {OwnerHikvision, "app:hik-vtm (M)", "hik-vtm"},
		netfixture.HikEHomeServer.String():  {OwnerUnknown, "", "hik-ehome"},
	}
	for _, r := range inv.Rows {
		k := r.IP + ":" + strconv.Itoa(int(r.Port))
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected destination %s", k)
			continue
		}
		delete(want, k)
		if r.Owner != w.owner || r.OwnerRule != w.rule || r.App != w.app {
			t.Errorf("%s: owner %q rule %q app %q, want %+v", k, r.Owner, r.OwnerRule, r.App, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("not found: %v", want)
	}
	if v := inv.Violations(Policy{DenyOwners: []string{"hikvision-cloud"}}); len(v) != 2 {
		t.Errorf("%d violations: %+v", len(v), v)
	}
}

// TestHikvisionNotClaimed runs the inventory over the project's other generated captures (the
// embedded example with MAVLink, DJI TLS, SADP and UPnP traffic, and the lab segment with DHCP,
// mDNS, SSDP, WS-Discovery, DNS, TLS and Dahua P2P): none of their flows is Hikvision VTM or
// EHome, so none may be named so.
func TestHikvisionNotClaimed(t *testing.T) {
	dir := t.TempDir()
	example, err := netfixture.ExampleCapture()
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{filepath.Join(dir, "example.pcap"), filepath.Join(dir, "segment.pcap")}
	if err := os.WriteFile(paths[0], example, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := netfixture.GenerateSegment(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()
	for _, p := range paths {
		inv, err := Build(t.Context(), []string{p}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Rows) == 0 {
			t.Fatalf("%s: no destinations", p)
		}
		for _, r := range inv.Rows {
			if strings.HasPrefix(r.App, "hik-") || strings.HasPrefix(r.OwnerRule, "app:hik") {
				t.Errorf("%s: %s:%d claimed as %s (%s)", filepath.Base(p), r.IP, r.Port, r.App, r.OwnerRule)
			}
		}
	}
}
