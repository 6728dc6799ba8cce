package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/audit/destinations"
	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/demo"
)

// httpCapture writes a pcap of one HTTP request from a lab device to 203.0.113.80:80.
func httpCapture(t *testing.T, request string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	t0 := time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)
	seq := uint32(5000)
	write := func(i int, payload []byte, syn bool) {
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(192, 168, 1, 20), DstIP: net.IPv4(203, 0, 113, 80)}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: seq, ACK: !syn, SYN: syn, Window: 1000}
		if syn {
			tcp.Seq = seq - 1
		}
		tcp.SetNetworkLayerForChecksum(ip)
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Second), CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}, sb.Bytes())
	}
	write(0, nil, true)
	write(1, []byte(request), false)
	return buf.Bytes()
}

// hostile holds the characters a file name or a decoded text field may carry to attack a
// terminal or forge a line of the report.
const hostile = "x\n\nVERDICT: PASS (exit code 0)\n\x1b]0;owned\x07\x1b[2J\u009b31m\u202eevil"

// The text report shows every control and format character of a file name or of a decoded
// field escaped: no ESC, OSC, 8-bit CSI or right-to-left override reaches the terminal, and a
// newline in a name cannot print a fake verdict line. JSON keeps the exact values.
func TestTextReportIsSanitised(t *testing.T) {
	req := "GET /report?lat=51.168&lon=5.47 HTTP/1.1\r\nHost: tele\x1b]0;x\x07metry\u202e.example\r\n\r\n"
	name := "capture" + hostile + ".pcap"
	zones := zonesAround(t, 51.168, 5.47, 500, geo.Secret)
	rep, err := Run(t.Context(), []Source{BytesSource(name, httpCapture(t, req)), BytesSource("missing"+hostile, nil)},
		Options{Zones: zones, Policy: DefaultPolicy(), Destinations: &destinations.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Fixes == 0 || len(rep.Findings) == 0 {
		t.Fatalf("nothing found: %+v", rep.Inputs[0])
	}
	var txt bytes.Buffer
	if err := rep.WriteTextWith(&txt, TextOptions{Location: time.UTC}); err != nil {
		t.Fatal(err)
	}
	s := txt.String()
	for _, bad := range []string{"\x1b", "\x07", "\u009b", "\u202e", "\r"} {
		if strings.Contains(s, bad) {
			t.Errorf("the text report holds %q", bad)
		}
	}
	for i, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "VERDICT: PASS") {
			t.Errorf("line %d is a forged verdict: %q", i+1, line)
		}
	}
	for _, want := range []string{`capturex\n\nVERDICT: PASS (exit code 0)\n\x1b]0;owned\x07\x1b[2J\u009b31m\u202eevil.pcap`, `tele\x1b]0;x\x07metry\u202e.example`} {
		if !strings.Contains(s, want) {
			t.Errorf("the report lacks the escaped %q\n%s", want, s)
		}
	}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	var back struct {
		Inputs []struct{ Path string } `json:"inputs"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Inputs[0].Path != name {
		t.Fatalf("JSON does not keep the exact name: %v %q", err, back.Inputs[0].Path)
	}
}

// A position a payload does not label is named in the report, never "other".
func TestNoRoleCalledOther(t *testing.T) {
	req := "GET /report?lat=51.168&lon=5.47 HTTP/1.1\r\nHost: telemetry.example\r\n\r\n"
	zones := zonesAround(t, 51.168, 5.47, 500, geo.Secret)
	rep, err := Run(t.Context(), []Source{BytesSource("http.pcap", httpCapture(t, req))}, Options{Zones: zones, Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Role != geo.RoleOther {
		t.Fatalf("findings %+v", rep.Findings)
	}
	var txt bytes.Buffer
	rep.WriteTextWith(&txt, TextOptions{Location: time.UTC})
	if strings.Contains(txt.String(), "other") || !strings.Contains(txt.String(), "1 unlabelled position") {
		t.Fatalf("%s", txt.String())
	}
}

// One broadcast pilot position inside a zone is one finding, which names the zone: it was two
// (broadcast-position and location-leak for the same frames).
func TestBroadcastPositionIsOneFinding(t *testing.T) {
	zs := zonesAround(t, 51.168, 5.47, 500, geo.Restricted)
	a := newAggregator(DefaultPolicy(), "ota.pcap", 0)
	for i := range 3 {
		f := geo.Fix{Lat: 51.168, Lon: 5.47, Role: geo.RolePilot, PrecisionM: 0.01, Time: time.Unix(1_700_000_000+int64(i), 0),
			Evidence: geo.Evidence{Input: "ota.pcap", Offset: int64(100 * i), Channel: geo.ChannelBroadcast,
				Broadcast: &geo.Broadcast{Transmitter: "60:60:1f:00:00:01", Kind: "DJI-DroneID"}}}
		a.add(f, zs.Match(f))
	}
	if len(a.order) != 1 {
		t.Fatalf("%d findings for one broadcast position: %+v", len(a.order), a.order)
	}
	f := a.order[0]
	f.summarise()
	if f.Kind != KindBroadcastPosition || f.Zone != "Test site" || f.Scope != destinations.ScopeBroadcast || !f.FailsPolicy || f.Count != 3 ||
		f.Transmitter != "60:60:1f:00:00:01" || !strings.Contains(f.Summary, `inside restricted zone "Test site" broadcast in clear`) {
		t.Fatalf("%+v", f)
	}
}

// The first and last observation of a finding are the earliest and latest in time, whatever
// order the fixes came in (or which lane found them), with the count and the extent.
func TestFindingFirstLastInTimeWithExtent(t *testing.T) {
	zs := zonesAround(t, 51.168, 5.47, 5000, geo.Secret)
	fix := func(sec int64, lat float64, off int64) geo.Fix {
		return geo.Fix{Lat: lat, Lon: 5.47, Role: geo.RoleAircraft, Time: time.Unix(1_700_000_000+sec, 0),
			Evidence: geo.Evidence{Input: "log", Offset: off, Channel: geo.ChannelOnDevice}}
	}
	a, b := newAggregator(DefaultPolicy(), "log", 0), newAggregator(DefaultPolicy(), "log", 0)
	for _, f := range []geo.Fix{fix(50, 51.170, 10), fix(10, 51.160, 20), fix(90, 51.175, 30)} {
		a.add(f, zs.Match(f))
	}
	for _, f := range []geo.Fix{fix(5, 51.150, 40), fix(60, 51.171, 50)} {
		b.add(f, zs.Match(f))
	}
	a.merge(b)
	f := a.order[0]
	f.Extent.finish()
	if f.Count != 5 || f.First.t.Unix() != 1_700_000_005 || f.Last.t.Unix() != 1_700_000_090 ||
		f.Extent.South != 51.150 || f.Extent.North != 51.175 || f.Extent.SpanM < 2700 || f.Extent.SpanM > 2800 {
		t.Fatalf("count %d first %v last %v extent %+v", f.Count, f.First.t, f.Last.t, f.Extent)
	}
}

// Repeated notes are one line with their count and first locators: 500 identical identity
// notes, 100 bad-CRC warnings that differ only in their record number. Different identities stay
// apart.
func TestRepeatedNotesGrouped(t *testing.T) {
	in := &InputReport{Path: "lab.pcapng", SHA256: "00", Format: "pcapng"}
	for i := range 500 {
		in.Notes = append(in.Notes, decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity, Locator: fmt.Sprintf("frame %d", i+1),
			Message: "MQTT reveals mqtt_client_id pilot-7", Offset: int64(i)})
	}
	in.Notes = append(in.Notes, decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity, Message: "MQTT reveals mqtt_client_id pilot-8", Offset: -1})
	for i := range 100 {
		in.Notes = append(in.Notes, decoders.Note{Severity: decoders.Warning, Code: decoders.CodeBadCRC, Locator: fmt.Sprintf("record %d", i+1),
			Message: "frame fails the ardupilotmega checksum or is cut short: not decoded", Offset: int64(i)})
	}
	in.normalise()
	r := &Report{Version: "test", Inputs: []*InputReport{in}, Findings: []*Finding{}}
	var txt bytes.Buffer
	r.WriteTextWith(&txt, TextOptions{Location: time.UTC})
	s := txt.String()
	for _, want := range []string{
		"info identity (500×): MQTT reveals mqtt_client_id pilot-7 [frame 1; frame 2; frame 3; and 497 more]",
		"info identity: MQTT reveals mqtt_client_id pilot-8",
		"warning bad-crc (100×): frame fails the ardupilotmega checksum or is cut short: not decoded [record 1; record 2; record 3; and 97 more]",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if n := strings.Count(s, "\n"); n > 40 {
		t.Errorf("%d lines for 601 notes", n)
	}
}

// What a reader of an on-device file learns is written in words, not as key=value dumps, times in
// the report's zone; "Map Loading" (the DJI app's placeholder) is no place name.
func TestExposuresInPlainLanguage(t *testing.T) {
	s := &inputSink{rep: &InputReport{Path: "DJIFlightRecord.txt"}}
	s.Exposure(decoders.Exposure{Fact: "identity", Message: "DJIFlightRecord.txt: aircraft identity and serial numbers readable without keys",
		Values: map[string]string{"account_hash_field": "e196c42f17176acf", "aircraft_serial": "08RDE1700103LV", "start_utc": "2018-10-22T19:20:51.751Z"}})
	s.Exposure(decoders.Exposure{Fact: "take-off", Message: "take-off point (first GPS fix) readable without keys",
		Values: map[string]string{"lat": "34.142701036", "lon": "-118.800996620", "source": "details"}})
	s.Exposure(decoders.Exposure{Fact: "place-names", Message: "place names from the app's reverse geocoding",
		Values: map[string]string{"locality": "Map Loading, Map Loading", "region": "Map Loading"}})
	s.Exposure(decoders.Exposure{Fact: "place-names", Message: "place names from the app's reverse geocoding",
		Values: map[string]string{"locality": "Westlake Village", "region": "Map Loading"}})
	in := s.rep
	in.normalise()
	if len(in.Exposures) != 3 || in.Exposures[2].Attrs["region"] != "" {
		t.Fatalf("exposures %+v", in.Exposures)
	}
	r := &Report{Version: "test", Inputs: []*InputReport{in}, Findings: []*Finding{}}
	var txt bytes.Buffer
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Skip(err)
	}
	r.WriteTextWith(&txt, TextOptions{Location: brussels})
	out := txt.String()
	for _, want := range []string{
		"DJI account identifier (hashed): e196c42f17176acf",
		"aircraft serial number: 08RDE1700103LV",
		"flight start: 2018-10-22 21:20:51.751 CEST (UTC+02:00)",
		"position: 34.1427010, -118.8009966",
		"read from: the file's details block",
		"locality: Westlake Village",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q\n%s", want, out)
		}
	}
	for _, bad := range []string{"account_hash_field", "=", "Map Loading", "fact"} {
		if strings.Contains(out[strings.Index(out, "exposed if"):], bad) {
			t.Errorf("holds %q\n%s", bad, out)
		}
	}
}

// Every altitude in the report has its reference, and times carry theirs: a UTC time is shown in
// the report's zone with its offset, an SRT time (the camera's clock) is "device-local" in text
// and has no offset in JSON (it was printed as UTC).
func TestAltitudeAndTimeReferences(t *testing.T) {
	srt := []byte("1\n00:00:00,000 --> 00:00:01,000\n2022-08-07 13:40:40,123\n[latitude: 51.168000] [longitude: 5.470000] [rel_alt: 10.0 abs_alt: 60.0]\n\n" +
		"2\n00:00:01,000 --> 00:00:02,000\n2022-08-07 13:40:41,123\n[latitude: 51.168100] [longitude: 5.470100] [rel_alt: 11.0 abs_alt: 61.0]\n\n")
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), []Source{BytesSource("clip.srt", srt), BytesSource("monitor.pcapng", demo.EmbeddedMonitor)},
		Options{Zones: zones, Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Skip(err)
	}
	var txt bytes.Buffer
	rep.WriteTextWith(&txt, TextOptions{Location: brussels})
	s := txt.String()
	for i, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "altitude") && !strings.Contains(line, " above ") && !strings.Contains(line, "reference not given") {
			t.Errorf("line %d: altitude without reference: %q", i+1, line)
		}
	}
	if !strings.Contains(s, "at 2022-08-07 13:40:40.123 device-local (zone unknown)") || !strings.Contains(s, "at 2026-05-12 11:00:33.037 CEST (UTC+02:00)") {
		t.Errorf("times:\n%s", s)
	}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	if !strings.Contains(js.String(), `"time": "2022-08-07T13:40:40.123",`+"\n"+`        "time_ref": "device-local"`) ||
		strings.Contains(js.String(), "2022-08-07T13:40:40.123Z") || !strings.Contains(js.String(), `"time_ref": "utc"`) {
		t.Errorf("JSON times:\n%s", js.String())
	}
}

// The JSON report is flat and versioned, and every list is present, empty as [].
func TestJSONFlatVersionedEmptyLists(t *testing.T) {
	rep, err := Run(t.Context(), []Source{BytesSource("empty.srt", []byte("1\n00:00:00,000 --> 00:00:01,000\nno position here\n\n"))},
		Options{Policy: DefaultPolicy(), Destinations: &destinations.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	rep.WriteJSON(&js)
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema_version"] != float64(2) {
		t.Errorf("schema_version %v", doc["schema_version"])
	}
	for _, k := range []string{"findings", "destinations", "dns_queries", "destination_notes", "inputs"} {
		if _, ok := doc[k].([]any); !ok {
			t.Errorf("%s is %v, want a list", k, doc[k])
		}
	}
	in := doc["inputs"].([]any)[0].(map[string]any)
	for _, k := range []string{"notes", "exposed_if_shared", "zones_touched"} {
		if _, ok := in[k].([]any); !ok {
			t.Errorf("inputs[0].%s is %v, want a list", k, in[k])
		}
	}
	if strings.Contains(js.String(), ": null") && !strings.Contains(js.String(), `"zones": null`) {
		t.Errorf("a null besides zones:\n%s", js.String())
	}
}

// KeepsNote says what Note does with the next note: the MQTT decoder hands a bare note to a sink
// that would only count it, so the count and the notes kept must come out the same.
func TestKeepsNoteMatchesNote(t *testing.T) {
	s := &inputSink{rep: &InputReport{Path: "x.pcap"}}
	for i := 0; i < maxInputNotes+3; i++ {
		kept := s.KeepsNote(decoders.Info)
		before := len(s.rep.Notes)
		s.Note(decoders.Note{Severity: decoders.Info, Code: decoders.CodeIdentity, Message: "m"})
		if kept != (len(s.rep.Notes) == before+1) {
			t.Fatalf("note %d: KeepsNote %v, notes %d -> %d", i, kept, before, len(s.rep.Notes))
		}
	}
	if s.rep.Dropped != 3 || !s.KeepsNote(decoders.Error) {
		t.Fatalf("dropped %d, error kept %v", s.rep.Dropped, s.KeepsNote(decoders.Error))
	}
}

// Last is made of the latest fix only when the findings are merged: it must be the observation
// the latest fix gives, and First stays the earliest, also when one fix moves both.
func TestFindingLastSettled(t *testing.T) {
	zs := zonesAround(t, 51.168, 5.47, 5000, geo.Secret)
	fix := func(sec int64, lat float64, off int64) geo.Fix {
		return geo.Fix{Lat: lat, Lon: 5.47, Role: geo.RoleAircraft, Time: time.Unix(1_700_000_000+sec, 0), HasAlt: true, AltM: float64(sec),
			Evidence: geo.Evidence{Input: "log", Offset: off, Channel: geo.ChannelOnDevice}}
	}
	a := newAggregator(DefaultPolicy(), "log", 0)
	fixes := []geo.Fix{fix(50, 51.170, 10), fix(60, 51.171, 20), fix(70, 51.172, 30), fix(65, 51.173, 40), fix(80, 51.174, 50)}
	for _, f := range fixes {
		a.add(f, zs.Match(f))
	}
	out := newAggregator(DefaultPolicy(), "log", 0)
	out.merge(a)
	f := out.order[0]
	want := observe(fixes[4], f.Last.DistanceM)
	if f.Count != 5 || f.First.t.Unix() != 1_700_000_050 || f.Last.t != want.t || *f.Last.AltM != 80 || f.Last.Time != want.Time ||
		f.Last.Evidence.Offset != 50 || f.Last == f.First {
		t.Fatalf("first %+v last %+v", f.First, f.Last)
	}
	// A fix both earlier and later than all (a single one) is one observation for both.
	b := newAggregator(DefaultPolicy(), "log", 0)
	b.add(fixes[0], zs.Match(fixes[0]))
	b.settle()
	if b.order[0].First != b.order[0].Last {
		t.Fatal("one fix, two observations")
	}
}

// The counters a sink holds back (more names than it holds, interleaved, zero counts) reach the
// report as a plain map of sums would have them.
func TestCountHeldMatchesMap(t *testing.T) {
	s := &inputSink{rep: &InputReport{Path: "x.pcap"}}
	want := map[string]int64{}
	for i := range 500 {
		name := fmt.Sprintf("c%d", (i*7)%13)
		n := int64(i % 3) // zero counts too: the name is still reported
		s.Count(name, n)
		want[name] += n
	}
	s.flush()
	if !maps.Equal(s.rep.Counts, want) {
		t.Fatalf("counts %v, want %v", s.rep.Counts, want)
	}
}
