package engine

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Source is one input: a file on disk, or bytes embedded in the binary (the demo).
type Source struct {
	Name string
	Open func() (ReadAtCloser, int64, error)
	// Walked marks a file found by walking a folder rather than named by the user: when no
	// decoder recognises it, it is listed as skipped instead of failing the audit.
	Walked bool
}

// ReadAtCloser is what a Source opens.
type ReadAtCloser interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// FileSource is a file on disk. It is opened read-only and never written: evidence stays as it was.
func FileSource(path string) Source {
	return Source{Name: path, Open: func() (ReadAtCloser, int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		if !fi.Mode().IsRegular() {
			f.Close()
			return nil, 0, fmt.Errorf("%s: not a regular file", path)
		}
		return f, fi.Size(), nil
	}}
}

// BytesSource is an input held in memory under a name.
func BytesSource(name string, b []byte) Source {
	return Source{Name: name, Open: func() (ReadAtCloser, int64, error) {
		return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
	}}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// ExpandInputs turns the command-line inputs into sources: files as given, folders walked
// recursively (sorted, hidden entries skipped), so that the same arguments give the same order.
func ExpandInputs(args []string) ([]Source, []error) {
	var out []Source
	var errs []error
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.IsDir() {
			out = append(out, FileSource(a))
			continue
		}
		files, werrs := walk(a)
		errs = append(errs, werrs...)
		for _, f := range files {
			src := FileSource(f)
			src.Walked = true
			out = append(out, src)
		}
	}
	return out, errs
}

// walk lists the regular files below dir, sorted, leaving out hidden entries.
func walk(dir string) ([]string, []error) {
	var files []string
	var errs []error
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if p != dir && len(d.Name()) > 0 && d.Name()[0] == '.' {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	slices.Sort(files)
	return files, errs
}
