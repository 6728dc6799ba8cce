package devices

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/internal/netfixture"
)

// TestHikvisionCloudByContent gives a camera whose only traffic is EZVIZ VTM stream requests
// and an EHome registration, none of them to a server a lookup named, the hikvision-cloud owner
// class by the recognised protocol, and lists the EHome platform under its app name.
func TestHikvisionCloudByContent(t *testing.T) {
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
	mac := netfixture.MAC(netfixture.HikCamera).String()
	i := slices.IndexFunc(inv.Devices, func(r Row) bool { return r.MAC == mac })
	if i < 0 {
		t.Fatalf("no row for the camera %s: %+v", mac, inv.Devices)
	}
	r := inv.Devices[i]
	if !slices.Equal(r.Owners, []string{destinations.OwnerHikvision, destinations.OwnerUnknown}) || r.InternetContacts != 3 {
		t.Errorf("owners %v, %d internet contacts", r.Owners, r.InternetContacts)
	}
	apps := map[string]string{}
	for _, c := range r.Destinations {
		apps[c.IP] = c.App + " " + c.Owner
	}
	want := map[string]string{
		netfixture.HikVTMRelays[0].Addr().String(): "hik-vtm hikvision-cloud",
		netfixture.HikVTMRelays[1].Addr().String(): "hik-vtm hikvision-cloud",
		netfixture.HikEHomeServer.Addr().String():  "hik-ehome unknown",
	}
	for ip, v := range want {
		if apps[ip] != v {
			t.Errorf("%s: %q, want %q", ip, apps[ip], v)
		}
	}
}
