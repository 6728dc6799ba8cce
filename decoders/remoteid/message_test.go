package remoteid

import (
	"droneaudit/decoders/decodertest"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/decoders"
)

// TestLocationSentinels checks the "unknown" encodings of §5.3.
func TestLocationSentinels(t *testing.T) {
	var b [MessageSize]byte
	b[0] = TypeLocation<<4 | 2
	b[1] = 2<<4 | 1<<1 | 1 // airborne, EW, multiplier
	b[2], b[3], b[4] = 181, 255, 126
	binary.LittleEndian.PutUint16(b[21:], 0xffff)
	var m Message
	if err := DecodeMessage(b[:], &m); err != nil {
		t.Fatal(err)
	}
	l := m.Location
	if l.DirectionDeg != 361 || l.SpeedH != 255 || l.SpeedV != 63 || l.AltBaro != -1000 || l.AltGeo != -1000 || l.Height != -1000 {
		t.Errorf("%+v", l)
	}
	if l.HasPosition() || l.HasAltGeo() {
		t.Error("0/0 or -1000 m treated as known")
	}
	if _, ok := l.Time(time.Now()); ok {
		t.Error("timestamp 0xFFFF treated as known")
	}
	// Negative latitude and vertical speed, slow speed.
	b[1] = 1 << 4
	b[3], b[4] = 10, byte(0xf6)                              // 2.5 m/s, -5 m/s
	binary.LittleEndian.PutUint32(b[5:], uint32(0xe4d8f8c8)) // -455542584 → -45.5542584
	binary.LittleEndian.PutUint32(b[9:], 1)
	if err := DecodeMessage(b[:], &m); err != nil {
		t.Fatal(err)
	}
	if m.Location.SpeedH != 2.5 || m.Location.SpeedV != -5 || m.Location.Lat != -45.5542584 || !m.Location.HasPosition() || m.Location.DirectionDeg != 181 {
		t.Errorf("%+v", m.Location)
	}
}

func TestLocationTime(t *testing.T) {
	capt := time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
	cases := []struct {
		raw  uint16
		want time.Time
	}{
		{3000, time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)},
		{2995, time.Date(2026, 3, 1, 12, 4, 59, 500e6, time.UTC)},
		{33000, time.Date(2026, 3, 1, 11, 55, 0, 0, time.UTC)}, // 50 min past the hour, 10 min before capture
		{0, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		l := Location{RawTimestamp: c.raw}
		got, ok := l.Time(capt)
		if !ok || !got.Equal(c.want) {
			t.Errorf("%d: %v %v, want %v", c.raw, got, ok, c.want)
		}
	}
	if _, ok := (&Location{RawTimestamp: 36001}).Time(capt); ok {
		t.Error("timestamp beyond an hour accepted")
	}
}

func TestSystemTime(t *testing.T) {
	s := System{Timestamp: 28056789}
	if got, ok := s.Time(); !ok || got.Format(time.RFC3339) != "2019-11-21T17:33:09Z" {
		t.Errorf("%v %v", got, ok)
	}
	if _, ok := (&System{}).Time(); ok {
		t.Error("zero timestamp treated as present")
	}
}

// TestPackRules checks that declared counts are reported, not trusted, and rule breaches flagged.
func TestPackRules(t *testing.T) {
	msgs := testMessages()
	basic, loc := msgs[0], msgs[1]
	cases := []struct {
		name     string
		b        []byte
		n        int
		trunc    bool
		missing  int
		violates []string
	}{
		{"valid", AppendPack(nil, 2, -1, msgs), 7, false, 0, nil},
		{"declares 9, holds 2", AppendPack(nil, 2, 9, msgs[:2]), 2, false, 7, []string{"missing_7_messages"}},
		{"declares 3, holds 2.4", AppendPack(nil, 2, 3, msgs[:3])[:3+60], 3, true, 0, []string{"truncated_message"}},
		{"declares 0", AppendPack(nil, 2, 0, msgs[:1]), 0, false, 0, []string{"message_count_0"}},
		{"three BasicIDs", AppendPack(nil, 2, -1, []Message{basic, basic, basic}), 3, false, 0, []string{"more_than_2_basic_ids"}},
		{"two Locations", AppendPack(nil, 2, -1, []Message{loc, loc}), 2, false, 0, []string{"repeated_Location"}},
		{"nested pack", AppendPack(nil, 2, 2, []Message{loc})[:28:28], 1, false, 1, []string{"missing_1_messages"}},
		{"message size 24", []byte{0xf2, 24, 1, 1, 2, 3}, 0, false, 0, []string{"message_size_24"}},
	}
	nested := append(AppendPack(nil, 2, 2, []Message{loc}), 0xf2, 25, 1)
	nested = append(nested, make([]byte, 22)...)
	cases = append(cases, struct {
		name     string
		b        []byte
		n        int
		trunc    bool
		missing  int
		violates []string
	}{"pack inside a pack", nested, 2, false, 0, []string{"nested_pack"}})
	for _, c := range cases {
		var p Pack
		if err := DecodePack(c.b, &p); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.N != c.n || p.Truncated != c.trunc || p.Missing != c.missing || !slices.Equal(p.Violations, c.violates) {
			t.Errorf("%s: n %d trunc %v missing %d violations %v", c.name, p.N, p.Truncated, p.Missing, p.Violations)
		}
	}
	var p Pack
	if err := DecodePack([]byte{0x12, 25, 1}, &p); !errors.Is(err, ErrNotPack) {
		t.Errorf("not a pack: %v", err)
	}
	if err := DecodePack([]byte{0xf0}, &p); !errors.Is(err, ErrPackShort) {
		t.Errorf("short: %v", err)
	}
}

// TestNANFields decodes service descriptors with the optional fields the service control
// announces, another service, and a service info length that overruns its attribute.
func TestNANFields(t *testing.T) {
	pk := AppendPack(nil, 0, -1, testMessages()[1:2])
	sda := append([]byte{}, ODIDServiceID[:]...)
	sda = append(sda, 1, 0, 0x10|0x40|0x04|0x08) // binding bitmap, matching filter, response filter, info
	sda = append(sda, 0xaa, 0xbb)                // binding bitmap
	sda = append(sda, 2, 'm', 'f')               // matching filter
	sda = append(sda, 1, 'r')                    // service response filter
	sda = append(sda, byte(1+len(pk)), 42)       // service info: counter, pack
	sda = append(sda, pk...)
	body := append([]byte{}, nanActionHeader[:]...)
	body = append(body, 0x0e, 1, 0, 9) // an unrelated attribute first
	body = append(body, nanAttrServiceDescriptor)
	body = binary.LittleEndian.AppendUint16(body, uint16(len(sda)))
	body = append(body, sda...)
	var n NAN
	if err := DecodeNAN(body, &n); err != nil {
		t.Fatal(err)
	}
	if !n.ODID || n.Counter != 42 || n.Pack.N != 1 || n.Pack.Msgs[0].Location.Lat != 47.3763734 || n.NAttrs != 2 || n.Attrs[1] != 3 {
		t.Errorf("%+v", n)
	}
	other := slices.Clone(body)
	other[6+4+3] = 0x11 // first byte of the service ID
	if err := DecodeNAN(other, &n); !errors.Is(err, ErrNANNotODID) || n.ODID {
		t.Errorf("other service: %v %v", err, n.ODID)
	}
	over := AppendNANAction(nil, 1, pk)
	over[6+3+9] += 10 // service info length 10 past the attribute
	if err := DecodeNAN(over, &n); !errors.Is(err, ErrNANInfoLength) || !n.ODID || n.Pack.N != 1 {
		t.Errorf("overrun: %v odid %v n %d", err, n.ODID, n.Pack.N)
	}
	if err := DecodeNAN([]byte{4, 9, 0x50, 0x6f, 0x9a}, &n); !errors.Is(err, ErrNotNAN) {
		t.Errorf("short: %v", err)
	}
}

func TestFrenchErrors(t *testing.T) {
	var f French
	// Latitude with a 2-byte value: counted as bad, no position.
	if err := DecodeFrench([]byte{1, 1, 1, 4, 2, 0, 1, 5, 4, 0, 0, 0, 1}, &f); err != nil || f.BadTLVs != 1 || f.HasPos || f.Version != 1 {
		t.Errorf("%v %+v", err, f)
	}
	if err := DecodeFrench([]byte{2, 30, 'A'}, &f); !errors.Is(err, ErrFrenchShort) {
		t.Errorf("cut TLV: %v", err)
	}
	// Unknown types are skipped by their length.
	b := AppendFrenchElement(nil, &French{RawLat: -100000, RawLon: 200000, HasPos: true})[6:]
	b = append([]byte{0x7f, 3, 1, 2, 3}, b...)
	if err := DecodeFrench(b, &f); err != nil || !f.HasPos || f.Lat != -1 || f.Lon != 2 {
		t.Errorf("%v %+v", err, f)
	}
}

// TestStreamNoteLimit checks that per-frame notes stop at the limit and are summarised.
func TestStreamNoteLimit(t *testing.T) {
	msgs := testMessages()
	cut := AppendPack(nil, 2, 2, msgs[1:2])
	cut = append(cut, 0x40, 1, 2)
	sink := &decodertest.Sink{}
	st := LinkDecoder{}.NewLink(decoders.Input{Path: "limit.pcap"}, sink)
	for i := range 80 {
		data := linkVariants[1].wrap(beacon(capture.Dot11Beacon, uint16(i), "X", AppendBeaconElement(nil, false, byte(i), cut)))
		st.Packet(&capture.Packet{Frame: i + 1, LinkType: capture.LinkRadiotap, Data: data, Time: time.Unix(int64(i), 0)})
	}
	st.Close()
	n, summary := 0, ""
	for _, note := range sink.Notes {
		if note.Code == "truncated" {
			n++
			if note.Locator == "" {
				summary = note.Message
			}
		}
	}
	if n != maxNotesPerCode+1 || !strings.Contains(summary, "30 further") {
		t.Errorf("%d truncation notes, summary %q", n, summary)
	}
	if len(sink.Fixes) != 80 || sink.Counts["broadcast_frames"] != 80 {
		t.Errorf("%d fixes, counts %v", len(sink.Fixes), sink.Counts)
	}
}

// TestIdentityNotes checks that every identity a broadcast reveals is reported once.
func TestIdentityNotes(t *testing.T) {
	sink := runStream(t, fixturePcap(t, t.TempDir(), linkVariants[0], testFrames(), false))
	got := map[string][]string{}
	for _, n := range sink.Notes {
		if n.Code != "identity" {
			continue
		}
		for k, v := range n.Attrs {
			if k != "transmitter" && k != "ssid" {
				got[k] = append(got[k], v)
			}
		}
	}
	want := map[string][]string{
		"aircraft_serial":    {"0K1CG6G3AH8V2M", "3K1CG6G3AH8V2M", "NEWFW", "1581F5FHC23456789ABC"},
		"dji_drone_id":       {"LAB-7"},
		"dji_flight_purpose": {"Inspection"},
		"operator_id":        {"CHE-OP-98765XYZ"},
		"self_id":            {"Police mission 17"},
		"fr_identifier":      {"FRAABCDEF0123456789012345678AB"},
	}
	for k, v := range want {
		g := slices.Clone(got[k])
		slices.Sort(g)
		slices.Sort(v)
		if !slices.Equal(g, v) {
			t.Errorf("%s: %v, want %v", k, g, v)
		}
	}
}

// TestStreamBounded feeds frames from many transmitters and checks the stream's memory bounds.
func TestStreamBounded(t *testing.T) {
	sink := &decodertest.Sink{}
	st := LinkDecoder{}.NewLink(decoders.Input{Path: "many.pcap"}, sink).(*Stream)
	pk := AppendPack(nil, 2, -1, testMessages()[:1])
	base := beacon(capture.Dot11Beacon, 1, "X", AppendBeaconElement(nil, false, 1, pk))
	t0 := time.Unix(1700000000, 0)
	for i := range maxIdentities + 500 {
		d := slices.Clone(base)
		binary.BigEndian.PutUint32(d[12:], uint32(i)) // a new transmitter address each frame
		st.Packet(&capture.Packet{Frame: i + 1, LinkType: capture.LinkIEEE80211, Data: d, Time: t0})
	}
	if len(st.macs) > maxIdentities || len(st.idents) > maxIdentities || len(st.dedup.seen) > maxDedupEntries {
		t.Errorf("macs %d idents %d dedup %d", len(st.macs), len(st.idents), len(st.dedup.seen))
	}
	if sink.Counts["broadcast_frames"] != int64(maxIdentities+500) {
		t.Errorf("frames %d", sink.Counts["broadcast_frames"])
	}
}

// TestScanAllocs checks that frames without drone elements cost no allocation.
func TestScanAllocs(t *testing.T) {
	data := linkVariants[0].wrap(testFrames()[len(testFrames())-1].dot11) // the plain AP beacon
	p := &capture.Packet{Frame: 1, LinkType: capture.LinkRadiotap, Data: data}
	var sc Scanner
	if n := testing.AllocsPerRun(100, func() {
		if s, err := sc.Scan(p); s != nil || err != nil {
			t.Fatal(s, err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per non-drone beacon", n)
	}
}

func TestDedup(t *testing.T) {
	dd := NewDedup()
	t0 := time.Unix(1700000000, 0)
	s := &Sighting{SA: [6]byte{1}, SeqCtrl: 16, Time: t0, Elements: []Element{{Value: []byte{1, 2, 3}}}}
	if dd.Duplicate(s) {
		t.Fatal("first copy reported as duplicate")
	}
	s.Time = t0.Add(900 * time.Millisecond)
	if !dd.Duplicate(s) {
		t.Error("copy within the window not recognised")
	}
	s.SA[0] = 2
	if dd.Duplicate(s) {
		t.Error("another transmitter merged")
	}
	s.SA[0], s.Elements[0].Value = 1, []byte{1, 2, 4}
	if dd.Duplicate(s) {
		t.Error("other content merged")
	}
	s.Elements[0].Value = []byte{1, 2, 3}
	s.Time = t0.Add(2500 * time.Millisecond)
	if dd.Duplicate(s) {
		t.Error("copy outside the window merged")
	}
	for i := range maxDedupEntries + 1000 {
		s.SeqCtrl = uint16(i)
		s.SA[1] = byte(i >> 16)
		dd.Duplicate(s)
	}
	if len(dd.seen) > maxDedupEntries || len(dd.order)-dd.head > maxDedupEntries {
		t.Errorf("dedup holds %d entries", len(dd.seen))
	}
}

func TestSSIDText(t *testing.T) {
	for in, want := range map[string]string{"Drohne-Zürich": "Drohne-Zürich", "RID-1581": "RID-1581", "\x00\x01": "0001", "\xff\xfe": "fffe"} {
		if got := ssidText([]byte(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
