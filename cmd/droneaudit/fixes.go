package main

import (
	"bufio"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"droneaudit/audit"
	"droneaudit/geo"
)

func init() { addCommand(newFixesCmd) }

func newFixesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "fixes [--format text|ndjson|csv|geojson] INPUT...",
		Short: "Print every position decoded from the inputs",
		Long: `fixes decodes the inputs (captures, flight logs, telemetry logs; folders are walked) and prints
every position with its role, time, channel and evidence (input, SHA-256, locator). The input type is
detected from the content; gzip-compressed inputs are decompressed, and - reads standard input.
geojson writes one track per file and role.`,
		Args: cobra.MinimumNArgs(1),
		RunE: runFixes,
	}
	c.Flags().String("format", "text", "output format: "+strings.Join(audit.FixFormats, ", "))
	return c
}

func runFixes(cmd *cobra.Command, args []string) error {
	format := cfg.GetString("format")
	if err := oneOf("format", format, audit.FixFormats...); err != nil {
		return err
	}
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<16)
	fw, err := audit.NewFixWriter(format, out)
	if err != nil {
		return err
	}
	ins, _, err := openInputs(cmd, args)
	if err != nil {
		return err
	}
	defer ins.Close()
	srcs, bad := ins.Sources, 0
	bar := startProgress(srcs)
	var werr error
	rep, err := audit.Run(cmd.Context(), srcs, audit.Options{
		Policy:   audit.DefaultPolicy(),
		Progress: bar.Add,
		OnFix: func(_ *audit.InputReport, f geo.Fix) {
			if werr == nil {
				werr = fw.Write(f)
			}
		},
	})
	bar.Finish()
	if err != nil {
		return err
	}
	if werr == nil {
		werr = fw.Close()
	}
	if werr == nil {
		werr = out.Flush()
	}
	if werr != nil {
		return werr
	}
	for _, in := range rep.Inputs {
		if in.Skipped != "" {
			slog.Warn("input skipped", "input", in.Path, "reason", in.Skipped)
			continue
		}
		if in.Error != "" {
			slog.Error("input not fully decoded", "input", in.Path, "err", in.Error)
			bad++
		} else {
			slog.Info("decoded", "input", in.Path, "format", in.Format, "fixes", in.Fixes)
		}
	}
	if bad > 0 {
		return &exitCodeError{code: exitError}
	}
	return nil
}
