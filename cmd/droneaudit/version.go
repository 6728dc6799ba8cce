package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"droneaudit/audit/destinations"
	"droneaudit/audit/devices"
	"droneaudit/internal/version"
)

func init() { addCommand(newVersionCmd) }

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of droneaudit and of the libraries it decodes with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "droneaudit %s\n", version.Number)
			fmt.Fprintf(out, "built-in IP data: %s; %s\n", destinations.DBIPAttribution, destinations.ASNAttribution)
			fmt.Fprintf(out, "built-in MAC vendor data: %s\n", devices.OUIAttribution)
			if bi, ok := debug.ReadBuildInfo(); ok {
				fmt.Fprintf(out, "go %s\n", bi.GoVersion)
				for _, d := range bi.Deps {
					fmt.Fprintf(out, "%s %s\n", d.Path, d.Version)
				}
			}
			return nil
		},
	}
}
