//go:build linux

package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SessionConfig describes one live capture: the sources, where the evidence goes, and when to stop.
type SessionConfig struct {
	Sources  []*LiveSource
	Writer   WriterOptions // Interfaces and Stats are filled in from Sources
	KeyLog   string        // NSS key log to follow and embed; "" for none
	Count    int64         // stop after this many packets in total; 0 = no limit
	Duration time.Duration // stop after this long; 0 = until ctx is done
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

// SessionResult is what a finished capture left behind.
type SessionResult struct {
	Progress
	Interfaces []IfaceStats  // kernel counters per source, in order
	Files      []ClosedFile  // every file written, in order
	StopReason string        // "signal", "duration", "count" or "error"
	Manifest   string        // path of the SHA256SUMS manifest
	KeyLogSkip int           // key log lines rejected as malformed
	Started    time.Time     //
	Took       time.Duration //
}

// RunSession captures from every source into rotating pcapng files until ctx is done, the
// duration or count is reached, or writing fails (a full disk); the current file is always
// closed cleanly and listed in the manifest before it returns.
func RunSession(ctx context.Context, cfg SessionConfig) (SessionResult, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	if len(cfg.Sources) == 0 {
		return SessionResult{}, errors.New("capture: no interfaces")
	}
	interval := cfg.Interval
	if interval <= 0 {
		interval = time.Second
	}
	wo := cfg.Writer
	wo.Interfaces = nil
	for _, s := range cfg.Sources {
		wo.Interfaces = append(wo.Interfaces, s.Interface())
	}
	wo.Stats = func(i int) (IfaceStats, bool) {
		st, err := cfg.Sources[i].Stats()
		return st, err == nil
	}
	w, err := NewWriter(wo)
	if err != nil {
		return SessionResult{}, err
	}
	res := SessionResult{Started: time.Now(), Manifest: wo.Dir + "/" + ManifestName}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		var c2 context.CancelFunc
		runCtx, c2 = context.WithTimeout(runCtx, cfg.Duration)
		defer c2()
	}
	var (
		written  atomic.Int64
		countHit atomic.Bool
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel()
	}
	var wg sync.WaitGroup
	for i, s := range cfg.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Run(runCtx, func(ts time.Time, orig int, data []byte) error {
				if cfg.Count > 0 {
					if written.Add(1) > cfg.Count {
						countHit.Store(true)
						cancel()
						return nil
					}
				}
				return w.WritePacket(i, ts, orig, data)
			})
			if err != nil {
				fail(err)
			}
		}()
	}

	var tail *KeyLogTailer
	if cfg.KeyLog != "" {
		tail = NewKeyLogTailer(cfg.KeyLog)
	}
	pollKeys := func() {
		if tail == nil {
			return
		}
		lines, err := tail.Poll()
		if err != nil {
			log.Warn("key log", "err", err)
		}
		if len(lines) > 0 {
			if err := w.AddSecrets(SecretsTLSKeyLog, lines); err != nil {
				fail(err)
				return
			}
			res.Secrets += countLines(lines)
		}
	}
	progress := func() Progress {
		st := w.Stats()
		p := Progress{Elapsed: time.Since(res.Started), Packets: st.Packets, Bytes: st.Bytes, Files: st.Files, Current: w.Current(), Secrets: res.Secrets}
		for _, s := range cfg.Sources {
			if k, err := s.Stats(); err == nil {
				p.Drops += k.Dropped
			}
		}
		return p
	}

	// Key logs are polled often: a DSB should land close to the handshake it decrypts.
	keyTick := time.NewTicker(50 * time.Millisecond)
	progTick := time.NewTicker(interval)
loop:
	for {
		select {
		case <-runCtx.Done():
			break loop
		case <-keyTick.C:
			pollKeys()
		case <-progTick.C:
			if err := w.Tick(); err != nil {
				fail(err)
				continue
			}
			if cfg.Progress != nil {
				cfg.Progress(progress())
			}
		}
	}
	keyTick.Stop()
	progTick.Stop()
	wg.Wait()
	if firstErr == nil {
		pollKeys() // lines written just before the stop
	}
	switch {
	case firstErr != nil:
		res.StopReason = "error"
	case countHit.Load():
		res.StopReason = "count"
	case ctx.Err() != nil:
		res.StopReason = "signal"
	default:
		res.StopReason = "duration"
	}
	cerr := w.Close() // releases held packets, so count after it
	res.Progress = progress()
	for _, s := range cfg.Sources {
		st, _ := s.Stats()
		res.Interfaces = append(res.Interfaces, st)
	}
	res.Files = w.Files()
	res.Progress.Files = len(res.Files)
	res.Progress.Current = ""
	res.Took = time.Since(res.Started)
	if tail != nil {
		res.KeyLogSkip = tail.Rejected()
	}
	if cfg.Progress != nil {
		cfg.Progress(res.Progress)
	}
	if firstErr != nil {
		return res, firstErr
	}
	if cerr != nil {
		res.StopReason = "error"
		return res, fmt.Errorf("closing the capture: %w", cerr)
	}
	return res, nil
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
