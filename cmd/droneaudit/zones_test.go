package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Defect 8: zones check prints each zone's bounding box, centre and area.
func TestZonesCheckBoundCentreArea(t *testing.T) {
	_, zones := writeDemo(t, t.TempDir())
	code, out, errOut := cli(t, "zones", "check", zones)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"  [0] Kleine-Brogel Air Base                   secret     Polygon\n" +
			"      bbox [5.437000, 51.153000, 5.508000, 51.186000]  centre lat 51.168799 lon 5.472495  area 15.1 km²\n",
		"  [1] Police staging area (mission briefing point) restricted Point, radius 400 m\n" +
			"      bbox [5.432266, 51.144403, 5.443734, 51.151597]  centre lat 51.148000 lon 5.438000  area 0.503 km²\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks\n%s\n--- output:\n%s", want, out)
		}
	}
	small := filepath.Join(t.TempDir(), "small.geojson")
	os.WriteFile(small, []byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"Roof","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":[[[4.0,50.0],[4.001,50.0],[4.001,50.001],[4.0,50.001],[4.0,50.0]]]}},
		{"type":"Feature","properties":{"name":"Date line","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":[[[179,-17],[-179,-17],[-179,-16],[179,-16],[179,-17]]]}}]}`), 0o600)
	code, out, errOut = cli(t, "zones", "check", small)
	if code != 0 || !strings.Contains(out, "area 7965 m²") || !strings.Contains(out, "bbox [179.000000, -17.000000, -179.000000, -16.000000]  centre lat -16.500000 lon 180.000000  area 23763 km²") {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
}

// Defect 4 in the CLI: zones_region from the configuration file or the environment.
func TestZonesRegionConfig(t *testing.T) {
	dir := t.TempDir()
	swapped := filepath.Join(dir, "swapped.geojson")
	os.WriteFile(swapped, []byte(`{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"Kleine-Brogel","sensitivity":"secret"},"geometry":{"type":"Polygon","coordinates":[[[51.15,5.44],[51.15,5.50],[51.18,5.50],[51.18,5.44],[51.15,5.44]]]}}]}`), 0o600)
	conf := filepath.Join(dir, "droneaudit.yaml")
	os.WriteFile(conf, []byte("zones_region: [2.5, 49.4, 6.5, 51.6]\n"), 0o600)
	code, _, errOut := cli(t, "--config", conf, "zones", "check", swapped)
	if code != exitError || !strings.Contains(errOut, "feature 0: lies outside the zones region [2.5, 49.4, 6.5, 51.6]") ||
		!strings.Contains(errOut, "with longitude and latitude swapped it would lie inside") || !strings.Contains(errOut, `(zone "Kleine-Brogel")`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// audit refuses the zone file as it refuses any bad one.
	code, _, errOut = cli(t, "--config", conf, "audit", "--zones", swapped)
	if code != exitUsage || !strings.Contains(errOut, "swapped it would lie inside") {
		t.Fatalf("audit: exit %d: %s", code, errOut)
	}
	// The demo's zones are in Belgium.
	_, zones := writeDemo(t, dir)
	if code, _, errOut := cli(t, "--config", conf, "zones", "check", zones); code != 0 {
		t.Fatalf("demo zones: exit %d: %s", code, errOut)
	}
	// The environment, and a malformed region.
	t.Setenv("DRONEAUDIT_ZONES_REGION", "2.5,49.4,6.5,51.6")
	if code, _, errOut := cli(t, "zones", "check", swapped); code != exitError || !strings.Contains(errOut, "swapped") {
		t.Fatalf("from the environment: exit %d: %s", code, errOut)
	}
	t.Setenv("DRONEAUDIT_ZONES_REGION", "2.5,49.4,6.5")
	if code, _, errOut := cli(t, "zones", "check", zones); code != exitUsage || !strings.Contains(errOut, "zones_region: want 4 numbers") {
		t.Fatalf("malformed: exit %d: %s", code, errOut)
	}
}
