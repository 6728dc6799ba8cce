package dataflash

import (
	"bufio"
	"context"
	"droneaudit/decoders/decodertest"
	"encoding/json"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

func corpusInput(t *testing.T, rel string) decoders.Input {
	p := corpus.Path(t, rel)
	f, err := os.Open(p)
	must(t, err, "open")
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	must(t, err, "stat")
	e := corpus.Lookup(t, rel)
	return decoders.Input{Path: p, SHA256: e.SHA256, Size: st.Size(), R: f}
}

// dumpLine is one line of pymavlink's mavlogdump output: "<local date time>: NAME {k : v, …}".
type dumpLine struct {
	name string
	body string // between the braces
}

func readDump(t *testing.T, rel string) []dumpLine {
	f, err := os.Open(corpus.Path(t, rel))
	must(t, err, "open dump")
	defer f.Close()
	var out []dumpLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		// The date prefix is the generating machine's local time (§10.6): skip it.
		i := strings.Index(line, ": ")
		j := strings.Index(line, " {")
		if i < 0 || j < i || !strings.HasSuffix(line, "}") {
			t.Fatalf("unexpected dump line %q", line)
		}
		out = append(out, dumpLine{name: line[i+2 : j], body: line[j+2 : len(line)-1]})
	}
	must(t, sc.Err(), "scan dump")
	return out
}

// fields splits the printed values by the known column names, in order (values such as FMT
// Columns and MSG texts contain ", ", and one name may end another, as Roll and DesRoll).
func (d dumpLine) fields(cols []string) ([]string, bool) {
	out := make([]string, len(cols))
	pos := 0
	for k := range cols {
		if !strings.HasPrefix(d.body[pos:], cols[k]+" : ") {
			return nil, false
		}
		pos += len(cols[k]) + 3
		end := len(d.body)
		if k+1 < len(cols) {
			e := strings.Index(d.body[pos:], ", "+cols[k+1]+" : ")
			if e < 0 {
				return nil, false
			}
			end = pos + e
		}
		out[k] = d.body[pos:end]
		pos = end
		if k+1 < len(cols) {
			pos += 2
		}
	}
	return out, true
}

func (d dumpLine) field(cols []string, k int) (string, bool) {
	v, ok := d.fields(cols)
	if !ok {
		return "", false
	}
	return v[k], true
}

// TestCorpusArduPlane38 compares every message of the truncated 3.8 log, field by field, with
// pymavlink's mavlogdump output, and the decoder's counts and fixes with the same dump.
func TestCorpusArduPlane38(t *testing.T) {
	const rel = "dataflash/arduplane_sitl_64k-truncated.BIN"
	in := corpusInput(t, rel)
	dump := readDump(t, "dataflash/expected/arduplane_sitl_64k-truncated.BIN.py3.dumped")
	rd := NewReader(in.Reader(), in.Path)
	i := 0
	var probs []Problem
	for ; ; i++ {
		m, err := rd.Next()
		probs = append(probs, rd.Problems()...)
		if err == io.EOF {
			break
		}
		must(t, err, "Next")
		if i >= len(dump) {
			t.Fatalf("more messages than the dump (%d)", len(dump))
		}
		d := dump[i]
		f := m.Format
		if d.name != f.Name {
			t.Fatalf("message %d: %s, dump has %s", i, f.Name, d.name)
		}
		for k := range f.Columns {
			got, ok := d.field(f.Columns, k)
			if !ok {
				t.Fatalf("message %d %s: column %s not in dump line %q", i, f.Name, f.Columns[k], d.body)
			}
			switch f.Format[k] {
			case 'n', 'N', 'Z':
				s, _ := m.String(k)
				if s != got {
					t.Fatalf("message %d %s.%s = %q, dump %q", i, f.Name, f.Columns[k], s, got)
				}
			case 'a':
			default:
				want, err := strconv.ParseFloat(got, 64)
				must(t, err, "dump value "+got)
				v, _ := m.Value(k)
				if f.Format[k] == 'M' && want < 0 {
					want += 256 // pymavlink reads the mode byte signed
				}
				if math.Abs(v-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Fatalf("message %d %s.%s = %v, dump %v", i, f.Name, f.Columns[k], v, want)
				}
			}
		}
	}
	if i != len(dump) || i != 1731 {
		t.Fatalf("%d messages, dump has %d", i, len(dump))
	}
	if rd.Skipped != 0 || len(probs) != 1 || probs[0].Kind != "truncated" || probs[0].Offset+probs[0].Len != in.Size {
		t.Fatalf("skipped %d, problems %+v", rd.Skipped, probs)
	}

	// The decoder: counts per type equal the dump's; fixes equal the dump's GPS/POS/ORGN/CMD.
	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), in, sink), "Decode")
	want := map[string]int64{}
	for _, d := range dump {
		want[d.name]++
	}
	for name, n := range want {
		if sink.Counts["msg_"+name] != n {
			t.Errorf("msg_%s = %d, dump has %d", name, sink.Counts["msg_"+name], n)
		}
	}
	if sink.Counts["messages"] != 1731 {
		t.Errorf("messages = %d", sink.Counts["messages"])
	}
	var gps []geo.Fix
	byMsg := map[string][]geo.Fix{}
	for _, f := range sink.Fixes {
		byMsg[f.Evidence.Message] = append(byMsg[f.Evidence.Message], f)
		if f.Evidence.Message == "GPS" {
			gps = append(gps, f)
		}
	}
	cols := map[string][]string{}
	for _, d := range dump {
		if d.name == "FMT" {
			name, _ := d.field([]string{"Type", "Length", "Name", "Format", "Columns"}, 2)
			c, _ := d.field([]string{"Type", "Length", "Name", "Format", "Columns"}, 4)
			cols[name] = strings.Split(c, ",")
		}
	}
	num := func(d dumpLine, col string) float64 {
		c := cols[d.name]
		for k := range c {
			if c[k] == col {
				s, _ := d.field(c, k)
				v, err := strconv.ParseFloat(s, 64)
				must(t, err, col)
				return v
			}
		}
		t.Fatalf("%s has no %s", d.name, col)
		return 0
	}
	idx := map[string]int{}
	for _, d := range dump {
		switch d.name {
		case "GPS", "POS", "ORGN", "CMD", "AHR2":
		default:
			continue
		}
		lat, lon := num(d, "Lat"), num(d, "Lng")
		if lat == 0 && lon == 0 {
			continue
		}
		if d.name == "GPS" && num(d, "Status") < 3 {
			continue
		}
		fixes := byMsg[d.name]
		k := idx[d.name]
		idx[d.name]++
		if k >= len(fixes) {
			t.Fatalf("%s #%d in dump has no fix", d.name, k)
		}
		f := fixes[k]
		if math.Abs(f.Lat-lat) > 1e-9 || math.Abs(f.Lon-lon) > 1e-9 {
			t.Fatalf("%s #%d: fix %.9f,%.9f, dump %.9f,%.9f", d.name, k, f.Lat, f.Lon, lat, lon)
		}
		if d.name == "ORGN" {
			role := geo.RoleTakeoff
			if num(d, "Type") == 1 {
				role = geo.RoleHome
			}
			if f.Role != role || math.Abs(f.AltM-num(d, "Alt")) > 1e-6 {
				t.Fatalf("ORGN fix %v alt %v", f, f.AltM)
			}
		}
	}
	for name, n := range idx {
		if len(byMsg[name]) != n {
			t.Errorf("%s: %d fixes, dump has %d positions", name, len(byMsg[name]), n)
		}
	}
	// First GPS fix (manifest ground truth: TimeUS 81855471, −35.3626277, 149.1653034, 588.82 m).
	if len(gps) != 5 || gps[0].Lat != -35.3626277 || gps[0].Lon != 149.1653034 || math.Abs(gps[0].AltM-588.82) > 1e-9 {
		t.Fatalf("GPS fixes %d, first %v alt %v", len(gps), gps[0], gps[0].AltM)
	}
	if got := gps[0].Time.Format("2006-01-02T15:04:05.000Z"); got != "2017-10-29T01:47:10.000Z" {
		t.Fatalf("first GPS time %s (GWk 1973 GMS 6448000 − 18 leap s)", got)
	}
	// Positions logged before the first GPS time (AHR2, POS from message 273 on) are timed from
	// the GPS anchor once it arrives.
	for _, f := range sink.Fixes {
		if f.Time.IsZero() || f.Time.Year() != 2017 {
			t.Fatalf("fix without UTC: %v %v", f, f.Time)
		}
	}
	ids := sink.NotesWithCode("identity")
	if len(ids) != 1 || ids[0].Attrs["board_uid"] != "003600293036510331323731" {
		t.Fatalf("identity %+v", ids)
	}
	if len(sink.NotesWithCode("truncated")) != 1 {
		t.Fatalf("no truncation note: %+v", sink.Notes)
	}
}

var firstFixRe = regexp.MustCompile(`first Status>=3: TimeMS=(\d+) NSats=(\d+) Lat=(-?\d+\.\d+) Lng=(-?\d+\.\d+) Alt=(\d+(?:\.\d+)?)`)

// TestCorpusArduCopter33 checks the real 3.3 flight against the manifest and dronekit-la.
func TestCorpusArduCopter33(t *testing.T) {
	if testing.Short() {
		t.Skip("3 MB log")
	}
	const rel = "dataflash/arducopter33_real_flight.bin"
	in := corpusInput(t, rel)
	gt := corpus.Lookup(t, rel).GroundTruth
	m := firstFixRe.FindStringSubmatch(gt)
	if m == nil {
		t.Fatalf("ground truth without first fix: %q", gt)
	}
	var la struct {
		PacketCount  int64 `json:"packet-count"`
		BytesDropped int64 `json:"bytes-dropped"`
		Tests        map[string]struct {
			Results []struct {
				Reason   string   `json:"reason"`
				Evidence []string `json:"evidence"`
			} `json:"results"`
		} `json:"tests"`
	}
	raw, err := os.ReadFile(corpus.Path(t, "dataflash/expected/arducopter33_real_flight.bin-expected-json"))
	must(t, err, "read dronekit-la json")
	must(t, json.Unmarshal(raw, &la), "parse dronekit-la json")
	firstFixS := -1.0
	for _, r := range la.Tests["GPS Fix"].Results {
		for _, e := range r.Evidence {
			if v, ok := strings.CutPrefix(e, "first-fix-time="); ok {
				firstFixS, _ = strconv.ParseFloat(v, 64)
			}
		}
	}
	if firstFixS < 0 {
		t.Fatal("dronekit-la JSON without first-fix-time")
	}

	sink := &decodertest.Sink{}
	must(t, New().Decode(context.Background(), in, sink), "Decode")
	if sink.Counts["messages"] != la.PacketCount || sink.Counts["msg_FMT"] != 72 || sink.Counts["msg_GPS"] != 1199 {
		t.Fatalf("messages %d (dronekit-la %d), FMT %d, GPS %d", sink.Counts["messages"], la.PacketCount, sink.Counts["msg_FMT"], sink.Counts["msg_GPS"])
	}
	if sink.Counts["skipped_bytes"] != la.BytesDropped {
		t.Fatalf("skipped %d bytes, dronekit-la dropped %d", sink.Counts["skipped_bytes"], la.BytesDropped)
	}
	var first *geo.Fix
	for i := range sink.Fixes {
		if sink.Fixes[i].Evidence.Message == "GPS" {
			first = &sink.Fixes[i]
			break
		}
	}
	wantLat, _ := strconv.ParseFloat(m[3], 64)
	wantLon, _ := strconv.ParseFloat(m[4], 64)
	wantAlt, _ := strconv.ParseFloat(m[5], 64)
	if first == nil || math.Abs(first.Lat-wantLat) > 1e-9 || math.Abs(first.Lon-wantLon) > 1e-9 || math.Abs(first.AltM-wantAlt) > 1e-9 {
		t.Fatalf("first GPS fix %v alt %v, ground truth %s", first, first.AltM, m[0])
	}
	// Its boot time (GPS T column) is dronekit-la's first 3D fix time.
	rd := NewReader(in.Reader(), in.Path)
	for {
		msg, err := rd.Next()
		if err != nil {
			t.Fatal("no GPS message at the first fix's offset")
		}
		if msg.Offset != first.Evidence.Offset {
			continue
		}
		tms, _ := msg.Raw(msg.Format.Column("T"))
		gms, _ := msg.Raw(msg.Format.Column("TimeMS"))
		if math.Abs(tms/1000-firstFixS) > 0.001 || strconv.Itoa(int(gms)) != m[1] {
			t.Fatalf("first fix T = %v ms, TimeMS %v; dronekit-la %v s, ground truth TimeMS %s", tms, gms, firstFixS, m[1])
		}
		break
	}
	// Mission: CMD slot 0 is home with float degrees (manifest: −35.36237335, 149.16584778).
	var home int
	for _, f := range sink.Fixes {
		if f.Evidence.Message == "CMD" && f.Role == geo.RoleHome && math.Abs(f.Lat+35.36237335) < 1e-6 && math.Abs(f.Lon-149.16584778) < 1e-6 {
			home++
		}
	}
	if home != 1 {
		t.Fatalf("CMD home fixes: %d", home)
	}
	ids := sink.NotesWithCode("identity")
	if len(ids) != 1 || ids[0].Attrs["board_uid"] != "004A002F3334511932383433" {
		t.Fatalf("identity %+v", ids)
	}
}

// TestCorpusSniff: both real DataFlash logs are recognised by content; no other corpus file is.
func TestCorpusSniff(t *testing.T) {
	d := New()
	for _, e := range corpus.Files(t, "") {
		f, err := os.Open(corpus.Path(t, e.File))
		must(t, err, "open")
		head := make([]byte, decoders.SniffLen)
		n, _ := io.ReadFull(f, head)
		f.Close()
		want := strings.HasPrefix(e.File, "dataflash/") && !strings.Contains(e.File, "/expected/")
		if got := d.Sniff(head[:n]); got != want {
			t.Errorf("Sniff(%s) = %v", e.File, got)
		}
	}
}
