package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// StdinName is the argument, and the input name, for standard input.
const StdinName = "-"

// Inputs are the sources that command-line arguments name, in the order given.
type Inputs struct {
	Sources []Source
	closers []func()
}

// Close releases what the inputs hold (the spooled copy of standard input).
func (ins *Inputs) Close() {
	if ins == nil {
		return
	}
	for _, c := range ins.closers {
		c()
	}
	ins.closers = nil
}

// ArgError is a mistake in the arguments themselves, found before anything is read.
type ArgError struct{ msg string }

func (e *ArgError) Error() string { return e.msg }

// Expand turns command-line arguments into the sources of a run, in order. A file is read as
// named (a symlink named on the command line is followed); a folder is walked recursively in
// sorted order, with what is not read (hidden entries, named pipes, sockets, devices, symlinks
// that leave the folder or loop) listed as skipped with the reason; "-" is standard input,
// copied to a private, already unlinked temporary file so that it can be hashed and read like
// any other input (its SHA-256 is that of the bytes read). An argument that cannot be read
// becomes an input that fails with the reason, so that the run reports it beside the others.
//
// Standard input is copied here, before the run; the copy ends as soon as ctx does, even when
// the writer on the other side never sends anything.
func Expand(ctx context.Context, args []string, stdin io.Reader) (*Inputs, error) {
	ins := &Inputs{}
	seen := false
	for _, a := range args {
		if a != StdinName {
			for _, e := range expandArg(a) {
				ins.Sources = append(ins.Sources, e.src)
			}
			continue
		}
		if seen {
			ins.Close()
			return nil, &ArgError{"standard input (-) named twice"}
		}
		seen = true
		src, closeFn, err := spool(ctx, stdin)
		if err != nil {
			ins.Close()
			return nil, err
		}
		ins.closers = append(ins.closers, closeFn)
		ins.Sources = append(ins.Sources, src)
	}
	return ins, nil
}

// spool copies standard input to an unlinked temporary file and returns it as a source.
func spool(ctx context.Context, r io.Reader) (Source, func(), error) {
	if r == nil {
		return Source{}, nil, &ArgError{"- names standard input, and there is none"}
	}
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return Source{}, nil, &ArgError{"- names standard input, which is a terminal: pipe or redirect the input into droneaudit"}
		}
	}
	tmp, err := os.CreateTemp("", "droneaudit-stdin-*")
	if err != nil {
		return Source{}, nil, fmt.Errorf("standard input: %w", err)
	}
	// Nothing of the evidence stays on disk under a name, whatever happens to the process.
	os.Remove(tmp.Name())
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := copyCtx(ctx, tmp, r)
		done <- result{n, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		// The copy may be blocked in a read that only the writer can end: leave it behind.
		tmp.Close()
		return Source{}, nil, fmt.Errorf("standard input: %w", ctx.Err())
	}
	if res.err != nil {
		tmp.Close()
		return Source{}, nil, fmt.Errorf("standard input: %w", res.err)
	}
	n := res.n
	src := Source{Name: StdinName, Open: func() (ReadAtCloser, int64, error) {
		return sectionCloser{io.NewSectionReader(tmp, 0, n)}, n, nil
	}}
	return src, func() { tmp.Close() }, nil
}

// copyCtx copies r to w until EOF or until ctx ends.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf)
		if m > 0 {
			if _, werr := w.Write(buf[:m]); werr != nil {
				return n, werr
			}
			n += int64(m)
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// sectionCloser is a section of a file the Inputs own: closing it leaves the file open.
type sectionCloser struct{ *io.SectionReader }

func (sectionCloser) Close() error { return nil }
