package evidence_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
	"droneaudit/capture/evidence/evidencetest"
)

// udpFrame builds an Ethernet/IPv4/UDP frame whose payload encodes n, so a test can check that
// each packet came back whole and in order.
func udpFrame(t testing.TB, n int, size int) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{10, 9, 0, 1}, DstIP: net.IP{10, 9, 0, 2}}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 9}
	udp.SetNetworkLayerForChecksum(ip)
	payload := bytes.Repeat([]byte{byte(n)}, max(size, 8))
	copy(payload, fmt.Sprintf("%08d", n%100000000))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// fakeClock is a settable time source for rotation by time.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestWriterRotationBySize(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	const limit = 4096
	stats := map[int]evidence.IfaceStats{0: {Received: 7, Dropped: 1}, 1: {Received: 3}}
	w, err := evidence.NewWriter(evidence.Options{
		Dir: dir, RotateSize: limit, Now: clk.now,
		Interfaces: []evidence.Interface{{Name: "veth0", LinkType: capture.LinkEthernet}, {Name: "mon0", LinkType: capture.LinkRadiotap}},
		Stats:      func(i int) (evidence.IfaceStats, bool) { return stats[i], true },
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := "CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n"
	var want []evidencetest.Packet
	for i := range 60 {
		if i == 10 {
			if err := w.AddSecrets(capture.SecretsTLSKeyLog, []byte(keys)); err != nil {
				t.Fatal(err)
			}
		}
		clk.t = clk.t.Add(time.Millisecond)
		f := udpFrame(t, i, 100+i*7)
		iface := i % 2
		if err := w.WritePacket(iface, clk.t, len(f), f); err != nil {
			t.Fatal(err)
		}
		want = append(want, evidencetest.Packet{Iface: iface, Time: clk.t, Data: f})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(0, clk.t, 1, []byte{1}); !errors.Is(err, evidence.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	got, secrets, entries := evidencetest.Verify(t, dir)
	if len(entries) < 5 {
		t.Fatalf("%d files for 60 packets of ~300 bytes under a %d-byte limit", len(entries), limit)
	}
	for _, e := range entries {
		st, _ := os.Stat(filepath.Join(dir, e.Name))
		if st.Size() > limit {
			t.Errorf("%s is %d bytes, above the %d limit", e.Name, st.Size(), limit)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("read back %d packets, wrote %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Iface != want[i].Iface || !got[i].Time.Equal(want[i].Time) || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("packet %d differs: iface %d/%d time %v/%v", i, got[i].Iface, want[i].Iface, got[i].Time, want[i].Time)
		}
	}
	// The key arrived during the first file; every later file repeats it at its start.
	withKeys := 0
	for _, s := range secrets {
		if string(s) == keys {
			withKeys++
		}
	}
	if withKeys < len(entries)-1 {
		t.Errorf("%d of %d files carry the key log", withKeys, len(entries))
	}
	// Each file ends with one statistics block per interface carrying the kernel counters.
	isb := isbCounters(t, filepath.Join(dir, entries[0].Name))
	if len(isb) != 2 || isb[0] != stats[0] || isb[1] != stats[1] {
		t.Errorf("statistics blocks %v, want %v", isb, stats)
	}
	if ws := w.Stats(); ws.Packets != 60 || ws.Files != len(entries) {
		t.Errorf("stats %+v", ws)
	}
}

func TestWriterRotationByTime(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	w, err := evidence.NewWriter(evidence.Options{Dir: dir, RotateTime: time.Minute, Now: clk.now, Prefix: "lab",
		Interfaces: []evidence.Interface{{Name: "br0", LinkType: capture.LinkEthernet}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		f := udpFrame(t, i, 64)
		if err := w.WritePacket(0, clk.t, len(f), f); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(25 * time.Second) // a new file every third packet
	}
	// An idle period still rotates through Tick.
	clk.t = clk.t.Add(2 * time.Minute)
	if err := w.Tick(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, entries := evidencetest.Verify(t, dir)
	if len(got) != 10 {
		t.Fatalf("read back %d packets", len(got))
	}
	// 10 packets over 225 s with a 60 s limit, plus the idle rotation: 5 files.
	if len(entries) != 5 {
		t.Errorf("%d files, want 5: %v", len(entries), entries)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name, "lab-") || !strings.HasSuffix(e.Name, ".pcapng") {
			t.Errorf("file name %q", e.Name)
		}
	}
}

func TestWriterKeepsExistingManifest(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		w, err := evidence.NewWriter(evidence.Options{Dir: dir, Interfaces: []evidence.Interface{{Name: "eth0", LinkType: capture.LinkEthernet}}})
		if err != nil {
			t.Fatal(err)
		}
		f := udpFrame(t, run, 80)
		if err := w.WritePacket(0, time.Now(), len(f), f); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, _, entries := evidencetest.Verify(t, dir)
	if len(entries) != 2 || len(got) != 2 || entries[0].Name == entries[1].Name {
		t.Fatalf("entries %v, %d packets", entries, len(got))
	}
}

func TestWriterRejectsBadManifest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, evidence.ManifestName), []byte("not a manifest\n"), 0o600)
	_, err := evidence.NewWriter(evidence.Options{Dir: dir, Interfaces: []evidence.Interface{{Name: "eth0", LinkType: capture.LinkEthernet}}})
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err = %v", err)
	}
}

// TestWriterDiskFull fills a small tmpfs: the writer must stop with a disk-full error and leave
// only valid files, the last one cut back to a whole block and marked in the manifest.
func TestWriterDiskFull(t *testing.T) {
	dir := mountTmpfs(t, 1<<20)
	w, err := evidence.NewWriter(evidence.Options{Dir: dir, RotateSize: 300 << 10,
		Interfaces: []evidence.Interface{{Name: "eth0", LinkType: capture.LinkEthernet}},
		Stats:      func(int) (evidence.IfaceStats, bool) { return evidence.IfaceStats{Received: 1}, true }})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	n := 0
	for ; n < 100000 && werr == nil; n++ {
		f := udpFrame(t, n, 1000)
		werr = w.WritePacket(0, time.Unix(1700000000, int64(n)), len(f), f)
	}
	if werr == nil || !evidence.IsDiskFull(werr) || !strings.Contains(werr.Error(), "disk full") || !strings.Contains(werr.Error(), dir) {
		t.Fatalf("after %d packets: err = %v", n, werr)
	}
	if err := w.Close(); err == nil {
		t.Errorf("Close after a full disk returned no error")
	}
	got, _, entries := evidencetest.Verify(t, dir)
	last := entries[len(entries)-1]
	if !strings.Contains(last.Note, "truncated") && !strings.Contains(last.Note, "removed") {
		t.Errorf("last entry has no note: %+v", last)
	}
	if len(got) == 0 || len(got) >= n {
		t.Errorf("%d packets kept of %d written before the error", len(got), n)
	}
	for i, p := range got {
		if !bytes.Equal(p.Data, udpFrame(t, i, 1000)) {
			t.Fatalf("packet %d changed", i)
		}
	}
	files := w.Files()
	if lf := files[len(files)-1]; lf.Name == last.Name && !lf.Truncated {
		t.Errorf("last file not marked truncated: %+v", lf)
	}
	var sum, bytesBack int64
	for _, f := range files {
		sum += f.Packets
	}
	for _, p := range got {
		bytesBack += int64(len(p.Data))
	}
	if sum != int64(len(got)) || w.Stats().Packets != sum || w.Stats().Bytes != bytesBack {
		t.Errorf("files say %d packets, stats %+v, read back %d packets of %d bytes", sum, w.Stats(), len(got), bytesBack)
	}
	t.Logf("disk full after %d packets; %d files, %d packets kept; last: %s", n, len(entries), len(got), last.Note)
}

// mountTmpfs mounts a tmpfs of size bytes for the test; it needs root and skips otherwise.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

func BenchmarkWriter(b *testing.B) {
	for _, hold := range []time.Duration{0, time.Second} {
		b.Run(fmt.Sprintf("holdback=%v", hold), func(b *testing.B) {
			// No rotation: a rotation syncs the file to disk, which measures the disk, not us.
			w, err := evidence.NewWriter(evidence.Options{Dir: b.TempDir(), HoldBack: hold, Interfaces: []evidence.Interface{{Name: "eth0", LinkType: capture.LinkEthernet}}})
			if err != nil {
				b.Fatal(err)
			}
			f := udpFrame(b, 1, 800)
			ts := time.Now()
			b.SetBytes(int64(len(f)))
			b.ResetTimer()
			for range b.N {
				if err := w.WritePacket(0, ts, len(f), f); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			w.Close()
		})
	}
}

// BenchmarkWriterPcapgoBaseline writes the same frames with gopacket's pcapgo.NgWriter (no
// rotation, hashing or manifest), the baseline for BenchmarkWriter.
func BenchmarkWriterPcapgoBaseline(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "base.pcapng"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w, err := pcapgo.NewNgWriter(f, layers.LinkTypeEthernet)
	if err != nil {
		b.Fatal(err)
	}
	frame := udpFrame(b, 1, 800)
	ci := gopacket.CaptureInfo{Timestamp: time.Now(), CaptureLength: len(frame), Length: len(frame)}
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for range b.N {
		if err := w.WritePacket(ci, frame); err != nil {
			b.Fatal(err)
		}
	}
	w.Flush()
}

// isbCounters walks the blocks of a pcapng file (little-endian, as the writer emits) and returns
// isb_ifrecv and isb_ifdrop of each Interface Statistics Block by interface. Block and option
// codes are the specification's (draft-ietf-opsawg-pcapng-03 §4.6), not the writer's constants,
// so a wrong constant in the writer shows.
func isbCounters(t *testing.T, path string) map[int]evidence.IfaceStats {
	t.Helper()
	const isbType, optIfRecv, optIfDrop = 5, 4, 5
	le := binary.LittleEndian
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]evidence.IfaceStats{}
	for off := 0; off+12 <= len(b); {
		typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			t.Fatalf("bad block at %d", off)
		}
		if typ == isbType {
			body := b[off+8 : off+n-4]
			iface := int(le.Uint32(body))
			var st evidence.IfaceStats
			for o := body[12:]; len(o) >= 4; {
				code, l := le.Uint16(o), int(le.Uint16(o[2:]))
				if code == 0 || 4+l > len(o) {
					break
				}
				switch code {
				case optIfRecv:
					st.Received = le.Uint64(o[4:])
				case optIfDrop:
					st.Dropped = le.Uint64(o[4:])
				}
				o = o[4+l+(4-l%4)%4:]
			}
			out[iface] = st
		}
		off += n
	}
	return out
}

// TestWriterPacketFlags: the direction and reception type of each frame land in its epb_flags
// option, a frame of unknown direction gets no option, and tshark (when installed) reads the
// same flags from the file.
func TestWriterPacketFlags(t *testing.T) {
	dir := t.TempDir()
	w, err := evidence.NewWriter(evidence.Options{Dir: dir, Interfaces: []evidence.Interface{{Name: "veth0", LinkType: capture.LinkEthernet}}})
	if err != nil {
		t.Fatal(err)
	}
	flags := []evidence.PacketFlags{
		evidence.Outbound,
		evidence.Inbound | evidence.Unicast,
		0,
		evidence.Inbound | evidence.Broadcast,
		evidence.Inbound | evidence.Multicast,
		evidence.Inbound | evidence.Promiscuous,
	}
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for i, f := range flags {
		// Odd sizes too: the option must start on a 32-bit boundary after the padded data.
		frame := udpFrame(t, i, 41+i)
		if err := w.WritePacketFlags(0, t0.Add(time.Duration(i)*time.Millisecond), len(frame), f, frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, entries := evidencetest.Verify(t, dir)
	if len(got) != len(flags) {
		t.Fatalf("read back %d packets, wrote %d", len(got), len(flags))
	}
	for i, f := range flags {
		if got[i].Flags != f || !bytes.Equal(got[i].Data, udpFrame(t, i, 41+i)) {
			t.Errorf("packet %d: flags %#x, want %#x (or its bytes differ)", i, got[i].Flags, f)
		}
	}
	ts, err := exec.LookPath("tshark")
	if err != nil {
		return
	}
	out, err := exec.Command(ts, "-r", filepath.Join(dir, entries[0].Name), "-T", "fields", "-E", "separator=,",
		"-e", "frame.packet_flags_direction", "-e", "frame.packet_flags_reception_type").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(flags) {
		t.Fatalf("tshark reads %d packets: %q", len(lines), out)
	}
	for i, l := range lines {
		// tshark prints the direction in hex (0x00000002) and the reception type in decimal;
		// both fields are empty for a packet without the option.
		d, r, _ := strings.Cut(l, ",")
		want := ","
		if flags[i] != 0 {
			want = fmt.Sprintf("%d,%d", flags[i].Direction(), flags[i].Reception()>>2)
		}
		if got := tsharkNumber(d) + "," + tsharkNumber(r); got != want {
			t.Errorf("packet %d: tshark reads direction,reception %q, want %q", i, got, want)
		}
	}
}

// tsharkNumber normalises a numeric tshark field (decimal or 0x hex) to decimal; "" stays "".
func tsharkNumber(s string) string {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 32)
	if err != nil {
		return strings.TrimSpace(s)
	}
	return strconv.FormatUint(n, 10)
}
