//go:build linux

// Package session runs one live capture: frames from live sources go into rotating pcapng
// evidence files while a key log is followed and embedded, until a signal, a time or packet
// limit, or a write error (a full disk) ends it. It is the glue between package live, which
// reads sockets, and package evidence, which writes files; neither knows the other.
package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
	"droneaudit/capture/live"
)

// Config describes one live capture: the sources, where the evidence goes, and when to stop.
type Config struct {
	Sources  []*live.Source
	Writer   evidence.Options // Interfaces and Stats are filled in from Sources
	KeyLog   string           // NSS key log to follow and embed; "" for none
	Count    int64            // stop after this many packets in total; 0 = no limit
	Duration time.Duration    // stop after this long; 0 = until ctx is done
	// Progress, when set, is called about every Interval (default 1 s) and once at the end.
	Progress func(Progress)
	Interval time.Duration
	Log      *slog.Logger // default slog.Default()
}

// Progress is the running state of a live capture.
type Progress struct {
	Elapsed time.Duration
	Packets int64  // written to the evidence files
	Bytes   int64  // captured bytes written
	Drops   uint64 // frames the kernel dropped, all interfaces
	Files   int    // files closed and listed in the manifest
	Current string // file being written
	Secrets int    // key log lines embedded
}

// Result is what a finished capture left behind.
type Result struct {
	Progress
	Interfaces []live.Stats          // kernel counters per source, in order
	Files      []evidence.ClosedFile // every file written, in order
	StopReason string                // "signal", "duration", "count" or "error"
	Manifest   string                // path of the SHA256SUMS manifest
	KeyLogSkip int                   // key log lines rejected as malformed
	Started    time.Time             //
	Took       time.Duration         //
}

// keyPoll is how often the key log is read: a Decryption Secrets Block should land close to
// the handshake it decrypts.
const keyPoll = 50 * time.Millisecond

// Run captures from every source into rotating pcapng files until ctx is done, the duration or
// count is reached, or writing fails (a full disk); the current file is always closed cleanly
// and listed in the manifest before it returns.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = withDefaults(cfg)
	if len(cfg.Sources) == 0 {
		return Result{}, errors.New("capture: no interfaces")
	}
	wo := writerOptions(cfg)
	w, err := evidence.NewWriter(wo)
	if err != nil {
		return Result{}, err
	}
	s := &run{cfg: cfg, w: w, res: Result{Started: time.Now(), Manifest: wo.Dir + "/" + evidence.ManifestName}}
	if cfg.KeyLog != "" {
		s.tail = evidence.NewKeyLogTailer(cfg.KeyLog)
	}
	runCtx := s.limit(ctx)
	defer s.cancel()
	s.startSources(runCtx)
	s.loop(runCtx)
	s.wg.Wait()
	if s.firstErr == nil {
		s.pollKeys() // lines written just before the stop
	}
	s.res.StopReason = s.stopReason(ctx)
	return s.finish()
}

// run is one capture in progress: the capture goroutines (one per source) and the control loop
// share it.
type run struct {
	cfg    Config
	w      *evidence.Writer
	tail   *evidence.KeyLogTailer // nil without a key log
	res    Result                 // owned by the control loop
	cancel context.CancelFunc     // ends the run early: a count reached, an error
	wg     sync.WaitGroup         // the capture goroutines

	written  atomic.Int64 // packets handed to the writer, all sources
	countHit atomic.Bool
	errOnce  sync.Once
	firstErr error // the error that ended the run; read only after wg.Wait
}

// withDefaults fills in the logger and the progress interval.
func withDefaults(cfg Config) Config {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	return cfg
}

// writerOptions gives the writer one interface block per source and lets it ask the kernel's
// counters as each file closes, so every file says whether frames were lost.
func writerOptions(cfg Config) evidence.Options {
	wo := cfg.Writer
	wo.Interfaces = nil
	for _, src := range cfg.Sources {
		wo.Interfaces = append(wo.Interfaces, evidence.Interface{Name: src.Name, LinkType: src.LinkType,
			SnapLen: live.SnapLen, Description: "droneaudit capture (AF_PACKET TPACKET_V3)"})
	}
	wo.Stats = func(i int) (evidence.IfaceStats, bool) {
		st, err := cfg.Sources[i].Stats()
		return evidence.IfaceStats(st), err == nil
	}
	return wo
}

// limit derives the context the capture runs under: cancelled by ctx (a signal), by s.cancel
// (count reached, error) and, with a Duration, by time. Run tells these apart afterwards.
func (s *run) limit(ctx context.Context) context.Context {
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	if s.cfg.Duration <= 0 {
		return runCtx
	}
	timed, stopTimer := context.WithTimeout(runCtx, s.cfg.Duration)
	s.cancel = func() { stopTimer(); cancel() }
	return timed
}

// startSources reads every source in its own goroutine: the sockets block independently, and
// one busy interface must not starve another's ring.
func (s *run) startSources(ctx context.Context) {
	for i, src := range s.cfg.Sources {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := src.Run(ctx, func(f live.Frame) error {
				return s.write(i, f)
			})
			if err != nil {
				s.fail(err)
			}
		}()
	}
}

// write hands one frame to the writer with its direction. The count is shared by all sources,
// so the files hold exactly Count packets however the interfaces interleave.
func (s *run) write(iface int, f live.Frame) error {
	if s.cfg.Count > 0 && s.written.Add(1) > s.cfg.Count {
		s.countHit.Store(true)
		s.cancel()
		return nil
	}
	return s.w.WritePacketFlags(iface, f.Time, f.OrigLen, packetFlags(f.Type), f.Data)
}

// packetFlags translates the kernel's packet type into the pcapng epb_flags: outgoing frames
// are outbound, the others inbound with how they were addressed. An unknown type records
// nothing rather than a guess.
func packetFlags(t live.PacketType) evidence.PacketFlags {
	switch t {
	case live.PacketOutgoing:
		return evidence.Outbound
	case live.PacketHost:
		return evidence.Inbound | evidence.Unicast
	case live.PacketBroadcast:
		return evidence.Inbound | evidence.Broadcast
	case live.PacketMulticast:
		return evidence.Inbound | evidence.Multicast
	case live.PacketOtherHost:
		return evidence.Inbound | evidence.Promiscuous
	}
	return 0
}

// fail records the first error and stops the run; later errors are consequences of it.
func (s *run) fail(err error) {
	s.errOnce.Do(func() { s.firstErr = err })
	s.cancel()
}

// loop is the control loop: it embeds new key log lines and, about every Interval, lets the
// writer flush and rotate by time (even when no frame arrives) and reports progress.
func (s *run) loop(ctx context.Context) {
	keyTick := time.NewTicker(keyPoll)
	defer keyTick.Stop()
	progTick := time.NewTicker(s.cfg.Interval)
	defer progTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-keyTick.C:
			s.pollKeys()
		case <-progTick.C:
			if err := s.w.Tick(); err != nil {
				s.fail(err)
				continue
			}
			if s.cfg.Progress != nil {
				s.cfg.Progress(s.progress())
			}
		}
	}
}

// pollKeys embeds the key log lines written since the last poll. A key log that cannot be read
// is only logged: the capture itself is the evidence and goes on.
func (s *run) pollKeys() {
	if s.tail == nil {
		return
	}
	lines, err := s.tail.Poll()
	if err != nil {
		s.cfg.Log.Warn("key log", "err", err)
	}
	if len(lines) == 0 {
		return
	}
	if err := s.w.AddSecrets(capture.SecretsTLSKeyLog, lines); err != nil {
		s.fail(err)
		return
	}
	s.res.Secrets += countLines(lines)
}

// progress gathers the writer's totals and the kernel's drops across all sources.
func (s *run) progress() Progress {
	st := s.w.Stats()
	p := Progress{Elapsed: time.Since(s.res.Started), Packets: st.Packets, Bytes: st.Bytes, Files: st.Files,
		Current: s.w.Current(), Secrets: s.res.Secrets}
	for _, src := range s.cfg.Sources {
		if k, err := src.Stats(); err == nil {
			p.Drops += k.Dropped
		}
	}
	return p
}

// stopReason says why the run ended; ctx is the caller's, so its end means a signal.
func (s *run) stopReason(ctx context.Context) string {
	switch {
	case s.firstErr != nil:
		return "error"
	case s.countHit.Load():
		return "count"
	case ctx.Err() != nil:
		return "signal"
	default:
		return "duration"
	}
}

// finish closes the writer and completes the result. Counts are taken after Close because
// closing releases the packets held back for the key log.
func (s *run) finish() (Result, error) {
	cerr := s.w.Close()
	res := &s.res
	res.Progress = s.progress()
	for _, src := range s.cfg.Sources {
		st, _ := src.Stats()
		res.Interfaces = append(res.Interfaces, st)
	}
	res.Files = s.w.Files()
	res.Progress.Files = len(res.Files)
	res.Progress.Current = ""
	res.Took = time.Since(res.Started)
	if s.tail != nil {
		res.KeyLogSkip = s.tail.Rejected()
	}
	if s.cfg.Progress != nil {
		s.cfg.Progress(res.Progress)
	}
	if s.firstErr != nil {
		return *res, s.firstErr
	}
	if cerr != nil {
		res.StopReason = "error"
		return *res, fmt.Errorf("closing the capture: %w", cerr)
	}
	return *res, nil
}

// countLines counts the key log lines in a chunk the tailer returned (each ends in '\n').
func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
