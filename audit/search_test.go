package audit

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/audit/search"
	"droneaudit/decoders/mavlink"
	"droneaudit/geo"
	"droneaudit/geo/scan"
	"droneaudit/geo/scan/scantest"
	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

// A point inside the demo's Kleine-Brogel zone.
const searchLat, searchLon = 51.1693, 5.4712

// searchCapture writes a capture in which a lab device leaks the zone point in forms no
// structural decoder reads — a binary HTTP upload with the take-off point as float64 radians
// (cut across TCP segments), a geohash in a UDP datagram, a hex DNS label — beside forms the
// decoders do read (MAVLink over UDP, an HTTP query with lat/lon), and TLS ciphertext that
// happens to hold an int32 pair. It returns the stream offset of the radians in the upload.
func searchCapture(t *testing.T) ([]byte, int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := netip.MustParseAddr("192.168.1.20")
	r := rand.New(rand.NewPCG(11, 12))
	junk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	// The upload: a binary body; the pair starts 3 bytes before the second segment.
	pair, _ := scantest.Plant(scan.Float64RadLE, searchLat, searchLon, scan.LatLon)
	body := append(append(bytes.Repeat([]byte{0, 1, 0, 0}, 20), pair...), bytes.Repeat([]byte{0, 7}, 40)...)
	head := fmt.Sprintf("POST /upload/flight HTTP/1.1\r\nHost: upload.example\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", len(body))
	req := append([]byte(head), body...)
	at := len(head) + 80
	c, err := w.TCP(netip.AddrPortFrom(dev, 40001), netip.MustParseAddrPort("203.0.113.80:80"))
	if err != nil {
		t.Fatal(err)
	}
	c.MSS = at + 3
	if err := c.Send(true, req); err != nil {
		t.Fatal(err)
	}
	// A query the HTTP decoder reads: the search must not report it again.
	c2, err := w.TCP(netip.AddrPortFrom(dev, 40002), netip.MustParseAddrPort("203.0.113.81:80"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Send(true, []byte(fmt.Sprintf("GET /report?lat=%.6f&lon=%.6f HTTP/1.1\r\nHost: report.example\r\n\r\n", searchLat, searchLon))); err != nil {
		t.Fatal(err)
	}
	// A geohash in a datagram to an analytics collector.
	gh := []byte(`{"ev":"takeoff","g":"` + scantest.EncodeGeohash(searchLat, searchLon, 8) + `"}`)
	if err := w.UDP(netip.AddrPortFrom(dev, 50000), netip.MustParseAddrPort("198.51.100.7:9999"), gh); err != nil {
		t.Fatal(err)
	}
	// A DNS query whose first label is the pair as int32 × 1e7, big-endian, in hex.
	label, _ := scantest.Plant(scan.Int32E7BE, searchLat, searchLon, scan.LatLon)
	q := []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16}
	q = append(q, hex.EncodeToString(label)...)
	q = append(q, 1, 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1)
	if err := w.UDP(netip.AddrPortFrom(dev, 50001), netip.MustParseAddrPort("192.0.2.53:53"), q); err != nil {
		t.Fatal(err)
	}
	// MAVLink telemetry the mavlink decoder reads.
	for i := range 3 {
		fr, err := mavlink.Encode(&ardupilotmega.MessageGlobalPositionInt{TimeBootMs: uint32(i * 1000), Lat: int32(math.Round(searchLat * 1e7)), Lon: int32(math.Round(searchLon * 1e7))}, true, uint8(i), 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.UDP(netip.AddrPortFrom(dev, 14555), netip.MustParseAddrPort("203.0.113.9:14550"), fr); err != nil {
			t.Fatal(err)
		}
	}
	// TLS: a ClientHello, then application data that holds an int32 pair by construction.
	c3, err := w.TCP(netip.AddrPortFrom(dev, 40003), netip.MustParseAddrPort("203.0.113.82:443"))
	if err != nil {
		t.Fatal(err)
	}
	i32, _ := scantest.Plant(scan.Int32E7LE, searchLat, searchLon, scan.LatLon)
	rec := append([]byte{0x17, 3, 3, 0, 40}, append(append(junk(16), i32...), junk(16)...)...)
	if err := c3.Send(true, append(netfixture.HandClientHello("cdn.example", false), rec...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), at
}

// The known-value search finds the zone point in the forms no decoder reads, with their
// encoding and stream offset, on the flow that carried them; what the decoders found is not
// reported twice, and TLS ciphertext is not searched. --no-search leaves the search out.
func TestSearchFindingsInAudit(t *testing.T) {
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	data, at := searchCapture(t)
	run := func(noSearch bool, shards int) *Report {
		rep, err := Run(t.Context(), []Source{BytesSource("search.pcap", data)}, Options{Zones: zones, Policy: DefaultPolicy(), NoSearch: noSearch, Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run(false, 1)
	got := map[string]*Finding{}
	decoders := map[string]int{}
	for _, f := range rep.Findings {
		ev := f.First.Evidence
		decoders[ev.Decoder]++
		if ev.Decoder == search.Decoder {
			got[ev.Encoding] = f
			if f.Zone != "Kleine-Brogel Air Base" || f.Channel != geo.ChannelNetwork || ev.Network == nil || !f.FailsPolicy || len(ev.SHA256) != 64 {
				t.Errorf("search finding %+v / %+v", f, ev)
			}
		}
	}
	want := map[string]string{
		"float64le-rad":     fmt.Sprintf("client-to-server byte %d", at),
		"geohash":           "client-to-server byte 21",
		"int32be-e7 in hex": "client-to-server byte 13",
	}
	for enc, loc := range want {
		f := got[enc]
		if f == nil {
			t.Errorf("no search finding in %s; findings by decoder %v", enc, decoders)
			continue
		}
		if !strings.HasSuffix(f.First.Evidence.Locator, loc) {
			t.Errorf("%s: locator %q, want …%q", enc, f.First.Evidence.Locator, loc)
		}
	}
	if len(got) != len(want) {
		t.Errorf("search findings in %d encodings, want %d: %v", len(got), len(want), got)
	}
	if decoders["mavlink"] == 0 || decoders["http"] == 0 {
		t.Errorf("findings by decoder %v", decoders)
	}
	// The input's search counts: the three leaks reported, the MAVLink and HTTP positions left
	// out as duplicates, the TLS record's bytes skipped.
	sc := rep.Inputs[0].Search
	if sc == nil || sc.Fixes != int64(len(want)) || sc.Duplicates == 0 || sc.Hits < sc.Fixes+sc.Duplicates ||
		sc.Pairs < sc.Hits || sc.Candidates < sc.Pairs || sc.Skipped == 0 || sc.Bytes == 0 {
		t.Errorf("search counts %+v", sc)
	}
	// The same findings and counts whatever the number of shards.
	rep4 := run(false, 4)
	if len(rep4.Findings) != len(rep.Findings) || rep4.Summary.Fixes != rep.Summary.Fixes {
		t.Errorf("4 shards: %d findings, %d fixes; 1 shard: %d, %d", len(rep4.Findings), rep4.Summary.Fixes, len(rep.Findings), rep.Summary.Fixes)
	}
	if sc4 := rep4.Inputs[0].Search; sc4 == nil || sc != nil && *sc4 != *sc {
		t.Errorf("search counts with 4 shards %+v, with 1 %+v", sc4, sc)
	}
	off := run(true, 1)
	if off.Inputs[0].Search != nil {
		t.Errorf("NoSearch: search counts %+v", off.Inputs[0].Search)
	}
	for _, f := range off.Findings {
		if f.First.Evidence.Decoder == search.Decoder {
			t.Fatalf("NoSearch: %+v", f)
		}
	}
	if off.Summary.Fixes != rep.Summary.Fixes-int64(len(want)) {
		t.Errorf("fixes without search %d, with %d", off.Summary.Fixes, rep.Summary.Fixes)
	}
}

// A position in the body of an 802.11 frame (here a vendor element of a beacon that no decoder
// reads) is found as a broadcast, with the transmitter's address.
func TestSearchBroadcastFrame(t *testing.T) {
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := scantest.Plant(scan.Float32DegBE, searchLat, searchLon, scan.LonLat)
	frame := []byte{0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x60, 0x60, 0x1f, 1, 2, 3, 0x60, 0x60, 0x1f, 1, 2, 3, 0x10, 0}
	frame = append(frame, make([]byte, 8)...)       // timestamp
	frame = append(frame, 0x64, 0, 0x01, 0x04)      // beacon interval, capabilities
	frame = append(frame, 0, 4, 'd', 'r', 'o', 'n') // SSID
	vendor := append([]byte{0x00, 0x11, 0x22, 0x01}, pair...)
	frame = append(append(frame, 221, byte(len(vendor))), vendor...)
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeIEEE802_11); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: netfixture.Start, CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(t.Context(), []Source{BytesSource("air.pcap", buf.Bytes())}, Options{Zones: zones, Policy: DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("findings %+v", rep.Findings)
	}
	f := rep.Findings[0]
	ev := f.First.Evidence
	// The pair starts after the 24-byte header, 12 fixed bytes, the SSID (6) and the vendor
	// element's header and OUI (6): byte 48 of the frame.
	if f.Channel != geo.ChannelBroadcast || ev.Decoder != search.Decoder || ev.Encoding != "float32be-deg" ||
		ev.Broadcast == nil || ev.Broadcast.Transmitter != "60:60:1f:01:02:03" || !strings.HasSuffix(ev.Locator, "802.11 body byte 48") ||
		!strings.Contains(ev.Note, "lon,lat") {
		t.Fatalf("finding %+v, evidence %+v", f, ev)
	}
}

// With the flown track among the targets, a pair near the track and outside every zone is a
// search fix; without it, it is nothing.
func TestSearchTrack(t *testing.T) {
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := scantest.Plant(scan.Int32RadE7LE, 50.8507, 4.3525, scan.LatLon) // Brussels: in no zone
	if err := w.UDP(netip.MustParseAddrPort("192.168.1.20:5000"), netip.MustParseAddrPort("203.0.113.5:6000"), append([]byte("TRK"), pair...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	track := []geo.Fix{{Lat: 50.8503, Lon: 4.3517}, {Lat: 50.8510, Lon: 4.3530}}
	var got []geo.Fix
	for _, tr := range [][]geo.Fix{nil, track} {
		got = got[:0]
		_, err := Run(t.Context(), []Source{BytesSource("trk.pcap", buf.Bytes())}, Options{Zones: zones, Policy: DefaultPolicy(), SearchTrack: tr, SearchTrackM: 100,
			OnFixes: func(b []StreamedFix) []StreamedFix {
				for i := range b {
					got = append(got, b[i].Fix)
				}
				return b[:0]
			}})
		if err != nil {
			t.Fatal(err)
		}
		if tr == nil && len(got) != 0 {
			t.Fatalf("without the track: %+v", got)
		}
	}
	if len(got) != 1 || got[0].Evidence.Encoding != "int32le-rad-e7" || !strings.Contains(got[0].Evidence.Note, scan.TargetTrack) ||
		!strings.HasSuffix(got[0].Evidence.Locator, "client-to-server byte 3") {
		t.Fatalf("with the track: %+v", got)
	}
}

// trackLog is a GPX flight log of a flight in Brussels, in no zone of the demo's zone file.
const trackLog = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>flight</name><trkseg>
<trkpt lat="50.85030" lon="4.35170"><ele>40</ele><time>2026-05-01T10:00:00Z</time></trkpt>
<trkpt lat="50.85070" lon="4.35250"><ele>45</ele><time>2026-05-01T10:00:05Z</time></trkpt>
<trkpt lat="50.85100" lon="4.35300"><ele>50</ele><time>2026-05-01T10:00:10Z</time></trkpt>
</trkseg></trk></gpx>`

// The flown track of the run's own log files is a target of the search: a capture named before
// the log uploads a point of the flight (int32 radians × 1e7, outside every zone) to an internet
// server, and that is a failing track-leak finding under fail_on_track_leak. Without the log
// track (NoTrackSearch) it is nothing; with fail_on_track_leak off it is a finding that does not fail.
func TestSearchTrackFromLogs(t *testing.T) {
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	pair, _ := scantest.Plant(scan.Int32RadE7LE, 50.8508, 4.3526, scan.LatLon) // 10 m from the log's second point
	if err := w.UDP(netip.MustParseAddrPort("192.168.1.20:5000"), netip.MustParseAddrPort("203.0.113.5:6000"), append([]byte("TRK"), pair...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(noLog bool, pol Policy) *Report {
		srcs := []Source{BytesSource("trk.pcap", buf.Bytes()), BytesSource("flight.gpx", []byte(trackLog))}
		rep, err := Run(t.Context(), srcs, Options{Zones: zones, Policy: pol, NoTrackSearch: noLog})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	trackLeaks := func(r *Report) []*Finding {
		var out []*Finding
		for _, f := range r.Findings {
			if f.Kind == KindTrackLeak {
				out = append(out, f)
			}
		}
		return out
	}
	rep := run(false, DefaultPolicy())
	tl := trackLeaks(rep)
	if len(tl) != 1 {
		t.Fatalf("track leaks %d in %+v", len(tl), rep.Findings)
	}
	f := tl[0]
	ev := f.First.Evidence
	if !f.FailsPolicy || f.Rule != RuleFailOnTrackLeak || f.Severity != SeverityHigh || f.Channel != geo.ChannelNetwork ||
		ev.Decoder != search.Decoder || ev.Message != search.MessageTrack || ev.Encoding != "int32le-rad-e7" ||
		!strings.HasSuffix(ev.Locator, "client-to-server byte 3") || !strings.Contains(f.Summary, "flown track") {
		t.Errorf("track leak %+v / %+v", f, ev)
	}
	if rep.Verdict.Result != Fail || !slices.Contains(rep.Verdict.FailedRules, RuleFailOnTrackLeak) {
		t.Errorf("verdict %+v", rep.Verdict)
	}
	if sc := rep.Inputs[0].Search; sc == nil || sc.Fixes != 1 {
		t.Errorf("search counts %+v", sc)
	}
	if n := len(trackLeaks(run(true, DefaultPolicy()))); n != 0 {
		t.Errorf("NoTrackSearch: %d track leaks", n)
	}
	pol := DefaultPolicy()
	pol.FailOnTrackLeak = false
	off := run(false, pol)
	if tl := trackLeaks(off); len(tl) != 1 || tl[0].FailsPolicy || slices.Contains(off.Verdict.FailedRules, RuleFailOnTrackLeak) {
		t.Errorf("fail_on_track_leak off: %+v, verdict %+v", tl, off.Verdict)
	}
}

// Without any log file, the capture's own telemetry draws the track: an upload of a point of
// the flight (outside every zone, within the region around the zones) made before the telemetry
// that shows the flight there is held, then reported as a track leak when the input is done; a
// point of the region far from the telemetry is held and left out. The same with 1 and 4 shards.
func TestSearchTrackFromTelemetry(t *testing.T) {
	zones, err := geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
	if err != nil {
		t.Fatal(err)
	}
	const flyLat, flyLon = 51.1980, 5.4700 // 1.3 km north of Kleine-Brogel, in no zone
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	if err != nil {
		t.Fatal(err)
	}
	dev := netip.MustParseAddr("192.168.1.20")
	near, _ := scantest.Plant(scan.Float64RadLE, flyLat+0.0002, flyLon+0.0003, scan.LatLon) // 30 m away
	far, _ := scantest.Plant(scan.Float64RadLE, 51.1950, 5.4250, scan.LatLon)               // 3.1 km away, west of the base
	for i, pl := range [][]byte{near, far} {
		if err := w.UDP(netip.AddrPortFrom(dev, uint16(5000+i)), netip.MustParseAddrPort("203.0.113.5:6000"), append([]byte("UPL"), pl...)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		fr, err := mavlink.Encode(&ardupilotmega.MessageGlobalPositionInt{TimeBootMs: uint32(i * 1000), Lat: int32(flyLat * 1e7), Lon: int32(flyLon * 1e7)}, true, uint8(i), 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.UDP(netip.AddrPortFrom(dev, 14555), netip.MustParseAddrPort("192.168.1.9:14550"), fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var first *Report
	for _, shards := range []int{1, 4} {
		rep, err := Run(t.Context(), []Source{BytesSource("tele.pcap", buf.Bytes())}, Options{Zones: zones, Policy: DefaultPolicy(), Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		var tl []*Finding
		for _, f := range rep.Findings {
			if f.Kind == KindTrackLeak {
				tl = append(tl, f)
			}
		}
		if len(tl) != 1 || tl[0].Count != 1 || !tl[0].FailsPolicy || tl[0].First.Evidence.Encoding != "float64le-rad" ||
			!strings.Contains(tl[0].First.Evidence.Note, "telemetry of this input") {
			t.Fatalf("%d shards: track leaks %+v", shards, tl)
		}
		sc := rep.Inputs[0].Search
		if sc == nil || sc.TrackHeld != 2 || sc.TrackResolved != 1 || sc.Fixes != 1 {
			t.Errorf("%d shards: search counts %+v", shards, sc)
		}
		if first == nil {
			first = rep
		} else if *rep.Inputs[0].Search != *first.Inputs[0].Search || len(rep.Findings) != len(first.Findings) {
			t.Errorf("4 shards: %+v, %d findings; 1 shard: %+v, %d", rep.Inputs[0].Search, len(rep.Findings), first.Inputs[0].Search, len(first.Findings))
		}
	}
	rep, err := Run(t.Context(), []Source{BytesSource("tele.pcap", buf.Bytes())}, Options{Zones: zones, Policy: DefaultPolicy(), NoTrackSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Kind == KindTrackLeak {
			t.Errorf("NoTrackSearch: %+v", f)
		}
	}
}
