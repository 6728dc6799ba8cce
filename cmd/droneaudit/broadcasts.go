package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"droneaudit/audit/broadcasts"
	"droneaudit/engine"
)

func init() { addCommand(newBroadcastsCmd) }

func newBroadcastsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "broadcasts [--format text|json] CAPTURE...",
		Short: "List the aircraft heard in 802.11 captures and what their broadcasts reveal",
		Long: `broadcasts reads radiotap or plain 802.11 captures (pcap, pcapng) and lists, per aircraft,
what its DJI DroneID, Open Drone ID (beacon and NAN) and French beacon broadcasts told every
receiver in range: identities (serials, UAS IDs, operator IDs, transmitter addresses, SSIDs),
model, message kinds, first and last time, track, home and pilot positions. One aircraft per
serial, UAS ID or transmitter; a transmission heard on adjacent channels counts once.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := cfg.GetString("format")
			if err := oneOf("format", format, "text", "json"); err != nil {
				return err
			}
			col := broadcasts.NewCollector()
			srcs := make([]engine.Source, len(args))
			for i, path := range args {
				srcs[i] = engine.FileSource(path)
			}
			errs, err := col.Read(cmd.Context(), srcs)
			if err != nil {
				return err
			}
			for _, err := range errs {
				slog.Error("capture not read to its end", "err", err)
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
					Captures []string              `json:"captures"`
					Stats    broadcasts.Stats      `json:"stats"`
					Aircraft []broadcasts.Aircraft `json:"aircraft"`
				}{args, st, list}); err != nil {
					return err
				}
			} else if err := broadcasts.WriteText(out, list, st); err != nil {
				return err
			}
			if len(errs) > 0 {
				return fmt.Errorf("%d of %d captures could not be read to the end: %w", len(errs), len(args), errors.Join(errs...))
			}
			return nil
		},
	}
	c.Flags().String("format", "text", "output format: text or json")
	return c
}
