package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"droneaudit/internal/corpus"
)

// beaconFrame builds a beacon with the given elements (no FCS).
func beaconFrame(elems ...byte) []byte {
	b := []byte{0x80, 0, 0, 0}
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 0x30, 0x12)
	b = append(b, make([]byte, 12)...)
	return append(b, elems...)
}

func fcs(b []byte) []byte { return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b)) }

func TestRadiotapFields(t *testing.T) {
	// TSFT, Flags, Rate, Channel, dBm signal, with a second presence word (radiotap namespace
	// again, bit 29) carrying another antenna signal, then a vendor namespace of 3 bytes.
	le := binary.LittleEndian
	h := []byte{0, 0, 0, 0}
	h = le.AppendUint32(h, 1<<0|1<<1|1<<2|1<<3|1<<5|1<<29|1<<31)
	h = le.AppendUint32(h, 1<<5|1<<30|1<<31) // antenna signal; vendor namespace follows
	h = le.AppendUint32(h, 1<<0)             // vendor namespace word; fields start at 16, TSFT aligned
	h = le.AppendUint64(h, 0x0102030405060708)
	h = append(h, RadiotapFlagFCS, 12)       // flags, rate
	h = le.AppendUint16(h, 5745)             // channel freq at 26
	h = le.AppendUint16(h, 0x0140)           //
	h = append(h, 0xc4)                      // -60 dBm
	h = append(h, 0xb0)                      // second word: -80 dBm
	h = append(h, 0x00, 0x11, 0x22, 0x33, 7) // vendor header aligned at 32: OUI, subns
	h = le.AppendUint16(h, 3)                // skip length
	h = append(h, 9, 9, 9)                   // vendor data
	le.PutUint16(h[2:], uint16(len(h)))
	rt, err := ParseRadiotap(h)
	if err != nil {
		t.Fatal(err)
	}
	if !rt.HasTSFT || rt.TSFT != 0x0102030405060708 || !rt.HasFlags || rt.Flags != RadiotapFlagFCS ||
		!rt.HasChannel || rt.FreqMHz != 5745 || rt.ChannelFlags != 0x0140 || !rt.HasSignal || rt.SignalDBm != -60 || rt.Len != len(h) {
		t.Errorf("%+v", rt)
	}
	// The frame after it, with an FCS, is found at it_len whatever the fields.
	frame := fcs(beaconFrame(0, 3, 'a', 'b', 'c'))
	var d Dot11
	if err := d.Decode(LinkRadiotap, append(h, frame...)); err != nil {
		t.Fatal(err)
	}
	if d.FCS != FCSValid || d.Subtype != Dot11Beacon || MAC(d.Addr2) != "01:02:03:04:05:06" || d.SeqCtrl != 0x1230 {
		t.Errorf("%+v", d)
	}
	els, ok := d.Elements()
	id, v, off, ok2 := els.Next()
	if !ok || !ok2 || id != 0 || string(v) != "abc" || off != len(h)+36 {
		t.Errorf("element %d %q @%d", id, v, off)
	}
	if _, _, _, more := els.Next(); more || len(els.Rest()) != 0 {
		t.Errorf("FCS read as an element")
	}
}

func TestFCSDecisions(t *testing.T) {
	frame := beaconFrame(0, 2, 'h', 'i', 221, 3, 0x26, 0x37, 0x12)
	withFCS := fcs(append([]byte(nil), frame...))
	bad := append([]byte(nil), withFCS...)
	bad[30] ^= 1
	flagsHdr := func(flags byte) []byte { return []byte{0, 0, 9, 0, 2, 0, 0, 0, flags} }
	cases := []struct {
		name string
		lt   LinkType
		data []byte
		fcs  int
		last int // length of the last element
	}{
		{"dot11 no FCS, last element kept", LinkIEEE80211, frame, FCSAbsent, 3},
		{"dot11 FCS by CRC", LinkIEEE80211, withFCS, FCSValid, 3},
		{"radiotap flag FCS", LinkRadiotap, append(flagsHdr(RadiotapFlagFCS), withFCS...), FCSValid, 3},
		{"radiotap flag FCS, bad", LinkRadiotap, append(flagsHdr(RadiotapFlagFCS), bad...), FCSBad, 3},
		{"radiotap bad-FCS flag", LinkRadiotap, append(flagsHdr(RadiotapFlagFCS|RadiotapFlagBadFCS), withFCS...), FCSBad, 3},
		{"radiotap no FCS flag", LinkRadiotap, append(flagsHdr(0), frame...), FCSAbsent, 3},
		{"minimal radiotap, FCS by CRC", LinkRadiotap, append([]byte{0, 0, 8, 0, 0, 0, 0, 0}, withFCS...), FCSValid, 3},
		{"minimal radiotap, no FCS", LinkRadiotap, append([]byte{0, 0, 8, 0, 0, 0, 0, 0}, frame...), FCSAbsent, 3},
	}
	for _, c := range cases {
		var d Dot11
		if err := d.Decode(c.lt, c.data); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d.FCS != c.fcs {
			t.Errorf("%s: FCS state %d, want %d", c.name, d.FCS, c.fcs)
		}
		els, _ := d.Elements()
		var last []byte
		n := 0
		for {
			_, v, _, ok := els.Next()
			if !ok {
				break
			}
			last, n = v, n+1
		}
		if n != 2 || len(last) != c.last || len(els.Rest()) != 0 {
			t.Errorf("%s: %d elements, last %x, rest %x", c.name, n, last, els.Rest())
		}
	}
}

func TestDot11Errors(t *testing.T) {
	cases := []struct {
		lt   LinkType
		data string
	}{
		{LinkRadiotap, "0000"},
		{LinkRadiotap, "0100080000000000"},           // version 1
		{LinkRadiotap, "0000ff002e48000010026c09a0"}, // it_len past the frame
		{LinkRadiotap, "00000c00ffffffffffffffff"},   // presence words past it_len
		{LinkIEEE80211, "80000000ffffffffffff"},      // management header cut
	}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.data)
		var d Dot11
		err := d.Decode(c.lt, b)
		var de *Dot11Error
		if !errors.As(err, &de) {
			t.Errorf("%s: error %v, want a Dot11Error", c.data, err)
		}
	}
	var d Dot11
	if err := d.Decode(LinkEthernet, []byte{1, 2}); !errors.Is(err, ErrNotDot11) {
		t.Errorf("ethernet: %v", err)
	}
	// gopacket PR #45 reproducer: must return cleanly (over-the-air.md §2.3 pitfall 4).
	b, _ := hex.DecodeString("0000ff002e48000010026c09a000c6070000d4000000881fa1ae9dcbc6304b4b")
	_ = d.Decode(LinkRadiotap, b)
}

func TestElementsTrailing(t *testing.T) {
	e := NewElements([]byte{0, 1, 'x', 221, 9, 1, 2}, 0)
	if id, v, _, ok := e.Next(); !ok || id != 0 || string(v) != "x" {
		t.Fatal("first element")
	}
	if _, _, _, ok := e.Next(); ok {
		t.Fatal("element past the end accepted")
	}
	if len(e.Rest()) != 4 {
		t.Errorf("rest %x", e.Rest())
	}
}

func FuzzRadiotap(f *testing.F) {
	f.Add([]byte{0, 0, 8, 0, 0, 0, 0, 0, 0x80, 0})
	f.Add(append([]byte{0, 0, 9, 0, 2, 0, 0, 0, RadiotapFlagFCS}, fcs(beaconFrame(0, 1, 'a', 221, 4, 0xfa, 0x0b, 0xbc, 0x0d))...))
	f.Add(beaconFrame(0, 2, 'h', 'i', 221, 3, 0x26, 0x37, 0x12))
	b, _ := hex.DecodeString("0000ff002e48000010026c09a000c6070000d4000000881fa1ae9dcbc6304b4b")
	f.Add(b)
	f.Add([]byte{0, 0, 20, 0, 0x20, 0, 0, 0xe0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0})
	// Real 802.11 frames of the corpus captures.
	for _, data := range corpus.CaptureSeeds() {
		if rd, err := NewReader(bytes.NewReader(data), "seed"); err == nil {
			for i := 0; i < 100; i++ {
				p, err := rd.Next()
				if err != nil {
					break
				}
				if p.LinkType.IsDot11() {
					f.Add(append([]byte(nil), p.Data...))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lt := range []LinkType{LinkRadiotap, LinkIEEE80211} {
			var d Dot11
			if err := d.Decode(lt, data); err != nil {
				continue
			}
			if d.HasRadiotap && (d.Radiotap.Len > len(data) || d.Radiotap.Len < 8) {
				t.Fatalf("radiotap length %d of %d", d.Radiotap.Len, len(data))
			}
			els, ok := d.Elements()
			if !ok {
				continue
			}
			total := 0
			for {
				_, v, off, ok := els.Next()
				if !ok {
					break
				}
				if off < 0 || off+2+len(v) > len(data) {
					t.Fatalf("element @%d+%d outside the frame of %d", off, len(v), len(data))
				}
				total += 2 + len(v)
			}
			if total+len(els.Rest()) != len(d.Body)-12 {
				t.Fatalf("elements %d + rest %d != body %d", total, len(els.Rest()), len(d.Body)-12)
			}
		}
	})
}

func BenchmarkDot11Beacon(b *testing.B) {
	data := append([]byte{0, 0, 9, 0, 2, 0, 0, 0, RadiotapFlagFCS}, fcs(beaconFrame(0, 5, 'h', 'e', 'l', 'l', 'o', 1, 1, 0x8c, 221, 4, 0xfa, 0x0b, 0xbc, 0x0d))...)
	b.SetBytes(int64(len(data)))
	var d Dot11
	for b.Loop() {
		if err := d.Decode(LinkRadiotap, data); err != nil {
			b.Fatal(err)
		}
		els, _ := d.Elements()
		for {
			if _, _, _, ok := els.Next(); !ok {
				break
			}
		}
	}
}

// TestRadiotapAgainstGopacket compares our radiotap walk with gopacket v1.7.7's RadioTap (safe
// for radiotap per over-the-air.md §2.3) on every frame of the shared 802.11 captures: header
// length, flags, channel and signal must agree.
func TestRadiotapAgainstGopacket(t *testing.T) {
	for _, rel := range []string{"ota/odid_wifi_sample.pcap", "ota/odid_wifi_bcn_sample.pcap", "ota/odid_linux_transmitter.pcapng",
		"ota/parrot_anafi4_spoofed.pcapng", "ota/djidroneid_spoofed.pcapng"} {
		path := corpus.Path(t, rel)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := NewReader(f, path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			p, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
			ours, err := ParseRadiotap(p.Data)
			var gp layers.RadioTap
			gerr := gp.DecodeFromBytes(p.Data, gopacket.NilDecodeFeedback)
			if (err != nil) != (gerr != nil) {
				t.Fatalf("%s frame %d: ours %v, gopacket %v", rel, p.Frame, err, gerr)
			}
			if err != nil {
				continue
			}
			pr := gp.Present[0]
			v := gp.RadioTapValues[0]
			if ours.Len != int(gp.Length) || ours.HasFlags != pr.Flags() || ours.HasChannel != pr.Channel() || ours.HasSignal != pr.DBMAntennaSignal() ||
				(ours.HasFlags && ours.Flags != uint8(v.Flags)) || (ours.HasChannel && ours.FreqMHz != uint16(v.ChannelFrequency)) ||
				(ours.HasSignal && ours.SignalDBm != v.DBMAntennaSignal) {
				t.Errorf("%s frame %d: ours %+v, gopacket %+v", rel, p.Frame, ours, v)
			}
		}
		f.Close()
		if n == 0 {
			t.Errorf("%s: no frames", rel)
		}
	}
}

// TestHTControlAndTypes: a management frame with Order set carries 4 bytes of HT Control before
// its body; control and data frames are typed but not walked.
func TestHTControlAndTypes(t *testing.T) {
	f := beaconFrame(0, 1, 'z')
	f[1] |= 0x80
	f = append(f[:24], append([]byte{9, 9, 9, 9}, f[24:]...)...)
	var d Dot11
	if err := d.Decode(LinkIEEE80211, f); err != nil {
		t.Fatal(err)
	}
	els, ok := d.Elements()
	id, v, _, ok2 := els.Next()
	if !ok || !ok2 || id != 0 || string(v) != "z" || d.BodyOffset != 28 {
		t.Errorf("HT Control not skipped: body @%d %q", d.BodyOffset, v)
	}
	for _, c := range []struct {
		fc  byte
		typ uint8
	}{{0xd4, Dot11TypeControl}, {0x08, Dot11TypeData}, {0x40, Dot11TypeMgmt}} {
		if err := d.Decode(LinkIEEE80211, []byte{c.fc, 0, 1, 2}); (err != nil) != (c.typ == Dot11TypeMgmt) || d.Type != c.typ {
			t.Errorf("fc %#x: type %d err %v", c.fc, d.Type, err)
		}
		if _, ok := d.Elements(); ok {
			t.Errorf("fc %#x: elements offered", c.fc)
		}
	}
}
