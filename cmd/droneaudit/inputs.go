package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"

	"droneaudit/audit"
	"droneaudit/internal/progress"
)

// expand turns arguments into sources, logging each path that cannot be read; the others go on.
func expand(args []string) ([]audit.Source, int) {
	srcs, errs := audit.ExpandInputs(args)
	for _, err := range errs {
		slog.Error("input", "err", err)
	}
	return srcs, len(errs)
}

// startProgress draws one bar for all inputs: each byte is read twice, once to hash it and once
// to decode it.
func startProgress(srcs []audit.Source) *progress.Bar {
	if cfg.GetBool("no-progress") || !progress.Enabled(os.Stderr) {
		return nil
	}
	var total int64
	for _, s := range srcs {
		if fi, err := os.Stat(s.Name); err == nil {
			total += fi.Size()
		}
	}
	return progress.Start(os.Stderr, fmt.Sprintf("%d input(s)", len(srcs)), 2*total, false)
}

// writeReportFile writes sensitive output with mode 0600, also when the file already existed.
func writeReportFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
