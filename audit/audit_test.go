package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
	"droneaudit/internal/demo"
)

func zonesAround(t *testing.T, lat, lon, r float64, s geo.Sensitivity) *geo.Zones {
	t.Helper()
	doc := []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Test site","sensitivity":"` + string(s) +
		`","radius_m":` + ftoa(r) + `},"geometry":{"type":"Point","coordinates":[` + ftoa(lon) + `,` + ftoa(lat) + `]}}]}`)
	zs, err := geo.ParseZones("test.geojson", doc)
	if err != nil {
		t.Fatal(err)
	}
	return zs
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// The corpus MAVLink-in-pcapng files through the whole audit: a zone around their position finds
// the GPS_RAW_INT (UDP) and MISSION_ITEM_INT (TCP) positions in network flows. Both flows run on
// loopback (SITL and a ground station on one computer): the positions did not leave the device,
// so they are on-device findings that fail only when the policy fails the on-device scope. (They
// were reported as having "left the device over the network".)
func TestCorpusCapturesLoopbackStaysOnDevice(t *testing.T) {
	udp := corpus.Path(t, "mavlink/gps_raw_int.pcapng")
	tcp := corpus.Path(t, "mavlink/mission_item_int.pcapng")
	zones := zonesAround(t, 51.4780, -2.5930, 500, geo.Secret)
	rep, err := Run(t.Context(), []Source{FileSource(udp), FileSource(tcp)}, Options{Zones: zones, Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Result != Pass || len(rep.Findings) != 2 {
		t.Fatalf("verdict %+v, %d findings", rep.Verdict, len(rep.Findings))
	}
	got := map[geo.Role]string{}
	for _, f := range rep.Findings {
		if f.Kind != KindOnDeviceExposure || f.Channel != geo.ChannelNetwork || f.Scope != destinations.ScopeOnDevice || f.FailsPolicy ||
			f.Destination == nil || f.Destination.IP != "127.0.0.1" || !strings.Contains(f.Summary, "did not leave it") {
			t.Errorf("finding %+v", f)
		}
		got[f.Role] = f.First.Evidence.Message + " " + f.First.Evidence.Network.Proto.String()
	}
	p := DefaultPolicy()
	p.FailScopes = append(p.FailScopes, destinations.ScopeOnDevice)
	if rep, _ := Run(t.Context(), []Source{FileSource(udp)}, Options{Zones: zones, Policy: p}); rep.Verdict.Result != Fail {
		t.Fatalf("fail_scopes with on-device: verdict %+v", rep.Verdict)
	}
	if got[geo.RoleAircraft] != "GPS_RAW_INT udp" || got[geo.RoleWaypoint] != "MISSION_ITEM_INT seq 7 cmd 85 (mission) tcp" {
		t.Fatalf("findings by role %v", got)
	}
	for _, in := range rep.Inputs {
		if in.Format != "pcapng" || in.SHA256 != corpus.Lookup(t, "mavlink/"+filepath.Base(in.Path)).SHA256 {
			t.Errorf("input %+v", in)
		}
	}
}

// On-device logs are exposures, not leaks: they do not fail the default policy.
func TestCorpusTlogIsOnDevice(t *testing.T) {
	tlog := corpus.Path(t, "mavlink/arduplane_vtol_sitl_mav1.tlog")
	zones := zonesAround(t, -35.3632, 149.1652, 2000, geo.Secret)
	rep, err := Run(t.Context(), []Source{FileSource(tlog)}, Options{Zones: zones, Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict.Result != Pass || len(rep.Findings) == 0 {
		t.Fatalf("verdict %+v findings %d", rep.Verdict, len(rep.Findings))
	}
	for _, f := range rep.Findings {
		if f.Kind != KindOnDeviceExposure || f.FailsPolicy {
			t.Fatalf("finding %+v", f)
		}
	}
	p := DefaultPolicy()
	p.FailOnDevice = true
	rep, _ = Run(t.Context(), []Source{FileSource(tlog)}, Options{Zones: zones, Policy: p})
	if rep.Verdict.ExitCode != 3 {
		t.Fatalf("fail_on_device: verdict %+v", rep.Verdict)
	}
}

func TestCorpusDUMLThroughAudit(t *testing.T) {
	run4 := corpus.Path(t, "duml/p3x_ofdm_to_center_run4.pcap")
	rep, err := Run(t.Context(), []Source{FileSource(run4)}, Options{Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	in := rep.Inputs[0]
	if in.Counts["records"] != 21572 || in.Counts["crc16_errors"] != 3 || in.Fixes != 0 || in.Format != "pcap" {
		t.Fatalf("%+v", in)
	}
}

// A folder is walked in a stable order, decoded in parallel, and the report bytes do not depend
// on the number of workers.
func TestFolderParallelDeterministic(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"b/flight.pcapng", "a/copy.pcapng", "c.pcapng", ".hidden/x.pcapng"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		// The demo's monitor-mode capture: the same beacons in every copy are no connection that
		// one copy would continue in the next (the lab capture's TCP flows would be).
		data := demo.EmbeddedMonitor
		if i == 2 {
			data = data[:len(data)-7] // a cut capture: reported, not fatal
		}
		if err := os.WriteFile(p, data, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	// A file of no known format found in a folder is listed as skipped, not an error.
	if err := os.WriteFile(filepath.Join(dir, "b", "notes.txt"), []byte("flight notes\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	srcs, errs := ExpandInputs([]string{dir})
	if len(errs) != 0 || len(srcs) != 4 || filepath.Base(filepath.Dir(srcs[0].Name)) != "a" {
		t.Fatalf("sources %v errs %v", srcs, errs)
	}
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	var outs [][]byte
	for _, w := range []int{1, 4} {
		rep, err := Run(t.Context(), srcs, Options{Zones: zones, Policy: DefaultPolicy(), Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		rep.WriteJSON(&b)
		outs = append(outs, b.Bytes())
		cut := slices.ContainsFunc(rep.Inputs[3].Notes, func(n decoders.Note) bool { return n.Code == "truncated" })
		if !cut || rep.Inputs[3].Fixes == 0 {
			t.Fatalf("cut capture: %+v", rep.Inputs[3])
		}
		if in := rep.Inputs[2]; in.Skipped == "" || in.Error != "" || rep.Summary.InputsSkipped != 1 || rep.Verdict.ExitCode != 3 {
			t.Fatalf("text file in the folder: %+v, summary %+v", in, rep.Summary)
		}
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Fatal("report bytes depend on the number of workers")
	}
}

// A DJI flight record is on-device evidence: the report names the zones it touches and what a
// reader learns without keys, and the default policy does not fail on it.
func TestCorpusFlightRecordExposure(t *testing.T) {
	log := corpus.Path(t, "djilog/v11_Mavic2_2019-02-22.txt")
	zones := zonesAround(t, 18.0720, -65.7988, 300, geo.Restricted)
	rep, err := Run(t.Context(), []Source{FileSource(log)}, Options{Zones: zones, Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	in := rep.Inputs[0]
	if rep.Verdict.Result != Pass || in.Format != "djilog" || len(in.ZonesTouched) != 1 || in.ZonesTouched[0] != "Test site" {
		t.Fatalf("verdict %+v input %+v", rep.Verdict, in.ZonesTouched)
	}
	facts := map[string]bool{}
	for _, n := range in.Exposures {
		facts[n.Attrs["fact"]] = true
	}
	if !facts["take-off"] || !facts["pilot-position"] || !facts["identity"] {
		t.Fatalf("exposures %v", facts)
	}
	roles := map[geo.Role]bool{}
	for _, f := range rep.Findings {
		if f.Kind != KindOnDeviceExposure || f.Channel != geo.ChannelOnDevice {
			t.Fatalf("finding %+v", f)
		}
		roles[f.Role] = true
	}
	if !roles[geo.RoleAircraft] || !roles[geo.RolePilot] || !roles[geo.RoleTakeoff] {
		t.Fatalf("roles in the zone: %v", roles)
	}
}
