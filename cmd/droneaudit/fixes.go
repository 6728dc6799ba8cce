package main

import (
	"bufio"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"droneaudit/audit"
	"droneaudit/geo"
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
	rep, err := audit.Run(cmd.Context(), srcs, audit.Options{
		Policy:   audit.DefaultPolicy(),
		Progress: bar.Add,
		OnFix:    func(r *audit.InputReport, f geo.Fix) { pipe.add(r, &f) },
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

// fixPipe runs a FixWriter on a goroutine of its own. The callback copies each fix into a batch
// and hands full batches over, so that formatting and writing (on a position-dense log about
// half the cost of decoding) run beside the decoding, in decoding order. The engine may call
// OnFix from two lanes of a capture at once (its link lane and a flow shard): mu keeps their
// fixes whole and in one sequence.
//
// Fixes come before their input's SHA-256 is known (the input is hashed beside the decoding):
// the writer fills it in from the input's report, waiting for it if need be, while up to
// fixQueue batches of decoding run ahead.
type fixPipe struct {
	fw     audit.FixWriter
	mu     sync.Mutex
	batch  []queuedFix
	full   chan []queuedFix // batches for the writer, in order
	free   chan []queuedFix // emptied batches back from the writer
	done   chan struct{}    // closed when the writer has written everything handed to it
	err    error            // the writer's first error, for close
	failed atomic.Bool      // err is set: add drops what follows
}

type queuedFix struct {
	rep *audit.InputReport
	fix geo.Fix
}

// fixBatch fixes per hand-over: a channel operation per few hundred fixes is noise. fixQueue
// batches may wait for the writer (about 10 MB): enough for the decoding to run on while the
// first input is still being hashed.
const (
	fixBatch = 512
	fixQueue = 64
)

func newFixPipe(fw audit.FixWriter) *fixPipe {
	p := &fixPipe{fw: fw, full: make(chan []queuedFix, fixQueue), free: make(chan []queuedFix, fixQueue+1), done: make(chan struct{})}
	for range cap(p.free) {
		p.free <- make([]queuedFix, 0, fixBatch)
	}
	p.batch = <-p.free
	go p.run()
	return p
}

func (p *fixPipe) run() {
	defer close(p.done)
	for b := range p.full {
		for i := range b {
			q := &b[i]
			if p.err == nil {
				if q.fix.Evidence.SHA256 == "" {
					q.fix.Evidence.SHA256 = q.rep.WaitSHA256()
				}
				p.err = p.fw.Write(q.fix)
			}
		}
		if p.err != nil {
			p.failed.Store(true)
		}
		clear(b) // let the strings of written fixes go
		p.free <- b[:0]
	}
}

// add queues one fix. After a write error the remaining fixes are dropped: decoding goes on so
// that the input reports are complete, as before.
func (p *fixPipe) add(r *audit.InputReport, f *geo.Fix) {
	p.mu.Lock()
	if !p.failed.Load() {
		p.batch = append(p.batch, queuedFix{r, *f})
		if len(p.batch) == fixBatch {
			p.full <- p.batch
			p.batch = <-p.free
		}
	}
	p.mu.Unlock()
}

// close hands over the last batch, waits for the writer and returns its first error. Nothing may
// be added afterwards.
func (p *fixPipe) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.batch) > 0 {
		p.full <- p.batch
		p.batch = nil
	}
	close(p.full)
	<-p.done
	return p.err
}
