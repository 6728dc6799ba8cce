package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"droneaudit/audit/destinations"
)

func init() { addCommand(newDestinationsCmd) }

func newDestinationsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "destinations [--format text|json|csv] CAPTURE...",
		Short: "List every destination lab devices contacted in captures, with names, owner, country, AS and bytes",
		Long: `destinations reads pcap and pcapng captures and prints one row per destination (server IP,
port, protocol): every name learnt for it (DNS answer, TLS SNI, QUIC SNI, HTTP Host, MQTT broker),
its owner class, country and AS number, bytes each way, flows, first and last time, and the lab
devices (MAC, IP, DHCP host name) that used it.

Configuration (droneaudit.yaml):
  owners:            extra owner rules, tried before the built-in table
    - {pattern: "*.example.org", owner: cloud, purpose: "...", source: "...", confidence: M}
  geoip.country_db:  CSV (start,end,country_code; .gz allowed) replacing the built-in country data
  geoip.asn_db:      CSV (start,end,asn,org; .gz allowed) for AS numbers`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format := cfg.GetString("format")
			if err := oneOf("format", format, "text", "json", "csv"); err != nil {
				return err
			}
			var rules []destinations.OwnerRule
			if err := cfg.UnmarshalKey("owners", &rules); err != nil {
				return usageError("config owners: %v", err)
			}
			for i, r := range rules {
				if r.Pattern == "" || r.Owner == "" {
					return usageError("config owners[%d]: pattern and owner are required", i)
				}
			}
			var gc destinations.GeoConfig
			if err := cfg.UnmarshalKey("geoip", &gc); err != nil {
				return usageError("config geoip: %v", err)
			}
			geo, err := destinations.NewGeoIP(gc)
			if err != nil {
				return err
			}
			for _, a := range args {
				if _, err := os.Stat(a); err != nil {
					return usageError("%v", err)
				}
			}
			inv, err := destinations.Build(cmd.Context(), args, destinations.Options{Owners: rules, GeoIP: geo})
			if err != nil {
				return err
			}
			for _, n := range inv.Notes {
				slog.Warn("capture problem", "note", n)
			}
			slog.Info("destinations", "rows", len(inv.Rows), "packets", inv.Packets)
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
		},
	}
	c.Flags().String("format", "text", "output format: text, json or csv")
	return c
}
