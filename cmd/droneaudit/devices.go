package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"droneaudit/audit/devices"
)

func init() { addCommand(newDevicesCmd) }

func newDevicesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "devices [--format text|json|csv] CAPTURE|FOLDER|-...",
		Short: "List every device seen on the lab segment: vendor, addresses, names it announced, and whom it contacted",
		Long: `devices reads pcap and pcapng captures and prints one row per device seen on the lab segment
(per MAC address): the vendor the IEEE registry gives for the address, or that it is randomised
(locally administered); its IPv4 and IPv6 addresses; what it announced about itself (DHCP host
name, vendor class and parameter request list, mDNS names, services and TXT records, SSDP
SERVER/USN/LOCATION and types, LLMNR names, ONVIF WS-Discovery types, model, name, firmware
and location); the maker class these signs point to (dji, hikvision, dahua, ...); first and last
frame, frames and bytes each way; and the destinations it opened flows to, with their names,
owner class, country and its own bytes, from the destination inventory of the same pass.

Inputs are read as by 'droneaudit destinations': folders are walked, gzip-compressed captures
decompressed, - reads a capture from standard input; an input that cannot be read is named on
stderr and in the notes, the others are still listed, and the exit code is 1.

Configuration (droneaudit.yaml): owners and geoip as for 'droneaudit destinations'.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := cfg.GetString("format")
			if err := oneOf("format", format, "text", "json", "csv"); err != nil {
				return err
			}
			ins, ilog, opts, err := openCaptures(cmd, "devices", args)
			if err != nil {
				return err
			}
			defer ins.Close()
			inv, ierr := devices.BuildSources(cmd.Context(), ins.Sources, devices.Options{Destinations: opts})
			if inv == nil {
				return ierr
			}
			inv.Notes = inputNotes(inv.Notes, ilog)
			slog.Info("devices", "rows", len(inv.Devices), "packets", inv.Packets)
			if err := writeInventory(cmd, format, inv); err != nil {
				return err
			}
			return inputsFailed(ierr, len(ins.Sources))
		},
	}
	c.Flags().String("format", "text", "output format: text, json or csv")
	return c
}
