package main

// The golden corpus test pins what today's commands print for the whole real-sample corpus, so
// that a rewrite of the decoding engine can prove its results did not change. It goes through the
// command line only: the output formats are the stable interface, the Go APIs behind them are not.
//
// Refresh the golden files after an intended change, then read the git diff:
//
//	go test ./cmd/droneaudit -run TestGoldenCorpus -update-golden

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"droneaudit/capture"
	"droneaudit/internal/corpus"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from today's corpus results")

// goldenDir is the top-level testdata/golden, seen from this package's directory (go test runs
// each test in its package directory).
const goldenDir = "../../testdata/golden"

// goldenSampleLines is how many sorted fix lines per input are kept verbatim beside the hash, so
// that a diff shows real data and not only a changed hash.
const goldenSampleLines = 3

// maxGoldenDiffs bounds the differences reported per golden file: the first ones locate a
// change, a thousand more would bury them.
const maxGoldenDiffs = 12

func TestGoldenCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole real-sample corpus several times; skipped under -short")
	}
	e := newGoldenEnv(t)
	t.Run("fixes", func(t *testing.T) { e.check(t, "fixes.json", e.fixes(t)) })
	t.Run("audit", func(t *testing.T) { e.check(t, "audit.json", e.audit(t)) })
	t.Run("destinations", func(t *testing.T) { e.check(t, "destinations.json", e.destinations(t)) })
	t.Run("broadcasts", func(t *testing.T) { e.check(t, "broadcasts.json", e.broadcasts(t)) })
}

// goldenEnv is what every part of the golden test shares.
type goldenEnv struct {
	root   string   // absolute corpus folder, exactly as given to the commands
	config string   // an empty configuration file
	leaks  []string // absolute locations that must never reach a golden file
}

// newGoldenEnv finds the corpus (skipping when it is absent), checks every file against its
// manifest so that a damaged corpus is reported as a setup error rather than as a changed
// result, and shields the commands from any configuration of the machine running the test.
func newGoldenEnv(t *testing.T) *goldenEnv {
	dir := corpus.Dir(t)
	for _, en := range corpus.Files(t, "") {
		corpus.Path(t, en.File)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &goldenEnv{root: root, leaks: []string{root}}
	if real, err := filepath.EvalSymlinks(root); err == nil && real != root {
		e.leaks = append(e.leaks, real)
	}
	if repo, err := filepath.Abs("../.."); err == nil {
		e.leaks = append(e.leaks, repo)
	}
	// A droneaudit.yaml or DRONEAUDIT_* setting (owner rules, GeoIP databases, policy) would
	// change the results; an explicit empty config and blank variables keep the defaults.
	e.config = filepath.Join(t.TempDir(), "droneaudit.yaml")
	if err := os.WriteFile(e.config, []byte("# golden test: built-in defaults only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "DRONEAUDIT_") && k != "DRONEAUDIT_CORPUS" {
			t.Setenv(k, "")
		}
	}
	return e
}

// run runs one command line with the neutral configuration. A usage error means the test itself
// is wrong, so it stops there instead of pinning an error message.
func (e *goldenEnv) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	full := append([]string{"--config", e.config, "--no-progress"}, args...)
	code, out, errOut := cli(t, full...)
	if code == exitUsage {
		t.Fatalf("%s: usage error: %s", args[0], errOut)
	}
	return code, out
}

// rel turns a path the commands printed into a corpus-relative, slash-separated one.
func (e *goldenEnv) rel(p string) (string, error) {
	r, err := filepath.Rel(e.root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q is not inside the corpus %s", p, e.root)
	}
	return filepath.ToSlash(r), nil
}

// scrub makes every string in a decoded JSON value independent of where the corpus lives: paths
// become corpus-relative, also inside messages such as "<path>: empty file".
func (e *goldenEnv) scrub(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, e.root+string(filepath.Separator), "")
	case []any:
		for i := range x {
			x[i] = e.scrub(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = e.scrub(x[k])
		}
	}
	return v
}

// decodeJSON decodes command output keeping numbers as their literal text, so that the pin holds
// the exact digits the command printed.
func decodeJSON(t *testing.T, what, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%.500s", what, err, s)
	}
}

// fixes pins `fixes --format ndjson` per input: the number of lines, the SHA-256 of the sorted
// lines (each ending in "\n") and the first sorted lines verbatim. Sorting makes the pin
// independent of emission order; only the input path of each line is rewritten.
func (e *goldenEnv) fixes(t *testing.T) any {
	code, out := e.run(t, "fixes", "--format", "ndjson", e.root)
	byInput := map[string][]string{}
	for line := range strings.Lines(out) {
		line = strings.TrimSuffix(line, "\n")
		input, rewritten, err := e.relativeFixLine(line)
		if err != nil {
			t.Fatalf("fixes: %v\nline: %s", err, line)
		}
		byInput[input] = append(byInput[input], rewritten)
	}
	inputs := map[string]any{}
	for input, lines := range byInput {
		slices.Sort(lines)
		h := sha256.New()
		for _, l := range lines {
			io.WriteString(h, l+"\n")
		}
		inputs[input] = map[string]any{
			"lines":  len(lines),
			"sha256": hex.EncodeToString(h.Sum(nil)),
			"first":  lines[:min(goldenSampleLines, len(lines))],
		}
	}
	return map[string]any{
		"about":     fmt.Sprintf("droneaudit fixes --format ndjson CORPUS; per input (corpus-relative): line count, SHA-256 of the sorted lines each ending in \\n, first %d sorted lines; \"input\" rewritten to the relative path", goldenSampleLines),
		"exit_code": code,
		"inputs":    inputs,
	}
}

// relativeFixLine rewrites the "input" field of one NDJSON fix line to the corpus-relative path
// and leaves every other byte as it was. The key is found as text: an unescaped `"input":` can
// only be a key, since quotes inside JSON strings are escaped.
func (e *goldenEnv) relativeFixLine(line string) (string, string, error) {
	const key = `"input":`
	if n := strings.Count(line, key); n != 1 {
		return "", "", fmt.Errorf("%d %s fields, want 1", n, key)
	}
	start := strings.Index(line, key) + len(key)
	dec := json.NewDecoder(strings.NewReader(line[start:]))
	var abs string
	if err := dec.Decode(&abs); err != nil {
		return "", "", fmt.Errorf("input field: %v", err)
	}
	end := start + int(dec.InputOffset())
	rel, err := e.rel(abs)
	if err != nil {
		return "", "", err
	}
	enc, _ := json.Marshal(rel)
	line = line[:start] + string(enc) + line[end:]
	if strings.Contains(line, e.root) {
		return "", "", errors.New("the line still holds the corpus location outside its input field")
	}
	return rel, line, nil
}

// auditInputFields are the per-input fields of the audit report that the pin keeps.
var auditInputFields = []string{"sha256", "size", "format", "fixes", "fixes_by_role", "fixes_by_channel",
	"counts", "notes", "notes_dropped", "exposed_if_shared", "error", "skipped"}

// audit pins the per-input part of `audit --format json` (no zones), keyed by relative path.
// Notes are sorted so that the pin does not depend on the order decoders emit them in.
func (e *goldenEnv) audit(t *testing.T) any {
	code, out := e.run(t, "audit", "--format", "json", e.root)
	var rep struct {
		Inputs []map[string]any `json:"inputs"`
	}
	decodeJSON(t, "audit", out, &rep)
	inputs := map[string]any{}
	for _, in := range rep.Inputs {
		path, _ := in["path"].(string)
		rel, err := e.rel(path)
		if err != nil {
			t.Fatalf("audit: %v", err)
		}
		kept := map[string]any{}
		for _, k := range auditInputFields {
			if v, ok := in[k]; ok {
				kept[k] = v
			}
		}
		if notes, ok := kept["notes"].([]any); ok {
			sortNotes(notes)
		}
		inputs[rel] = e.scrub(kept)
	}
	return map[string]any{
		"about":     "droneaudit audit --format json CORPUS (no zones); per input (corpus-relative path): the listed fields as printed, notes sorted by offset, code, locator, message",
		"exit_code": code,
		"inputs":    inputs,
	}
}

// sortNotes orders notes by (offset, code, locator, message), then by their whole JSON so that
// notes equal in those four still have one order.
func sortNotes(notes []any) {
	key := func(n any) (float64, string, string, string, string) {
		m, _ := n.(map[string]any)
		off, _ := m["offset"].(json.Number)
		f, _ := off.Float64()
		s := func(k string) string { v, _ := m[k].(string); return v }
		whole, _ := json.Marshal(n)
		return f, s("code"), s("locator"), s("message"), string(whole)
	}
	slices.SortStableFunc(notes, func(a, b any) int {
		ao, ac, al, am, aw := key(a)
		bo, bc, bl, bm, bw := key(b)
		return cmp.Or(cmp.Compare(ao, bo), cmp.Compare(ac, bc), cmp.Compare(al, bl), cmp.Compare(am, bm), cmp.Compare(aw, bw))
	})
}

// captures lists the corpus files that start like a pcap or pcapng file, sorted, skipping hidden
// entries as the commands' folder walk does.
func (e *goldenEnv) captures(t *testing.T) []string {
	var out []string
	err := filepath.WalkDir(e.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != e.root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		head, err := readHead(p, 64<<10)
		if err != nil {
			return err
		}
		if capture.Sniff(head) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// readHead returns up to n first bytes of a file.
func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(n)))
	return b, err
}

// relAll makes a list of corpus paths relative.
func (e *goldenEnv) relAll(t *testing.T, paths []string) []any {
	out := make([]any, len(paths))
	for i, p := range paths {
		r, err := e.rel(p)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// destinations pins `destinations --format json` over every capture of the corpus: the rows in
// their printed order, the DNS queries, the packet count and the notes sorted.
func (e *goldenEnv) destinations(t *testing.T) any {
	caps := e.captures(t)
	if len(caps) == 0 {
		t.Fatal("no pcap or pcapng file found in the corpus")
	}
	code, out := e.run(t, append([]string{"destinations", "--format", "json"}, caps...)...)
	var inv map[string]any
	decodeJSON(t, "destinations", out, &inv)
	notes, _ := inv["notes"].([]any)
	slices.SortFunc(notes, func(a, b any) int { return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return e.scrub(map[string]any{
		"about":        "droneaudit destinations --format json CAPTURE... (every pcap/pcapng file of the corpus, sorted); rows, dns_queries and packets as printed, notes sorted",
		"exit_code":    code,
		"captures":     e.relAll(t, caps),
		"destinations": inv["destinations"],
		"dns_queries":  inv["dns_queries"],
		"packets":      inv["packets"],
		"notes":        notes,
	})
}

// positionFields are the fields of a broadcast position the pin keeps; the refactor adds others.
var positionFields = []string{"lat", "lon", "alt_m", "time", "file", "frame", "kind", "detail"}

// broadcasts pins `broadcasts --format json` over the 802.11 captures of corpus/ota, each alone
// and all together: per aircraft every field as printed, except that track, home and pilot
// positions keep only positionFields, so fields added later are ignored.
func (e *goldenEnv) broadcasts(t *testing.T) any {
	var ota []string
	for _, p := range e.captures(t) {
		if r, _ := e.rel(p); strings.HasPrefix(r, "ota/") {
			ota = append(ota, p)
		}
	}
	if len(ota) == 0 {
		t.Fatal("no capture found in the corpus's ota folder")
	}
	runs := map[string]any{}
	for _, p := range ota {
		r, _ := e.rel(p)
		runs[r] = e.broadcastRun(t, p)
	}
	runs["(all together)"] = e.broadcastRun(t, ota...)
	return map[string]any{
		"about": "droneaudit broadcasts --format json CAPTURE... over each capture of ota/ alone and over all of them (sorted); per aircraft all fields as printed except positions (track, home, pilot), which keep only " + strings.Join(positionFields, ", "),
		"runs":  runs,
	}
}

// broadcastRun runs broadcasts over some captures and projects the result.
func (e *goldenEnv) broadcastRun(t *testing.T, caps ...string) any {
	code, out := e.run(t, append([]string{"broadcasts", "--format", "json"}, caps...)...)
	var doc struct {
		Stats    map[string]any   `json:"stats"`
		Aircraft []map[string]any `json:"aircraft"`
	}
	decodeJSON(t, "broadcasts", out, &doc)
	aircraft := make([]any, len(doc.Aircraft))
	for i, a := range doc.Aircraft {
		for _, role := range []string{"track", "home", "pilot"} {
			if ps, ok := a[role].([]any); ok {
				for j, p := range ps {
					ps[j] = project(p, positionFields)
				}
			}
		}
		aircraft[i] = a
	}
	return e.scrub(map[string]any{"exit_code": code, "stats": doc.Stats, "aircraft": aircraft})
}

// project keeps only the named fields of a JSON object.
func project(v any, fields []string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for _, f := range fields {
		if x, ok := m[f]; ok {
			out[f] = x
		}
	}
	return out
}

// check compares a golden document with its file, or rewrites the file under -update-golden.
func (e *goldenEnv) check(t *testing.T, name string, doc any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	for _, l := range e.leaks {
		if bytes.Contains(buf.Bytes(), []byte(l+string(filepath.Separator))) {
			t.Fatalf("%s would hold the absolute location %s: the pin must not depend on where the repository or corpus lives", name, l)
		}
	}
	path := filepath.Join(goldenDir, name)
	if *updateGolden {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, buf.Len())
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: create it with go test ./cmd/droneaudit -run TestGoldenCorpus -update-golden", err)
	}
	var want, got any
	decodeJSON(t, path, string(data), &want)
	decodeJSON(t, "current "+name, buf.String(), &got)
	var diffs []string
	jsonDiff(strings.TrimSuffix(name, ".json"), want, got, &diffs)
	if len(diffs) > 0 {
		t.Errorf("today's output differs from %s (first %d differences; want = golden, got = now):\n%s\n"+
			"If the change is intended: go test ./cmd/droneaudit -run TestGoldenCorpus -update-golden, then review git diff testdata/golden",
			path, len(diffs), strings.Join(diffs, "\n"))
	}
}

// jsonDiff appends the differences between two decoded JSON values, naming each by its path
// (e.g. audit.inputs["srt/x.SRT"].notes[2]), up to maxGoldenDiffs. Of a list it reports only the
// first differing element, because one inserted element shifts all the ones after it.
func jsonDiff(path string, want, got any, out *[]string) {
	if len(*out) >= maxGoldenDiffs || reflect.DeepEqual(want, got) {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		if g, ok := got.(map[string]any); ok {
			diffObjects(path, w, g, out)
			return
		}
	case []any:
		if g, ok := got.([]any); ok {
			diffLists(path, w, g, out)
			return
		}
	}
	*out = append(*out, fmt.Sprintf("%s:\n  want %s\n  got  %s", path, compact(want), compact(got)))
}

// diffObjects compares two JSON objects key by key, in key order.
func diffObjects(path string, want, got map[string]any, out *[]string) {
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, dup := want[k]; !dup {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := path + fieldPath(k)
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			*out = append(*out, fmt.Sprintf("%s: missing now (golden: %s)", p, compact(w)))
		case !inWant:
			*out = append(*out, fmt.Sprintf("%s: new (now: %s)", p, compact(g)))
		default:
			jsonDiff(p, w, g, out)
		}
		if len(*out) >= maxGoldenDiffs {
			return
		}
	}
}

// diffLists reports a length change and the first differing element: whole when it is small
// (a note, a fix line, a position), else field by field.
func diffLists(path string, want, got []any, out *[]string) {
	if len(want) != len(got) {
		*out = append(*out, fmt.Sprintf("%s: %d elements now, golden has %d", path, len(got), len(want)))
	}
	for i := range max(len(want), len(got)) {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case i >= len(got):
			*out = append(*out, fmt.Sprintf("%s: missing now (golden: %s)", p, compact(want[i])))
		case i >= len(want):
			*out = append(*out, fmt.Sprintf("%s: new (now: %s)", p, compact(got[i])))
		case reflect.DeepEqual(want[i], got[i]):
			continue
		case len(compact(want[i])) <= 600 && len(compact(got[i])) <= 600:
			*out = append(*out, fmt.Sprintf("%s (first differing element):\n  want %s\n  got  %s", p, compact(want[i]), compact(got[i])))
		default:
			jsonDiff(p, want[i], got[i], out)
		}
		return
	}
}

// fieldPath names an object key in a diff path: .name for plain keys, ["a/b.c"] for paths.
func fieldPath(k string) string {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "[" + strconv.Quote(k) + "]"
		}
	}
	return "." + k
}

// compact prints a decoded JSON value on one line.
func compact(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
