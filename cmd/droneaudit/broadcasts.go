package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"droneaudit/audit/broadcasts"
	"droneaudit/internal/version"
)

func init() { addCommand(newBroadcastsCmd) }

func newBroadcastsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "broadcasts [--format text|json] CAPTURE|FOLDER|-...",
		Short: "List the aircraft heard in 802.11 captures and what their broadcasts reveal",
		Long: `broadcasts reads radiotap or plain 802.11 captures (pcap, pcapng) and lists, per aircraft,
what its DJI DroneID, Open Drone ID (beacon and NAN) and French beacon broadcasts told every
receiver in range: identities (serials, UAS IDs, operator IDs, transmitter addresses, SSIDs),
model, message kinds, first and last time, track, home and pilot positions. One aircraft per
serial, UAS ID or transmitter; a transmission heard on adjacent channels counts once. Folders are
walked (files that are no capture are listed as skipped), gzip-compressed captures are
decompressed, and - reads a capture from standard input.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := cfg.GetString("format")
			if err := oneOf("format", format, "text", "json"); err != nil {
				return err
			}
			ins, ilog, err := openInputs(cmd, args)
			if err != nil {
				return err
			}
			defer ins.Close()
			col := broadcasts.NewCollector()
			errs, err := col.Read(cmd.Context(), ins.Sources)
			if err != nil {
				return err
			}
			for _, err := range errs {
				slog.Error("capture not read to its end", "err", err)
			}
			skipped := ilog.skipped()
			for _, e := range skipped {
				slog.Warn("input skipped", "input", e.Path, "reason", e.Reason)
			}
			st := col.Stats()
			list := col.Aircraft()
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if list == nil {
					list = []broadcasts.Aircraft{}
				}
				if err := enc.Encode(struct {
					SchemaVersion int                   `json:"schema_version"`
					Captures      []string              `json:"captures"`
					Skipped       []inputEntry          `json:"skipped"`
					Stats         broadcasts.Stats      `json:"stats"`
					Aircraft      []broadcasts.Aircraft `json:"aircraft"`
				}{version.Schema, args, skipped, st, list}); err != nil {
					return err
				}
			} else if err := broadcasts.WriteTextIn(out, list, st, reportLocation); err != nil {
				return err
			}
			if len(errs) > 0 {
				return fmt.Errorf("%d of %d input(s) could not be read to the end: %w", len(errs), len(ins.Sources), errors.Join(errs...))
			}
			return nil
		},
	}
	c.Flags().String("format", "text", "output format: text or json")
	return c
}
