package objects_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"droneaudit/decoders"
	"droneaudit/decoders/csvlog"
	"droneaudit/decoders/decodertest"
	"droneaudit/decoders/djilog"
	"droneaudit/decoders/exif/exiftest"
	"droneaudit/decoders/gpx"
	"droneaudit/decoders/httpbody"
	"droneaudit/decoders/objects"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

func TestIdentify(t *testing.T) {
	var pngBuf, zipBuf, gzBuf bytes.Buffer
	png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 4, 4)))
	zw := zip.NewWriter(&zipBuf)
	w, _ := zw.Create("waylines.wpml")
	w.Write([]byte("<kml/>"))
	zw.Close()
	gw := gzip.NewWriter(&gzBuf)
	gw.Write([]byte("x"))
	gw.Close()
	ze, _ := zstd.NewWriter(nil)
	zst := ze.EncodeAll([]byte("hello"), nil)
	// A protobuf message: field 1 varint 150, field 2 string "testing", field 3 fixed32.
	pb := []byte{0x08, 0x96, 0x01, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g', 0x1d, 1, 2, 3, 4}
	bigJSON := []byte(`{"data":[` + strings.Repeat(`{"latitude":22.9,"longitude":113.7},`, 3000) + `{}]}`)
	random := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	random[0] = 0xff // not a varint key that parses far
	for _, c := range []struct {
		name string
		body []byte
		want objects.Kind
	}{
		{"empty", nil, objects.KindEmpty},
		{"jpeg", exiftest.Image(t), objects.KindJPEG},
		{"png", pngBuf.Bytes(), objects.KindPNG},
		{"zip", zipBuf.Bytes(), objects.KindZIP},
		{"gzip", gzBuf.Bytes(), objects.KindGzip},
		{"zstd", zst, objects.KindZstd},
		{"json", []byte(` {"a":[1,2]}`), objects.KindJSON},
		{"json cut at 64 KiB", bigJSON, objects.KindJSON},
		{"broken json", []byte(`{"a":}`), objects.KindText},
		{"text", []byte("hello, world\n"), objects.KindText},
		{"protobuf", pb, objects.KindProtobuf},
		{"random", random, objects.KindBinary},
	} {
		if got := objects.Identify(c.body); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if len(bigJSON) <= decoders.SniffLen {
		t.Fatal("big JSON is not bigger than the head")
	}
	o := objects.Describe([]byte("abc"))
	if o.SHA256 != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || o.Size != 3 || o.Kind != objects.KindText {
		t.Errorf("%+v", o)
	}
}

func TestImagePositions(t *testing.T) {
	j := exiftest.Image(t, exiftest.GPSSegment(47.3977419, 8.5455938, 488.2, binary.BigEndian),
		exiftest.XMPSegment(exiftest.DJIXMP("+47.397742", "+8.545594", "+488.21", "+31.40")))
	pos, notes := objects.ImagePositions(j)
	if len(notes) != 0 || len(pos) != 2 {
		t.Fatalf("%+v %+v", pos, notes)
	}
	e, x := pos[0], pos[1]
	if e.Source != objects.SourceEXIF || e.Lat < 47.39774 || e.Lat > 47.39775 || e.AltM != 488.2 || e.AltRef != "msl" {
		t.Errorf("exif %+v", e)
	}
	if x.Source != objects.SourceXMP || x.Lat != 47.397742 || x.Lon != 8.545594 || x.AltM != 488.21 || x.Attrs["RelativeAltitude"] != "+31.40" {
		t.Errorf("xmp %+v", x)
	}
	// The offsets point at the metadata in the body.
	if want := "drone-dji:GpsLatitude"; string(j[x.Offset:x.Offset+int64(len(want))]) != want {
		t.Errorf("xmp offset %d", x.Offset)
	}
	if n := binary.BigEndian.Uint16(j[e.Offset:]); n != 6 { // the GPS IFD's entry count
		t.Errorf("exif offset %d holds %d", e.Offset, n)
	}
	ev := geo.Evidence{Input: "lab.pcapng", Locator: "request 4 part 2", Offset: 812, Decoder: "http", Channel: geo.ChannelNetwork}
	f := x.Fix(ev)
	if !f.Valid() || f.Role != geo.RolePhoto || f.Evidence.Offset != 812 || f.Evidence.Locator != "request 4 part 2 xmp @ body offset "+strconv.FormatInt(x.Offset, 10) ||
		f.PrecisionM != geo.PrecisionFromDecimals(6) {
		t.Errorf("fix %+v", f)
	}
	// Damaged metadata is a note with its offset; no position.
	bad := exiftest.Tiny([]byte{0xFF, 0xE1, 0x00, 0x01})
	pos, notes = objects.ImagePositions(bad)
	if len(pos) != 0 || len(notes) != 1 || notes[0].Offset != 4 {
		t.Errorf("damaged: %+v %+v", pos, notes)
	}
}

func TestExtract(t *testing.T) {
	dir := t.TempDir()
	body := exiftest.Image(t)
	p, err := objects.Extract(dir, body)
	if err != nil || filepath.Ext(p) != ".jpg" || !strings.HasPrefix(filepath.Base(p), objects.Describe(body).SHA256) {
		t.Fatalf("%s %v", p, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode())
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, body) {
		t.Error("extracted bytes differ")
	}
	// The same object again: left as it is.
	if p2, err := objects.Extract(dir, body); err != nil || p2 != p {
		t.Errorf("again: %s %v", p2, err)
	}
	// A different file under the name is never overwritten, nor a link followed.
	other := []byte("hello\n")
	op := filepath.Join(dir, objects.Describe(other).SHA256+".txt")
	os.WriteFile(op, []byte("tampered"), 0o644)
	if _, err := objects.Extract(dir, other); !errors.Is(err, objects.ErrConflict) {
		t.Errorf("conflict: %v", err)
	}
	if b, _ := os.ReadFile(op); string(b) != "tampered" {
		t.Error("different file overwritten")
	}
	third := []byte("third\n")
	lp := filepath.Join(dir, objects.Describe(third).SHA256+".txt")
	os.Symlink(p, lp)
	if _, err := objects.Extract(dir, third); !errors.Is(err, objects.ErrConflict) {
		t.Errorf("symlink: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d entries left (temporary files?)", len(entries))
	}
}

// files is the file decoders the audit registers, in its order, as far as this test needs them.
var files = []decoders.FileDecoder{djilog.Decoder{}, csvlog.New(), gpx.New()}

// TestUploadedFlightRecord: a corpus flight record uploaded in a multipart body (made by
// mime/multipart) is split out, identified, and decoded in memory to the same fixes as the file.
func TestUploadedFlightRecord(t *testing.T) {
	path := corpus.Path(t, "djilog/v11_Mavic2_2019-02-22.txt")
	rec, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("sn", "0K1DF3E0010054")
	fw, _ := mw.CreateFormFile("file", "DJIFlightRecord_2019-02-22_[15-04-56].txt")
	fw.Write(rec)
	mw.Close()
	m, err := httpbody.SplitMultipart(mw.FormDataContentType(), buf.Bytes(), httpbody.PartLimits{})
	if err != nil || len(m.Parts) != 2 {
		t.Fatalf("%v %d parts", err, len(m.Parts))
	}
	part := m.Parts[1]
	if !bytes.Equal(part.Data, rec) || objects.Identify(part.Data) != objects.KindFlightRecord {
		t.Fatalf("part %d bytes, kind %s", len(part.Data), objects.Identify(part.Data))
	}
	o := objects.Describe(part.Data)
	res := &decodertest.Sink{}
	name, err := objects.DecodeFile(t.Context(), files, decoders.Input{Path: "upload", SHA256: o.SHA256}, part.Data, res)
	if err != nil || name != djilog.Name {
		t.Fatalf("%s %v", name, err)
	}
	// The same decoder over the file on disk.
	f, _ := os.Open(path)
	defer f.Close()
	disk := &decodertest.Sink{}
	if err := (djilog.Decoder{}).Decode(t.Context(), decoders.Input{Path: "upload", SHA256: o.SHA256, Size: int64(len(rec)), R: f}, disk); err != nil {
		t.Fatal(err)
	}
	if len(res.Fixes) == 0 || len(res.Fixes) != len(disk.Fixes) || len(res.Notes) != len(disk.Notes) {
		t.Fatalf("in memory %d fixes %d notes, on disk %d fixes %d notes", len(res.Fixes), len(res.Notes), len(disk.Fixes), len(disk.Notes))
	}
	for i := range disk.Fixes {
		if res.Fixes[i] != disk.Fixes[i] {
			t.Fatalf("fix %d: %+v vs %+v", i, res.Fixes[i], disk.Fixes[i])
		}
	}
	// A body no decoder recognises.
	if name, err := objects.DecodeFile(t.Context(), files, decoders.Input{}, []byte{0, 1, 2}, &decodertest.Sink{}); name != "" || err != nil {
		t.Errorf("%q %v", name, err)
	}
}

// FuzzIdentify: no panic, a kind for every body, picture positions inside it. Seeds include
// the corpus flight records (cut to their heads).
func FuzzIdentify(f *testing.F) {
	f.Add([]byte{0x08, 0x96, 0x01, 0x12, 0x01, 'a'})
	f.Add([]byte(`{"a":1}`))
	f.Add(exiftest.Tiny(exiftest.XMPSegment(exiftest.DJIXMP("1", "2", "3", "4"))))
	decodertest.SeedCorpus(f, nil, "djilog")
	f.Fuzz(func(t *testing.T, data []byte) {
		if objects.Identify(data) == "" {
			t.Fatal("no kind")
		}
		pos, _ := objects.ImagePositions(data)
		for _, p := range pos {
			if p.Offset < 0 || p.Offset >= int64(len(data)) {
				t.Fatalf("offset %d", p.Offset)
			}
		}
	})
}

// TestUploadedPhoto: a JPEG with GPS EXIF and DJI XMP uploaded in a gzip-coded multipart body
// comes out with both positions.
func TestUploadedPhoto(t *testing.T) {
	j := exiftest.Image(t, exiftest.GPSSegment(-33.8567844, 151.2152967, 12.5, binary.LittleEndian),
		exiftest.XMPSegment(exiftest.DJIXMP("-33.856784", "+151.215297", "+12.50", "+10.00")))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("photo", "DJI_0001.JPG")
	fw.Write(j)
	mw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(buf.Bytes())
	zw.Close()
	d, err := httpbody.DecodeContent("gzip", gz.Bytes(), httpbody.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := httpbody.SplitMultipart(mw.FormDataContentType(), d.Body, httpbody.PartLimits{})
	if err != nil || len(m.Parts) != 1 || m.Parts[0].Filename != "DJI_0001.JPG" || objects.Identify(m.Parts[0].Data) != objects.KindJPEG {
		t.Fatalf("%v %+v", err, m.Parts)
	}
	pos, notes := objects.ImagePositions(m.Parts[0].Data)
	if len(pos) != 2 || len(notes) != 0 || pos[0].Lat > -33.85678 || pos[0].Lon < 151.21529 || pos[1].Lat != -33.856784 || pos[1].Lon != 151.215297 {
		t.Errorf("%+v %+v", pos, notes)
	}
}
