package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"droneaudit/audit/devices"
	"droneaudit/engine"
	"droneaudit/internal/demo"
)

func init() { addCommand(newDevicesCmd) }

func newDevicesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "devices [--format text|json|csv] [--example segment] [CAPTURE|FOLDER|-...]",
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

Without inputs (or with --example segment) it lists the embedded example: a generated capture of
a lab segment with a DJI smart controller, a phone running Hik-Connect, a Hikvision camera, a
Dahua NVR, a lab PC and the router, what they announce (DHCP, mDNS, SSDP and the camera's UPnP
description, WS-Discovery, LLMNR, SADP) and whom they contact (Hik-Connect, Dahua's P2P
service, DJI).

Configuration (droneaudit.yaml): owners and geoip as for 'droneaudit destinations'.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := cfg.GetString("format")
			if err := oneOf("format", format, "text", "json", "csv"); err != nil {
				return err
			}
			if err := exampleFlag(args); err != nil {
				return err
			}
			if len(args) == 0 {
				return devicesExample(cmd, format)
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
	c.Flags().String("example", "", `list an embedded example instead of inputs: "segment" (the default without inputs)`)
	return c
}

// exampleFlag checks --example: "segment" (or "flight" for audit), and no inputs beside it.
func exampleFlag(args []string, also ...string) error {
	ex := cfg.GetString("example")
	if ex == "" {
		return nil
	}
	if err := oneOf("example", ex, append([]string{exampleSegment}, also...)...); err != nil {
		return err
	}
	if len(args) > 0 {
		return usageError("--example %s reads the embedded example: name no inputs beside it", ex)
	}
	return nil
}

// exampleSegment names the embedded lab segment example (demo.EmbeddedSegment).
const exampleSegment = "segment"

// devicesExample lists the devices of the embedded lab segment.
func devicesExample(cmd *cobra.Command, format string) error {
	opts, err := destinationOptions()
	if err != nil {
		return err
	}
	slog.Info("no inputs given: listing the embedded lab segment example", "capture", demo.SegmentName)
	srcs := []engine.Source{engine.BytesSource(demo.SegmentName, demo.EmbeddedSegment)}
	inv, err := devices.BuildSources(cmd.Context(), srcs, devices.Options{Destinations: opts})
	if inv == nil {
		return err
	}
	return writeInventory(cmd, format, inv)
}
