package audit

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"droneaudit/audit/destinations"
	"droneaudit/audit/requests"
	"droneaudit/decoders"
	"droneaudit/decoders/exif/exiftest"
	"droneaudit/decoders/tlskeys"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/internal/dfgen"
	"droneaudit/internal/netfixture"
)

// uploads is what the client of the bodies test sends and receives: a multipart upload of a
// generated DataFlash flight record (and of a real DJI flight record from the corpus when present)
// with a JPEG carrying GPS EXIF, a gzip'd JSON position, a zstd JSON position, and a gzip'd JSON
// response with a home position.
type uploads struct {
	parts     map[string][]byte // multipart part name → data
	multipart []byte            // the whole multipart body as sent
	ctype     string
	gzJSON    []byte // plain JSON, sent gzip'd
	zstdJSON  []byte // plain JSON, sent zstd-coded
	respJSON  []byte // plain JSON of the gzip'd response
	wire      map[string][]byte
}

const (
	jpegLat, jpegLon = 50.8503, 4.3517
	gzLat, gzLon     = 51.1600, 5.4700
	zsLat, zsLon     = 52.0907, 5.1214
	rsLat, rsLon     = 47.3763, 8.5282
)

func makeUploads(t *testing.T) *uploads {
	u := &uploads{parts: map[string][]byte{}, wire: map[string][]byte{}}
	var df bytes.Buffer
	dfgen.Write(&df, 200_000)
	u.parts["flightlog"] = df.Bytes()
	u.parts["photo"] = exiftest.Image(t, exiftest.GPSSegment(jpegLat, jpegLon, 123.5, binary.LittleEndian))
	if b, err := os.ReadFile("../../shared/corpus/djilog/v08_P3S_2018-01-12.txt"); err == nil {
		u.parts["djilog"] = b
	} else {
		t.Logf("corpus DJI flight record absent (%v): the upload carries the generated DataFlash log only", err)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	for _, name := range []string{"flightlog", "photo", "djilog"} {
		if u.parts[name] == nil {
			continue
		}
		w, _ := mw.CreateFormFile(name, name+".bin")
		w.Write(u.parts[name])
	}
	mw.Close()
	u.multipart, u.ctype = mp.Bytes(), mw.FormDataContentType()
	u.gzJSON = []byte(`{"aircraft":{"latitude":51.1600,"longitude":5.4700},"note":"gzip"}`)
	u.zstdJSON = []byte(`{"dock":{"latitude":52.0907,"longitude":5.1214},"note":"zstd"}`)
	u.respJSON = []byte(`{"home_latitude":47.3763,"home_longitude":8.5282}`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(u.gzJSON)
	zw.Close()
	u.wire["/telemetry.gz"] = gz.Bytes()
	enc, _ := zstd.NewWriter(nil)
	u.wire["/telemetry.zst"] = enc.EncodeAll(u.zstdJSON, nil)
	var rgz bytes.Buffer
	zw = gzip.NewWriter(&rgz)
	zw.Write(u.respJSON)
	zw.Close()
	u.wire["/config"] = rgz.Bytes()
	u.wire["/upload"] = u.multipart
	// Text no structural decoder reads, in the zone: only the known-value search finds it, and
	// only in the body with its coding undone.
	var tgz bytes.Buffer
	zw = gzip.NewWriter(&tgz)
	zw.Write([]byte("track point 48.1234567,11.5432109 logged"))
	zw.Close()
	u.wire["/track.gz"] = tgz.Bytes()
	return u
}

// record runs the uploads over HTTPS and returns the capture and the key log.
func (u *uploads) record(t *testing.T, h2 bool) ([]byte, []byte) {
	var kl bytes.Buffer
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/config" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(u.wire["/config"])
			return
		}
		s := sha256.Sum256(b)
		w.Write([]byte(hex.EncodeToString(s[:])))
	})
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{HTTP2: h2, KeyLog: &kl, ServerName: "cloud.example.test"}, h,
		func(c *http.Client, base string) error {
			for _, q := range []struct{ path, ctype, cenc string }{
				{"/upload", u.ctype, ""}, {"/telemetry.gz", "application/json", "gzip"}, {"/telemetry.zst", "application/json", "zstd"},
				{"/track.gz", "text/plain", "gzip"},
			} {
				req, _ := http.NewRequest("POST", base+q.path, bytes.NewReader(u.wire[q.path]))
				req.Header.Set("Content-Type", q.ctype)
				if q.cenc != "" {
					req.Header.Set("Content-Encoding", q.cenc)
				}
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			req, _ := http.NewRequest("GET", base+"/config", nil)
			req.Header.Set("Accept-Encoding", "gzip") // set here, so the client leaves the body coded
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	wire, err := netfixture.LabHTTPSPcap(conns)
	if err != nil {
		t.Fatal(err)
	}
	return wire, kl.Bytes()
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// What a request carries is decoded like a file on disk: over HTTPS (HTTP/1.1 and HTTP/2, real
// net/http sessions decrypted with their key log), 'requests' names and hashes every object of
// every body (the multipart parts, the gzip and zstd bodies decoded) and --extract writes them;
// the audit reports the flight record's positions as network fixes of the upload request, with a
// flight-log-upload finding, and the positions of the picture's EXIF and of the coded JSON bodies.
func TestUploadedObjectsDecoded(t *testing.T) {
	u := makeUploads(t)
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1.1", true: "h2"}[h2], func(t *testing.T) { uploadedObjectsDecoded(t, u, h2) })
	}
}

func uploadedObjectsDecoded(t *testing.T, u *uploads, h2 bool) {
	capture, kl := u.record(t, h2)
	layer := func() []decoders.Unwrapper {
		keys := tlskeys.NewLog()
		keys.AddText(kl)
		return []decoders.Unwrapper{tlslayer.New(keys)}
	}
	// requests: every body byte for byte, every object by hash, extracted.
	xdir := t.TempDir()
	res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("up.pcap", capture)}, destinations.Options{Unwrappers: layer()},
		requests.Options{Extract: xdir})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]requests.Row{}
	for _, r := range res.Rows {
		rows[r.URL[strings.LastIndexByte(r.URL, '/'):]] = r
	}
	if len(rows) != 5 {
		t.Fatalf("rows %+v", res.Rows)
	}
	objs := func(b requests.Body) map[string]requests.Object {
		m := map[string]requests.Object{}
		for _, o := range b.Objects {
			m[o.SHA256] = o
		}
		return m
	}
	want := map[string][][]byte{"/upload": nil, "/telemetry.gz": {u.gzJSON}, "/telemetry.zst": {u.zstdJSON}}
	for _, p := range u.parts {
		want["/upload"] = append(want["/upload"], p)
	}
	for path, plain := range want {
		r := rows[path]
		if r.Request.SHA256 != sum(u.wire[path]) || !r.Request.Complete {
			t.Errorf("%s: request body %+v, sent %d bytes", path, r.Request, len(u.wire[path]))
		}
		got := objs(r.Request)
		if len(got) != len(plain) {
			t.Errorf("%s: objects %+v, want %d", path, r.Request.Objects, len(plain))
		}
		for _, b := range plain {
			o, ok := got[sum(b)]
			if !ok || o.Size != int64(len(b)) || o.File == "" {
				t.Errorf("%s: object of %d bytes not found: %+v", path, len(b), r.Request.Objects)
				continue
			}
			fi, err := os.Stat(filepath.Join(xdir, o.File))
			data, _ := os.ReadFile(filepath.Join(xdir, o.File))
			if err != nil || fi.Mode().Perm() != 0o600 || sum(data) != o.SHA256 {
				t.Errorf("%s: extracted %s: %v, mode %v", path, o.File, err, fi)
			}
		}
	}
	if o := objs(rows["/upload"].Request)[sum(u.parts["photo"])]; o.Kind != "jpeg" {
		t.Errorf("photo part kind %q", o.Kind)
	}
	if o := objs(rows["/upload"].Request)[sum(u.parts["djilog"])]; u.parts["djilog"] != nil && o.Kind != "dji-flight-record" {
		t.Errorf("DJI flight record part kind %q", o.Kind)
	}
	if s := rows["/telemetry.gz"].Request.Summary; !strings.HasPrefix(s, "gzip → json") {
		t.Errorf("gzip summary %q", s)
	}
	if rs := rows["/config"].Response; rs == nil || rs.SHA256 != sum(u.wire["/config"]) || objs(*rs)[sum(u.respJSON)].Kind != "json" {
		t.Errorf("config response %+v", rs)
	}

	// audit: the positions of every object, as network fixes of their request.
	adir := t.TempDir()
	var fixes []geo.Fix
	rep, err := Run(t.Context(), []Source{BytesSource("up.pcap", capture)}, Options{
		Zones: zonesAround(t, float64(dfgen.BaseLat)/1e7, float64(dfgen.BaseLon)/1e7, 10_000, geo.Secret), Policy: DefaultPolicy(),
		Destinations: &destinations.Options{Unwrappers: layer()}, Extract: adir,
		OnFixes: func(b []StreamedFix) []StreamedFix {
			for _, f := range b {
				fixes = append(fixes, f.Fix)
			}
			return b[:0]
		}})
	if err != nil {
		t.Fatal(err)
	}
	byDecoder := map[string]int{}
	near := func(f geo.Fix, lat, lon float64) bool {
		return math.Abs(f.Lat-lat) < 1e-3 && math.Abs(f.Lon-lon) < 1e-3
	}
	seen := map[string]bool{}
	for _, f := range fixes {
		ev := f.Evidence
		if ev.Channel != geo.ChannelNetwork || ev.Network == nil || ev.Request == nil {
			continue
		}
		byDecoder[ev.Decoder]++
		path := ev.Request.URL[strings.LastIndexByte(ev.Request.URL, '/'):]
		if r := rows[path]; ev.Request.ID != r.ID {
			t.Errorf("fix %s names request %+v, row %s", ev.Decoder, ev.Request, r.ID)
		}
		switch {
		case ev.Decoder == "dataflash" && path == "/upload":
			seen["dataflash"] = true
		case ev.Decoder == "djilog" && path == "/upload":
			seen["djilog"] = true
		case near(f, jpegLat, jpegLon) && path == "/upload":
			seen["jpeg"] = true
		case near(f, gzLat, gzLon) && path == "/telemetry.gz":
			seen["gzip"] = true
		case near(f, zsLat, zsLon) && path == "/telemetry.zst":
			seen["zstd"] = true
		case near(f, rsLat, rsLon) && path == "/config" && ev.Network.Direction != 0:
			seen["response"] = true
		case ev.Decoder == "search" && path == "/track.gz" && near(f, 48.1234567, 11.5432109):
			seen["search in gzip"] = true
		}
	}
	for _, k := range []string{"dataflash", "jpeg", "gzip", "zstd", "response", "search in gzip"} {
		if !seen[k] {
			t.Errorf("no %s fix; network fixes by decoder %v", k, byDecoder)
		}
	}
	if u.parts["djilog"] != nil && !seen["djilog"] {
		t.Errorf("no fix of the DJI flight record; by decoder %v", byDecoder)
	}
	t.Logf("network fixes by decoder %v, parts %d", byDecoder, len(u.parts))
	var upload *Finding
	for _, f := range rep.Findings {
		if f.Kind == KindFlightLogUpload {
			upload = f
		}
	}
	if upload == nil || !upload.FailsPolicy || upload.First.Evidence.Request == nil || upload.First.Evidence.Request.ID != rows["/upload"].ID {
		t.Fatalf("flight-log-upload finding %+v", upload)
	}
	for _, p := range u.parts {
		if b, err := os.ReadFile(filepath.Join(adir, sum(p)+extOf(t, adir, sum(p)))); err != nil || sum(b) != sum(p) {
			t.Errorf("audit --extract: part of %d bytes: %v", len(p), err)
		}
	}
}

// extOf finds the extension an object was extracted under.
func extOf(t *testing.T, dir, sha string) string {
	m, _ := filepath.Glob(filepath.Join(dir, sha+"*"))
	if len(m) != 1 {
		t.Errorf("%s: %d files", sha, len(m))
		return ""
	}
	return strings.TrimPrefix(filepath.Base(m[0]), sha)
}

// tshark is the oracle for the uploads: every HTTP object it exports from the same capture and
// key log (a body as sent, or with its content coding undone) is a body or an object of a
// 'requests' row, by SHA-256.
func TestUploadsMatchTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (Debian package tshark)")
	}
	u := makeUploads(t)
	capture, kl := u.record(t, false)
	dir := t.TempDir()
	cp, kp, objs := filepath.Join(dir, "up.pcap"), filepath.Join(dir, "up.keys"), filepath.Join(dir, "objects")
	os.WriteFile(cp, capture, 0o600)
	os.WriteFile(kp, kl, 0o600)
	os.Mkdir(objs, 0o700)
	if out, err := exec.Command(tshark, "-r", cp, "-o", "tls.keylog_file:"+kp, "-q", "--export-objects", "http,"+objs).CombinedOutput(); err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	keys := tlskeys.NewLog()
	keys.AddText(kl)
	res, err := requests.Build(t.Context(), []engine.Source{engine.BytesSource("up.pcap", capture)},
		destinations.Options{Unwrappers: []decoders.Unwrapper{tlslayer.New(keys)}}, requests.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, r := range res.Rows {
		for _, b := range []*requests.Body{&r.Request, r.Response} {
			if b == nil {
				continue
			}
			ours[b.SHA256] = true
			for _, o := range b.Objects {
				ours[o.SHA256] = true
			}
		}
	}
	ents, _ := os.ReadDir(objs)
	n := 0
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(objs, e.Name()))
		if len(b) == 0 {
			continue
		}
		n++
		if !ours[sum(b)] {
			t.Errorf("tshark exported %s (%d bytes, %s), not among the rows' bodies and objects", e.Name(), len(b), sum(b))
		}
	}
	t.Logf("tshark exported %d objects, all among the rows", n)
	if n < len(u.wire) {
		t.Errorf("tshark exported %d objects, %d bodies were sent", n, len(u.wire))
	}
}
