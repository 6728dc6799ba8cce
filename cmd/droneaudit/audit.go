package main

import (
	"bytes"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"droneaudit/audit"
	"droneaudit/geo"
	"droneaudit/internal/demo"
)

func init() { addCommand(newAuditCmd) }

func newAuditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "audit [--zones ZONES] [--format text|json] [INPUT...]",
		Short: "Decode the inputs, match every position against the zones and give a verdict",
		Long: `audit decodes all inputs (captures, flight and telemetry logs; folders are walked and decoded
in parallel), matches every position against the sensitive zones, and prints the findings and a
verdict against the policy.

Inputs are regular files, folders, or - for standard input; gzip-compressed inputs are read as
what they hold (the SHA-256 reported is of the file as stored). In a folder, hidden entries, named
pipes, sockets, devices and symlinks that leave the folder are listed as skipped, never read.
--out writes the report beside the terminal output; it never replaces an input or writes into an
input folder, and replaces an existing file only with --force.

Exit codes: 0 pass, 3 a position inside a failing zone left the device (or another policy
failure), 1 error or incomplete audit, 2 usage mistake.

Without inputs it runs on the embedded demo session: a drone flying over the Kleine-Brogel air
base while streaming MAVLink telemetry over UDP.

Policy (droneaudit.yaml):
  policy:
    fail_on: [secret, restricted]     # zone sensitivities that must not leave the device
    fail_on_broadcast_pilot: true     # pilot/home position broadcast in clear
    fail_on_device: false             # also fail on zone positions held in on-device logs
    destinations:                     # contacts the acceptance test forbids
      deny_owners: [dji, hikvision-cloud, dahua-cloud]   # owner classes (see 'droneaudit destinations --list-owners')
      deny_countries: [CN]            # ISO 3166-1 alpha-2
      deny_hosts: ["*.djiservice.org", "47.88.0.0/16"]`,
		RunE: runAudit,
	}
	f := c.Flags()
	f.String("zones", "", "zone file (GeoJSON); default: the demo zones when no inputs are given")
	f.String("format", "text", "report format: text or json")
	f.String("out", "", "also write the report to this file (mode 0600); never an input or a file in an input folder")
	f.Bool("force", false, "let --out replace an existing file")
	return c
}

func loadPolicy() (audit.Policy, error) {
	p := audit.DefaultPolicy()
	if cfg.IsSet("policy") {
		if err := cfg.UnmarshalKey("policy", &p); err != nil {
			return p, usageError("policy: %v", err)
		}
	}
	if err := p.Validate(); err != nil {
		return p, usageError("%v", err)
	}
	return p, nil
}

func runAudit(cmd *cobra.Command, args []string) error {
	format := cfg.GetString("format")
	if err := oneOf("format", format, "text", "json"); err != nil {
		return err
	}
	policy, err := loadPolicy()
	if err != nil {
		return err
	}
	var zones *geo.Zones
	var srcs []audit.Source
	zpath := cfg.GetString("zones")
	out := cfg.GetString("out")
	force := cfg.GetBool("force")
	if out != "" {
		// Everything the run reads is evidence: the inputs, the zone file, the configuration.
		read := append(append([]string(nil), args...), zpath, cfg.ConfigFileUsed())
		if err := checkOutputPath(out, force, read, cmd.InOrStdin()); err != nil {
			return err
		}
	}
	if len(args) == 0 {
		slog.Info("no inputs given: auditing the embedded demo session", "capture", demo.CaptureName)
		srcs = []audit.Source{audit.BytesSource(demo.CaptureName, demo.EmbeddedCapture)}
		if zpath == "" {
			zones, err = geo.ParseZones(demo.ZonesName, demo.EmbeddedZones)
			if err != nil {
				return err
			}
			zones.SHA256 = sha256Hex(demo.EmbeddedZones)
		}
	} else {
		ins, _, err := openInputs(cmd, args)
		if err != nil {
			return err
		}
		defer ins.Close()
		srcs = ins.Sources
	}
	if zpath != "" {
		if zones, err = loadZones(zpath); err != nil {
			return usageError("%v", err)
		}
	} else if zones == nil {
		slog.Warn("no --zones given: positions are not matched against sensitive zones")
	}
	dopts, err := destinationOptions()
	if err != nil {
		return err
	}
	tuneGC()
	bar := startProgress(srcs)
	rep, err := audit.Run(cmd.Context(), srcs, audit.Options{Zones: zones, Policy: policy, Progress: bar.Add, Destinations: &dopts})
	bar.Finish()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if format == "json" {
		err = rep.WriteJSON(&buf)
	} else {
		err = rep.WriteText(&buf)
	}
	if err != nil {
		return err
	}
	if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
		return err
	}
	if out != "" {
		if err := writeReportFile(out, buf.Bytes(), force); err != nil {
			return fmt.Errorf("writing report: %w", err)
		}
	}
	switch {
	case rep.Verdict.ExitCode == exitPolicy:
		return policyFailed
	case rep.Verdict.ExitCode != 0:
		return &exitCodeError{code: exitError}
	}
	return nil
}
