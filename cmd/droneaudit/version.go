package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"droneaudit/audit/destinations"
	"droneaudit/audit/devices"
	"droneaudit/internal/version"
)

func init() { addCommand(newVersionCmd) }

// writeVersion prints the version, the build commit (from the VCS stamp the go command writes
// into binaries built from a git checkout), the data attributions and the modules built with.
func writeVersion(out io.Writer, bi *debug.BuildInfo) {
	fmt.Fprintf(out, "droneaudit %s\n", version.Number)
	fmt.Fprintf(out, "commit %s\n", buildCommit(bi))
	fmt.Fprintf(out, "json schema %d\n", version.Schema)
	fmt.Fprintf(out, "built-in IP data: %s; %s\n", destinations.DBIPAttribution, destinations.ASNAttribution)
	fmt.Fprintf(out, "built-in MAC vendor data: %s\n", devices.OUIAttribution)
	if bi != nil {
		fmt.Fprintf(out, "go %s\n", bi.GoVersion)
		for _, d := range bi.Deps {
			fmt.Fprintf(out, "%s %s\n", d.Path, d.Version)
		}
	}
}

// buildCommit is the git commit a binary was built from, its time, and whether the checkout had
// changes; or why it is unknown.
func buildCommit(bi *debug.BuildInfo) string {
	if bi == nil {
		return "unknown (no build information)"
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown (no VCS stamp: built outside a git clone, from a git worktree, or with -buildvcs=false)"
	}
	s := rev
	if at != "" {
		s += " (" + at + ")"
	}
	if modified {
		s += ", with uncommitted changes"
	}
	return s
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of droneaudit and of the libraries it decodes with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bi, _ := debug.ReadBuildInfo()
			writeVersion(cmd.OutOrStdout(), bi)
			return nil
		},
	}
}
