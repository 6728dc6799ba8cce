package destinations

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"droneaudit/capture"
	"droneaudit/internal/netfixture"
)

// A capture rotated into several files is one capture: connections that continue from one file
// into the next stay one flow, with the same names and byte counts as the whole file gives.
func TestRotatedFilesAreOneCapture(t *testing.T) {
	whole := lab(t)[netfixture.Pcap].path
	f, err := os.Open(whole)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capture.NewReader(f, whole)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var parts []string
	var w *pcapgo.Writer
	var out *os.File
	for n := 0; ; n++ {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n%997 == 0 { // rotate every 997 packets: cuts through many connections
			if out != nil {
				out.Close()
			}
			name := filepath.Join(dir, "part"+string(rune('a'+len(parts)))+".pcap")
			if out, err = os.Create(name); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, name)
			w = pcapgo.NewWriter(out)
			w.WriteFileHeader(65535, layers.LinkType(p.LinkType))
		}
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: p.OrigLen}, p.Data); err != nil {
			t.Fatal(err)
		}
	}
	out.Close()
	if len(parts) < 3 {
		t.Fatalf("only %d parts", len(parts))
	}
	a, err := Build(context.Background(), []string{whole}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(context.Background(), parts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Rows) != len(b.Rows) {
		t.Fatalf("%d rows from the whole capture, %d from its %d parts", len(a.Rows), len(b.Rows), len(parts))
	}
	for i := range a.Rows {
		if !reflect.DeepEqual(a.Rows[i], b.Rows[i]) {
			t.Errorf("row %d differs:\nwhole %+v\nparts %+v", i, a.Rows[i], b.Rows[i])
		}
	}
}
