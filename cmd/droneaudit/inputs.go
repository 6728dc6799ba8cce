package main

import (
	"cmp"
	"crypto/sha256"
	"droneaudit/decoders/tlslayer"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"droneaudit/audit/destinations"
	"droneaudit/decoders"
	"droneaudit/engine"
	"droneaudit/internal/progress"
)

// openInputs turns the arguments of a command that reads inputs into sources: files, folders
// (walked), "-" for standard input, compressed or not. What cannot be read is not an error here:
// it becomes an input that fails or is skipped with its reason, so the other inputs still give
// their output. The returned log hears how every input ended. Close the inputs after the run.
func openInputs(cmd *cobra.Command, args []string) (*engine.Inputs, *inputLog, error) {
	if path, fi := stdoutTarget(cmd.OutOrStdout()); fi != nil {
		if err := checkNotInput("standard output", path, fi, args); err != nil {
			return nil, nil, err
		}
	}
	ins, err := engine.Expand(cmd.Context(), args, cmd.InOrStdin())
	if err != nil {
		var ae *engine.ArgError
		if errors.As(err, &ae) {
			return nil, nil, usageError("%v", err)
		}
		return nil, nil, err
	}
	log := &inputLog{}
	for i := range ins.Sources {
		ins.Sources[i].OnDone = log.add
	}
	return ins, log, nil
}

// inputLog records how each input of a run ended, for the commands whose output has no list of
// inputs of its own.
type inputLog struct {
	mu      sync.Mutex
	entries []inputEntry
}

// inputEntry is one input as the run left it.
type inputEntry struct {
	index   int
	Path    string `json:"path"`
	Reason  string `json:"reason,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	err     error
	skipped bool
}

func (l *inputLog) add(in *engine.Input) {
	e := inputEntry{index: in.Index, Path: in.Name, SHA256: in.SHA256, err: in.Err, Reason: in.Skipped, skipped: in.Skipped != ""}
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

// sorted returns the entries in input order.
func (l *inputLog) sorted() []inputEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.entries)
	slices.SortFunc(out, func(a, b inputEntry) int { return cmp.Compare(a.index, b.index) })
	return out
}

// skipped returns the inputs listed but not read, with their reasons, in input order.
func (l *inputLog) skipped() []inputEntry {
	out := []inputEntry{}
	for _, e := range l.sorted() {
		if e.skipped {
			out = append(out, e)
		}
	}
	return out
}

// startProgress draws one bar for all inputs, against their total size: the engine reports each
// byte of an input once, however often it reads it.
func startProgress(srcs []engine.Source) *progress.Bar {
	if cfg.GetBool("no-progress") || !progress.Enabled(os.Stderr) {
		return nil
	}
	var total int64
	for _, s := range srcs {
		if s.Skip != "" || s.Name == engine.StdinName {
			continue
		}
		if fi, err := os.Stat(s.Name); err == nil && fi.Mode().IsRegular() {
			total += fi.Size()
		}
	}
	return progress.Start(os.Stderr, fmt.Sprintf("%d input(s)", len(srcs)), total, false)
}

// checkNotInput refuses an output that would land on the evidence: one that is, after symlinks
// and hard links, one of the inputs, or lies inside a folder given as input (which the walk
// would read while it is written). path is the output's resolved path when known, fi the file
// when it exists.
func checkNotInput(what, path string, fi os.FileInfo, inputs []string) error {
	for _, in := range inputs {
		if in == engine.StdinName {
			continue
		}
		ifi, err := os.Stat(in)
		if err != nil {
			continue
		}
		if fi != nil && os.SameFile(fi, ifi) {
			return usageError("%s is the input %s: refusing to overwrite evidence", what, in)
		}
		if ifi.IsDir() && path != "" && within(resolvePath(in), path) {
			return usageError("%s lies inside the input folder %s: refusing to write into evidence", what, in)
		}
	}
	return nil
}

// stdoutTarget returns the file standard output is redirected to, if it is a regular file.
func stdoutTarget(w io.Writer) (string, os.FileInfo) {
	f, ok := w.(*os.File)
	if !ok {
		return "", nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", nil
	}
	path, err := filepath.EvalSymlinks(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		return "", fi
	}
	return path, fi
}

// resolvePath is the absolute path p names after every symlink, as far as it exists: a file not
// created yet resolves through its folder.
func resolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	if r, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(r, filepath.Base(abs))
	}
	return abs
}

// within reports whether path p lies inside folder dir.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// writeReportFile writes sensitive output with mode 0600 to a temporary file in the same folder
// and renames it into place, so that a reader never sees half a report and an interrupted run
// leaves nothing behind. An existing file is replaced only with force (checkOutputPath refused
// it before the run; the link below refuses one that appeared since).
func writeReportFile(path string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if force {
		return os.Rename(name, path)
	}
	// A hard link creates the name only if it does not exist yet; where the file system has
	// no hard links, the name is checked and renamed over.
	err = os.Link(name, path)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("%s appeared while the report was written: not replaced (use --force)", path)
	}
	if _, lerr := os.Lstat(path); lerr == nil {
		return fmt.Errorf("%s exists: not replaced (use --force)", path)
	}
	return os.Rename(name, path)
}

// checkOutputPath refuses, before anything is read, an --out path that would overwrite evidence
// (an input, a file in an input folder, the zone file, the configuration), and an existing file
// unless force.
func checkOutputPath(out string, force bool, inputs []string, stdin io.Reader) error {
	fi, _ := os.Stat(out)
	if err := checkNotInput("--out "+out, resolvePath(out), fi, inputs); err != nil {
		return err
	}
	if f, ok := stdin.(*os.File); ok && fi != nil && slices.Contains(inputs, engine.StdinName) {
		if sfi, err := f.Stat(); err == nil && os.SameFile(sfi, fi) {
			return usageError("--out %s is the file on standard input: refusing to overwrite evidence", out)
		}
	}
	fi, err := os.Lstat(out)
	if err != nil {
		return nil
	}
	if fi.IsDir() || fi.Mode()&os.ModeSymlink != 0 && isDir(out) {
		return usageError("--out %s is a folder", out)
	}
	if !force {
		return usageError("--out %s exists: refusing to replace it (use --force)", out)
	}
	return nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// inputNotes adds a note for every input that was skipped or could not be read (an inventory
// covers the others only, and says so) and logs every note of the inventory.
func inputNotes(notes []decoders.Note, ilog *inputLog) []decoders.Note {
	for _, e := range ilog.sorted() {
		switch {
		case e.skipped:
			notes = append(notes, decoders.Note{Input: e.Path, Severity: decoders.Info, Code: decoders.CodeSkipped, Offset: -1, Message: e.Reason})
		case e.err != nil:
			notes = append(notes, decoders.Note{Input: e.Path, Severity: decoders.Error, Code: decoders.CodeNotRead, Offset: -1, Message: e.err.Error()})
		}
	}
	for _, n := range notes {
		slog.Warn("capture problem", "input", n.Input, "code", n.Code, "offset", n.Offset, "locator", n.Locator, "message", n.Message)
	}
	return notes
}

// inventoryWriter is what the destination and device inventories print.
type inventoryWriter interface {
	WriteJSON(io.Writer) error
	WriteCSV(io.Writer) error
	WriteText(io.Writer) error
}

// writeInventory prints an inventory in the command's format.
func writeInventory(cmd *cobra.Command, format string, inv inventoryWriter) error {
	out := cmd.OutOrStdout()
	switch format {
	case "json":
		return inv.WriteJSON(out)
	case "csv":
		return inv.WriteCSV(out)
	}
	if err := inv.WriteText(out); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	return nil
}

// openCaptures is the start the inventory commands share: at least one input, every named one
// present (or -), the inventory options from the configuration, the inputs opened, and the GC
// tuned for the flow tables.
func openCaptures(cmd *cobra.Command, name string, args []string) (*engine.Inputs, *inputLog, destinations.Options, error) {
	if len(args) == 0 {
		return nil, nil, destinations.Options{}, usageError("%s: name at least one capture file (see 'droneaudit %s --help')", name, name)
	}
	opts, err := destinationOptions()
	if err != nil {
		return nil, nil, opts, err
	}
	if opts.Unwrappers, err = tlsLayers(cmd); err != nil {
		return nil, nil, opts, err
	}
	opts.Protocols = append(opts.Protocols, tlslayer.Protocols...)
	for _, a := range args {
		if _, err := os.Stat(a); err != nil && a != engine.StdinName {
			return nil, nil, opts, usageError("%v", err)
		}
	}
	ins, ilog, err := openInputs(cmd, args)
	if err != nil {
		return nil, nil, opts, err
	}
	limit := int64(inventoryMemLimit)
	if name == "requests" {
		limit = decodeMemLimit
	}
	tuneGC(limit)
	return ins, ilog, opts, nil
}
