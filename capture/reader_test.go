package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/internal/corpus"
)

// pcapFile writes a classic pcap in either byte order and time resolution.
func pcapFile(order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}, nano bool, lt uint32, pkts [][]byte, t0 time.Time) []byte {
	var b []byte
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 65535)
	b = order.AppendUint32(b, lt)
	for i, p := range pkts {
		ts := t0.Add(time.Duration(i) * 1500 * time.Microsecond)
		frac := uint32(ts.Nanosecond() / 1000)
		if nano {
			frac = uint32(ts.Nanosecond())
		}
		b = order.AppendUint32(b, uint32(ts.Unix()))
		b = order.AppendUint32(b, frac)
		b = order.AppendUint32(b, uint32(len(p)))
		b = order.AppendUint32(b, uint32(len(p)+4))
		b = append(b, p...)
	}
	return b
}

func readAll(t *testing.T, data []byte) ([]Packet, error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), "test.cap")
	if err != nil {
		return nil, err
	}
	var out []Packet
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		c := *p
		c.Data = append([]byte(nil), p.Data...)
		out = append(out, c)
	}
}

func TestPcapByteOrdersAndResolutions(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	pkts := [][]byte{[]byte("first"), []byte("second packet"), {}}
	for _, order := range []interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}{binary.LittleEndian, binary.BigEndian} {
		for _, nano := range []bool{false, true} {
			data := pcapFile(order, nano, 150, pkts, t0)
			if !Sniff(data) {
				t.Fatal("sniff")
			}
			got, err := readAll(t, data)
			if err != nil || len(got) != 3 {
				t.Fatalf("%v nano=%v: %d packets, %v", order, nano, len(got), err)
			}
			want := t0.Truncate(time.Microsecond)
			if nano {
				want = t0
			}
			if !got[0].Time.Equal(want) || got[1].Frame != 2 || string(got[1].Data) != "second packet" || got[1].OrigLen != 17 || got[0].LinkType != 150 || !got[0].LinkType.IsUser() {
				t.Fatalf("%v nano=%v: %+v", order, nano, got[:2])
			}
			if got[1].Offset != 24+16+5 {
				t.Fatalf("offset of frame 2 = %d", got[1].Offset)
			}
		}
	}
}

// A file cut in the middle of a record yields the packets before the cut and an error that
// names the file and the offset of the cut record.
func TestTruncatedCapture(t *testing.T) {
	data := pcapFile(binary.LittleEndian, false, 1, [][]byte{make([]byte, 60), make([]byte, 60), make([]byte, 60)}, time.Unix(0, 0))
	cut := data[:len(data)-10]
	got, err := readAll(t, cut)
	var fe *FormatError
	if len(got) != 2 || !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%d packets, err %v", len(got), err)
	}
	if fe.Offset != 24+2*76+16 || !strings.Contains(err.Error(), "test.cap: offset 192") {
		t.Fatalf("error %q (offset %d)", err, fe.Offset)
	}
	// An absurd record length is refused without allocating it.
	bad := append([]byte(nil), data[:24+16]...)
	binary.LittleEndian.PutUint32(bad[24+8:], 1<<30)
	if _, err := readAll(t, bad); err == nil || !strings.Contains(err.Error(), "exceeds the limit") {
		t.Fatalf("huge record: %v", err)
	}
}

// pcapng with two interfaces of different link types, written by gopacket's writer (which gives
// both nanosecond resolution, as tshark confirms), plus a Decryption Secrets Block. Microsecond
// pcapng files are covered by the corpus test against tshark.
func TestPcapngInterfaces(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, TimestampResolution: 9},
		pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := w.AddInterface(pcapgo.NgInterface{Name: "mon0", LinkType: layers.LinkTypeIEEE80211Radio, TimestampResolution: 6})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 987654321, time.UTC)
	w.WritePacket(gopacket.CaptureInfo{Timestamp: t0, CaptureLength: 3, Length: 3, InterfaceIndex: 0}, []byte{1, 2, 3})
	w.WritePacket(gopacket.CaptureInfo{Timestamp: t0, CaptureLength: 2, Length: 9, InterfaceIndex: id}, []byte{4, 5})
	if err := w.WriteDecryptionSecretsBlock(SecretsTLSKeyLog, []byte("CLIENT_RANDOM 00 11\n")); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	r, err := NewReader(bytes.NewReader(buf.Bytes()), "ng")
	if err != nil {
		t.Fatal(err)
	}
	var secrets []Secret
	r.OnSecrets = func(s Secret) { secrets = append(secrets, s) }
	var got []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c := *p
		c.Data = append([]byte(nil), p.Data...)
		got = append(got, c)
	}
	if r.Format() != "pcapng" || len(got) != 2 {
		t.Fatalf("%s %d", r.Format(), len(got))
	}
	if got[0].LinkType != LinkEthernet || !got[0].Time.Equal(t0) || got[1].LinkType != LinkRadiotap || got[1].Interface != 1 ||
		!got[1].Time.Equal(t0) || got[1].OrigLen != 9 || !bytes.Equal(got[1].Data, []byte{4, 5}) {
		t.Fatalf("%+v", got)
	}
	if len(secrets) != 1 || secrets[0].Type != SecretsTLSKeyLog || string(secrets[0].Data) != "CLIENT_RANDOM 00 11\n" {
		t.Fatalf("secrets %+v", secrets)
	}
}

// tshark as an oracle: frame counts and the first frame's time of every capture in the corpus.
func TestCorpusAgainstTshark(t *testing.T) {
	corpus.Dir(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	var files []string
	for _, prefix := range []string{"duml/", "mavlink/", "ota/"} {
		for _, e := range corpus.Files(t, prefix) {
			if strings.HasSuffix(e.File, ".pcap") || strings.HasSuffix(e.File, ".pcapng") {
				files = append(files, e.File)
			}
		}
	}
	if len(files) < 8 {
		t.Fatalf("only %d capture files found in the corpus", len(files))
	}
	for _, rel := range files {
		path := corpus.Path(t, rel)
		out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", rel, err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		data, _ := os.ReadFile(path)
		got, err := readAll(t, data)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if len(got) != len(lines) {
			t.Fatalf("%s: %d packets, tshark %d", rel, len(got), len(lines))
		}
		f := strings.Fields(lines[0])
		sec, _ := strconv.ParseFloat(f[0], 64)
		if d := got[0].Time.Sub(time.Unix(0, int64(sec*1e9))); d > time.Millisecond || d < -time.Millisecond {
			t.Errorf("%s: first frame at %v, tshark %s", rel, got[0].Time, f[0])
		}
		if n, _ := strconv.Atoi(f[1]); n != got[0].OrigLen {
			t.Errorf("%s: first frame length %d, tshark %d", rel, got[0].OrigLen, n)
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(pcapFile(binary.LittleEndian, false, 1, [][]byte{[]byte("abc")}, time.Unix(1, 0)))
	f.Add(pcapFile(binary.BigEndian, true, 127, [][]byte{[]byte("abc"), {}}, time.Unix(1, 0)))
	var buf bytes.Buffer
	w, _ := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(5, 0), CaptureLength: 4, Length: 4}, []byte{1, 2, 3, 4})
	w.Flush()
	f.Add(buf.Bytes())
	for _, s := range corpus.CaptureSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		nd := NewNetDecoder()
		for i := 0; i < 10000; i++ {
			p, err := r.Next()
			if err != nil {
				return
			}
			if len(p.Data) > len(b) {
				t.Fatalf("packet of %d bytes from a %d-byte file", len(p.Data), len(b))
			}
			nd.Decode(p)
		}
	})
}

// Hand-made pcapng: big-endian section, an interface with if_tsresol 10^-3 and one with 2^-10,
// and a truncated last block.
func TestPcapngResolutionsBigEndian(t *testing.T) {
	be := binary.BigEndian
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		b := be.AppendUint32(nil, typ)
		b = be.AppendUint32(b, n)
		b = append(b, body...)
		return be.AppendUint32(b, n)
	}
	shb := be.AppendUint32(nil, ngByteOrder)
	shb = be.AppendUint16(shb, 1)
	shb = be.AppendUint16(shb, 0)
	shb = be.AppendUint64(shb, ^uint64(0))
	idb := func(lt uint16, res byte) []byte {
		b := be.AppendUint16(nil, lt)
		b = be.AppendUint16(b, 0)
		b = be.AppendUint32(b, 0)
		b = be.AppendUint16(b, 9) // if_tsresol
		b = be.AppendUint16(b, 1)
		b = append(b, res, 0, 0, 0)
		return append(b, 0, 0, 0, 0) // opt_endofopt
	}
	epb := func(iface uint32, ts uint64, data []byte) []byte {
		b := be.AppendUint32(nil, iface)
		b = be.AppendUint32(b, uint32(ts>>32))
		b = be.AppendUint32(b, uint32(ts))
		b = be.AppendUint32(b, uint32(len(data)))
		b = be.AppendUint32(b, uint32(len(data)))
		return append(b, data...)
	}
	var f []byte
	f = append(f, block(ngSHBType, shb)...)
	f = append(f, block(ngIDB, idb(1, 3))...)
	f = append(f, block(ngIDB, idb(101, 0x80|10))...)
	f = append(f, block(ngEPB, epb(0, 1_700_000_000_123, []byte{1}))...)
	f = append(f, block(ngEPB, epb(1, 1024*5+512, []byte{2, 3}))...)
	last := block(ngEPB, epb(0, 1, []byte{9, 9, 9}))
	f = append(f, last[:len(last)-5]...)
	got, err := readAll(t, f)
	if len(got) != 2 || err == nil || !strings.Contains(err.Error(), "truncated pcapng block") {
		t.Fatalf("%d packets, err %v", len(got), err)
	}
	if !got[0].Time.Equal(time.UnixMilli(1_700_000_000_123)) || got[0].LinkType != LinkEthernet {
		t.Errorf("ms resolution: %v", got[0].Time)
	}
	if !got[1].Time.Equal(time.Unix(5, 500_000_000)) || got[1].LinkType != LinkRaw || got[1].Interface != 1 {
		t.Errorf("2^-10 resolution: %v", got[1].Time)
	}
}
