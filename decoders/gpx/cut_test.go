package gpx

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"hash/crc32"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/decoders/decodertest"
	"droneaudit/geo"
)

// TestCutFile is the GPX, KML and KMZ row of the cut-file table (decodertest.Cuts). XML has an
// end marker (the root's end tag), so every cut is reported, at the start of the record the
// document ends in: the open GPX point or KML Placemark, the tag being read, or else the
// innermost open element. A KMZ cut anywhere loses its central directory; its entries are then
// read from their local headers, and the note names the entry (or the directory) the file ends in.
func TestCutFile(t *testing.T) {
	t.Run("gpx", func(t *testing.T) {
		data := writeGPX("1.1", track(12))
		text := string(data)
		pt := func(n int) int64 { // offset of the n-th trkpt (0-based)
			off := 0
			for i := 0; i <= n; i++ {
				off += strings.Index(text[off:], "<trkpt") + 1
			}
			return int64(off - 1)
		}
		p8, seg := pt(8), int64(strings.Index(text, "<trkseg>"))
		end := int64(strings.Index(text, "</gpx>"))
		decodertest.Cuts(t, New(), "cut.gpx", data, []decodertest.Cut{
			{Name: "inside the XML declaration", At: 10, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
			{Name: "inside a point's start tag", At: p8 + 12, Before: p8, Want: []decodertest.WantNote{decodertest.Truncated(p8)}},
			{Name: "inside a point's elevation", At: p8 + int64(strings.Index(text[p8:], "<ele>")) + 7, Before: p8, Want: []decodertest.WantNote{decodertest.Truncated(p8)}},
			{Name: "between two points", At: p8, Before: p8, Want: []decodertest.WantNote{decodertest.Truncated(seg)}},
			{Name: "inside the end tag of the root", At: end + 3, Before: end, Want: []decodertest.WantNote{decodertest.Truncated(end)}},
		})
	})
	t.Run("kml", func(t *testing.T) {
		data := writeKML(track(12))
		text := string(data)
		path := int64(strings.Index(text, "<Placemark><name>Path"))
		trk := int64(strings.Index(text, "<Placemark><name>Track"))
		coords := path + int64(strings.Index(text[path:], "<coordinates>"))
		decodertest.Cuts(t, New(), "cut.kml", data, []decodertest.Cut{
			{Name: "inside the kml start tag", At: int64(strings.Index(text, "<kml")) + 20, Want: []decodertest.WantNote{decodertest.Truncated(int64(strings.Index(text, "<kml")))}},
			{Name: "inside a LineString tuple", At: coords + 40, Before: path, Want: []decodertest.WantNote{decodertest.Truncated(path)}},
			{Name: "inside a gx:Track", At: trk + 200, Before: trk, Want: []decodertest.WantNote{decodertest.Truncated(trk)}},
			{Name: "between two Placemarks", At: trk, Before: trk, Want: []decodertest.WantNote{decodertest.Truncated(int64(strings.Index(text, "<Document>")))}},
		})
	})
	t.Run("kmz", func(t *testing.T) {
		pts := track(6)
		data, offs := writeMixedKMZ(t, writeKML(pts))
		perEntry := 2*len(pts) + 1 + 4 // LineString, gx:Track, take-off, polygon
		decodertest.Cuts(t, New(), "cut.kmz", data, []decodertest.Cut{
			{Name: "inside the first local header", At: 12, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
			{Name: "inside the first entry's data", At: offs.icon / 2, Want: []decodertest.WantNote{decodertest.Truncated(0)}},
			{Name: "at an entry boundary", At: offs.icon, First: perEntry, Want: []decodertest.WantNote{decodertest.Truncated(offs.icon)}},
			{Name: "inside a stored entry", At: offs.icon + 40, First: perEntry, Want: []decodertest.WantNote{decodertest.Truncated(offs.icon)}},
			{Name: "inside the header of an entry with sizes", At: offs.wpml + 20, First: perEntry, Want: []decodertest.WantNote{decodertest.Truncated(offs.wpml)}},
			{Name: "inside an entry with sizes", At: (offs.wpml + offs.dir) / 2, First: perEntry, Want: []decodertest.WantNote{decodertest.Truncated(offs.wpml)}},
			{Name: "inside the central directory", At: offs.dir + 30, First: 2 * perEntry, Want: []decodertest.WantNote{decodertest.Truncated(offs.dir)}},
		})
	})
}

type kmzOffsets struct{ icon, wpml, dir int64 }

// writeMixedKMZ writes a KMZ in the three ways writers store entries: doc.kml deflated with a
// data descriptor (archive/zip's Create), files/icon.png stored with a descriptor, and
// wpmz/waylines.wpml deflated with its sizes in the local header (CreateRaw). It returns the
// offsets of the second and third local headers and of the central directory.
func writeMixedKMZ(t testing.TB, kml []byte) ([]byte, kmzOffsets) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("doc.kml")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(kml)
	if w, err = zw.CreateHeader(&zip.FileHeader{Name: "files/icon.png", Method: zip.Store}); err != nil {
		t.Fatal(err)
	}
	w.Write(append([]byte{0x89, 'P', 'N', 'G'}, bytes.Repeat([]byte{7}, 200)...))
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.DefaultCompression)
	fw.Write(kml)
	fw.Close()
	h := &zip.FileHeader{Name: "wpmz/waylines.wpml", Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(kml),
		CompressedSize64: uint64(comp.Len()), UncompressedSize64: uint64(len(kml))}
	if w, err = zw.CreateRaw(h); err != nil {
		t.Fatal(err)
	}
	w.Write(comp.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// A local header's name follows its 30 fixed bytes; the first occurrence of a name is in
	// its local header, the central directory coming last.
	local := func(name string) int64 { return int64(bytes.Index(data, []byte(name)) - 30) }
	o := kmzOffsets{icon: local("files/icon.png"), wpml: local("wpmz/waylines.wpml"), dir: int64(bytes.Index(data, []byte("PK\x01\x02")))}
	for _, off := range []int64{o.icon, o.wpml, o.dir} {
		if off <= 0 || !bytes.HasPrefix(data[off:], []byte("PK")) {
			t.Fatalf("offsets %+v", o)
		}
	}
	return data, o
}

// TestKMZStreamed: a KMZ whose central directory is gone yields the positions of every complete
// entry, from their local headers, whatever way each was stored.
func TestKMZStreamed(t *testing.T) {
	pts := track(6)
	data, o := writeMixedKMZ(t, writeKML(pts))
	s := decodeBytes(t, "cut.kmz", data[:o.dir])
	if len(fixesOf(s, geo.RoleAircraft)) != 4*len(pts) || len(s.NotesWithCode(decoders.CodeTruncated)) != 1 {
		t.Fatalf("%d aircraft fixes, notes %+v", len(fixesOf(s, geo.RoleAircraft)), s.Notes)
	}
	// A directory that is present but unreadable is damage, not a cut.
	bad := bytes.Clone(data)
	copy(bad[o.dir:], "XXXX")
	s = decodeBytes(t, "bad.kmz", bad)
	if len(fixesOf(s, geo.RoleAircraft)) != 4*len(pts) || len(s.NotesWithCode(decoders.CodeBadZip)) != 1 || len(s.NotesWithCode(decoders.CodeTruncated)) != 0 {
		t.Fatalf("bad directory: %d aircraft fixes, notes %+v", len(fixesOf(s, geo.RoleAircraft)), s.Notes)
	}
}

// bombKML is a KML with one Placemark and then n bytes of comments: it deflates about 120 times
// (flate.BestSpeed), as the 1.56 MB KMZ of the hostile-input issue did.
func bombKMZ(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, err := zw.Create("doc.kml")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`<?xml version="1.0"?><kml><Document><Placemark><name>Take-off</name><Point><coordinates>16.37,48.2</coordinates></Point></Placemark>`))
	pad := bytes.Repeat([]byte("<!-- padding padding padding -->\n"), 1<<15)
	for m := 0; m < n; m += len(pad) {
		w.Write(pad)
	}
	w.Write([]byte("</Document></kml>\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZipBombStopsEarly: a KMZ entry that inflates 120 times its compressed size is stopped as it
// inflates (after about maxRatio times the compressed bytes read, not at the 256 MiB entry bound)
// with a too-large note, in well under a second; the position before the padding stands.
func TestZipBombStopsEarly(t *testing.T) {
	bomb := bombKMZ(t, 200<<20) // 200 MB of KML in about 1.7 MB
	budget := decoders.NewExpansionBudget(1 << 30)
	s := &decodertest.Sink{}
	in := decoders.Input{Path: "bomb.kmz", Size: int64(len(bomb)), R: bytes.NewReader(bomb)}
	start := time.Now()
	if err := (Decoder{Budget: budget}).Decode(context.Background(), in, s); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if n := s.NotesWithCode(decoders.CodeTooLarge); len(n) != 1 || !strings.Contains(n[0].Message, "expands more than") {
		t.Fatalf("notes %+v", s.Notes)
	}
	if len(s.Fixes) != 1 {
		t.Errorf("fixes %v", s.Fixes)
	}
	t.Logf("stopped a %d-byte KMZ in %v, %d bytes inflated", len(bomb), took, budget.Used())
	// The bound that matters is the bytes inflated (below); the time only catches a runaway
	// inflate, with room for the race detector on a shared 2-core machine (526 ms seen in CI).
	if took > 5*time.Second {
		t.Errorf("stopping the bomb took %v", took)
	}
	if used := budget.Used(); used > 20<<20 {
		t.Errorf("inflated %d bytes of a %d-byte KMZ", used, len(bomb))
	}
}

// TestExpansionBudgetShared: the inputs of one run share one budget, also when decoded
// concurrently; once it is spent, every further KMZ entry stops with a note.
func TestExpansionBudgetShared(t *testing.T) {
	kml := writeKML(track(50))
	kmz := writeKMZ(t, map[string][]byte{"doc.kml": kml}, []string{"doc.kml"})
	decode := func(d Decoder) *decodertest.Sink {
		s := &decodertest.Sink{}
		in := decoders.Input{Path: "run.kmz", Size: int64(len(kmz)), R: bytes.NewReader(kmz)}
		if err := d.Decode(context.Background(), in, s); err != nil {
			t.Error(err)
		}
		return s
	}
	count := func(sinks []*decodertest.Sink) (whole, stopped int) {
		for _, s := range sinks {
			n := s.NotesWithCode(decoders.CodeTooLarge)
			switch {
			case len(n) == 0:
				whole++
			case strings.Contains(n[0].Message, "budget"):
				stopped++
			default:
				t.Errorf("notes %+v", s.Notes)
			}
		}
		return whole, stopped
	}
	// One after the other: two and a half entries' worth decode two inputs whole.
	d := Decoder{Budget: decoders.NewExpansionBudget(int64(len(kml)) * 5 / 2)}
	var sinks []*decodertest.Sink
	for range 6 {
		sinks = append(sinks, decode(d))
	}
	if whole, stopped := count(sinks); whole != 2 || stopped != 4 {
		t.Errorf("one after the other: %d inputs decoded whole, %d stopped by the budget; want 2 and 4", whole, stopped)
	}
	// At the same time: the same budget is never exceeded by more than the reads in flight.
	d = Decoder{Budget: decoders.NewExpansionBudget(int64(len(kml)) * 5 / 2)}
	sinks = make([]*decodertest.Sink, 8)
	var wg sync.WaitGroup
	for i := range sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sinks[i] = decode(d)
		}()
	}
	wg.Wait()
	if whole, stopped := count(sinks); whole > 2 || whole+stopped != 8 {
		t.Errorf("concurrently: %d inputs decoded whole, %d stopped by the budget", whole, stopped)
	}
	if d.Budget.Used() < d.Budget.Limit() {
		t.Errorf("budget used %d of %d", d.Budget.Used(), d.Budget.Limit())
	}
}
