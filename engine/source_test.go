package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// inTime runs f and fails the test if it has not returned after d: a run that blocks on an input
// must fail the test, not hang it.
func inTime(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v", what, d)
	}
}

func write(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, to, p string) {
	t.Helper()
	if err := os.Symlink(to, p); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// A walk lists every entry: regular files and symlinks to regular files inside the folder are
// read; named pipes, sockets, devices, symlinks that leave the folder, loop, dangle or name a
// folder, and hidden entries are listed as skipped with the reason and never opened. A named
// pipe among them does not block the run.
func TestWalkListsWhatItDoesNotRead(t *testing.T) {
	a, b := twoFiles(t)
	top := t.TempDir()
	dir := filepath.Join(top, "case")
	write(t, filepath.Join(dir, "a.pcap"), a)
	write(t, filepath.Join(dir, "sub", "b.pcapng"), b)
	write(t, filepath.Join(top, "outside.pcap"), a)
	write(t, filepath.Join(dir, ".hidden.pcap"), a)
	write(t, filepath.Join(dir, ".cache", "c.pcap"), a)
	symlink(t, "a.pcap", filepath.Join(dir, "link-in.pcap"))
	symlink(t, "../outside.pcap", filepath.Join(dir, "link-out.pcap"))
	symlink(t, "loop", filepath.Join(dir, "loop"))
	symlink(t, "nowhere", filepath.Join(dir, "broken"))
	symlink(t, "sub", filepath.Join(dir, "link-dir"))
	symlink(t, "fifo", filepath.Join(dir, "link-fifo"))
	mkfifo(t, filepath.Join(dir, "fifo"))
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	wantSkip := map[string]string{
		".hidden.pcap":  "hidden",
		".cache":        "hidden",
		"link-out.pcap": "symlink leaving the folder",
		"loop":          "symlink loop",
		"broken":        "broken symlink",
		"link-dir":      "symlink to a folder",
		"link-fifo":     "symlink to a named pipe",
		"fifo":          "named pipe (FIFO), not a regular file",
		"sock":          "socket, not a regular file",
	}
	// With root, a device node too.
	if err := syscall.Mknod(filepath.Join(dir, "null"), syscall.S_IFCHR|0o644, 0x103); err == nil {
		wantSkip["null"] = "character device, not a regular file"
	}
	// The folder is named through a symlink: paths stay as named.
	symlink(t, "case", filepath.Join(top, "named"))
	named := filepath.Join(top, "named")
	ins, err := Expand(t.Context(), []string{named}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range ins.Sources {
		names = append(names, strings.TrimPrefix(s.Name, named+string(filepath.Separator)))
		if !s.Walked {
			t.Errorf("%s: not marked as walked", s.Name)
		}
	}
	if len(names) != len(wantSkip)+3 || names[0] != ".cache" || names[len(names)-1] != "sub/b.pcapng" {
		t.Fatalf("sources %q", names)
	}
	rec := newRecorder()
	inTime(t, 10*time.Second, "a run over a folder with a named pipe", func() {
		if err := Run(t.Context(), ins.Sources, Config{Output: rec}); err != nil {
			t.Error(err)
		}
	})
	for _, s := range ins.Sources {
		rel := strings.TrimPrefix(s.Name, named+string(filepath.Separator))
		in := rec.ins[s.Name]
		if rec.done[s.Name] != 1 {
			t.Fatalf("%s: Done %d times", rel, rec.done[s.Name])
		}
		if want, ok := wantSkip[rel]; ok {
			if !strings.Contains(in.Skipped, want) || in.Err != nil {
				t.Errorf("%s: skipped %q, error %v; want skipped for %q", rel, in.Skipped, in.Err, want)
			}
			continue
		}
		if in.Skipped != "" || in.Err != nil || in.Format == "" {
			t.Errorf("%s: not read: skipped %q, error %v", rel, in.Skipped, in.Err)
		}
	}
	if in := rec.ins[filepath.Join(named, "link-in.pcap")]; in.SHA256 != sum(a) {
		t.Errorf("symlink inside the folder: sha256 %s, want that of its target", in.SHA256)
	}
	// The legacy listing leaves the skipped entries out.
	srcs, errs := ExpandInputs([]string{named})
	if len(srcs) != 3 || len(errs) != 0 {
		t.Errorf("ExpandInputs: %d sources, errors %v", len(srcs), errs)
	}
}

// A named pipe named as an input fails with the reason at once; the other inputs are read.
// Before, opening it waited for a writer forever.
func TestNamedPipeInputDoesNotBlock(t *testing.T) {
	a, _ := twoFiles(t)
	dir := t.TempDir()
	fifo, capture := filepath.Join(dir, "evidence.pcap"), filepath.Join(dir, "a.pcap")
	mkfifo(t, fifo)
	write(t, capture, a)
	symlink(t, "evidence.pcap", filepath.Join(dir, "link.pcap"))
	inTime(t, 5*time.Second, "opening a named pipe", func() {
		if _, _, err := FileSource(fifo).Open(); err == nil || !strings.Contains(err.Error(), "named pipe") {
			t.Errorf("open: %v", err)
		}
	})
	ins, err := Expand(t.Context(), []string{fifo, filepath.Join(dir, "link.pcap"), capture}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	inTime(t, 10*time.Second, "a run with a named pipe among its inputs", func() {
		if err := Run(t.Context(), ins.Sources, Config{Output: rec}); err != nil {
			t.Error(err)
		}
	})
	for _, name := range []string{fifo, filepath.Join(dir, "link.pcap")} {
		if in := rec.ins[name]; in == nil || in.Err == nil || !strings.Contains(in.Err.Error(), "named pipe") {
			t.Errorf("%s: %+v", name, in)
		}
	}
	if in := rec.ins[capture]; in.Err != nil || in.SHA256 != sum(a) || rec.count(capture, "packets") == 0 {
		t.Errorf("the capture beside the pipe: %+v", in)
	}
}

// A file found in a walk is opened only if it is still the file the walk listed: swapped for a
// named pipe, a symlink or another file in between, it fails without blocking.
func TestWalkedFileSwappedBeforeOpen(t *testing.T) {
	for _, swap := range []string{"fifo", "symlink", "other"} {
		t.Run(swap, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "x.pcap")
			write(t, p, []byte("x"))
			write(t, filepath.Join(dir, "y"), []byte("y"))
			ins, err := Expand(t.Context(), []string{dir}, nil)
			if err != nil || len(ins.Sources) != 2 {
				t.Fatalf("%v %v", ins, err)
			}
			if swap != "other" {
				os.Remove(p)
			}
			switch swap {
			case "fifo":
				mkfifo(t, p)
			case "symlink":
				symlink(t, "y", p)
			case "other":
				// Written before the old one is gone, so it is another file, not a reused inode.
				write(t, p+".new", []byte("x"))
				os.Rename(p+".new", p)
			}
			inTime(t, 5*time.Second, "opening a swapped file", func() {
				f, _, err := ins.Sources[0].Open()
				if err == nil {
					f.Close()
					t.Errorf("opened %s swapped for a %s", p, swap)
				}
			})
		})
	}
}

// Cancelling a run stops it at once, also while a large input is being hashed: every read of
// an input fails once the context is done.
func TestCancelStopsHashingAndReading(t *testing.T) {
	dir := t.TempDir()
	sparse := func(name string, head []byte) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(head)
		if err := f.Truncate(64 << 30); err != nil {
			t.Skipf("no sparse files here: %v", err)
		}
		f.Close()
		return p
	}
	pcapHeader := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	for _, c := range []struct {
		name string
		path string
		cfg  Config
	}{
		{"unknown file, hashed", sparse("big.bin", []byte("junk")), Config{}},
		{"capture, hashed beside", sparse("big.pcap", pcapHeader), Config{}},
		{"capture, hashed first", filepath.Join(dir, "big.pcap"), Config{HashFirst: true, Workers: 1, Shards: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			rec := newRecorder()
			c.cfg.Output = rec
			done := make(chan error, 1)
			go func() { done <- Run(ctx, []Source{FileSource(c.path)}, c.cfg) }()
			time.Sleep(300 * time.Millisecond)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) || rec.done[c.path] != 1 || rec.ins[c.path].Err == nil {
					t.Fatalf("Run returned %v; done %v", err, rec.done)
				}
			case <-time.After(time.Second):
				t.Fatal("the run went on for more than a second after it was cancelled")
			}
		})
	}
}

// "-" reads standard input into a private copy: its SHA-256 is that of the bytes read, it can be
// named only once, and a writer that never sends anything does not hold a cancelled run.
func TestStdinInput(t *testing.T) {
	a, _ := twoFiles(t)
	ins, err := Expand(t.Context(), []string{"-"}, bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	rec := newRecorder()
	if err := Run(t.Context(), ins.Sources, Config{Output: rec}); err != nil {
		t.Fatal(err)
	}
	if in := rec.ins["-"]; in.SHA256 != sum(a) || in.Size != int64(len(a)) || in.Err != nil || rec.count("-", "packets") == 0 {
		t.Fatalf("standard input: %+v", in)
	}
	var ae *ArgError
	if _, err := Expand(t.Context(), []string{"-", "-"}, bytes.NewReader(a)); !errors.As(err, &ae) {
		t.Errorf("- twice: %v", err)
	}
	if _, err := Expand(t.Context(), []string{"-"}, nil); !errors.As(err, &ae) {
		t.Errorf("- without standard input: %v", err)
	}
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	inTime(t, 2*time.Second, "reading a silent standard input", func() {
		if _, err := Expand(ctx, []string{"-"}, r); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("silent writer: %v", err)
		}
	})
}

// A named input that does not exist, or is a folder that cannot be read, is an input that
// fails with the reason, in its place among the others.
func TestExpandMissingInput(t *testing.T) {
	a, _ := twoFiles(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.pcap"), a)
	missing := filepath.Join(dir, "missing.pcap")
	ins, err := Expand(t.Context(), []string{missing, filepath.Join(dir, "a.pcap")}, nil)
	if err != nil || len(ins.Sources) != 2 || ins.Sources[0].Name != missing {
		t.Fatalf("%+v %v", ins, err)
	}
	rec := newRecorder()
	if err := Run(t.Context(), ins.Sources, Config{Output: rec}); err != nil {
		t.Fatal(err)
	}
	if in := rec.ins[missing]; !errors.Is(in.Err, os.ErrNotExist) {
		t.Errorf("missing input: %v", in.Err)
	}
	if in := rec.ins[filepath.Join(dir, "a.pcap")]; in.Err != nil {
		t.Errorf("the other input: %v", in.Err)
	}
}
