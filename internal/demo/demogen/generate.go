// Package demogen generates the demo session that package demo embeds and that `droneaudit
// audit` runs when given no inputs. The story: on 12 May 2026 a police IT lab tests a DJI Mavic 3
// Enterprise with its DJI RC Pro (DJI Pilot 2) before an operation near the Kleine-Brogel air
// base. The team stands in its staging area west of the base; the aircraft flies from there over
// the base's perimeter and back (09:00:00–09:03:00 UTC). The lab records:
//
//   - the lab access point's capture (Ethernet): the RC gets its address by DHCP, looks up DJI
//     and SDK host names, and opens TLS 1.3 sessions (made by Go's crypto/tls, their NSS key log
//     in the pcapng's Decryption Secrets Block): a GEO-zone check of the mission whose JSON body
//     lists its waypoints over the base, a Firebase analytics beacon (device information, no
//     position) and, after landing, a flight-log sync that uploads a binary summary holding the
//     take-off point as float64 radians. Pilot 2 is also connected to the integrator's private
//     DJI Cloud API platform, configured as tcp://…:1883 as delivered: MQTT 5 in clear, the
//     aircraft's osd topic every 2 s (dji-network.md §4.1, §4.3);
//   - a monitor-mode capture (radiotap) of the aircraft's DJI DroneID beacons, once a second,
//     with the aircraft, home and pilot (app) positions;
//   - the flight record the RC keeps of the same flight;
//   - the zone file and the lab's policy.
//
// Everything here is deterministic: the same code gives the same bytes (TLS randoms and keys come
// from seeded streams; see netfixture.TLSOptions.Seed, which needs GODEBUG=cryptocustomrand=1).
package demogen

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/dns/dnsmessage"

	"droneaudit/decoders/djilog"
	"droneaudit/decoders/droneid"
	"droneaudit/internal/netfixture"
)

// The places of the story. The pilot stands in the staging area west of the base; the aircraft
// takes off beside the pilot, crosses the base's perimeter and comes back.
var (
	pilotLat, pilotLon = 51.148137, 5.437962 // in the staging area; also take-off and home
	baseLat, baseLon   = 51.1680, 5.4700     // Kleine-Brogel air base
	// Start is the take-off.
	Start = time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
)

const (
	flightSeconds = 180
	takeOffAMSL   = 41.0 // metres
	// AircraftSN is the aircraft's serial, RCSN the controller's.
	AircraftSN = "1581F5FHC23A00KB"
	RCSN       = "5YSZL2P00A0017"
)

// The lab network: the access point (also DHCP server and resolver) and the RC.
var (
	apIP   = netip.MustParseAddr("192.168.4.1")
	rcIP   = netip.MustParseAddr("192.168.4.20")
	apMAC  = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x04, 0x01}
	rcMAC  = net.HardwareAddr{0x60, 0x60, 0x1f, 0x5c, 0x71, 0x20} // DJI's OUI
	acMAC  = net.HardwareAddr{0x60, 0x60, 0x1f, 0xa3, 0x00, 0x4b}
	bcast4 = netip.MustParseAddr("255.255.255.255")
)

// Hosts the RC talks to, with the addresses the lab resolver answered. The DJI and Firebase
// names are from shared/formats/dji-network.md §2; the integrator's platform uses a
// documentation name and address (RFC 2606, RFC 5737).
var (
	Flysafe   = host{"flysafe-api.dji.com", netip.MustParseAddr("47.91.161.230")}
	FlightLog = host{"mydjiflight.dji.com", netip.MustParseAddr("47.246.1.1")}
	Analytics = host{"region1.app-measurement.com", netip.MustParseAddr("142.250.74.46")}
	Cloud     = host{"fleet.drone-integrator.example", netip.MustParseAddr("203.0.113.40")}
)

type host struct {
	Name string
	Addr netip.Addr
}

// Track returns the aircraft position t seconds after take-off: out to the base centre in the
// first half, back in the second, 120 m above the take-off point in cruise.
func Track(t float64) (lat, lon, relAlt float64) {
	f := t / (flightSeconds / 2)
	if f > 1 {
		f = 2 - f
	}
	// ease in and out so the climb and the approach look like a flight
	f = (1 - math.Cos(f*math.Pi)) / 2
	lat = pilotLat + (baseLat-pilotLat)*f
	lon = pilotLon + (baseLon-pilotLon)*f
	relAlt = 120 * math.Min(1, t/20) * math.Min(1, (flightSeconds-t)/20)
	return
}

// Waypoints are the mission's waypoints (degrees, height above take-off): out over the base and
// back.
func Waypoints() [][3]float64 {
	var w [][3]float64
	for _, t := range []float64{20, 60, 90, 120, 160} {
		lat, lon, _ := Track(t)
		w = append(w, [3]float64{math.Round(lat*1e6) / 1e6, math.Round(lon*1e6) / 1e6, 120})
	}
	return w
}

// LabCapture returns the lab access point's pcapng.
func LabCapture() ([]byte, error) {
	sessions, keylog, err := tlsSessions()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcapng, keylog)
	if err != nil {
		return nil, err
	}
	w.MACOf = func(a netip.Addr) net.HardwareAddr {
		switch {
		case a == rcIP || a.IsUnspecified():
			return rcMAC
		case a == bcast4:
			return layers.EthernetBroadcast
		}
		return apMAC
	}
	at := func(d time.Duration) { w.SetTime(Start.Add(d)) }

	at(-150 * time.Second) // the RC joins the lab Wi-Fi
	if err := dhcp(w); err != nil {
		return nil, err
	}
	for i, h := range []host{Analytics, Flysafe, Cloud, FlightLog} {
		at(-145*time.Second + time.Duration(i)*300*time.Millisecond)
		if err := dnsPair(w, uint16(0x4d00+i), h); err != nil {
			return nil, err
		}
	}
	at(-140 * time.Second)
	if err := tlsFlow(w, 40112, Analytics, sessions[0]); err != nil {
		return nil, err
	}
	at(-120 * time.Second) // the mission is checked against DJI's GEO zones
	if err := tlsFlow(w, 40120, Flysafe, sessions[1]); err != nil {
		return nil, err
	}
	at(-60 * time.Second)
	if err := mqttSession(w, at); err != nil {
		return nil, err
	}
	at((flightSeconds + 40) * time.Second) // after landing: flight-log sync
	if err := tlsFlow(w, 40188, FlightLog, sessions[2]); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// tlsSessions runs the three HTTPS exchanges with crypto/tls and returns them with their key log.
func tlsSessions() ([][]netfixture.Chunk, []byte, error) {
	var keys bytes.Buffer
	reqs := []struct {
		h            host
		path, ctype  string
		body, answer []byte
	}{
		{Analytics, "/a", "application/json", analyticsBody(), []byte(`{}`)},
		{Flysafe, "/api/v3/geofence/mission_check", "application/json", missionBody(), []byte(`{"code":0,"result":"authorisation zone"}`)},
		{FlightLog, "/api/v2/flight_log/upload", "application/octet-stream", FlightSummary(), []byte(`{"code":0}`)},
	}
	var out [][]netfixture.Chunk
	for i, r := range reqs {
		req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: DJI-Pilot/2.1.0 (Android 11; RC Pro)\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
			r.path, r.h.Name, r.ctype, len(r.body))
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(r.answer), r.answer)
		s, err := netfixture.TLSSession(netfixture.TLSOptions{ServerName: r.h.Name, ALPN: []string{"http/1.1"}, KeyLog: &keys,
			Request: append([]byte(req), r.body...), Response: []byte(resp), Seed: uint64(0xd3e0 + 16*i)})
		if err != nil {
			return nil, nil, err
		}
		out = append(out, s)
	}
	return out, keys.Bytes(), nil
}

// missionBody is the GEO-zone check of the mission: the aircraft, the take-off point and every
// waypoint in degrees.
func missionBody() []byte {
	type wp struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Height    float64 `json:"height"`
	}
	var wps []wp
	for _, w := range Waypoints() {
		wps = append(wps, wp{w[0], w[1], w[2]})
	}
	b, _ := json.Marshal(map[string]any{"sn": AircraftSN, "product": "M3E", "waypoints": wps})
	return b
}

// analyticsBody is an SDK beacon: device and app information, no position.
func analyticsBody() []byte {
	b, _ := json.Marshal(map[string]any{"app_id": "1:5553:android:dji_pilot2", "app_version": "2.1.0.18",
		"device_model": "RC Pro", "os_version": "11", "locale": "nl_BE", "events": []string{"session_start", "screen_view", "mission_open"},
		"timestamp_ms": Start.Add(-140 * time.Second).UnixMilli()})
	return b
}

// FlightSummary is the binary body of the flight-log sync: a header, the serials, the take-off
// point as float64 radians (little endian) and the flight's times and distance among other
// bytes.
func FlightSummary() []byte {
	le := binary.LittleEndian
	b := []byte("DJFS\x02\x00")
	b = append(b, make([]byte, 10)...)
	var sn [16]byte
	copy(sn[:], AircraftSN)
	b = append(b, sn[:]...)
	b = le.AppendUint64(b, math.Float64bits(pilotLat*math.Pi/180))
	b = le.AppendUint64(b, math.Float64bits(pilotLon*math.Pi/180))
	b = le.AppendUint32(b, math.Float32bits(takeOffAMSL))
	b = le.AppendUint64(b, uint64(Start.UnixMilli()))
	b = le.AppendUint32(b, flightSeconds)
	b = le.AppendUint32(b, math.Float32bits(6290.4)) // metres flown, as the flight record says
	for i := range 64 {
		b = append(b, byte(i*29+7))
	}
	return b
}

// OnDeviceFlightRecord returns the flight record the RC keeps of the flight (version 12).
func OnDeviceFlightRecord() []byte {
	f := djilog.Flight{Version: 12, Start: Start, TakeOffLat: pilotLat, TakeOffLon: pilotLon, HomeAltitude: takeOffAMSL,
		AircraftSN: AircraftSN, AircraftName: "Mavic 3E police lab", RCSN: RCSN, Product: 118, City: "Peer", Region: "Limburg", PilotLat: pilotLat, PilotLon: pilotLon}
	for i := 0; i <= flightSeconds*10; i++ {
		lat, lon, rel := Track(float64(i) / 10)
		f.Track = append(f.Track, djilog.FlightPoint{Lat: lat, Lon: lon, Height: rel})
	}
	return djilog.WriteFlight(f)
}

func dhcp(w *netfixture.Writer) error {
	msg := func(op layers.DHCPOp, typ layers.DHCPMsgType) ([]byte, error) {
		d := &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: 0x7a3c0120,
			ClientHWAddr: rcMAC, ClientIP: net.IPv4zero, YourClientIP: net.IPv4zero, NextServerIP: net.IPv4zero, RelayAgentIP: net.IPv4zero}
		d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(typ)}))
		if op == layers.DHCPOpRequest {
			d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptClientID, append([]byte{1}, rcMAC...)))
			if typ == layers.DHCPMsgTypeRequest {
				d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptRequestIP, rcIP.AsSlice()),
					layers.NewDHCPOption(layers.DHCPOptServerID, apIP.AsSlice()))
			}
			d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptHostname, []byte("RC-Pro-"+RCSN[len(RCSN)-4:])),
				layers.NewDHCPOption(layers.DHCPOptClassID, []byte("android-dhcp-11")),
				layers.NewDHCPOption(layers.DHCPOptParamsRequest, []byte{1, 3, 6, 15, 26, 28, 51, 58, 59, 43}))
		} else {
			d.YourClientIP = rcIP.AsSlice()
			d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptServerID, apIP.AsSlice()),
				layers.NewDHCPOption(layers.DHCPOptLeaseTime, []byte{0, 0, 0x0e, 0x10}),
				layers.NewDHCPOption(layers.DHCPOptSubnetMask, []byte{255, 255, 255, 0}),
				layers.NewDHCPOption(layers.DHCPOptRouter, apIP.AsSlice()),
				layers.NewDHCPOption(layers.DHCPOptDNS, apIP.AsSlice()))
		}
		d.Options = append(d.Options, layers.NewDHCPOption(layers.DHCPOptEnd, nil))
		buf := gopacket.NewSerializeBuffer()
		if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
			return nil, err
		}
		return bytes.Clone(buf.Bytes()), nil
	}
	client := netip.AddrPortFrom(netip.IPv4Unspecified(), 68)
	for _, step := range []struct {
		op  layers.DHCPOp
		typ layers.DHCPMsgType
	}{{layers.DHCPOpRequest, layers.DHCPMsgTypeDiscover}, {layers.DHCPOpReply, layers.DHCPMsgTypeOffer},
		{layers.DHCPOpRequest, layers.DHCPMsgTypeRequest}, {layers.DHCPOpReply, layers.DHCPMsgTypeAck}} {
		b, err := msg(step.op, step.typ)
		if err != nil {
			return err
		}
		src, dst := client, netip.AddrPortFrom(bcast4, 67)
		if step.op == layers.DHCPOpReply {
			src, dst = netip.AddrPortFrom(apIP, 67), netip.AddrPortFrom(bcast4, 68)
		}
		if err := w.UDP(src, dst, b); err != nil {
			return err
		}
	}
	return nil
}

func dnsPair(w *netfixture.Writer, id uint16, h host) error {
	name := dnsmessage.MustNewName(h.Name + ".")
	q := dnsmessage.Question{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	qb := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	qb.StartQuestions()
	qb.Question(q)
	query, err := qb.Finish()
	if err != nil {
		return err
	}
	rb := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RecursionDesired: true, RecursionAvailable: true})
	rb.EnableCompression()
	rb.StartQuestions()
	rb.Question(q)
	rb.StartAnswers()
	if err := rb.AResource(dnsmessage.ResourceHeader{Name: name, Class: dnsmessage.ClassINET, TTL: 300}, dnsmessage.AResource{A: h.Addr.As4()}); err != nil {
		return err
	}
	resp, err := rb.Finish()
	if err != nil {
		return err
	}
	client := netip.AddrPortFrom(rcIP, 30000+id%1000)
	srv := netip.AddrPortFrom(apIP, 53)
	if err := w.UDP(client, srv, query); err != nil {
		return err
	}
	return w.UDP(srv, client, resp)
}

func tlsFlow(w *netfixture.Writer, port uint16, h host, sess []netfixture.Chunk) error {
	c, err := w.TCP(netip.AddrPortFrom(rcIP, port), netip.AddrPortFrom(h.Addr, 443))
	if err != nil {
		return err
	}
	for _, ch := range sess {
		if err := c.Send(ch.FromClient, ch.Data); err != nil {
			return err
		}
	}
	return c.Close()
}

// mqttSession writes Pilot 2's connection to the private Cloud API broker: MQTT 5 CONNECT, the
// CONNACK, then the aircraft's osd every 2 s of the flight (dji-network.md §4.2–4.4).
func mqttSession(w *netfixture.Writer, at func(time.Duration)) error {
	str := func(b []byte, s string) []byte { return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...) }
	pkt := func(first byte, body []byte) []byte {
		b := []byte{first}
		for n := len(body); ; {
			d := byte(n % 128)
			n /= 128
			if n > 0 {
				b = append(b, d|0x80)
				continue
			}
			b = append(b, d)
			break
		}
		return append(b, body...)
	}
	var cb []byte
	cb = str(cb, "MQTT")
	cb = append(cb, 5, 0xc2, 0, 60, 0) // v5, user name + password + clean start, keep-alive 60 s, no properties
	cb = str(cb, "pilot2-"+RCSN)
	cb = str(cb, "police-lab")
	cb = str(cb, "Kb-2026!")
	c, err := w.TCP(netip.AddrPortFrom(rcIP, 40150), netip.AddrPortFrom(Cloud.Addr, 1883))
	if err != nil {
		return err
	}
	if err := c.Send(true, pkt(0x10, cb)); err != nil {
		return err
	}
	if err := c.Send(false, []byte{0x20, 3, 0, 0, 0}); err != nil {
		return err
	}
	topic := "thing/product/" + AircraftSN + "/osd"
	for s := 0; s <= flightSeconds; s += 2 {
		at(time.Duration(s) * time.Second)
		lat, lon, rel := Track(float64(s))
		env := map[string]any{"tid": fmt.Sprintf("6a7bd1c4-0000-4000-8000-%012d", s), "bid": "3f1e9a52-0000-4000-8000-000000000001",
			"timestamp": Start.Add(time.Duration(s) * time.Second).UnixMilli(), "gateway": RCSN,
			"data": map[string]any{"latitude": math.Round(lat*1e7) / 1e7, "longitude": math.Round(lon*1e7) / 1e7,
				"height": math.Round((takeOffAMSL+47+rel)*10) / 10, "elevation": math.Round(rel*10) / 10,
				"home_distance": 0, "mode_code": 5, "position_state": map[string]any{"gps_number": 18, "is_fixed": 0, "quality": 5}}}
		body, _ := json.Marshal(env)
		pub := str(nil, topic)
		pub = append(pub, 0) // no properties
		if err := c.Send(true, pkt(0x30, append(pub, body...))); err != nil {
			return err
		}
	}
	return c.Close()
}

// MonitorCapture returns the monitor-mode pcapng (radiotap): the aircraft's DJI DroneID beacons,
// one a second from take-off to landing, on channel 6.
func MonitorCapture() ([]byte, error) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "wlan-mon0", LinkType: layers.LinkTypeIEEE80211Radio, SnapLength: 65535,
		TimestampResolution: 6}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "droneaudit demo generator"}})
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	for s := 0; s <= flightSeconds; s++ {
		lat, lon, rel := Track(float64(s))
		r := droneid.Record{VendorType: 0x58, Unk1: 0x62, Unk2: 0x13, Subcommand: droneid.SubTelemetry, Version: 2, Seq: uint16(s),
			State:  droneid.StateSerialValid | droneid.StateGPSValid | droneid.StateHomeSet,
			Serial: AircraftSN, RawLat: droneid.RadE7(lat), RawLon: droneid.RadE7(lon), Altitude: int16(takeOffAMSL + rel), Height: int16(rel),
			RawHomeLat: droneid.RadE7(pilotLat), RawHomeLon: droneid.RadE7(pilotLon),
			RawAppLat: droneid.RadE7(pilotLat), RawAppLon: droneid.RadE7(pilotLon), AppTimeMs: uint64(Start.Add(time.Duration(s) * time.Second).UnixMilli()),
			ProductType: 68} // "Mavic 3": the DroneID product table (droneid.go) has no separate Enterprise code

		v := droneid.Append(nil, &r, 0)
		ssid := "DJI-" + AircraftSN
		f := []byte{0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		f = append(f, acMAC...)
		f = append(f, acMAC...)
		f = le.AppendUint16(f, uint16(s)<<4)
		f = le.AppendUint64(f, uint64(s)*1_024_000) // TSF timestamp
		f = append(f, 0x64, 0, 0x21, 0x04, 0, byte(len(ssid)))
		f = append(f, ssid...)
		f = append(f, 1, 4, 0x82, 0x84, 0x8b, 0x96, 3, 1, 6) // rates, DS parameter set: channel 6
		f = append(f, 221, byte(len(v)))
		f = append(f, v...)
		// radiotap: Flags (no FCS), Channel 2437 MHz 2.4 GHz CCK, antenna signal
		rt := []byte{0, 0, 15, 0, 0x2a, 0, 0, 0, 0, 0}
		rt = le.AppendUint16(rt, 2437)
		rt = le.AppendUint16(rt, 0xa0)
		rt = append(rt, byte(int8(-48-s/6)))
		frame := append(rt, f...)
		ts := Start.Add(time.Duration(s)*time.Second + 37*time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
			return nil, err
		}
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
