package destinations

import (
	"context"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"droneaudit/internal/netfixture"
)

// tsharkSet runs tshark on a capture and returns the set of values of one field in the packets
// the display filter selects.
func tsharkSet(t *testing.T, path, filter, field string) []string {
	t.Helper()
	out, err := exec.Command("tshark", "-n", "-r", path, "-o", "tcp.reassemble_out_of_order:TRUE", "-Y", filter, "-T", "fields", "-e", field).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", filter, err)
	}
	set := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		for _, v := range strings.Split(l, ",") {
			if v = strings.TrimSpace(v); v != "" {
				set[strings.ToLower(v)] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// TestOracleTshark compares the DNS names, TLS server names, QUIC server names and JA3 hashes the inventory
// extracts with what tshark (Debian package tshark) extracts from the same generated captures,
// pcap and pcapng. It skips when tshark is not installed.
func TestOracleTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark): oracle comparison skipped")
	}
	for format, lf := range lab(t) {
		inv, err := Build(context.Background(), []string{lf.path}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		sources := map[string]map[string]bool{SourceTLSSNI: {}, SourceQUICSNI: {}}
		ja3 := map[string]bool{}
		for _, r := range inv.Rows {
			for _, j := range r.JA3 {
				ja3[j] = true
			}
			for _, n := range r.Names {
				if m, ok := sources[n.Source]; ok {
					m[n.Name] = true
				}
			}
		}
		ours := map[string][]string{
			"dns":  inv.DNSQueries,
			"tls":  slices.Sorted(maps.Keys(sources[SourceTLSSNI])),
			"quic": slices.Sorted(maps.Keys(sources[SourceQUICSNI])),
			"ja3":  slices.Sorted(maps.Keys(ja3)),
		}
		theirs := map[string][]string{
			"dns":  tsharkSet(t, lf.path, "dns", "dns.qry.name"),
			"tls":  tsharkSet(t, lf.path, "tcp && tls.handshake.type == 1", "tls.handshake.extensions_server_name"),
			"quic": tsharkSet(t, lf.path, "quic && tls.handshake.type == 1", "tls.handshake.extensions_server_name"),
			"ja3":  tsharkSet(t, lf.path, "tcp && tls.handshake.type == 1", "tls.handshake.ja3"),
		}
		truth := map[string][]string{
			"dns":  slices.Sorted(maps.Keys(lf.expect.DNSQueries)),
			"tls":  slices.Sorted(maps.Keys(lf.expect.TLSSNI)),
			"quic": slices.Sorted(maps.Keys(lf.expect.QUICSNI)),
		}
		for _, k := range []string{"dns", "tls", "quic", "ja3"} {
			if len(theirs[k]) == 0 {
				t.Errorf("format %d %s: tshark found nothing", format, k)
			}
			if !slices.Equal(ours[k], theirs[k]) {
				t.Errorf("format %d %s:\n ours   %q\n tshark %q", format, k, ours[k], theirs[k])
			}
			if k != "ja3" && !slices.Equal(ours[k], truth[k]) {
				t.Errorf("format %d %s: ours %q, generated %q", format, k, ours[k], truth[k])
			}
		}
		if format == netfixture.Pcapng {
			// The key log travels in the pcapng's Decryption Secrets Block: tshark decrypts the
			// TLS sessions with no option and finds inside them the hosts named by the SNIs.
			hosts := tsharkSet(t, lf.path, "tls && http.request", "http.host")
			if !slices.Equal(hosts, truth["tls"]) {
				t.Errorf("decrypted HTTP hosts %q, want %q", hosts, truth["tls"])
			}
		}
	}
}
