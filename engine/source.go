package engine

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Source is one input: a file on disk, or bytes embedded in the binary (the demo).
type Source struct {
	Name string
	Open func() (ReadAtCloser, int64, error)
	// Walked marks a file found by walking a folder rather than named by the user: when no
	// decoder recognises it, it is listed as skipped instead of failing the audit.
	Walked bool
	// Skip, when set, lists the input without opening it and says why (hidden, a named pipe, a
	// symlink that leaves the folder): Open is never called.
	Skip string
	// OnDone, when set, is called once the input is finished, right after Output.Done, with what
	// the run learnt of it. It may be called from any goroutine.
	OnDone func(*Input)
}

// ReadAtCloser is what a Source opens.
type ReadAtCloser interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// FileSource is a file on disk, named by the user: a symlink is followed. It is opened
// read-only and never written: evidence stays as it was. Anything but a regular file (a named
// pipe, a device, a socket, a folder) is refused without blocking on it.
func FileSource(path string) Source {
	return Source{Name: path, Open: func() (ReadAtCloser, int64, error) {
		return openRegular(path, path, true, nil)
	}}
}

// openRegular opens path for reading, never blocking and never reading anything but a regular
// file: a named pipe opened for reading waits for a writer, and a device may never end, so the
// open is non-blocking and the kind is checked on the opened descriptor (not before it, where the
// file could still be swapped). Without follow, a final symlink is refused; with listed (what a
// folder walk saw), the file must still be that file.
func openRegular(name, path string, follow bool, listed fs.FileInfo) (ReadAtCloser, int64, error) {
	flags := os.O_RDONLY | openNonblock
	if !follow {
		flags |= openNoFollow
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		if !follow && errors.Is(err, syscall.ELOOP) {
			return nil, 0, fmt.Errorf("%s: became a symlink after the folder was listed: not read", name)
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, notRegular(name, fi.Mode())
	}
	if listed != nil && (!os.SameFile(listed, fi) || listed.Size() != fi.Size() || !listed.ModTime().Equal(fi.ModTime())) {
		f.Close()
		return nil, 0, fmt.Errorf("%s: replaced or changed after the folder was listed: not read", name)
	}
	return f, fi.Size(), nil
}

// notRegular is the error for an input that is no regular file.
func notRegular(name string, m fs.FileMode) error {
	hint := ""
	if m&fs.ModeNamedPipe != 0 {
		hint = " (to read a stream, pipe it to standard input and name the input -)"
	}
	return fmt.Errorf("%s: %s, not a regular file: droneaudit reads only regular files%s", name, kindOf(m), hint)
}

// kindOf names a file type for a message.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m.IsDir():
		return "a folder"
	case m.IsRegular():
		return "a regular file"
	}
	return "an irregular file"
}

// FileSources are the files at paths, in that order.
func FileSources(paths []string) []Source {
	srcs := make([]Source, len(paths))
	for i, p := range paths {
		srcs[i] = FileSource(p)
	}
	return srcs
}

// BytesSource is an input held in memory under a name.
func BytesSource(name string, b []byte) Source {
	return Source{Name: name, Open: func() (ReadAtCloser, int64, error) {
		return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
	}}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// failedSource is an input that could not even be listed: the run reports its error beside the
// other inputs.
func failedSource(name string, walked bool, err error) Source {
	return Source{Name: name, Walked: walked, Open: func() (ReadAtCloser, int64, error) { return nil, 0, err }}
}

// entry is one input found while expanding an argument; err is set when it could not be listed.
type entry struct {
	src Source
	err error
}

// ExpandInputs turns the command-line inputs into sources: files as given, folders walked
// recursively (sorted), so that the same arguments give the same order. It leaves out what a
// walk lists as skipped (hidden entries, named pipes, symlinks leaving the folder) and returns
// the paths that cannot be read as errors; Expand keeps both in the run, and reads "-".
func ExpandInputs(args []string) ([]Source, []error) {
	var out []Source
	var errs []error
	for _, a := range args {
		for _, e := range expandArg(a) {
			switch {
			case e.err != nil:
				errs = append(errs, e.err)
			case e.src.Skip == "":
				out = append(out, e.src)
			}
		}
	}
	return out, errs
}

// expandArg lists what one argument names: itself when it is a regular file (or a symlink to
// one), every entry below it when it is a folder, and an input that fails with the reason when
// it is anything else.
func expandArg(a string) []entry {
	fi, err := os.Stat(a)
	switch {
	case err != nil:
		return []entry{{src: failedSource(a, false, err), err: err}}
	case fi.Mode().IsRegular():
		return []entry{{src: FileSource(a)}}
	case fi.IsDir():
		return walk(a)
	}
	err = notRegular(a, fi.Mode())
	return []entry{{src: failedSource(a, false, err), err: err}}
}

// walk lists every entry below dir, sorted by path. Regular files are inputs; symlinks to
// regular files inside the folder are followed. Everything else is listed as skipped with the
// reason, never opened: hidden files and folders (a hidden folder is not entered), named pipes,
// sockets, devices, symlinks that leave the folder, loop, dangle or point to a folder. Paths are
// named below dir as given, also when dir itself is reached through a symlink.
func walk(dir string) []entry {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return []entry{{src: failedSource(dir, false, err), err: err}}
	}
	var out []entry
	skip := func(name, why string) { out = append(out, entry{src: Source{Name: name, Walked: true, Skip: why}}) }
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		name := dir
		if rel, rerr := filepath.Rel(root, p); rerr == nil && rel != "." {
			name = filepath.Join(dir, rel)
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = fmt.Errorf("%s: %s: %w", name, pe.Op, pe.Err)
			}
			out = append(out, entry{src: failedSource(name, true, err), err: err})
			return nil
		}
		if p == root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			skip(name, "hidden")
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		t := d.Type()
		switch {
		case t.IsDir():
		case t.IsRegular():
			fi, err := d.Info()
			if err != nil {
				out = append(out, entry{src: failedSource(name, true, err), err: err})
				return nil
			}
			out = append(out, entry{src: Source{Name: name, Walked: true, Open: func() (ReadAtCloser, int64, error) {
				return openRegular(name, p, false, fi)
			}}})
		case t&fs.ModeSymlink != 0:
			out = append(out, symlinkEntry(name, p, root))
		default:
			skip(name, kindOf(t)+", not a regular file")
		}
		return nil
	})
	if err != nil {
		out = append(out, entry{src: failedSource(dir, false, err), err: err})
	}
	slices.SortStableFunc(out, func(a, b entry) int { return cmp.Compare(a.src.Name, b.src.Name) })
	return out
}

// symlinkEntry follows a symlink found in a walk when it leads to a regular file inside the
// walked folder (root, resolved); any other symlink is listed as skipped with the reason.
func symlinkEntry(name, p, root string) entry {
	skip := func(why string) entry { return entry{src: Source{Name: name, Walked: true, Skip: why}} }
	to, _ := os.Readlink(p)
	if _, err := os.Stat(p); err != nil {
		switch {
		case errors.Is(err, syscall.ELOOP):
			return skip("symlink loop (→ " + to + "): not followed")
		case errors.Is(err, fs.ErrNotExist):
			return skip("broken symlink (→ " + to + ")")
		}
		return skip(fmt.Sprintf("symlink (→ %s) not followed: %v", to, err))
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return skip(fmt.Sprintf("symlink (→ %s) not followed: %v", to, err))
	}
	if !within(root, target) {
		return skip("symlink leaving the folder (→ " + to + "): not followed")
	}
	fi, err := os.Lstat(target)
	if err != nil {
		return skip(fmt.Sprintf("symlink (→ %s) not followed: %v", to, err))
	}
	if !fi.Mode().IsRegular() {
		return skip("symlink to " + kindOf(fi.Mode()) + " (→ " + to + "): not followed")
	}
	return entry{src: Source{Name: name, Walked: true, Open: func() (ReadAtCloser, int64, error) {
		return openRegular(name, target, false, fi)
	}}}
}

// within reports whether path p lies strictly inside folder root (both cleaned, resolved).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
