package ulog

import (
	"bufio"
	"context"
	"droneaudit/decoders/decodertest"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"droneaudit/decoders"
	"droneaudit/geo"
	"droneaudit/internal/corpus"
)

func corpusSummary(t *testing.T, rel string) *Summary {
	f, err := os.Open(corpus.Path(t, rel))
	must(t, err, "open")
	defer f.Close()
	s, err := Summarize(f, rel)
	must(t, err, "Summarize "+rel)
	return s
}

func corpusLines(t *testing.T, rel string) []string {
	raw, err := os.ReadFile(corpus.Path(t, rel))
	must(t, err, "read "+rel)
	return strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
}

// hms formats seconds as pyulog prints durations and message times (h:mm:ss).
func hms(sec uint64) string {
	return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
}

var (
	startRe   = regexp.MustCompile(`^Logging start time: (\S+), duration: (\S+)$`)
	dropRe    = regexp.MustCompile(`^Dropouts: count: (\d+), total duration: ([\d.]+) s, max: (\d+) ms, mean: (\d+) ms$`)
	topicRe   = regexp.MustCompile(`^ (\S+) \((\d+), (\d+)\)\s+(\d+)\s+(\d+)$`)
	messageRe = regexp.MustCompile(`^(\d+:\d\d:\d\d) ([A-Z]+): (.*)$`)
)

// TestCorpusPyulogSampleInfo compares the v0 sample with pyulog's ulog_info output: start and
// duration, dropouts, info fields, and every topic's multi id, size, count and total bytes.
func TestCorpusPyulogSampleInfo(t *testing.T) {
	if testing.Short() {
		t.Skip("4 MB log")
	}
	s := corpusSummary(t, "ulog/pyulog_sample.ulg")
	lines := corpusLines(t, "ulog/expected/pyulog_sample_info.txt")
	section := ""
	var topics, infos int
	for _, line := range lines {
		switch {
		case startRe.MatchString(line):
			m := startRe.FindStringSubmatch(line)
			if m[1] != hms(s.StartTime/1e6) || m[2] != hms((s.LastTimestamp-s.StartTime)/1e6) {
				t.Errorf("start/duration %s %s; pyulog %s %s", hms(s.StartTime/1e6), hms((s.LastTimestamp-s.StartTime)/1e6), m[1], m[2])
			}
		case dropRe.MatchString(line):
			m := dropRe.FindStringSubmatch(line)
			var sum, max int
			for _, d := range s.Dropouts {
				sum += int(d.DurationMS)
				max = int(math.Max(float64(max), float64(d.DurationMS)))
			}
			got := []string{strconv.Itoa(len(s.Dropouts)), fmt.Sprintf("%.1f", float64(sum)/1000), strconv.Itoa(max), strconv.Itoa(sum / len(s.Dropouts))}
			if fmt.Sprint(got) != fmt.Sprint(m[1:]) {
				t.Errorf("dropouts %v, pyulog %v", got, m[1:])
			}
		case line == "Info Messages:":
			section = "info"
		case strings.HasPrefix(line, "Name (multi id"):
			section = "topics"
		case section == "info" && strings.HasPrefix(line, " "):
			k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
			if s.Info[k].String() != v {
				t.Errorf("info %s = %q, pyulog %q", k, s.Info[k].String(), v)
			}
			infos++
		case section == "topics" && topicRe.MatchString(line):
			m := topicRe.FindStringSubmatch(line)
			found := false
			for _, tp := range s.Topics {
				if tp.Name == m[1] && strconv.Itoa(int(tp.MultiID)) == m[2] {
					found = true
					got := []string{strconv.Itoa(tp.Size), strconv.Itoa(tp.Count), strconv.Itoa(tp.Size * tp.Count)}
					if fmt.Sprint(got) != fmt.Sprint(m[3:]) {
						t.Errorf("%s: size/count/bytes %v, pyulog %v", m[1], got, m[3:])
					}
				}
			}
			if !found {
				t.Errorf("topic %s (%s) missing", m[1], m[2])
			}
			topics++
		}
	}
	if topics != len(s.Topics) || topics != 15 || infos != len(s.Info) {
		t.Fatalf("pyulog lists %d topics and %d info fields; we have %d and %d", topics, infos, len(s.Topics), len(s.Info))
	}
	// Manifest ground truth: 64542 D messages, 4 L strings, 493 params, 6 changed params.
	d := 0
	for _, tp := range s.Topics {
		d += tp.Count
	}
	if d != 64542 || len(s.Logged) != 4 || len(s.Params) != 493 || len(s.ChangedParams) != 6 || s.Version != 0 {
		t.Fatalf("D %d, L %d, params %d, changed %d, version %d", d, len(s.Logged), len(s.Params), len(s.ChangedParams), s.Version)
	}
	checkMessages(t, s, "ulog/expected/pyulog_sample_messages.txt")
}

// checkMessages compares the logged strings with pyulog's ulog_messages output.
func checkMessages(t *testing.T, s *Summary, rel string) {
	lines := corpusLines(t, rel)
	if len(lines) != len(s.Logged) {
		t.Fatalf("%d logged strings, pyulog %d", len(s.Logged), len(lines))
	}
	for i, line := range lines {
		m := messageRe.FindStringSubmatch(line)
		l := s.Logged[i]
		if m == nil || m[1] != hms(l.Timestamp/1e6) || m[2] != LevelName(l.Level) || m[3] != l.Text {
			t.Errorf("message %d: %s %s: %s; pyulog %q", i, hms(l.Timestamp/1e6), LevelName(l.Level), l.Text, line)
		}
	}
}

var (
	gpsTruthRe = regexp.MustCompile(`first timestamp=(\d+) time_utc_usec=(\d+) fix=(\d+) lat=(\d+) lon=(\d+) alt=(\d+) sats=(\d+)`)
	countsRe   = regexp.MustCompile(`(\d+) subscriptions, (\d+) D msgs, (\d+) L strings, (\d+) params, (\d+) dropout`)
)

// TestCorpusCubeOrange checks the 2021 log: counts and messages against pyulog and the manifest,
// and the old-schema GPS fix (int32 degE7, mm) against the manifest's first fix.
func TestCorpusCubeOrange(t *testing.T) {
	const rel = "ulog/pyulog_sample_log_small.ulg"
	s := corpusSummary(t, rel)
	gt := corpus.Lookup(t, rel).GroundTruth
	c := countsRe.FindStringSubmatch(gt)
	g := gpsTruthRe.FindStringSubmatch(gt)
	if c == nil || g == nil {
		t.Fatalf("ground truth not understood: %q", gt)
	}
	d := 0
	for _, tp := range s.Topics {
		d += tp.Count
	}
	got := []string{strconv.Itoa(len(s.Topics)), strconv.Itoa(d), strconv.Itoa(len(s.Logged)), strconv.Itoa(len(s.Params)), strconv.Itoa(len(s.Dropouts))}
	if fmt.Sprint(got) != fmt.Sprint(c[1:]) {
		t.Fatalf("topics, D, L, params, dropouts = %v; ground truth %v", got, c[1:])
	}
	checkMessages(t, s, "ulog/expected/pyulog_sample_log_small_messages.txt")

	p := corpus.Path(t, rel)
	f, err := os.Open(p)
	must(t, err, "open")
	defer f.Close()
	st, _ := f.Stat()
	sink := &decodertest.Sink{}
	in := decoders.Input{Path: p, SHA256: corpus.Lookup(t, rel).SHA256, Size: st.Size(), R: f}
	must(t, New().Decode(context.Background(), in, sink), "Decode")
	var first *geo.Fix
	for i := range sink.Fixes {
		if sink.Fixes[i].Evidence.Message == "vehicle_gps_position" {
			first = &sink.Fixes[i]
			break
		}
	}
	num := func(i int) float64 { v, _ := strconv.ParseFloat(g[i], 64); return v }
	utc, _ := strconv.ParseInt(g[2], 10, 64)
	if first == nil || first.Lat != num(4)/1e7 || first.Lon != num(5)/1e7 || math.Abs(first.AltM-num(6)/1000) > 1e-9 ||
		!first.Time.Equal(time.UnixMicro(utc).UTC()) || first.Evidence.Encoding != "int32 degE7" {
		t.Fatalf("first GPS fix %v alt %v time %v; ground truth %s", first, first.AltM, first.Time, g[0])
	}
	if sink.Counts["msg_vehicle_gps_position"] != 32 {
		t.Fatalf("vehicle_gps_position count %d", sink.Counts["msg_vehicle_gps_position"])
	}
	ids := sink.NotesWithCode("identity")
	// The boot console's PX4GUID equals sys_uuid here: one identity note, both in the exposure.
	exp := sink.Exposures
	if len(ids) != 1 || ids[0].Attrs["sys_uuid"] != "000600000000383638393239510d0035002d" ||
		len(exp) != 1 || exp[0].Values["px4_guid"] != "000600000000383638393239510d0035002d" || exp[0].Values["board"] != "CUBEPILOT_CUBEORANGE" {
		t.Fatalf("identity notes %+v", ids)
	}
}

// TestCorpusYuleCSV reads the synthetic third-party ULogs and compares every sample with the
// CSV that the yule_log writer's own exporter produced.
func TestCorpusYuleCSV(t *testing.T) {
	for _, name := range []string{"powers", "short_list", "trig_stats"} {
		t.Run(name, func(t *testing.T) {
			type sample struct {
				ts   uint64
				data []byte
				sub  *Subscription
			}
			f, err := os.Open(corpus.Path(t, "ulog/yule_"+name+".ulg"))
			must(t, err, "open")
			defer f.Close()
			rd, err := NewReader(f, name)
			must(t, err, "NewReader")
			samples := map[string][]sample{}
			for {
				m, err := rd.Next()
				if err == io.EOF {
					break
				}
				must(t, err, "Next")
				if m.Sub != nil {
					ts, _ := m.Sub.Timestamp(m.Data)
					samples[m.Sub.Name] = append(samples[m.Sub.Name], sample{ts, append([]byte(nil), m.Data...), m.Sub})
				}
			}
			cf, err := os.Open(corpus.Path(t, "ulog/expected/yule_"+name+"_export.csv"))
			must(t, err, "open csv")
			defer cf.Close()
			rows, err := csv.NewReader(bufio.NewReader(cf)).ReadAll()
			must(t, err, "csv")
			header := rows[0]
			next := map[string]int{}
			cells := 0
			for r, row := range rows[1:] {
				wantT, _ := strconv.ParseFloat(row[0], 64)
				used := map[string]sample{}
				for c := 1; c < len(row); c++ {
					if row[c] == "" {
						continue
					}
					topic, fieldName, _ := strings.Cut(header[c], "/")
					smp, ok := used[topic]
					if !ok {
						if next[topic] >= len(samples[topic]) {
							t.Fatalf("row %d: no sample left for %s", r, topic)
						}
						smp = samples[topic][next[topic]]
						next[topic]++
						used[topic] = smp
						if math.Abs(float64(smp.ts)/1e6-wantT) > 1.5e-6 {
							t.Fatalf("row %d %s: timestamp %d, CSV %s", r, topic, smp.ts, row[0])
						}
					}
					idx := 0
					if base, i, ok := strings.Cut(fieldName, "."); ok {
						fieldName = base
						idx, _ = strconv.Atoi(i)
					}
					fl := smp.sub.Layout.Field(fieldName)
					if fl == nil {
						t.Fatalf("%s has no field %s", topic, fieldName)
					}
					v, ok := fl.Float(smp.data, idx)
					want, _ := strconv.ParseFloat(row[c], 64)
					if !ok || math.Abs(v-want) > 1e-9*math.Max(1, math.Abs(want)) {
						t.Fatalf("row %d %s: %v, CSV %s", r, header[c], v, row[c])
					}
					cells++
				}
			}
			for topic, list := range samples {
				if next[topic] != len(list) {
					t.Fatalf("%s: %d samples, CSV has %d", topic, len(list), next[topic])
				}
			}
			if cells == 0 {
				t.Fatal("no cells compared")
			}
		})
	}
	s := corpusSummary(t, "ulog/yule_trig_stats.ulg")
	if s.Info["sys_name"].Str != "ULogExampleWriter" || len(s.Logged) != 1 || s.Logged[0].Text != "Hello world" || len(s.Params) != 2 {
		t.Fatalf("trig_stats info %+v logged %+v params %+v", s.Info, s.Logged, s.Params)
	}
}

// TestCorpusSniff: every corpus ULog is recognised by content; no other corpus file is.
func TestCorpusSniff(t *testing.T) {
	d := New()
	for _, e := range corpus.Files(t, "") {
		f, err := os.Open(corpus.Path(t, e.File))
		must(t, err, "open")
		head := make([]byte, decoders.SniffLen)
		n, _ := io.ReadFull(f, head)
		f.Close()
		want := strings.HasSuffix(e.File, ".ulg")
		if got := d.Sniff(head[:n]); got != want {
			t.Errorf("Sniff(%s) = %v", e.File, got)
		}
	}
}
