package destinations

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"droneaudit/internal/netfixture"
)

// TestCameraCloudOwners classifies the destinations of the generated lab segment: the
// Hik-Connect hosts by name, Dahua's P2P server by name and its relay, which no lookup names,
// by the P2P traffic recognised on it; deny_owners turns them into violations.
func TestCameraCloudOwners(t *testing.T) {
	p := filepath.Join(t.TempDir(), "segment.pcap")
	f, err := os.Create(p)
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
	inv, err := Build(t.Context(), []string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ owner, rule, app string }{
		"47.91.88.171:443":     {OwnerHikvision, "*.hik-connect.com (H)", "tls"},
		"3.120.0.20:443":       {OwnerHikvision, "*.hik-connect.com (H)", "tls"},
		"2a05:d014:50::20:443": {OwnerHikvision, "*.hik-connect.com (H)", "tls"},
		"47.254.34.11:8800":    {OwnerDahua, "*.easy4ipcloud.com (H)", "dahua-p2p"},
		"47.254.40.40:20000":   {OwnerDahua, "app:dahua-p2p (H)", "dahua-p2p"},
		"47.91.161.230:443":    {OwnerDJI, "flysafe-api.dji.com (H)", "tls"},
	}
	seen := 0
	for _, r := range inv.Rows {
		k := r.IP + ":" + strconv.Itoa(int(r.Port))
		w, ok := want[k]
		if !ok {
			if r.Scope == ScopeInternet {
				t.Errorf("unexpected internet destination %s", k)
			}
			continue
		}
		seen++
		if r.Owner != w.owner || r.OwnerRule != w.rule || r.App != w.app {
			t.Errorf("%s: owner %q rule %q app %q, want %+v", k, r.Owner, r.OwnerRule, r.App, w)
		}
	}
	if seen != len(want) {
		t.Errorf("%d of %d destinations found", seen, len(want))
	}
	v := inv.Violations(Policy{DenyOwners: []string{"hikvision-cloud", "dahua-cloud"}})
	if len(v) != 5 {
		t.Fatalf("%d violations: %+v", len(v), v)
	}
	for _, x := range v {
		if x.Rule != "owner" || (x.Value != OwnerHikvision && x.Value != OwnerDahua) {
			t.Errorf("%+v", x)
		}
	}
}

func TestOwnerRuleApp(t *testing.T) {
	r := OwnerRule{Pattern: "app:Dahua-P2P", Owner: OwnerDahua}
	if !r.MatchApp("dahua-p2p") || r.MatchApp("") || r.MatchApp("tls") || r.Match("dahua-p2p", netip.Addr{}) {
		t.Error("app rule")
	}
	if (OwnerRule{Pattern: "*.dji.com"}).MatchApp("dji.com") {
		t.Error("a name rule matched an app")
	}
}
