// Package corpus finds the shared real-sample corpus for tests. The corpus lives outside the
// repository, at ../shared/corpus beside the repository root; tests read it in place, skip when it
// is absent, and fail when it is present but damaged (see ../shared/corpus/README.md).
package corpus

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Entry is one row of MANIFEST.tsv.
type Entry struct {
	File        string
	Format      string
	SHA256      string
	Size        int64
	GroundTruth string
}

var (
	once     sync.Once
	dir      string
	manifest map[string]Entry
	loadErr  error
)

// root walks up from the working directory to the folder holding go.mod.
func root() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod above the working directory")
		}
		d = parent
	}
}

func load() {
	r, err := root()
	if err != nil {
		loadErr = err
		return
	}
	dir = filepath.Join(r, "..", "shared", "corpus")
	if env := os.Getenv("DRONEAUDIT_CORPUS"); env != "" {
		dir = env
	}
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			dir = ""
			return
		}
		loadErr = err
		return
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.Comma = '\t'
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		loadErr = fmt.Errorf("MANIFEST.tsv: %w", err)
		return
	}
	manifest = map[string]Entry{}
	for i, row := range rows {
		if i == 0 || len(row) < 9 {
			continue
		}
		size, _ := strconv.ParseInt(row[6], 10, 64)
		manifest[row[0]] = Entry{File: row[0], Format: row[1], SHA256: row[5], Size: size, GroundTruth: row[8]}
	}
}

// Dir returns the corpus folder, or skips the test when it is absent.
func Dir(t testing.TB) string {
	t.Helper()
	once.Do(load)
	if loadErr != nil {
		t.Fatalf("corpus: %v", loadErr)
	}
	if dir == "" {
		t.Skip("real-sample corpus not found at ../shared/corpus (it lives outside the repository); skipping")
	}
	return dir
}

// Path returns the path of a corpus file (relative to the corpus folder, e.g.
// "mavlink/gps_raw_int.pcapng") after checking its size and SHA-256 against MANIFEST.tsv. It skips
// when the corpus is absent and fails when the file is missing or differs.
func Path(t testing.TB, rel string) string {
	t.Helper()
	d := Dir(t)
	e, ok := manifest[rel]
	if !ok {
		t.Fatalf("corpus: %s is not listed in MANIFEST.tsv", rel)
	}
	p := filepath.Join(d, rel)
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("corpus: %s is listed in MANIFEST.tsv but cannot be opened: %v", rel, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatalf("corpus: reading %s: %v", rel, err)
	}
	if n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		t.Fatalf("corpus: %s differs from MANIFEST.tsv (size %d, want %d; or sha256 mismatch): corpus setup error", rel, n, e.Size)
	}
	return p
}

// Lookup returns the manifest row of a corpus file; it skips when the corpus is absent.
func Lookup(t testing.TB, rel string) Entry {
	t.Helper()
	Dir(t)
	e, ok := manifest[rel]
	if !ok {
		t.Fatalf("corpus: %s is not listed in MANIFEST.tsv", rel)
	}
	return e
}

// Files returns the manifest entries whose path starts with prefix (e.g. "srt/").
func Files(t testing.TB, prefix string) []Entry {
	t.Helper()
	Dir(t)
	var out []Entry
	for k, e := range manifest {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.File, b.File) })
	return out
}
