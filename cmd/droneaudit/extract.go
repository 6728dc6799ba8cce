package main

import (
	"os"

	"github.com/spf13/cobra"
)

// addExtractFlag adds --extract to a command that reads HTTP bodies.
func addExtractFlag(c *cobra.Command) {
	c.Flags().String("extract", "", "write every object an HTTP body carries (decoded, each part) into this folder, named by its SHA-256, mode 0600")
}

// checkExtractDir refuses an extract folder that is not a folder, is an input or lies in an input
// folder (as --report-dir); the folder is made (0700) when missing. Objects already there are
// never overwritten (objects.Extract).
func checkExtractDir(dir string, read []string) error {
	if dir == "" {
		return nil
	}
	fi, _ := os.Stat(dir)
	if fi != nil && !fi.IsDir() {
		return usageError("--extract %s is not a folder", dir)
	}
	if err := checkNotInput("--extract "+dir, resolvePath(dir), fi, read); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o700)
}
