package corpus

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// Seeds returns the corpus files under each folder (relative to the corpus, e.g. "srt") as fuzz
// seeds: whole when at most maxLen bytes long, else their first headLen bytes (a cut file is an
// input too); keep (nil keeps all) chooses among them by name and content. Unlike Dir it never
// skips: without the corpus a fuzz target runs on its generated seeds alone. Files are read in
// place at test time, never copied into the repository.
func Seeds(maxLen, headLen int64, keep func(name string, data []byte) bool, folders ...string) [][]byte {
	dir := quietDir()
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
			data, err := readHead(filepath.Join(dir, folder, n), maxLen, headLen)
			if err != nil || (keep != nil && !keep(n, data)) {
				continue
			}
			out = append(out, data)
		}
	}
	return out
}

// readHead reads a whole file of at most maxLen bytes, or the first headLen bytes of a larger one.
func readHead(path string, maxLen, headLen int64) ([]byte, error) {
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
	if n > maxLen {
		n = headLen
	}
	b := make([]byte, n)
	_, err = io.ReadFull(f, b)
	return b, err
}

// quietDir finds the corpus as Dir does, without skipping: "" when it is absent.
func quietDir() string {
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
