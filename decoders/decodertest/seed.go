package decodertest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// MaxFuzzInput is the largest input the fuzz targets decode. The fuzzer mutates and minimises
// every input it keeps, so one large seed slows the whole run; the real files above this size
// are covered by the corpus tests.
const MaxFuzzInput = 1 << 20

// SkipLarge skips a fuzz input over MaxFuzzInput.
func SkipLarge(t *testing.T, data []byte) {
	t.Helper()
	if len(data) > MaxFuzzInput {
		t.Skipf("input of %d bytes is over the fuzz bound of %d", len(data), MaxFuzzInput)
	}
}

// SeedHead is how much of a corpus file over MaxFuzzInput SeedCorpus adds: the file cut there,
// which every decoder must read as well (cut files are inputs too).
const SeedHead = 64 << 10

// SeedCorpus adds the real-sample corpus files under each folder (relative to the corpus, e.g.
// "srt") as fuzz seeds: whole when at most MaxFuzzInput bytes long, else their first SeedHead
// bytes; keep (nil keeps all) chooses among them by name and content. The corpus lives outside
// the repository (../shared/corpus, or $DRONEAUDIT_CORPUS); without it the target runs on its
// generated seeds alone. Files are read in place at test time, never copied into the repository.
func SeedCorpus(f *testing.F, keep func(name string, data []byte) bool, folders ...string) {
	f.Helper()
	for _, data := range CorpusSeeds(keep, folders...) {
		f.Add(data)
	}
}

// CorpusSeeds returns what SeedCorpus would add, for targets whose seeds are not plain byte
// slices of the file (a stream taken out of a capture, say).
func CorpusSeeds(keep func(name string, data []byte) bool, folders ...string) [][]byte {
	dir := corpusDir()
	if dir == "" {
		return nil
	}
	var out [][]byte
	for _, folder := range folders {
		entries, _ := os.ReadDir(filepath.Join(dir, folder))
		var names []string
		for _, e := range entries {
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			data, err := readHead(filepath.Join(dir, folder, n))
			if err != nil || (keep != nil && !keep(n, data)) {
				continue
			}
			out = append(out, data)
		}
	}
	return out
}

// readHead reads a whole file of at most MaxFuzzInput bytes, or the first SeedHead bytes of a
// larger one.
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := st.Size()
	if n > MaxFuzzInput {
		n = SeedHead
	}
	b := make([]byte, n)
	_, err = io.ReadFull(f, b)
	return b, err
}

// corpusDir finds the corpus as internal/corpus does, without skipping: a fuzz target must run
// without it.
func corpusDir() string {
	if env := os.Getenv("DRONEAUDIT_CORPUS"); env != "" {
		return env
	}
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			c := filepath.Join(d, "..", "shared", "corpus")
			if _, err := os.Stat(filepath.Join(c, "MANIFEST.tsv")); errors.Is(err, os.ErrNotExist) {
				return ""
			}
			return c
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}
