package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/internal/netfixture"
)

// labCapture writes a small generated lab capture (real crypto/tls and quic-go sessions).
func labCapture(t *testing.T) (string, *netfixture.Expect) {
	t.Helper()
	lab, err := netfixture.NewLab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "lab.pcapng")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcapng, lab.KeyLog)
	if err != nil {
		t.Fatal(err)
	}
	e, err := lab.Generate(w, netfixture.Mix{Packets: 1500, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p, e
}

func TestDestinationsCommand(t *testing.T) {
	p, e := labCapture(t)
	code, out, errOut := cli(t, "destinations", "--format", "json", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Destinations []struct {
			IP       string `json:"ip"`
			Port     int    `json:"port"`
			Protocol string `json:"protocol"`
			BytesOut int64  `json:"bytes_out"`
			BytesIn  int64  `json:"bytes_in"`
			Names    []struct{ Name, Source string }
		} `json:"destinations"`
		GeoIP struct {
			Attribution []string `json:"attribution"`
		} `json:"geoip"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(doc.Destinations) != len(e.Dest) || len(doc.GeoIP.Attribution) < 2 {
		t.Fatalf("%d rows, want %d; attribution %q", len(doc.Destinations), len(e.Dest), doc.GeoIP.Attribution)
	}
	var sent int64
	for _, r := range doc.Destinations {
		sent += r.BytesOut
	}
	var want int64
	for _, tot := range e.Dest {
		want += tot.Out
	}
	if sent != want {
		t.Errorf("bytes_out total %d, want %d", sent, want)
	}

	code, out, _ = cli(t, "destinations", "--format", "csv", p)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitOK || err != nil || len(recs) != len(e.Dest)+1 || recs[0][0] != "ip" {
		t.Fatalf("csv: exit %d err %v rows %d", code, err, len(recs))
	}
	code, out, _ = cli(t, "destinations", p)
	if code != exitOK || !strings.Contains(out, "flysafe-api.dji.com") || !strings.Contains(out, "DB-IP") {
		t.Fatalf("text: exit %d\n%s", code, out)
	}
}

func TestDestinationsUsageAndConfig(t *testing.T) {
	if code, _, _ := cli(t, "destinations", "--format", "xml", "x.pcap"); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	if code, _, _ := cli(t, "destinations"); code != exitUsage {
		t.Errorf("no capture: exit %d", code)
	}
	if code, _, _ := cli(t, "destinations", filepath.Join(t.TempDir(), "missing.pcap")); code != exitUsage {
		t.Errorf("missing capture: exit %d", code)
	}
	p, _ := labCapture(t)
	conf := filepath.Join(t.TempDir(), "droneaudit.yaml")
	os.WriteFile(conf, []byte("owners:\n  - {pattern: \"*.mapbox.com\", owner: cloud, purpose: lab test, source: test, confidence: H}\n"), 0o644)
	code, out, errOut := cli(t, "--config", conf, "destinations", "--format", "csv", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	seen := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "events.mapbox.com") {
			seen++
			if !strings.Contains(l, ",cloud,") {
				t.Errorf("config owner rule not applied: %s", l)
			}
		}
	}
	if seen == 0 {
		t.Error("no events.mapbox.com row to check the rule on")
	}
	code, out, _ = cli(t, "--config", conf, "destinations", "--list-owners", "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitOK || err != nil || len(recs) < 30 || recs[1][0] != "*.mapbox.com" || recs[1][1] != "cloud" || recs[2][0] != "flysafe-api.dji.com" {
		t.Fatalf("owners: exit %d err %v first rows %q", code, err, recs[:min(3, len(recs))])
	}
	os.WriteFile(conf, []byte("owners:\n  - {owner: cloud}\n"), 0o644)
	if code, _, _ := cli(t, "--config", conf, "destinations", p); code != exitUsage {
		t.Errorf("rule without pattern: exit %d", code)
	}
}
