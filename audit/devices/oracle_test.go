package devices

import (
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tsharkRows runs tshark on a capture and returns, per packet the filter selects, the values of
// the fields (each a list: tshark joins repeated values with ",").
func tsharkRows(t *testing.T, path, filter string, fields ...string) [][][]string {
	t.Helper()
	args := []string{"-n", "-r", path, "-Y", filter, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", filter, err)
	}
	var rows [][][]string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l == "" {
			continue
		}
		var row [][]string
		for _, cell := range strings.Split(l, "\t") {
			var vals []string
			for _, v := range strings.Split(cell, "|") {
				if v != "" {
					vals = append(vals, v)
				}
			}
			row = append(row, vals)
		}
		for len(row) < len(fields) {
			row = append(row, nil)
		}
		rows = append(rows, row)
	}
	return rows
}

// TestSegmentAgreesWithTshark compares the devices' MAC addresses, DHCP host names and mDNS
// names with what tshark (Debian package tshark) reads from the same generated captures: the
// segment and the embedded example. It skips when tshark is not installed.
func TestSegmentAgreesWithTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark): oracle comparison skipped")
	}
	segment, _ := segmentCapture(t)
	for _, path := range []string{segment, exampleCapture(t)} {
		t.Run(filepath.Base(path), func(t *testing.T) { agreesWithTshark(t, path) })
	}
}

func agreesWithTshark(t *testing.T, path string) {
	inv, err := Build(t.Context(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byMAC := map[string]Row{}
	for _, r := range inv.Devices {
		byMAC[r.MAC] = r
	}

	// Every source MAC address is a device, and every device a source MAC address.
	macs := map[string]bool{}
	for _, row := range tsharkRows(t, path, "eth", "eth.src") {
		for _, m := range row[0] {
			macs[m] = true
		}
	}
	if got, want := slices.Sorted(maps.Keys(byMAC)), slices.Sorted(maps.Keys(macs)); !slices.Equal(got, want) {
		t.Errorf("devices %q, tshark's source addresses %q", got, want)
	}

	// DHCP host names of the clients' DISCOVER and REQUEST, by client hardware address.
	hosts := map[string]map[string]bool{}
	for _, row := range tsharkRows(t, path, "dhcp.option.dhcp == 1 || dhcp.option.dhcp == 3", "dhcp.hw.mac_addr", "dhcp.option.hostname") {
		if len(row[0]) == 0 || len(row[1]) == 0 {
			continue
		}
		if hosts[row[0][0]] == nil {
			hosts[row[0][0]] = map[string]bool{}
		}
		hosts[row[0][0]][row[1][0]] = true
	}
	n := 0
	for mac, r := range byMAC {
		want := slices.Sorted(maps.Keys(hosts[mac]))
		if !slices.Equal(r.DHCP.HostNames, want) && (len(want) > 0 || len(r.DHCP.HostNames) > 0) {
			t.Errorf("%s: DHCP host names %q, tshark %q", mac, r.DHCP.HostNames, want)
		}
		n += len(want)
	}
	if n != 4 {
		t.Errorf("tshark found %d DHCP host names, the segment has 4", n)
	}

	// mDNS: every name of the announcements' records and SRV targets, by sender.
	names := map[string]map[string]bool{}
	for _, row := range tsharkRows(t, path, "mdns && dns.flags.response == 1", "eth.src", "dns.resp.name", "dns.srv.target") {
		mac := row[0][0]
		if names[mac] == nil {
			names[mac] = map[string]bool{}
		}
		for _, v := range append(row[1], row[2]...) {
			names[mac][v] = true
		}
	}
	if len(names) == 0 {
		t.Fatal("tshark found no mDNS announcement")
	}
	for mac, r := range byMAC {
		ours := map[string]bool{}
		for _, n := range r.MDNS.Names {
			ours[n] = true
		}
		for _, s := range r.MDNS.Services {
			ours[s] = true
			ours[metaQueryName] = true // the service enumeration record names no service of its own
		}
		for _, i := range r.MDNS.Instances {
			ours[i.Name+"."+i.Service] = true
		}
		got, want := slices.Sorted(maps.Keys(ours)), slices.Sorted(maps.Keys(names[mac]))
		if !slices.Equal(got, want) {
			t.Errorf("%s: mDNS names %q, tshark %q", mac, got, want)
		}
	}
}

const metaQueryName = "_services._dns-sd._udp.local"

// TestUPnPAgreesWithTshark compares the UPnP description fields of the example's camera with the
// character data tshark's XML dissector reads from the same HTTP response (port 49152 decoded as
// HTTP): the root device's fields are one run of it, in document order. It skips when tshark is
// not installed.
func TestUPnPAgreesWithTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark): oracle comparison skipped")
	}
	path := exampleCapture(t)
	inv, err := Build(t.Context(), []string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tshark", "-n", "-r", path, "-d", "tcp.port==49152,http", "-Y", "http.response && xml", "-T", "fields",
		"-e", "eth.src", "-e", "xml.cdata", "-E", "occurrence=a", "-E", "aggregator=|").Output()
	if err != nil {
		t.Fatal(err)
	}
	cdata := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if mac, data, ok := strings.Cut(l, "\t"); ok {
			cdata[mac] = "|" + data + "|"
		}
	}
	n := 0
	for _, r := range inv.Devices {
		u := r.UPnP
		if len(u.UDNs) == 0 {
			if cdata[r.MAC] != "" {
				t.Errorf("%s: tshark reads a description %s, the inventory none", r.MAC, cdata[r.MAC])
			}
			continue
		}
		n++
		run := "|" + strings.Join([]string{u.FriendlyNames[0], u.Manufacturers[0], u.ModelNames[0], u.ModelNumbers[0], u.Serials[0], u.UDNs[0]}, "|") + "|"
		if !strings.Contains(cdata[r.MAC], run) {
			t.Errorf("%s: UPnP fields %s, tshark's XML character data %s", r.MAC, run, cdata[r.MAC])
		}
	}
	if n != 1 {
		t.Errorf("%d devices with a UPnP description, the example has 1", n)
	}
}
