package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"sync/atomic"
	"testing"

	"droneaudit/audit/destinations"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/internal/demo"
	"droneaudit/internal/netfixture"
)

// labCapture generates a lab capture (real TLS and QUIC sessions, DNS, DHCP, HTTP uploads and DJI
// Cloud API MQTT with positions) in the given file format, from the generator's seed.
func labCapture(t testing.TB, f netfixture.Format, packets int, seed uint64) []byte {
	t.Helper()
	lab, err := netfixture.NewLab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, f, lab.KeyLog)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lab.Generate(w, netfixture.Mix{Packets: packets, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// countingSource serves b and counts every byte read from it, sequentially or at an offset.
func countingSource(name string, b []byte, n *atomic.Int64) Source {
	return Source{Name: name, Open: func() (engine.ReadAtCloser, int64, error) {
		return &countingFile{r: bytes.NewReader(b), n: n}, int64(len(b)), nil
	}}
}

type countingFile struct {
	r *bytes.Reader
	n *atomic.Int64
}

func (c *countingFile) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	k, err := c.r.ReadAt(p, off)
	c.n.Add(int64(k))
	return k, err
}

func (c *countingFile) Close() error { return nil }

var _ io.ReaderAt = (*countingFile)(nil)

// An audit with zones and the destination inventory reads each capture exactly once: hashing,
// decoding and the inventory all come from one pass.
func TestAuditReadsCaptureOnce(t *testing.T) {
	for _, f := range []netfixture.Format{netfixture.Pcap, netfixture.Pcapng} {
		data := labCapture(t, f, 3000, 5)
		var n atomic.Int64
		zones := zonesAround(t, 22.9079, 113.7034, 500, geo.Secret)
		rep, err := Run(t.Context(), []Source{countingSource("lab", data, &n)},
			Options{Zones: zones, Policy: DefaultPolicy(), Destinations: &destinations.Options{}})
		if err != nil {
			t.Fatal(err)
		}
		in := rep.Inputs[0]
		if in.Error != "" || in.Fixes == 0 || len(rep.Destinations) == 0 {
			t.Fatalf("format %v: error %q, %d fixes, %d destinations", f, in.Error, in.Fixes, len(rep.Destinations))
		}
		if got := n.Load(); got != int64(len(data)) {
			t.Errorf("format %v: read %d bytes of a %d-byte capture", f, got, len(data))
		}
		if want := sha256Hex(data); in.SHA256 != want {
			t.Errorf("format %v: sha256 %s, want %s", f, in.SHA256, want)
		}
		for _, fd := range rep.Findings {
			if fd.First != nil && fd.First.Evidence.Input == "lab" && fd.First.Evidence.SHA256 != in.SHA256 {
				t.Errorf("finding %s evidence has sha256 %q", fd.ID, fd.First.Evidence.SHA256)
			}
		}
	}
}

// The report is the same bytes whether a capture's flows are followed by one shard or by several.
func TestReportIndependentOfShards(t *testing.T) {
	data := labCapture(t, netfixture.Pcapng, 20000, 5)
	zones := zonesAround(t, 22.9079, 113.7034, 500, geo.Secret)
	var first []byte
	for _, shards := range []int{1, 2, 3, 4} {
		rep, err := Run(t.Context(), []Source{BytesSource("lab.pcapng", data)},
			Options{Zones: zones, Policy: DefaultPolicy(), Destinations: &destinations.Options{}, Shards: shards})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := rep.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = buf.Bytes()
			if rep.Inputs[0].Fixes == 0 || len(rep.Findings) == 0 {
				t.Fatalf("nothing found: %+v", rep.Inputs[0])
			}
			continue
		}
		if !bytes.Equal(first, buf.Bytes()) {
			t.Fatalf("%d shards give another report than 1 shard", shards)
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// BenchmarkAuditLabCapture is the whole audit (zones, inventory) of a generated lab capture of
// 100,000 frames held in memory: the one pass, the decoders and the merge.
func BenchmarkAuditLabCapture(b *testing.B) {
	data := labCapture(b, netfixture.Pcap, 100000, 5)
	zones, err := geo.ParseZones("z", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"Lab","sensitivity":"secret","radius_m":500},"geometry":{"type":"Point","coordinates":[113.7034,22.9079]}}]}`))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), []Source{BytesSource("lab.pcap", data)},
			Options{Zones: zones, Policy: DefaultPolicy(), Destinations: &destinations.Options{}}); err != nil {
			b.Fatal(err)
		}
	}
}

// The progress callback hears of each byte of an input once, whether the input is a capture (read
// as one stream) or a log file (read by its decoder and by the hash beside it), so the bar's
// total is the size of the inputs. A log file counted twice: the bar showed twice the bytes.
func TestProgressCountsEachByteOnce(t *testing.T) {
	srt := []byte("1\n00:00:00,000 --> 00:00:01,000\n2022-08-07 13:40:40,123\n[latitude: 51.168000] [longitude: 5.470000] [rel_alt: 10.0 abs_alt: 60.0]\n\n" +
		"2\n00:00:01,000 --> 00:00:02,000\n2022-08-07 13:40:41,123\n[latitude: 51.168100] [longitude: 5.470100] [rel_alt: 11.0 abs_alt: 61.0]\n\n")
	for _, c := range []struct {
		name string
		data []byte
	}{{"flight.pcapng", demo.EmbeddedCapture}, {"clip.srt", srt}} {
		var n atomic.Int64
		rep, err := Run(t.Context(), []Source{BytesSource(c.name, c.data)}, Options{Policy: DefaultPolicy(), Progress: func(k int64) { n.Add(k) }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Inputs[0].Fixes == 0 {
			t.Fatalf("%s: nothing decoded: %+v", c.name, rep.Inputs[0])
		}
		if got := n.Load(); got != int64(len(c.data)) {
			t.Errorf("%s: progress heard of %d bytes of a %d-byte input", c.name, got, len(c.data))
		}
	}
}
