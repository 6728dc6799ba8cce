package remoteid

import (
	"bufio"
	"droneaudit/decoders/decodertest"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

// otaCaptures are the shared over-the-air captures, each with ota/expected/<name>.jsonl.
var otaCaptures = []string{
	"ota/odid_wifi_sample.pcap",
	"ota/odid_wifi_bcn_sample.pcap",
	"ota/odid_linux_transmitter.pcapng",
	"ota/parrot_anafi4_spoofed.pcapng",
	"ota/djidroneid_spoofed.pcapng",
}

// expectedFrames reads an expected/*.jsonl file: the summary line and one object per hit frame.
func expectedFrames(t *testing.T, capRel string) (map[string]any, []map[string]any) {
	t.Helper()
	dir := corpus.Dir(t)
	f, err := os.Open(filepath.Join(dir, "ota", "expected", filepath.Base(capRel)+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var summary map[string]any
	var frames []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", capRel, err)
		}
		if s, ok := m["_summary"]; ok {
			summary = s.(map[string]any)
			continue
		}
		frames = append(frames, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return summary, frames
}

// msgJSON renders a message in the expected files' schema.
func msgJSON(m *Message) map[string]any {
	if m.Truncated {
		return map[string]any{"truncated": true}
	}
	o := map[string]any{"name": TypeName(m.Type), "type": int(m.Type), "proto_ver": int(m.Version)}
	switch m.Type {
	case TypeBasicID:
		o["id_type"], o["ua_type"], o["uas_id"] = int(m.BasicID.IDType), int(m.BasicID.UAType), m.BasicID.UASID
	case TypeLocation:
		l := m.Location
		for k, v := range map[string]any{"alt_baro": l.AltBaro, "alt_geo": l.AltGeo, "baro_acc": int(l.BaroAcc),
			"direction_deg": l.DirectionDeg, "h_acc": int(l.HorizAcc), "height": l.Height, "height_type": int(l.HeightType),
			"lat": l.Lat, "lon": l.Lon, "speed_acc": int(l.SpeedAcc), "speed_h": l.SpeedH, "speed_v": l.SpeedV,
			"status": int(l.Status), "timestamp_s_after_hour": float64(l.RawTimestamp) / 10, "ts_acc": int(l.TSAcc), "v_acc": int(l.VertAcc)} {
			o[k] = v
		}
	case TypeAuth:
		a := m.Auth
		o["auth_type"], o["page"] = int(a.AuthType), int(a.Page)
		if a.Page == 0 {
			o["last_page"], o["length"], o["ts_since_2019"] = int(a.LastPage), int(a.Length), int(a.Timestamp)
		}
	case TypeSelfID:
		o["desc"], o["desc_type"] = m.SelfID.Desc, int(m.SelfID.DescType)
	case TypeSystem:
		s := m.System
		var ts any
		if t, ok := s.Time(); ok {
			ts = t.Format("2006-01-02T15:04:05")
		}
		for k, v := range map[string]any{"area_ceiling": s.AreaCeiling, "area_count": int(s.AreaCount), "area_floor": s.AreaFloor,
			"area_radius_m": s.AreaRadiusM, "category_eu": int(s.CategoryEU), "class_eu": int(s.ClassEU), "class_type": int(s.ClassType),
			"op_alt_geo": s.OpAltGeo, "op_lat": s.OpLat, "op_loc_type": int(s.OpLocType), "op_lon": s.OpLon,
			"ts_since_2019": int(s.Timestamp), "ts_utc": ts} {
			o[k] = v
		}
	case TypeOperatorID:
		o["op_id"], o["op_id_type"] = m.OperatorID.ID, int(m.OperatorID.IDType)
	}
	return o
}

func packJSON(counter uint8, p *Pack) map[string]any {
	msgs := make([]any, p.N)
	for i := range p.N {
		msgs[i] = msgJSON(&p.Msgs[i])
	}
	return map[string]any{"msg_counter": int(counter), "pack_proto_ver": int(p.Version), "msg_size": int(p.MsgSize),
		"msg_count": p.Declared, "msgs": msgs}
}

func djiJSON(e *Element) map[string]any {
	r := &e.DJI
	return map[string]any{"hdr": hex.EncodeToString([]byte{r.VendorType, r.Unk1, r.Unk2}), "subcmd": int(r.Subcommand),
		"version": int(r.Version), "seq": int(r.Seq), "state_info": fmt.Sprintf("0x%x", r.State), "serial": r.Serial,
		"lat_deg": r.Lat, "lon_deg": r.Lon, "raw_lat": int(r.RawLat), "raw_lon": int(r.RawLon),
		"s16_at29": int(r.Altitude), "s16_at31": int(r.Height), "v_n": int(r.VNorth), "v_e": int(r.VEast), "v_u": int(r.VUp),
		"yaw_centideg": int(r.Yaw), "app_gps_time_ms": int(r.AppTimeMs), "app_lat_deg": r.AppLat, "app_lon_deg": r.AppLon,
		"home_lon_deg": r.HomeLon, "home_lat_deg": r.HomeLat, "product_type": int(r.ProductType), "uuid_len": int(r.UUIDLen),
		"uuid": hex.EncodeToString(r.UUID), "ie_info_len": e.IELen - 3}
}

// sightingJSON renders a sighting in the expected schema (one drone element per frame there).
func sightingJSON(s *Sighting) map[string]any {
	o := map[string]any{"frame": s.Frame, "sa": capture.MAC(s.SA), "da": capture.MAC(s.DA), "bssid": capture.MAC(s.BSSID),
		"_t": s.Time}
	if s.FreqMHz != 0 {
		o["freq"] = s.FreqMHz
	} else {
		o["freq"] = nil
	}
	e := &s.Elements[0]
	o["kind"] = e.Kind
	if e.Kind != KindNANSDF {
		o["ie_len"] = e.IELen
		if s.HasSSID && s.SSID != "" {
			o["ssid"] = s.SSID
		} else {
			o["ssid"] = nil
		}
	}
	switch e.Kind {
	case KindODIDBeacon, KindODIDParrot:
		o["odid"] = packJSON(e.Counter, &e.Pack)
	case KindNANSDF:
		attrs := make([]any, e.NAN.NAttrs)
		for i := range attrs {
			attrs[i] = float64(e.NAN.Attrs[i])
		}
		o["nan"] = map[string]any{"attrs": attrs, "service_id": hex.EncodeToString(e.NAN.ServiceID[:]),
			"instance_id": int(e.NAN.InstanceID), "service_control": fmt.Sprintf("0x%02x", e.NAN.ServiceControl),
			"odid": packJSON(e.NAN.Counter, &e.NAN.Pack)}
	case KindDJI:
		o["dji"] = djiJSON(e)
	}
	return o
}

// compare walks the expected value and checks that got holds the same at every key the decoder
// produces; expected keys the decoder has no field for are listed in skip.
func compare(t *testing.T, where string, want, got any, skip map[string]bool) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want object, got %T %v", where, got, got)
			return
		}
		for k, wv := range w {
			if skip[k] {
				continue
			}
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s: missing (want %v)", where, k, wv)
				continue
			}
			compare(t, where+"."+k, wv, gv, skip)
		}
		for k := range g {
			if _, ok := w[k]; !ok && !skip[k] {
				t.Errorf("%s.%s: decoder has %v, expected file has no such key", where, k, g[k])
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: want %d items %v, got %v", where, len(w), w, got)
			return
		}
		for i := range w {
			compare(t, fmt.Sprintf("%s[%d]", where, i), w[i], g[i], skip)
		}
	case float64:
		var gf float64
		switch g := got.(type) {
		case float64:
			gf = g
		case int:
			gf = float64(g)
		default:
			t.Errorf("%s: want %v, got %T %v", where, w, got, got)
			return
		}
		if math.Abs(gf-w) > 1e-12*math.Max(1, math.Abs(w)) {
			t.Errorf("%s: want %v, got %v", where, w, gf)
		}
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%s: want %v, got %v", where, want, got)
		}
	}
}

// readCapture scans every frame of a corpus capture and returns the sightings (as JSON objects),
// the frame count and the outcome counters.
func readCapture(t *testing.T, path string) (map[int]map[string]any, int, map[string]int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := capture.NewReader(f, path)
	if err != nil {
		t.Fatal(err)
	}
	var sc Scanner
	got := map[int]map[string]any{}
	counts := map[string]int{}
	n := 0
	for {
		p, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		n++
		s, err := sc.Scan(p)
		switch {
		case errors.Is(err, ErrBadFCS):
			counts["bad_fcs"]++
		case err != nil:
			counts["malformed"]++
		case s != nil:
			if len(s.Elements) != 1 {
				t.Errorf("frame %d: %d drone elements, the corpus frames carry one", p.Frame, len(s.Elements))
			}
			got[p.Frame] = sightingJSON(s)
		}
	}
	return got, n, counts
}

// TestCorpusExpected decodes every shared OTA capture and checks every frame against
// ota/expected/*.jsonl: the same frames hit, and the same kind, addresses, SSID, element length,
// serials, positions and every other decoded value.
func TestCorpusExpected(t *testing.T) {
	for _, rel := range otaCaptures {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			path := corpus.Path(t, rel)
			summary, want := expectedFrames(t, rel)
			got, total, counts := readCapture(t, path)
			if total != int(summary["frames_total"].(float64)) {
				t.Errorf("frames: got %d, want %v", total, summary["frames_total"])
			}
			if len(got) != int(summary["hit_frames"].(float64)) || len(want) != len(got) {
				t.Errorf("drone frames: got %d, want %v (%d lines)", len(got), summary["hit_frames"], len(want))
			}
			if counts["malformed"] != 0 {
				t.Errorf("%d frames could not be walked", counts["malformed"])
			}
			// Values the decoder does not produce: Python's rendering of junk GPS time.
			skip := map[string]bool{"app_gps_time_utc": true}
			for _, w := range want {
				fr := int(w["frame"].(float64))
				g, ok := got[fr]
				if !ok {
					t.Errorf("frame %d: expected a %v sighting, decoder found none", fr, w["kind"])
					continue
				}
				// The expected time is Python's isoformat in UTC: compare as instants.
				wt, err := time.Parse("2006-01-02T15:04:05.999999", w["time"].(string))
				if err != nil {
					t.Fatal(err)
				}
				gt := g["_t"].(time.Time)
				// Nanosecond pcapng times were rounded to microseconds by the expected file's writer.
				if d := gt.Sub(wt); d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("frame %d: time %v, want %v", fr, gt, wt)
				}
				w2 := maps(w)
				delete(w2, "time")
				g2 := maps(g)
				delete(g2, "_t")
				compare(t, fmt.Sprintf("frame %d", fr), w2, jsonRoundTrip(t, g2), skip)
			}
		})
	}
}

func maps(m map[string]any) map[string]any {
	o := make(map[string]any, len(m))
	for k, v := range m {
		o[k] = v
	}
	return o
}

// jsonRoundTrip renders a value as JSON and back, so ints and floats compare like the file's.
func jsonRoundTrip(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var o any
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// runStream feeds a capture through the LinkDecoder as the audit does.
func runStream(t *testing.T, path string) *decodertest.Sink {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := capture.NewReader(f, path)
	if err != nil {
		t.Fatal(err)
	}
	sink := &decodertest.Sink{}
	var ld LinkDecoder
	st := ld.NewLink(decoders.Input{Path: path, SHA256: "test"}, sink)
	for {
		p, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ld.Handles(p.LinkType) {
			st.Packet(p)
		}
	}
	st.Close()
	return sink
}

// TestCorpusFixes checks the fixes the LinkDecoder emits against the expected files: every
// aircraft position of a Location message and every operator position of a System message, on
// the broadcast channel with the transmitter, and no fix at 0/0.
func TestCorpusFixes(t *testing.T) {
	for _, rel := range otaCaptures {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			path := corpus.Path(t, rel)
			_, want := expectedFrames(t, rel)
			type key struct {
				frame int
				role  geo.Role
				lat   string
				lon   string
			}
			wantSet := map[key]bool{}
			for _, w := range want {
				fr := int(w["frame"].(float64))
				var odid map[string]any
				if o, ok := w["odid"].(map[string]any); ok {
					odid = o
				} else if n, ok := w["nan"].(map[string]any); ok {
					odid = n["odid"].(map[string]any)
				}
				if odid != nil {
					for _, m := range odid["msgs"].([]any) {
						mm := m.(map[string]any)
						switch mm["name"] {
						case "Location":
							if mm["lat"].(float64) != 0 || mm["lon"].(float64) != 0 {
								wantSet[key{fr, geo.RoleAircraft, fmt.Sprintf("%.7f", mm["lat"]), fmt.Sprintf("%.7f", mm["lon"])}] = true
							}
						case "System":
							if mm["op_lat"].(float64) != 0 || mm["op_lon"].(float64) != 0 {
								wantSet[key{fr, geo.RolePilot, fmt.Sprintf("%.7f", mm["op_lat"]), fmt.Sprintf("%.7f", mm["op_lon"])}] = true
							}
						}
					}
				}
				if d, ok := w["dji"].(map[string]any); ok {
					// Pilot (app) position counts without a flag. The spoofed state 0x1f33 has
					// neither GPS-valid (0x40) nor home-set (0x04): the aircraft position went
					// over the air all the same and is a fix (its evidence says the flag is
					// clear); the home point without its flag is not.
					wantSet[key{fr, geo.RolePilot, fmt.Sprintf("%.7f", d["app_lat_deg"]), fmt.Sprintf("%.7f", d["app_lon_deg"])}] = true
					if d["lat_deg"].(float64) != 0 || d["lon_deg"].(float64) != 0 {
						wantSet[key{fr, geo.RoleAircraft, fmt.Sprintf("%.7f", d["lat_deg"]), fmt.Sprintf("%.7f", d["lon_deg"])}] = true
					}
				}
			}
			sink := runStream(t, path)
			gotSet := map[key]bool{}
			for _, f := range sink.Fixes {
				var fr int
				fmt.Sscanf(f.Evidence.Locator, "frame %d", &fr)
				if f.Evidence.Channel != geo.ChannelBroadcast || f.Evidence.Broadcast == nil || f.Evidence.Broadcast.Transmitter == "" {
					t.Errorf("%v: broadcast evidence missing", f)
				}
				if !f.Valid() {
					t.Errorf("%v: invalid fix emitted", f)
				}
				gotSet[key{fr, f.Role, fmt.Sprintf("%.7f", f.Lat), fmt.Sprintf("%.7f", f.Lon)}] = true
			}
			// The stream keeps one copy of a repeated transmission; the expected files list
			// every copy. Every fix must be expected, and every expected fix must be emitted
			// unless its frame was dropped as a duplicate.
			for k := range gotSet {
				if !wantSet[k] {
					t.Errorf("unexpected fix %+v", k)
				}
			}
			missing := 0
			for k := range wantSet {
				if gotSet[k] {
					continue
				}
				missing++
				// A fix not re-emitted must come from a copy of an earlier kept frame.
				earlier := false
				for g := range gotSet {
					if g.role == k.role && g.lat == k.lat && g.lon == k.lon && g.frame < k.frame {
						earlier = true
					}
				}
				if !earlier {
					t.Errorf("expected fix %+v missing, and no earlier copy was emitted", k)
				}
			}
			dups := sink.Counts["broadcast_duplicates"]
			if missing > 0 && dups == 0 {
				t.Errorf("%d expected fixes missing and no duplicates dropped", missing)
			}
			t.Logf("%d fixes, %d frames dropped as duplicates, %d expected fixes not re-emitted", len(sink.Fixes), dups, missing)
			if rel == "ota/parrot_anafi4_spoofed.pcapng" {
				var trunc []string
				for _, n := range sink.Notes {
					if n.Code == "truncated" {
						trunc = append(trunc, n.Locator)
						if !strings.Contains(n.Message, path) || n.Attrs["declared"] != "4" || n.Attrs["complete"] != "3" {
							t.Errorf("truncation note lacks file or counts: %+v", n)
						}
					}
				}
				sort.Strings(trunc)
				// 26 hit frames, sent in pairs: 13 kept, each reported.
				if len(trunc) != 13 {
					t.Errorf("truncated message reported for %d frames, want 13: %v", len(trunc), trunc)
				}
				if got := sink.Counts["broadcast_frames"]; got != 13 {
					t.Errorf("%d drone frames decoded, want 13 after dedup", got)
				}
				t.Logf("truncation notes at %v", trunc)
			}
		})
	}
}
