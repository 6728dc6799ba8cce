package djilog

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

// The corpus tests read the shared real samples in place (they skip when the corpus is absent)
// and compare the decoder with the ground truth that MANIFEST.tsv states for each file.

func decodeFile(t *testing.T, rel string) (*recSink, string) {
	t.Helper()
	p := corpus.Path(t, rel)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, decoders.SniffLen)
	n, _ := io.ReadFull(f, head)
	if !(Decoder{}).Sniff(head[:n]) {
		t.Errorf("%s: not recognised by Sniff", rel)
	}
	s := &recSink{}
	if err := (Decoder{}).Decode(context.Background(), decoders.Input{Path: p, Size: st.Size(), R: f}, s); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	for _, fx := range s.Fixes {
		if !fx.Valid() || noFix(fx.Lat, fx.Lon) {
			t.Errorf("%s: emitted a no-fix or invalid position %v", rel, fx)
		}
	}
	return s, p
}

// truth pulls one regexp's submatches out of a manifest ground_truth text.
func truth(gt, re string) []string {
	return regexp.MustCompile(re).FindStringSubmatch(gt)
}

func parseF(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("manifest number %q: %v", s, err)
	}
	return v
}

const num = `(-?[0-9.]+)`

// TestCorpusManifest decodes every DJI flight record of the corpus and checks the manifest's
// ground truth: product, serial, name, app, start time, take-off point, first non-zero OSD
// position, first home point, first pilot position, record counts and picture counts.
func TestCorpusManifest(t *testing.T) {
	for _, e := range corpus.Files(t, "djilog/") {
		if !strings.HasSuffix(e.File, ".txt") {
			continue
		}
		t.Run(filepath.Base(e.File), func(t *testing.T) {
			s, path := decodeFile(t, e.File)
			gt := e.GroundTruth
			id := s.exposure(FactIdentity)
			if m := truth(gt, `product=(\d+)`); m == nil || id["product_type"] != m[1] {
				t.Errorf("product %q, manifest %v", id["product_type"], m)
			}
			if m := truth(gt, `aircraftSN=(\w+)`); m == nil || id["aircraft_serial"] != m[1] {
				t.Errorf("aircraft serial %q, manifest %v", id["aircraft_serial"], m)
			}
			if m := truth(gt, `aircraft='([^']*)'`); m == nil || id["aircraft_name"] != m[1] {
				t.Errorf("aircraft name %q, manifest %v", id["aircraft_name"], m)
			}
			if m := truth(gt, `platform=\d+ app=([0-9.]+)`); m == nil || id["app_version"] != m[1] {
				t.Errorf("app version %q, manifest %v", id["app_version"], m)
			}
			if m := truth(gt, `OSD records=(\d+)`); m == nil || strconv.FormatInt(s.Counts["records_osd"], 10) != m[1] {
				t.Errorf("OSD records %d, manifest %v", s.Counts["records_osd"], m)
			}
			if strings.Contains(gt, "xor check byte valid for all records") && (s.Counts["records_bad_check"] != 0 || s.Counts["bytes_skipped"] != 0) {
				t.Errorf("bad checks %d, skipped bytes %d; manifest says every check byte is valid", s.Counts["records_bad_check"], s.Counts["bytes_skipped"])
			}
			if !strings.Contains(gt, "records AES") {
				// The whole track: every OSD record is a fix or is counted as holding none.
				if got := int64(len(s.role(geo.RoleAircraft))) + s.Counts["osd_no_fix"] + s.Counts["osd_bad_position"]; got != s.Counts["records_osd"] {
					t.Errorf("%d OSD records, but %d fixes plus no-fix records", s.Counts["records_osd"], got)
				}
			}
			if sum := s.exposure(FactFlight); !strings.Contains(gt, "records AES") && sum != nil && sum["photos"] != strconv.FormatInt(s.Counts["photos_taken"], 10) {
				// Each cameraShoot rise is one photo; the details count them independently.
				t.Errorf("%d photos from CUSTOM records, details captureNum %s", s.Counts["photos_taken"], sum["photos"])
			}
			checkDetails(t, s, gt)
			checkFirst(t, s, gt)
			checkPictures(t, s, gt, path)
			aes := strings.Contains(gt, "records AES")
			if kb := int64(len(s.code("key-blob"))); kb != min(s.Counts["records_key_storage"], maxKeyBlobNotes) || (aes && kb == 0) {
				t.Errorf("%d key-blob notes for %d KeyStorage records", kb, s.Counts["records_key_storage"])
			}
			if nk := s.code("needs-keys"); (len(nk) == 1) != aes || len(nk) > 1 {
				t.Errorf("needs-keys notes %d, manifest says AES %v", len(nk), aes)
			}
			if m := truth(gt, `aux version=(\d+) department=(\d+)`); m != nil {
				n, _ := strconv.Atoi(m[2])
				if nk := s.code("needs-keys"); len(nk) != 1 || nk[0].Attrs["version_category"] != m[1] || nk[0].Attrs["app_family"] != departmentName(n) {
					t.Errorf("aux block values %v, manifest %v", nk, m)
				}
			}
		})
	}
}

func checkDetails(t *testing.T, s *recSink, gt string) {
	t.Helper()
	to := s.role(geo.RoleTakeoff)
	m := truth(gt, `details\.lat,lon=(GARBAGE|`+num+`,`+num+`)`)
	if m == nil {
		t.Fatalf("manifest has no details.lat,lon")
	}
	switch {
	case m[1] == "GARBAGE":
		if len(s.code("corrupt-details")) != 1 || len(to) != 0 {
			t.Errorf("corrupt details: notes %v, take-off fixes %v", s.code("corrupt-details"), to)
		}
		return
	case noFix(parseF(t, m[2]), parseF(t, m[3])):
		if len(to) != 0 || len(s.code("no-takeoff-fix")) != 1 {
			t.Errorf("details without a fix gave take-off %v", to)
		}
	default:
		if len(to) != 1 || !near(to[0].Lat, parseF(t, m[2]), 1e-9) || !near(to[0].Lon, parseF(t, m[3]), 1e-9) {
			t.Errorf("take-off %v, manifest %s", to, m[1])
		}
	}
	sum := s.exposure(FactFlight)
	if m := truth(gt, `details\.lineCount=(\d+)`); m == nil || sum["record_line_count"] != m[1] {
		t.Errorf("line count %q, manifest %v", sum["record_line_count"], m)
	}
	if m := truth(gt, `details\.start_utc=([0-9T:.-]+)`); m != nil {
		want, err := time.Parse("2006-01-02T15:04:05.999999", m[1])
		got, err2 := time.Parse(time.RFC3339Nano, sum["start_utc"])
		if err != nil || err2 != nil || !got.Equal(want) {
			t.Errorf("start %q, manifest %s (%v %v)", sum["start_utc"], m[1], err, err2)
		}
	}
}

func checkFirst(t *testing.T, s *recSink, gt string) {
	t.Helper()
	air := s.role(geo.RoleAircraft)
	if m := truth(gt, `first nonzero OSD lat,lon=`+num+`,`+num); m != nil {
		lat, lon := parseF(t, m[1]), parseF(t, m[2])
		switch {
		case noFix(lat, lon):
			// The no-GPS-start file: its first "non-zero" values are receiver noise, never a fix.
			if s.Counts["osd_no_fix"] == 0 || (len(air) > 0 && noFix(air[0].Lat, air[0].Lon)) {
				t.Errorf("no-fix OSD records %d, first fix %v", s.Counts["osd_no_fix"], air)
			}
		case len(air) == 0 || !near(air[0].Lat, lat, 1e-9) || !near(air[0].Lon, lon, 1e-9):
			t.Errorf("first OSD fix %v, manifest %s,%s", first(air), m[1], m[2])
		}
	} else if !strings.Contains(gt, "records AES") {
		t.Errorf("manifest has no first OSD position")
	}
	if m := truth(gt, `first HOME lat,lon=`+num+`,`+num+` alt=`+num+`m`); m != nil {
		h := s.role(geo.RoleHome)
		if len(h) == 0 || !near(h[0].Lat, parseF(t, m[1]), 1e-9) || !near(h[0].Lon, parseF(t, m[2]), 1e-9) || !near(h[0].AltM, parseF(t, m[3]), 0.05) {
			t.Errorf("first home %v, manifest %v", first(h), m[1:])
		}
	}
	if m := truth(gt, `first APP_GPS lat,lon=`+num+`,`+num); m != nil {
		p := s.role(geo.RolePilot)
		if len(p) == 0 || !near(p[0].Lat, parseF(t, m[1]), 1e-7) || !near(p[0].Lon, parseF(t, m[2]), 1e-7) {
			t.Errorf("first pilot %v, manifest %v", first(p), m[1:])
		}
		if e := s.exposure(FactPilot); e["lat"] != ff(p[0].Lat) {
			t.Errorf("pilot exposure %v", e)
		}
	}
}

func first(f []geo.Fix) any {
	if len(f) == 0 {
		return "none"
	}
	return f[0]
}

// checkPictures compares the picture count with the manifest and checks in the file itself that
// each located picture starts with a JPEG SOI and that the last one ends where the layout says.
func checkPictures(t *testing.T, s *recSink, gt, path string) {
	t.Helper()
	want := -1
	if m := truth(gt, `(\d+) embedded JPEGs`); m != nil {
		want, _ = strconv.Atoi(m[1])
	} else if m := truth(gt, `(\d+) moment pics \+ (\d+) thumbnails`); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		want = a + b
	}
	if want >= 0 && s.Counts["images"] != int64(want) {
		t.Errorf("images %d, manifest %d", s.Counts["images"], want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var end int64
	for _, n := range s.code("embedded-image") {
		off, _ := strconv.ParseInt(n.Attrs["offset"], 10, 64)
		size, _ := strconv.ParseInt(n.Attrs["size"], 10, 64)
		if n.Attrs["error"] != "" || off+2 > int64(len(data)) || data[off] != 0xFF || data[off+1] != 0xD8 {
			t.Errorf("picture note %v does not point at a JPEG", n)
		}
		end = max(end, off+size)
	}
	if end > 0 {
		base := int64(len(data))
		if data[10] <= 11 {
			base = int64(binary.LittleEndian.Uint64(data)) // the details offset
		}
		if end != base {
			t.Errorf("pictures end at %d, want %d", end, base)
		}
	}
}

// TestCorpusTruthCSV compares every OSD record of the v11 Mavic 2 log with node-djiparsetxt's CSV
// of it: latitude, longitude and height to 1e-6; rows without a fix must give no fix.
func TestCorpusTruthCSV(t *testing.T) {
	s, _ := decodeFile(t, "djilog/v11_Mavic2_2019-02-22.txt")
	raw, err := os.ReadFile(corpus.Path(t, "djilog/v11_Mavic2_2019-02-22.truth.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// The CSV is not valid UTF-8; encoding/csv turns bad bytes into U+FFFD, which leaves the
	// numeric OSD columns intact.
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord, cr.LazyQuotes = -1, true
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(h)] = i
	}
	li, lo, hi := col["OSD.latitude"], col["OSD.longitude"], col["OSD.height"]
	if li == 0 || lo == 0 || hi == 0 {
		t.Fatalf("truth CSV lacks OSD columns: %v", rows[0][:8])
	}
	rows = rows[1:]
	if int64(len(rows)) != s.Counts["records_osd"] {
		t.Fatalf("%d truth rows, %d OSD records", len(rows), s.Counts["records_osd"])
	}
	air := s.role(geo.RoleAircraft)
	j, noFixRows := 0, 0
	for i, r := range rows {
		lat, lon, h := parseF(t, r[li]), parseF(t, r[lo]), parseF(t, r[hi])
		if noFix(lat, lon) {
			noFixRows++
			continue
		}
		if j >= len(air) {
			t.Fatalf("row %d: no fix left (%d fixes)", i, len(air))
		}
		f := air[j]
		j++
		if !near(f.Lat, lat, 1e-6) || !near(f.Lon, lon, 1e-6) || !near(f.AltM, h, 1e-6) {
			t.Fatalf("row %d: decoded %.7f,%.7f h %.2f; truth %s,%s h %s (%s)", i, f.Lat, f.Lon, f.AltM, r[li], r[lo], r[hi], f.Evidence.Locator)
		}
	}
	if j != len(air) || int64(noFixRows) != s.Counts["osd_no_fix"] {
		t.Errorf("matched %d of %d fixes; %d no-fix rows, %d no-fix records", j, len(air), noFixRows, s.Counts["osd_no_fix"])
	}
}

// TestCorpusMini2Airdata: the v14 Mini 2 log's take-off point equals the first row of the
// Airdata export of the same flight.
func TestCorpusMini2Airdata(t *testing.T) {
	s, _ := decodeFile(t, "djilog/v14_Mini2_2021-09-05.txt")
	f, err := os.Open(corpus.Path(t, "csv/airdata_Mini2_2021-09-05.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	hdr, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	row, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	var lat, lon float64
	for i, h := range hdr {
		switch strings.TrimSpace(h) {
		case "latitude":
			lat = parseF(t, strings.TrimSpace(row[i]))
		case "longitude":
			lon = parseF(t, strings.TrimSpace(row[i]))
		}
	}
	to := s.role(geo.RoleTakeoff)
	if len(to) != 1 || !near(to[0].Lat, lat, 1e-9) || !near(to[0].Lon, lon, 1e-9) {
		t.Errorf("take-off %v, Airdata row 0 %.10f,%.10f", to, lat, lon)
	}
	if a := s.exposure(FactTakeoff); a["lat"] != ff(to[0].Lat) {
		t.Errorf("take-off exposure %v", a)
	}
}

// TestCorpusAir3TimeZone gives the v14 Air 3 log back its original DJI file name (MANIFEST
// origin_path) through a symlink and checks the time zone against the manifest's "UTC+N".
func TestCorpusAir3TimeZone(t *testing.T) {
	const rel = "djilog/v14_Air3_2024-12-31.txt"
	p := corpus.Path(t, rel)
	mf, err := os.Open(filepath.Join(corpus.Dir(t), "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	cr := csv.NewReader(mf)
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = '\t', -1, true
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var origin string
	for _, r := range rows {
		if r[0] == rel {
			origin = filepath.Base(r[4])
		}
	}
	m := truth(corpus.Lookup(t, rel).GroundTruth, `UTC\+(\d+)`)
	if origin == "" || m == nil {
		t.Fatalf("manifest lacks origin_path or UTC offset for %s", rel)
	}
	link := filepath.Join(t.TempDir(), origin)
	if err := os.Symlink(p, link); err != nil {
		t.Skip("symlinks unavailable:", err)
	}
	f, err := os.Open(link)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	s := &recSink{}
	if err := (Decoder{}).Decode(context.Background(), decoders.Input{Path: link, Size: st.Size(), R: f}, s); err != nil {
		t.Fatal(err)
	}
	h, _ := strconv.Atoi(m[1])
	want := "+" + strconv.Itoa(100 + h)[1:] + ":00"
	if tz := s.exposure(FactTimeZone); tz["utc_offset"] != want {
		t.Errorf("time zone %v, want %s", tz, want)
	}
}

// TestCorpusDamaged damages a real v11 log in memory (the corpus file is not modified): a cut in
// the middle and scattered byte flips. The decoder must report the damage and keep the rest.
func TestCorpusDamaged(t *testing.T) {
	const rel = "djilog/v11_Mavic2_2019-02-22.txt"
	clean, _ := decodeFile(t, rel)
	data, err := os.ReadFile(corpus.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	total := len(clean.role(geo.RoleAircraft))

	half := data[:len(data)/2]
	s, err := decodeBytes(t, "cut.txt", half)
	if err != nil {
		t.Fatal(err)
	}
	got := len(s.role(geo.RoleAircraft))
	if got < total/3 || got >= total || len(s.code("corrupt-details")) != 1 {
		t.Errorf("cut file: %d of %d fixes, notes %v", got, total, s.code("corrupt-details"))
	}

	flipped := bytes.Clone(data)
	recEnd := len(data) / 2
	for i := 0; i < 40; i++ {
		flipped[200+i*(recEnd-200)/40] ^= 0xA5
	}
	s, err = decodeBytes(t, "flipped.txt", flipped)
	if err != nil {
		t.Fatal(err)
	}
	got = len(s.role(geo.RoleAircraft))
	if s.Counts["records_bad_check"]+s.Counts["bytes_skipped"] == 0 || got < total*9/10 {
		t.Errorf("flipped bytes: %d of %d fixes, counts %v", got, total, s.Counts)
	}
}

// TestCorpusSniffOnlyFlightRecords runs Sniff over every corpus file: it must accept exactly the
// files the manifest calls DJI flight records.
func TestCorpusSniffOnlyFlightRecords(t *testing.T) {
	for _, e := range corpus.Files(t, "") {
		f, err := os.Open(corpus.Path(t, e.File))
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, decoders.SniffLen)
		n, _ := io.ReadFull(f, head)
		f.Close()
		want := strings.HasPrefix(e.Format, "DJI flight record")
		if got := (Decoder{}).Sniff(head[:n]); got != want {
			t.Errorf("%s (%s): Sniff %v, want %v", e.File, e.Format, got, want)
		}
	}
}
