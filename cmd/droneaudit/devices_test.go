package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/internal/corpus"
	"droneaudit/internal/netfixture"
)

// segmentFile writes the generated lab segment (netfixture.GenerateSegment).
func segmentFile(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "segment.pcapng")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := netfixture.NewWriter(f, netfixture.Pcapng, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := netfixture.GenerateSegment(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

type devicesJSON struct {
	Devices []struct {
		MAC        string   `json:"mac"`
		Vendor     string   `json:"vendor"`
		Randomised bool     `json:"randomised"`
		Class      string   `json:"class"`
		IPv4       []string `json:"ipv4"`
		Owners     []string `json:"owners"`
		DHCP       struct {
			HostNames []string `json:"host_names"`
		} `json:"dhcp"`
		Destinations []struct {
			IP    string   `json:"ip"`
			Names []string `json:"names"`
			Owner string   `json:"owner"`
		} `json:"destinations"`
	} `json:"devices"`
	OUI struct {
		Attribution string `json:"attribution"`
	} `json:"oui"`
	GeoIP struct {
		Attribution []string `json:"attribution"`
	} `json:"geoip"`
	Packets int `json:"packets"`
}

func TestDevicesCommand(t *testing.T) {
	p := segmentFile(t, t.TempDir())
	code, out, errOut := cli(t, "devices", "--format", "json", p)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc devicesJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	type row struct{ mac, class, host string }
	var got []row
	for _, d := range doc.Devices {
		h := ""
		if len(d.DHCP.HostNames) > 0 {
			h = d.DHCP.HostNames[0]
		}
		got = append(got, row{d.MAC, d.Class, h})
	}
	want := []row{{"44:47:cc:aa:bb:cc", "hikvision", "IPC-Front"}, {"50:c7:bf:01:02:03", "", ""}, {"60:60:1f:aa:00:01", "dji", "DJI-RC-Pro"},
		{"6c:1c:71:11:22:33", "dahua", "NVR-Lab"}, {"da:a1:19:2b:3c:4d", "", "Pixel-7"}, {"f4:8e:38:0a:0b:0c", "", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if doc.Packets != 84 || !strings.Contains(doc.OUI.Attribution, "IEEE") || len(doc.GeoIP.Attribution) < 2 || !doc.Devices[4].Randomised {
		t.Errorf("packets %d, attributions %q %q", doc.Packets, doc.OUI.Attribution, doc.GeoIP.Attribution)
	}
	if o := doc.Devices[0].Owners; !slices.Equal(o, []string{"hikvision-cloud"}) {
		t.Errorf("camera owners %q", o)
	}

	code, out, _ = cli(t, "devices", "--format", "csv", p)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != exitOK || err != nil || len(recs) != 7 || recs[0][0] != "mac" || recs[1][0] != "44:47:cc:aa:bb:cc" || recs[1][4] != "hikvision" {
		t.Fatalf("csv: exit %d err %v rows %d %q", code, err, len(recs), recs[:min(2, len(recs))])
	}
	code, out, _ = cli(t, "devices", p)
	for _, s := range []string{"DEVICE 44:47:cc:aa:bb:cc  Hangzhou Hikvision", "class dahua", "randomised (locally administered) address",
		"litedev.hik-connect.com hikvision-cloud", "www.easy4ipcloud.com dahua-cloud", "MAC vendors: IEEE Registration Authority", "DB-IP"} {
		if code != exitOK || !strings.Contains(out, s) {
			t.Errorf("text lacks %q (exit %d)\n%s", s, code, out)
		}
	}
}

// TestDevicesInputs reads the segment as the other commands read inputs: from a folder, gzip
// compressed, and from standard input; the rows are the same but for their evidence.
func TestDevicesInputs(t *testing.T) {
	dir := t.TempDir()
	p := segmentFile(t, dir)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	gzDir := filepath.Join(dir, "gz")
	os.Mkdir(gzDir, 0o755)
	if err := os.WriteFile(filepath.Join(gzDir, "segment.pcapng.gz"), z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(gzDir, "notes.txt"), []byte("lab notes, not a capture\n"), 0o644)
	devicesOf := func(code int, out, errOut string) string {
		t.Helper()
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		// The evidence names the input as given and its SHA-256 as stored: those differ.
		devs, _ := doc["devices"].([]any)
		for _, d := range devs {
			d := d.(map[string]any)
			delete(d, "evidence")
			dests, _ := d["destinations"].([]any)
			for _, c := range dests {
				delete(c.(map[string]any), "evidence")
			}
		}
		b, _ := json.Marshal(devs)
		return string(b)
	}
	plain := devicesOf(cli(t, "devices", "--format", "json", p))
	if got := devicesOf(cli(t, "devices", "--format", "json", gzDir)); got != plain {
		t.Errorf("gzip in a folder differs")
	}
	if got := devicesOf(cliIn(t, bytes.NewReader(z.Bytes()), "devices", "--no-progress", "--format", "json", "-")); got != plain {
		t.Errorf("standard input differs")
	}
}

func TestDevicesUsage(t *testing.T) {
	if code, _, _ := cli(t, "devices", "--format", "xml", "x.pcap"); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
	if code, _, _ := cli(t, "devices", "--example", "segment", "x.pcap"); code != exitUsage {
		t.Errorf("example and a capture: exit %d", code)
	}
	if code, _, _ := cli(t, "devices", "--example", "flight"); code != exitUsage {
		t.Errorf("no such example: exit %d", code)
	}
	if code, _, _ := cli(t, "devices", filepath.Join(t.TempDir(), "missing.pcap")); code != exitUsage {
		t.Errorf("missing capture: exit %d", code)
	}
	// A named input that is no capture is an error naming it; the others are still listed.
	dir := t.TempDir()
	p := segmentFile(t, dir)
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("not a capture at all"), 0o644)
	code, out, errOut := cli(t, "devices", "--format", "json", p, bad)
	if code != exitError || !strings.Contains(errOut, "bad.pcap") || !strings.Contains(out, "44:47:cc:aa:bb:cc") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
}

// TestDevicesCorpus runs `devices` on every capture of the shared real-sample corpus.
func TestDevicesCorpus(t *testing.T) {
	var caps []string
	for _, e := range corpus.Files(t, "") {
		if strings.HasPrefix(e.Format, "pcap") {
			caps = append(caps, corpus.Path(t, e.File))
		}
	}
	if len(caps) == 0 {
		t.Fatal("no corpus captures")
	}
	for _, format := range []string{"text", "json", "csv"} {
		code, _, errOut := cli(t, append([]string{"devices", "--format", format}, caps...)...)
		if code != exitOK {
			t.Errorf("%s: exit %d: %s", format, code, errOut)
		}
	}
}

// TestAuditDenyCameraClouds makes the camera cloud owner classes policy: an audit of the
// segment with deny_owners [hikvision-cloud, dahua-cloud] fails on each contact with them,
// including the Dahua relay recognised by its P2P traffic alone.
func TestAuditDenyCameraClouds(t *testing.T) {
	dir := t.TempDir()
	p := segmentFile(t, dir)
	conf := filepath.Join(dir, "droneaudit.yaml")
	os.WriteFile(conf, []byte("policy:\n  destinations:\n    deny_owners: [hikvision-cloud, dahua-cloud]\n"), 0o644)
	zones := filepath.Join("..", "..", "internal", "demo", "belgian-sensitive-sites.geojson")
	code, out, errOut := cli(t, "--config", conf, "audit", "--no-progress", "--zones", zones, p)
	if code != exitPolicy {
		t.Fatalf("exit %d, want 3: %s\n%s", code, errOut, out)
	}
	for _, s := range []string{`litedev.hik-connect.com (47.91.88.171:443/tcp) in 1 flow (the internet, DE, owner hikvision-cloud): its owner class "hikvision-cloud" is denied`,
		`www.easy4ipcloud.com (47.254.34.11:8800/udp) in 1 flow (the internet, US, owner dahua-cloud): its owner class "dahua-cloud" is denied`,
		`47.254.40.40:20000/udp in 1 flow (the internet, US, owner dahua-cloud): its owner class "dahua-cloud" is denied`} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	if n := strings.Count(out, "destination-denied"); n != 5 {
		t.Errorf("%d destination-denied findings, want 5", n)
	}
}

// TestAuditDevices audits the generated segment with a device policy: the report lists every
// device, and the devices of a denied class, that contacted a denied owner class, or that reach
// the internet from a closed segment fail, each with the frame of the input that shows it.
func TestAuditDevices(t *testing.T) {
	dir := t.TempDir()
	p := segmentFile(t, dir)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := fmt.Sprintf("%x", sha256.Sum256(raw))
	t.Chdir(dir)
	os.WriteFile("droneaudit.yaml", []byte("policy:\n  destinations:\n    deny_owners: [hikvision-cloud, dahua-cloud]\n"+
		"  devices:\n    deny_classes: [dji]\n    closed_segment: true\n"), 0o600)
	code, out, errOut := cli(t, "audit", "--no-progress", "--format", "json", p)
	if code != exitPolicy {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Findings []struct {
			Kind     string                         `json:"kind"`
			Fails    bool                           `json:"fails_policy"`
			Device   *struct{ MAC string }          `json:"device"`
			Rules    []struct{ Rule, Value string } `json:"rules"`
			Evidence *struct {
				Input, SHA256, Locator string
				Offset                 int64
			} `json:"evidence"`
		} `json:"findings"`
		Devices []struct {
			MAC   string `json:"mac"`
			Class string `json:"class"`
		} `json:"devices"`
		DeviceOUI *struct{ Attribution string } `json:"device_oui"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	var devs []string
	for _, d := range rep.Devices {
		devs = append(devs, d.MAC+" "+d.Class)
	}
	wantDevs := []string{"44:47:cc:aa:bb:cc hikvision", "50:c7:bf:01:02:03 ", "60:60:1f:aa:00:01 dji", "6c:1c:71:11:22:33 dahua",
		"da:a1:19:2b:3c:4d ", "f4:8e:38:0a:0b:0c "}
	if !slices.Equal(devs, wantDevs) || rep.DeviceOUI == nil || rep.DeviceOUI.Attribution == "" {
		t.Errorf("devices %q, oui %+v", devs, rep.DeviceOUI)
	}
	// Each finding, with the frame the evidence points to: the device's first frame for its
	// class, the first frame of its first denied or internet contact otherwise (see
	// netfixture.GenerateSegment for the order of the frames).
	var got []string
	for _, f := range rep.Findings {
		if f.Device == nil {
			continue
		}
		var rules []string
		for _, r := range f.Rules {
			rules = append(rules, r.Rule+"="+r.Value)
		}
		if !f.Fails || f.Evidence == nil || f.Evidence.Input != p || f.Evidence.SHA256 != sum || f.Evidence.Offset <= 0 {
			t.Errorf("%s %s: fails %v, evidence %+v", f.Kind, f.Device.MAC, f.Fails, f.Evidence)
			continue
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", f.Kind, f.Device.MAC, strings.Join(rules, ","), f.Evidence.Locator))
	}
	want := []string{
		"device-denied 44:47:cc:aa:bb:cc owner=hikvision-cloud frame 28",
		"device-denied 60:60:1f:aa:00:01 class=dji frame 1",
		"device-denied 6c:1c:71:11:22:33 owner=dahua-cloud frame 81",
		"device-denied da:a1:19:2b:3c:4d owner=hikvision-cloud frame 42",
		"device-internet 44:47:cc:aa:bb:cc closed-segment=true frame 28",
		"device-internet 60:60:1f:aa:00:01 closed-segment=true frame 70",
		"device-internet 6c:1c:71:11:22:33 closed-segment=true frame 81",
		"device-internet da:a1:19:2b:3c:4d closed-segment=true frame 42",
	}
	if !slices.Equal(got, want) {
		t.Errorf("device findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The frames named are the ones the evidence says: the camera's TLS session to Hik-Connect
	// starts at frame 28 with its SYN, from the camera's address.
	if src := frameSource(t, raw, 28); src != "44:47:cc:aa:bb:cc" {
		t.Errorf("frame 28 is from %s", src)
	}

	// The text report has the devices section and the policy says what fails a device.
	_, text, _ := cli(t, "audit", "--no-progress", p)
	for _, s := range []string{"Devices on the lab segment: 6", "  60:60:1f:aa:00:01  SZ DJI TECHNOLOGY CO.,LTD  class dji",
		"      names: IPC-Front, Cam-Front.local, HIKVISION DS-2CD2143G0-I", "      model: model DS-2CD2143G0-I; firmware V5.5.82",
		"the segment must be closed: fails when a device of it contacted any internet address",
		"    evidence:    " + p + " frame 28 (offset "} {
		if !strings.Contains(text, s) {
			t.Errorf("text report lacks %q", s)
		}
	}

	// Without a device policy no device finding is made; the devices are still listed.
	os.WriteFile("droneaudit.yaml", []byte("policy:\n  fail_on: [secret]\n"), 0o600)
	_, out, _ = cli(t, "audit", "--no-progress", "--format", "json", p)
	if strings.Contains(out, `"kind": "device-`) || !strings.Contains(out, `"mac": "da:a1:19:2b:3c:4d"`) {
		t.Errorf("audit without a device policy:\n%.400s", out)
	}
}

// frameSource reads the source MAC address of frame n (from 1) of a pcapng file with gopacket.
func frameSource(t *testing.T, capture []byte, n int) string {
	t.Helper()
	r, err := pcapgo.NewNgReader(bytes.NewReader(capture), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; ; i++ {
		data, _, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("frame %d: %v", n, err)
		}
		if i == n {
			return net.HardwareAddr(data[6:12]).String()
		}
	}
}

// TestDevicesExample lists the embedded lab segment without inputs: the controller, the phone,
// the camera with what its SADP answer and UPnP description say, and the NVR.
func TestDevicesExample(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{{"devices", "--format", "json"}, {"devices", "--format", "json", "--example", "segment"}} {
		code, out, errOut := cli(t, args...)
		if code != exitOK {
			t.Fatalf("%q: exit %d: %s", args, code, errOut)
		}
		var doc struct {
			Devices []struct {
				MAC   string `json:"mac"`
				Class string `json:"class"`
				UPnP  struct {
					FriendlyNames []string `json:"friendly_names"`
					Serials       []string `json:"serial_numbers"`
				} `json:"upnp"`
				SADP struct {
					Firmware []string `json:"firmware"`
				} `json:"sadp"`
				Evidence struct{ Input string } `json:"evidence"`
			} `json:"devices"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range doc.Devices {
			got = append(got, fmt.Sprintf("%s %s %q %q %q %s", d.MAC, d.Class, d.UPnP.FriendlyNames, d.UPnP.Serials, d.SADP.Firmware, d.Evidence.Input))
		}
		want := []string{
			`44:47:cc:aa:bb:cc hikvision ["Cam-Front"] ["DS-2CD2143G0-I20190101AAWRC12345678"] ["V5.5.82build 190909"] example/lab-segment.pcapng`,
			`50:c7:bf:01:02:03  [] [] [] example/lab-segment.pcapng`,
			`60:60:1f:aa:00:01 dji [] [] [] example/lab-segment.pcapng`,
			`6c:1c:71:11:22:33 dahua [] [] [] example/lab-segment.pcapng`,
			`da:a1:19:2b:3c:4d  [] [] [] example/lab-segment.pcapng`,
			`f4:8e:38:0a:0b:0c  [] [] [] example/lab-segment.pcapng`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q:\n%s\nwant\n%s", args, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	// The audit of the example, with the device policy of the README, fails on its devices.
	os.WriteFile("droneaudit.yaml", []byte("policy:\n  destinations:\n    deny_owners: [hikvision-cloud, dahua-cloud]\n"+
		"  devices:\n    closed_segment: true\n"), 0o600)
	code, out, _ := cli(t, "audit", "--no-progress", "--example", "segment")
	if code != exitPolicy || !strings.Contains(out, "Devices on the lab segment: 6") ||
		!strings.Contains(out, "model: maker Hikvision; model DS-2CD2143G0-I; serial DS-2CD2143G0-I20190101AAWRC12345678; firmware V5.5.82, V5.5.82build 190909") ||
		strings.Count(out, " device-internet  [FAILS POLICY]") != 4 || strings.Count(out, " device-denied  [FAILS POLICY]") != 3 {
		t.Errorf("audit --example segment: exit %d\n%s", code, out)
	}
}
