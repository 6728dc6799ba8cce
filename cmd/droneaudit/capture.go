package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
	"droneaudit/capture/live"
	"droneaudit/capture/session"
	"droneaudit/internal/version"
)

func init() { addCommand(newCaptureCmd) }

func newCaptureCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "capture -i IFACE [-i IFACE2] [flags]",
		Short: "Record a lab device's traffic (and 802.11 broadcasts) into pcapng evidence files with a SHA-256 manifest",
		Long: `capture records every frame on one or more interfaces (the lab access point's wlan or bridge
interface, and optionally a monitor-mode interface) into pcapng files in the output folder,
one interface block per interface. Files rotate by size and time; each finished file is listed
in SHA256SUMS ("sha256sum -c SHA256SUMS" checks them). --keylog follows an NSS key log that a
proxy or key-extraction tool writes during the session and embeds new lines as Decryption
Secrets Blocks, so the evidence carries its own TLS keys.

Ctrl-C or SIGTERM closes the current file cleanly. A full disk stops the capture with an error;
the file being written is cut back to its last whole block and listed like the others.
Needs root (or CAP_NET_RAW and CAP_NET_ADMIN). See docs/LAB.md.

On stdout: the files written with their hashes (--format text or json).`,
		Args: cobra.NoArgs,
		RunE: runCapture,
	}
	f := c.Flags()
	f.StringArrayP("interface", "i", nil, "interface to capture on (repeatable)")
	f.String("filter", "", `kernel filter for the -i interfaces, e.g. "not port 22" (subset of tcpdump syntax: ip ip6 arp tcp udp icmp, [tcp|udp] [src|dst] port N, [src|dst] host A.B.C.D, joined by "and", each optionally "not")`)
	f.StringP("write-dir", "w", "capture", "output folder for the pcapng files and SHA256SUMS")
	f.String("prefix", "capture", "file name prefix")
	f.String("rotate-size", "", "start a new file before one exceeds this size, e.g. 100MB, 1GiB or bytes")
	f.Duration("rotate-time", 0, "start a new file after this long, e.g. 15m")
	f.String("keylog", "", "NSS key log file to follow and embed as Decryption Secrets Blocks")
	f.Duration("hold-back", time.Second, "with --keylog: keep packets this long in memory so key log lines written just after a handshake are stored before its packets (Wireshark applies keys only to later packets)")
	f.StringArray("monitor", nil, "wireless interface to put into monitor mode (through iw) and capture radiotap frames from (repeatable)")
	f.Int("channel", 0, "channel for the --monitor interfaces")
	f.String("hop", "", "channels for the --monitor interfaces to hop through, e.g. 1,6,11")
	f.Duration("hop-dwell", 250*time.Millisecond, "time on each channel when hopping")
	f.Duration("duration", 0, "stop after this long (default: until Ctrl-C or SIGTERM)")
	f.Int64("count", 0, "stop after this many packets")
	f.Int("ring-mb", 64, "kernel ring size per interface in MiB")
	f.Bool("promisc", true, "put the -i interfaces into promiscuous mode")
	f.String("format", "text", "summary on stdout: text or json")
	f.Duration("stats-interval", 10*time.Second, "how often to log progress when stderr is not a terminal")
	return c
}

// captureSummary is the JSON written to stdout when the capture ends.
type captureSummary struct {
	Dir        string                `json:"dir"`
	Manifest   string                `json:"manifest"`
	StopReason string                `json:"stop_reason"`
	Error      string                `json:"error,omitempty"`
	Packets    int64                 `json:"packets"`
	Bytes      int64                 `json:"bytes"`
	Drops      uint64                `json:"kernel_drops"`
	Secrets    int                   `json:"keylog_lines"`
	KeyLogSkip int                   `json:"keylog_rejected,omitempty"`
	Seconds    float64               `json:"seconds"`
	Interfaces []captureIfaceSummary `json:"interfaces"`
	Files      []captureFileSummary  `json:"files"`
}

type captureIfaceSummary struct {
	Name     string `json:"name"`
	LinkType string `json:"link_type"`
	Packets  int64  `json:"packets"`
	Bytes    int64  `json:"bytes"`
	Kernel   uint64 `json:"kernel_received"`
	Drops    uint64 `json:"kernel_drops"`
}

type captureFileSummary struct {
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
	Packets   int64  `json:"packets"`
	Truncated bool   `json:"truncated,omitempty"`
	Note      string `json:"note,omitempty"`
}

// capturePlan is what the flags ask for, checked before any interface is touched so that a
// mistake is a usage error (exit 2) rather than a half-started capture.
type capturePlan struct {
	ifaces, monitors []string
	format           string
	dir              string
	rotateSize       int64
	channel          int   // 0: leave the monitor interfaces on their channel
	hops             []int // channels to hop through; nil: no hopping
}

func runCapture(cmd *cobra.Command, _ []string) error {
	plan, err := checkCaptureFlags()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var undo undoStack
	defer undo.run()
	sources, err := openCapture(ctx, plan, &undo)
	if err != nil {
		return err
	}
	if cfg.GetDuration("hold-back") < 0 {
		return usageError("--hold-back must not be negative")
	}
	status := newCaptureStatus(cmd.ErrOrStderr())
	names := make([]string, 0, len(sources))
	for _, s := range sources {
		names = append(names, s.Name)
	}
	slog.Info("capture started", "interfaces", strings.Join(names, ","), "dir", plan.dir, "filter", cfg.GetString("filter"), "keylog", cfg.GetString("keylog"))
	res, runErr := session.Run(ctx, captureConfig(plan, sources, status))
	status.clear()
	sum := newCaptureSummary(plan.dir, sources, res, runErr)
	slog.Info("capture finished", "reason", res.StopReason, "packets", res.Packets, "bytes", res.Bytes, "kernel_drops", res.Drops, "files", len(res.Files), "keylog_lines", res.Secrets)
	if err := writeCaptureSummary(cmd.OutOrStdout(), plan.format, sum); err != nil {
		return err
	}
	return runErr
}

// checkCaptureFlags reads and checks every flag that can be checked without root.
func checkCaptureFlags() (capturePlan, error) {
	p := capturePlan{ifaces: cfg.GetStringSlice("interface"), monitors: cfg.GetStringSlice("monitor"),
		format: cfg.GetString("format"), dir: cfg.GetString("write-dir")}
	if err := checkCaptureInterfaces(p.ifaces, p.monitors); err != nil {
		return p, err
	}
	if err := oneOf("format", p.format, "text", "json"); err != nil {
		return p, err
	}
	var err error
	if p.rotateSize, err = parseCaptureSize(cfg.GetString("rotate-size")); err != nil {
		return p, usageError("--rotate-size: %v", err)
	}
	if p.channel, p.hops, err = checkCaptureChannels(len(p.monitors) > 0); err != nil {
		return p, err
	}
	return p, checkCaptureLimits()
}

// checkCaptureInterfaces wants at least one interface, each named once. "any" is refused:
// AF_PACKET on all interfaces mixes link types in one stream.
func checkCaptureInterfaces(ifaces, monitors []string) error {
	if len(ifaces) == 0 && len(monitors) == 0 {
		return usageError("capture: name at least one interface with -i IFACE (or --monitor IFACE)")
	}
	seen := map[string]bool{}
	for _, n := range append(append([]string{}, ifaces...), monitors...) {
		switch {
		case n == "" || n == "any":
			return usageError("capture: name each interface (%q is not supported: AF_PACKET on all interfaces mixes link types)", n)
		case seen[n]:
			return usageError("capture: interface %s named twice", n)
		}
		seen[n] = true
	}
	return nil
}

// checkCaptureChannels reads --channel and --hop, which only make sense for monitor interfaces
// and exclude each other.
func checkCaptureChannels(haveMonitors bool) (channel int, hops []int, err error) {
	channel = cfg.GetInt("channel")
	hopList := cfg.GetString("hop")
	switch {
	case channel != 0 && hopList != "":
		return 0, nil, usageError("--channel and --hop exclude each other")
	case (channel != 0 || hopList != "") && !haveMonitors:
		return 0, nil, usageError("--channel and --hop need --monitor IFACE")
	case channel < 0 || channel > 233:
		return 0, nil, usageError("--channel %d: want 1-233", channel)
	case hopList != "":
		if hops, err = live.ParseChannels(hopList); err != nil {
			return 0, nil, usageError("--hop: %v", err)
		}
	}
	return channel, hops, nil
}

// checkCaptureLimits refuses negative durations and counts, and compiles the filter.
func checkCaptureLimits() error {
	for _, name := range []string{"rotate-time", "duration", "hop-dwell", "stats-interval"} {
		if cfg.GetDuration(name) < 0 {
			return usageError("--%s must not be negative", name)
		}
	}
	if cfg.GetInt64("count") < 0 {
		return usageError("--count must not be negative")
	}
	if filter := cfg.GetString("filter"); filter != "" {
		// A filter mistake is a usage mistake: check it before touching any interface.
		if _, err := live.CompileFilter(filter, capture.LinkEthernet); err != nil {
			return usageError("--filter: %v", err)
		}
	}
	return nil
}

// undoStack holds the steps that take back what the capture set up, run in reverse order like
// deferred calls: it lets the setup live in functions of its own and still be undone when
// runCapture returns.
type undoStack []func()

func (u *undoStack) push(f func()) { *u = append(*u, f) }

func (u *undoStack) run() {
	for i := len(*u) - 1; i >= 0; i-- {
		(*u)[i]()
	}
}

// openCapture puts the --monitor interfaces into monitor mode, opens every interface (the -i
// ones with the filter) and starts channel hopping. When runCapture returns, hopping stops,
// the monitor interfaces go back to managed mode, then the sockets close.
func openCapture(ctx context.Context, p capturePlan, undo *undoStack) ([]*live.Source, error) {
	var sources []*live.Source
	undo.push(func() {
		for _, s := range sources {
			s.Close()
		}
	})
	if err := setMonitors(ctx, p, undo); err != nil {
		return nil, err
	}
	open := func(name string, o live.Options) error {
		s, err := live.Open(name, o)
		if err == nil {
			sources = append(sources, s)
		}
		return err
	}
	for _, name := range p.ifaces {
		if err := open(name, live.Options{Filter: cfg.GetString("filter"), RingMB: cfg.GetInt("ring-mb"), Promisc: cfg.GetBool("promisc")}); err != nil {
			return nil, err
		}
	}
	for _, name := range p.monitors {
		if err := open(name, live.Options{RingMB: cfg.GetInt("ring-mb")}); err != nil {
			return nil, err
		}
	}
	startHopping(ctx, p, undo)
	return sources, nil
}

// setMonitors switches every --monitor interface to monitor mode, each restored when the
// capture ends: a lab host's wlan should not stay in a mode nothing else can use.
func setMonitors(ctx context.Context, p capturePlan, undo *undoStack) error {
	for _, m := range p.monitors {
		restore, err := live.SetMonitor(ctx, m, p.channel)
		if err != nil {
			return err
		}
		undo.push(func() {
			if err := restore(); err != nil {
				slog.Warn("monitor mode", "err", err)
			}
		})
	}
	return nil
}

// startHopping cycles the monitor interfaces through the --hop channels until the capture ends.
func startHopping(ctx context.Context, p capturePlan, undo *undoStack) {
	if len(p.hops) == 0 {
		return
	}
	hopCtx, cancelHop := context.WithCancel(ctx)
	undo.push(cancelHop)
	for _, m := range p.monitors {
		go live.HopChannels(hopCtx, m, p.hops, cfg.GetDuration("hop-dwell"), func(err error) { slog.Warn("channel hop", "err", err) })
	}
}

// captureConfig describes the session. Packets are held back only with a key log: the delay
// exists so that keys land in the file before the packets they decrypt.
func captureConfig(p capturePlan, sources []*live.Source, status *captureStatus) session.Config {
	var holdBack time.Duration
	if cfg.GetString("keylog") != "" {
		holdBack = cfg.GetDuration("hold-back")
	}
	return session.Config{
		Sources: sources,
		Writer: evidence.Options{
			Dir: p.dir, Prefix: cfg.GetString("prefix"), RotateSize: p.rotateSize, RotateTime: cfg.GetDuration("rotate-time"),
			App: "droneaudit " + version.Number, HoldBack: holdBack,
			OnClose: func(f evidence.ClosedFile) {
				status.clear()
				slog.Info("file closed", "file", f.Name, "packets", f.Packets, "bytes", f.Size, "sha256", f.SHA256, "truncated", f.Truncated)
			},
		},
		KeyLog:   cfg.GetString("keylog"),
		Count:    cfg.GetInt64("count"),
		Duration: cfg.GetDuration("duration"),
		Interval: status.interval(cfg.GetDuration("stats-interval")),
		Progress: status.show,
	}
}

// newCaptureSummary gathers what the session left behind, with each interface's own counts
// beside the kernel's, so a reader sees per interface whether frames were lost.
func newCaptureSummary(dir string, sources []*live.Source, res session.Result, runErr error) captureSummary {
	sum := captureSummary{Dir: dir, Manifest: res.Manifest, StopReason: res.StopReason, Packets: res.Packets, Bytes: res.Bytes,
		Drops: res.Drops, Secrets: res.Secrets, KeyLogSkip: res.KeyLogSkip, Seconds: res.Took.Seconds(),
		Interfaces: []captureIfaceSummary{}, Files: []captureFileSummary{}}
	if runErr != nil {
		sum.Error = runErr.Error()
	}
	for i, s := range sources {
		p, b := s.Counts()
		is := captureIfaceSummary{Name: s.Name, LinkType: s.LinkType.String(), Packets: p, Bytes: b}
		if i < len(res.Interfaces) {
			is.Kernel, is.Drops = res.Interfaces[i].Received, res.Interfaces[i].Dropped
		}
		sum.Interfaces = append(sum.Interfaces, is)
	}
	for _, f := range res.Files {
		sum.Files = append(sum.Files, captureFileSummary{Name: f.Name, SHA256: f.SHA256, Size: f.Size, Packets: f.Packets, Truncated: f.Truncated, Note: f.Note})
	}
	return sum
}

func writeCaptureSummary(w io.Writer, format string, s captureSummary) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	for _, f := range s.Files {
		fmt.Fprintf(w, "%s  %s  %d packets  %d bytes", f.SHA256, f.Name, f.Packets, f.Size)
		if f.Truncated {
			fmt.Fprintf(w, "  (truncated: %s)", f.Note)
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "%d packets, %d bytes, %d kernel drops, %d files in %s (%s)\n", s.Packets, s.Bytes, s.Drops, len(s.Files), s.Dir, s.StopReason)
	return err
}

// parseCaptureSize reads "100MB", "1GiB", "512k" or a plain number of bytes.
func parseCaptureSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mul    int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	up := strings.ToUpper(s)
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(up, u.suffix) {
			up, mul = strings.TrimSpace(strings.TrimSuffix(up, u.suffix)), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(up, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mul {
		return 0, fmt.Errorf("%q: want a positive size such as 100MB, 1GiB or 1048576", s)
	}
	return n * mul, nil
}

// captureStatus shows a live line on a terminal and logs periodic lines otherwise (CI, pipes).
type captureStatus struct {
	mu   sync.Mutex // show runs on the capture loop, clear also on file close
	w    io.Writer
	live bool
	last int
}

func newCaptureStatus(w io.Writer) *captureStatus {
	live := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("CI") == "" && !cfg.GetBool("no-progress") {
		live = true
	}
	return &captureStatus{w: w, live: live}
}

func (s *captureStatus) interval(logEvery time.Duration) time.Duration {
	if s.live || logEvery <= 0 {
		return time.Second
	}
	return logEvery
}

func (s *captureStatus) show(p session.Progress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live {
		slog.Info("capture progress", "elapsed", p.Elapsed.Round(time.Second).String(), "packets", p.Packets, "bytes", p.Bytes, "kernel_drops", p.Drops, "files", p.Files, "keylog_lines", p.Secrets)
		return
	}
	line := fmt.Sprintf("%s  %d packets  %s  %d kernel drops  %d files  %s", p.Elapsed.Round(time.Second), p.Packets, captureHumanBytes(p.Bytes), p.Drops, p.Files, p.Current)
	pad := max(s.last-len(line), 0)
	fmt.Fprintf(s.w, "\r%s%s", line, strings.Repeat(" ", pad))
	s.last = len(line)
}

func (s *captureStatus) clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live && s.last > 0 {
		fmt.Fprintf(s.w, "\r%s\r", strings.Repeat(" ", s.last))
		s.last = 0
	}
}

func captureHumanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
