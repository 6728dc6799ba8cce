package duml

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"droneaudit/capture"
	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The check values of both CRCs over "123456789" (dji-network.md §3.2).
func TestCRCCheckValues(t *testing.T) {
	if got := CRC8([]byte("123456789")); got != 0xfb {
		t.Errorf("CRC8 check = %#x, want 0xfb", got)
	}
	if got := CRC16([]byte("123456789")); got != 0x7109 {
		t.Errorf("CRC16 check = %#x, want 0x7109", got)
	}
}

// Public frames quoted in dji-network.md §3.2.
func TestPublicFrames(t *testing.T) {
	for _, tc := range []struct {
		hex     string
		set, id uint8
		hdr     uint8
		crc     uint16
	}{
		{"55 0D 04 33 2A C3 44 31 40 03 39 1F 79", 0x03, 0x39, 0x33, 0x791f},
		{"55 0E 04 66 02 03 87 00 40 03 FE 01 B4 E5", 0x03, 0xfe, 0x66, 0xe5b4},
	} {
		b := unhex(t, tc.hex)
		f, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.hex, err)
		}
		if f.CmdSet != tc.set || f.CmdID != tc.id || b[3] != tc.hdr {
			t.Errorf("%s: set/id %#x/%#x", tc.hex, f.CmdSet, f.CmdID)
		}
		again := Encode(f.Sender, f.Receiver, f.Seq, f.Attr, f.CmdSet, f.CmdID, f.Payload)
		if !bytes.Equal(again, b) {
			t.Errorf("re-encoding %s gives % x", tc.hex, again)
		}
	}
}

// The constructed OSD frame of dji-network.md §3.5, with its documented decode.
const osdExample = `55 3f 04 8f 03 02 34 12 00 03 43 fe c5 f1 3d fa e1 b6 3f 51 cf 30 f8 cb 17 ed 3f
99 00 0c 00 fb ff 00 00 e2 ff 0f 00 d2 04 06 00 0c 80 14 00 0e 00 00 00 4c 00 a2 03
01 1e 8a 09 02 00 57 45`

func TestOSDExample(t *testing.T) {
	b := unhex(t, osdExample)
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.SenderType() != 3 || f.ReceiverType() != 2 || f.Seq != 0x1234 {
		t.Errorf("header: sender %d receiver %d seq %#x", f.SenderType(), f.ReceiverType(), f.Seq)
	}
	o, ok := DecodeOSD(f.Payload)
	if !ok {
		t.Fatal("payload rejected")
	}
	if math.Abs(o.Lat-52.0907374) > 1e-7 || math.Abs(o.Lon-5.1214201) > 1e-7 {
		t.Errorf("position %.7f,%.7f, want 52.0907374,5.1214201", o.Lat, o.Lon)
	}
	if o.HeightM != 15.3 || o.VelN != 1.2 || o.VelE != -0.5 || o.YawDeg != 123.4 || o.Satellites != 14 || o.Battery != 76 {
		t.Errorf("decoded %+v", o)
	}
	fixes, noFix := Fixes(&f, geo.Evidence{})
	if noFix || len(fixes) != 1 || fixes[0].Role != geo.RoleAircraft {
		t.Fatalf("fixes %v noFix %v", fixes, noFix)
	}
}

func osdPayload(lat, lon float64) []byte {
	p := make([]byte, osdMinPayload)
	putF64(p[0:], lon*math.Pi/180)
	putF64(p[8:], lat*math.Pi/180)
	return p
}

func putF64(b []byte, v float64) {
	u := math.Float64bits(v)
	for i := 0; i < 8; i++ {
		b[i] = byte(u >> (8 * i))
	}
}

func homePayload(lat, lon float64) []byte {
	p := make([]byte, 68)
	putF64(p[0:], lon*math.Pi/180)
	putF64(p[8:], lat*math.Pi/180)
	return p
}

// A generated stream: good frames, junk, a frame whose CRC-16 is broken, a real frame hidden
// behind a false start, and a frame cut at the end.
func TestScanResync(t *testing.T) {
	good1 := Encode(0x03, 0x02, 1, 0, SetFlightControl, IDOSDGeneral, osdPayload(51.168, 5.47))
	good2 := Encode(0x03, 0x02, 2, 0, SetFlightControl, IDOSDHome, homePayload(51.17, 5.46))
	bad := Encode(0x03, 0x02, 3, 0, SetFlightControl, IDOSDGeneral, osdPayload(1, 1))
	bad[20] ^= 0xff
	// A false start: a valid header claiming 40 bytes, then a real frame inside those 40 bytes.
	falseStart := Encode(0x02, 0x03, 4, 0, 0, 1, make([]byte, 27))[:4]
	hidden := Encode(0x06, 0x02, 5, 0, 0x06, 0x1b, []byte{1, 2, 3})
	var s []byte
	s = append(s, good1...)
	s = append(s, "junk\x55\x00"...)
	s = append(s, bad...)
	s = append(s, falseStart...)
	s = append(s, hidden...)
	s = append(s, good2...)
	s = append(s, good1[:20]...)

	var got []uint16
	var bads int
	used, _ := Scan(s, false, func(f *Frame, off int, isBad bool) {
		if isBad {
			bads++
			return
		}
		got = append(got, f.Seq)
	})
	if want := []uint16{1, 5, 2}; !equal(got, want) {
		t.Errorf("frames %v, want %v", got, want)
	}
	// The broken frame and the false start (a valid header whose claimed span fails CRC-16).
	if bads != 2 {
		t.Errorf("bad CRC frames %d, want 2", bads)
	}
	if used != len(s)-20 {
		t.Errorf("consumed %d, want %d (the cut frame stays for the next call)", used, len(s)-20)
	}
}

func equal(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The raw-stream file decoder on a generated file, read in chunks that cut frames.
func TestStreamDecode(t *testing.T) {
	var s []byte
	const n = 5000
	for i := 0; i < n; i++ {
		s = append(s, Encode(0x03, 0x02, uint16(i), 0, SetFlightControl, IDOSDGeneral, osdPayload(50+float64(i)*1e-4, 4.5))...)
	}
	s = append(s, Encode(0x03, 0x02, 1, 0, SetFlightControl, IDOSDHome, homePayload(50.5, 4.4))...)
	if !(Stream{}).Sniff(s[:4096]) {
		t.Fatal("sniff rejected a DUML stream")
	}
	if (Stream{}).Sniff([]byte("hello world, this is not DUML")) {
		t.Fatal("sniff accepted text")
	}
	sink := &decodertest.Sink{}
	in := decoders.Input{Path: "gen.bin", Size: int64(len(s)), R: bytes.NewReader(s)}
	if err := (Stream{}).Decode(t.Context(), in, sink); err != nil {
		t.Fatal(err)
	}
	if sink.Counts["frames"] != n+1 || len(sink.Fixes) != n+1 {
		t.Fatalf("frames %d fixes %d, want %d", sink.Counts["frames"], len(sink.Fixes), n+1)
	}
	last := sink.Fixes[n]
	if last.Role != geo.RoleHome || math.Abs(last.Lat-50.5) > 1e-9 {
		t.Errorf("home fix %v", last)
	}
	if sink.Fixes[10].Evidence.Offset != int64(10*len(Encode(0, 0, 0, 0, 0, 0, make([]byte, osdMinPayload)))) {
		t.Errorf("offset of frame 10 = %d", sink.Fixes[10].Evidence.Offset)
	}
}

// Manifest and format-notes facts for the four Phantom 3 UART runs (dji-network.md §8).
var runs = []struct {
	file        string
	frames      int64
	osd, home   int
	badCRCFrame []int
}{
	{"duml/p3x_ofdm_to_center_run1.pcap", 4651, 227, 18, nil},
	{"duml/p3x_ofdm_to_center_run2.pcap", 6513, 318, 27, nil},
	{"duml/p3x_ofdm_to_center_run3.pcap", 13024, 377, 33, nil},
	{"duml/p3x_ofdm_to_center_run4.pcap", 21572, 1027, 98, []int{358, 3743, 15584}},
}

func TestCorpusRuns(t *testing.T) {
	for _, run := range runs {
		t.Run(run.file, func(t *testing.T) {
			path := corpus.Path(t, run.file)
			if gt := corpus.Lookup(t, run.file).GroundTruth; !strings.Contains(gt, itoa(run.frames)+" frames") {
				t.Fatalf("manifest ground truth %q does not state %d frames", gt, run.frames)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := capture.NewReader(f, path)
			if err != nil {
				t.Fatal(err)
			}
			sink := &decodertest.Sink{}
			ls := Tap{}.NewLink(decoders.Input{Path: path}, sink)
			osd, home := 0, 0
			for {
				p, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if !(Tap{}).Handles(p.LinkType) {
					t.Fatalf("link type %v not handled", p.LinkType)
				}
				if fr, err := Parse(p.Data); err == nil && fr.CmdSet == SetFlightControl {
					switch fr.CmdID {
					case IDOSDGeneral:
						osd++
					case IDOSDHome:
						home++
					}
				}
				ls.Packet(p)
			}
			ls.Close()
			bad := sink.NotesWithCode("bad-crc")
			if sink.Counts["records"] != run.frames || sink.Counts["frames"] != run.frames-int64(len(run.badCRCFrame)) {
				t.Errorf("records %d frames %d, want %d and %d", sink.Counts["records"], sink.Counts["frames"], run.frames, run.frames-int64(len(run.badCRCFrame)))
			}
			if len(bad) != len(run.badCRCFrame) || sink.Counts["crc16_errors"] != int64(len(run.badCRCFrame)) {
				t.Fatalf("bad CRC notes %d, want %d", len(bad), len(run.badCRCFrame))
			}
			for i, n := range bad {
				if want := "frame " + itoa(int64(run.badCRCFrame[i])); n.Locator != want {
					t.Errorf("bad CRC at %s, want %s", n.Locator, want)
				}
			}
			if osd != run.osd || home != run.home {
				t.Errorf("OSD/home frames %d/%d, want %d/%d", osd, home, run.osd, run.home)
			}
			// Indoors: no fix, and the home sentinel is never turned into a position.
			if len(sink.Fixes) != 0 {
				t.Errorf("%d fixes from an indoor capture, first %v", len(sink.Fixes), sink.Fixes[0])
			}
			if sink.Counts["no_fix"] != int64(run.osd+run.home) {
				t.Errorf("no_fix %d, want %d", sink.Counts["no_fix"], run.osd+run.home)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
