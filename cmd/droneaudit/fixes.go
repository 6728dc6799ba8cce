package main

import (
	"bufio"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/spf13/cobra"

	"droneaudit/audit"
)

func init() { addCommand(newFixesCmd) }

func newFixesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "fixes [--format text|ndjson|csv|geojson] [--zones ZONES [--in-zone]] INPUT...",
		Short: "Print every position decoded from the inputs",
		Long: `fixes decodes the inputs (captures, flight logs, telemetry logs; folders are walked) and prints
every position with its role, time, channel and evidence (input, SHA-256, locator). The input type is
detected from the content; gzip-compressed inputs are decompressed, and - reads standard input.

Formats:
  text     one line per position for a person, times in --tz; text from the inputs shown escaped
  ndjson   one JSON object per line (lat, lon, alt_m, alt_ref, time in RFC 3339 UTC, role, evidence)
  csv      time_utc ("YYYY-MM-DD HH:MM:SS.sss" in UTC, which spreadsheets read as a date),
           time_device_local (a device's clock, zone unknown: SRT), time_rfc3339, time_ref, ...
  geojson  one RFC 7946 FeatureCollection; each feature's "layer" property is "zones",
           "tracks" (aircraft LineStrings per input and altitude reference, with alt_ref and
           per-point coordTimes) or "points" (one Point per photo, home, take-off, pilot,
           controller or waypoint position, with role, time and evidence)

--zones writes the zones into geojson as the "zones" layer. --in-zone keeps only the positions
inside a zone or within their precision of one, and names the zone in each record (ndjson:
"zone" and "zone_distance_m"; csv: the columns zone and zone_distance_m).`,
		Args: cobra.MinimumNArgs(1),
		RunE: runFixes,
	}
	c.Flags().String("format", "text", "output format: "+strings.Join(audit.FixFormats, ", "))
	c.Flags().String("zones", "", "zone file (GeoJSON): written into geojson as the \"zones\" layer, and what --in-zone matches against")
	c.Flags().Bool("in-zone", false, "only the positions inside a zone of --zones or within their precision of one, each with the zone's name")
	return c
}

func runFixes(cmd *cobra.Command, args []string) error {
	format := cfg.GetString("format")
	if err := oneOf("format", format, audit.FixFormats...); err != nil {
		return err
	}
	opts := audit.FixOptions{Location: reportLocation}
	if zpath := cfg.GetString("zones"); zpath != "" {
		zs, err := loadZones(zpath)
		if err != nil {
			return usageError("%v", err)
		}
		opts.Zones = zs
	}
	if opts.InZone = cfg.GetBool("in-zone"); opts.InZone && opts.Zones == nil {
		return usageError("--in-zone needs --zones")
	}
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<16)
	fw, err := audit.NewFixWriterWith(format, out, opts)
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
	pipe := newFixPipe(fw)
	// The same garbage collection as the audit, whose decoding this command repeats.
	tuneGC(decodeMemLimit)
	rep, err := audit.Run(cmd.Context(), srcs, audit.Options{
		Policy:    audit.DefaultPolicy(),
		Progress:  bar.Add,
		OnFixes:   pipe.hand,
		FixesOnly: true, // the findings and map tracks of the report are not printed
	})
	werr := pipe.close()
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

// fixPipe runs a FixWriter on a goroutine of its own, so that formatting and writing (on a
// position-dense log about half the cost of decoding) run beside the decoding, in decoding order.
// The audit hands over batches of fixes (Options.OnFixes): a full batch goes to the writer as it
// is and an emptied one comes back, so that no fix is copied on the way and the decoding pays a
// channel operation per FixBatch fixes.
//
// Fixes come before their input's SHA-256 is known (the input is hashed beside the decoding):
// the writer fills it in from the input's report, waiting for it if need be, while up to
// fixQueue batches of decoding run ahead.
type fixPipe struct {
	fw     audit.FixWriter
	full   chan []audit.StreamedFix // batches for the writer, in order
	free   chan []audit.StreamedFix // emptied batches back from the writer
	done   chan struct{}            // closed when the writer has written everything handed to it
	err    error                    // the writer's first error, for close
	failed atomic.Bool              // err is set: hand drops what follows
}

// fixQueue batches may wait for the writer (about 0.5 MB). A few are enough to keep the writer
// busy; more would only move cold memory between the cores: the decoding waits for the input's
// hash anyway, at most FixBatch*fixQueue fixes ahead of it.
const fixQueue = 4

func newFixPipe(fw audit.FixWriter) *fixPipe {
	p := &fixPipe{fw: fw, full: make(chan []audit.StreamedFix, fixQueue), free: make(chan []audit.StreamedFix, fixQueue+1),
		done: make(chan struct{})}
	for range fixQueue {
		p.free <- make([]audit.StreamedFix, 0, audit.FixBatch)
	}
	go p.run()
	return p
}

func (p *fixPipe) run() {
	defer close(p.done)
	// The hash of the input of the last fix. The input's report is compared by address only:
	// the decoding goroutine updates its counts with every fix, and reading the report for each
	// fix here would move its cache line between the cores every time.
	var in *audit.InputReport
	var sum string
	for b := range p.full {
		for i := range b {
			q := &b[i]
			if p.err != nil {
				break
			}
			if q.Fix.Evidence.SHA256 == "" {
				if q.Input != in {
					in, sum = q.Input, q.Input.WaitSHA256()
				}
				q.Fix.Evidence.SHA256 = sum
			}
			p.err = p.fw.Write(&q.Fix)
		}
		if p.err != nil {
			p.failed.Store(true)
		}
		// The strings of the written fixes stay referenced until the batch is filled again:
		// at most fixQueue+1 batches of them.
		p.free <- b[:0]
	}
}

// hand is Options.OnFixes: it queues a full batch and returns an empty one. After a write error
// the batches are dropped: decoding goes on so that the input reports are complete, as before.
func (p *fixPipe) hand(b []audit.StreamedFix) []audit.StreamedFix {
	if p.failed.Load() {
		return b[:0]
	}
	p.full <- b
	return <-p.free
}

// close waits for the writer to write what it was handed and returns its first error. Nothing
// may be handed over afterwards.
func (p *fixPipe) close() error {
	close(p.full)
	<-p.done
	return p.err
}
