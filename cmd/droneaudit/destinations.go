package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"droneaudit/audit/destinations"
)

func init() { addCommand(newDestinationsCmd) }

// Soft memory limits of tuneGC. The inventories (destinations, devices) keep within the 100 MB
// their issue allows (docs/benchmarks/destinations.md). The commands that decrypt and open what
// they read (requests, audit, fixes) get more room: a lab capture with its keys holds thousands of
// TLS sessions at once, each with its key schedule and ciphers, and under 90 MiB the collector
// ran without pause on a 140 MB lab mix (2026-12-07: 3.9 s CPU under 90 MiB, 2.9 s under 192 MiB).
// 160 MiB was as fast as 256 MiB on both the keyed mix and a 1 GB capture without keys, with a
// peak RSS of about 170 MB. Either way the limit, not the input, bounds the heap: memory stays
// flat as inputs grow.
const (
	inventoryMemLimit = 90 << 20
	decodeMemLimit    = 160 << 20
)

// tuneGC trades memory for speed while a command runs, unless the user set GOGC or GOMEMLIMIT:
// the flow tables keep a steady live heap of a few tens of MB, and collecting at four times the
// default growth saves about a tenth of the run time; limit is the soft memory limit.
func tuneGC(limit int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}

func newDestinationsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "destinations [--format text|json|csv] CAPTURE|FOLDER|-... | --list-owners",
		Short: "List every destination lab devices contacted in captures, with names, owner, country, AS and bytes",
		Long: `destinations reads pcap and pcapng captures and prints one row per destination (server IP,
port, protocol): every name learnt for it (DNS answer, TLS SNI, QUIC SNI, HTTP Host, MQTT broker),
its owner class, country and AS number, bytes each way, flows, first and last time, and the lab
devices (MAC, IP, DHCP host name) that used it. Folders are walked: files in them that are no
capture are listed as skipped in the notes. gzip-compressed captures are decompressed; - reads a
capture from standard input. An input that cannot be read is named on stderr and in the notes,
the others are still listed, and the exit code is 1.

Configuration (droneaudit.yaml):
  owners:            extra owner rules, tried before the built-in table
    - {pattern: "*.example.org", owner: cloud, purpose: "...", source: "...", confidence: M}
  geoip.country_db:  CSV (start,end,country_code; .gz allowed) replacing the built-in country data
  geoip.asn_db:      CSV (start,end,asn,org; .gz allowed) for AS numbers`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			format := cfg.GetString("format")
			if err := oneOf("format", format, "text", "json", "csv"); err != nil {
				return err
			}
			rules, err := ownerRules()
			if err != nil {
				return err
			}
			if show, _ := cmd.Flags().GetBool("list-owners"); show {
				return printOwners(cmd, format, rules)
			}
			ins, ilog, opts, err := openCaptures(cmd, "destinations", args)
			if err != nil {
				return err
			}
			defer ins.Close()
			inv, ierr := destinations.BuildSources(cmd.Context(), ins.Sources, opts)
			if inv == nil {
				return ierr
			}
			// Inputs not read are part of the result: the inventory covers the others only.
			inv.Notes = inputNotes(inv.Notes, ilog)
			slog.Info("destinations", "rows", len(inv.Rows), "packets", inv.Packets)
			if err := writeInventory(cmd, format, inv); err != nil {
				return err
			}
			return inputsFailed(ierr, len(ins.Sources))
		},
	}
	c.Flags().String("format", "text", "output format: text, json or csv")
	addKeylogFlag(c)
	c.Flags().Bool("list-owners", false, "print the owner table (config rules first, then the built-in ones) instead")
	return c
}

// printOwners prints the owner classification table with each rule's source and confidence.
func printOwners(cmd *cobra.Command, format string, extra []destinations.OwnerRule) error {
	out := cmd.OutOrStdout()
	rules := append(append([]destinations.OwnerRule(nil), extra...), destinations.BuiltinOwners...)
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"owners": rules})
	case "csv":
		w := csv.NewWriter(out)
		w.Write([]string{"pattern", "owner", "purpose", "source", "confidence"})
		for _, r := range rules {
			w.Write([]string{r.Pattern, r.Owner, r.Purpose, r.Source, r.Confidence})
		}
		w.Flush()
		return w.Error()
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PATTERN\tOWNER\tCONF\tPURPOSE\tSOURCE")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Pattern, r.Owner, r.Confidence, r.Purpose, r.Source)
	}
	return tw.Flush()
}

// destinationOptions builds the inventory options from the configuration (owners, geoip).
func destinationOptions() (destinations.Options, error) {
	rules, err := ownerRules()
	if err != nil {
		return destinations.Options{}, err
	}
	// Key by key, so that DRONEAUDIT_GEOIP_COUNTRY_DB works and a relative path from the
	// configuration file has been taken from the file's folder.
	gc := destinations.GeoConfig{CountryDB: cfg.GetString("geoip.country_db"), ASNDB: cfg.GetString("geoip.asn_db"),
		CountryAttribution: cfg.GetString("geoip.country_attribution"), ASNAttribution: cfg.GetString("geoip.asn_attribution")}
	ipdb, err := destinations.NewGeoIP(gc)
	if err != nil {
		return destinations.Options{}, err
	}
	return destinations.Options{Owners: rules, GeoIP: ipdb}, nil
}

// inputsFailed is the error of a command whose output is printed although some inputs could
// not be read: the exit code says the output is incomplete.
func inputsFailed(err error, inputs int) error {
	if err == nil {
		return nil
	}
	n := 1
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n = len(j.Unwrap())
	}
	return &exitCodeError{code: exitError, err: fmt.Errorf("%d of %d input(s) could not be read; the output covers the others: %w", n, inputs, err)}
}
