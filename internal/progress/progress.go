// Package progress draws one progress bar of bytes read on a terminal's stderr. It draws nothing
// when stderr is not a terminal or CI is set, so logs and CI output stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// Bar is a byte-count progress bar. A nil *Bar is valid and does nothing.
type Bar struct {
	w     io.Writer
	label string
	total int64
	done  atomic.Int64
	stop  chan struct{}
	wg    sync.WaitGroup
	start time.Time
}

// Enabled reports whether a bar would be drawn on f.
func Enabled(f *os.File) bool {
	return os.Getenv("CI") == "" && term.IsTerminal(int(f.Fd()))
}

// Start draws a bar on f for total bytes, or returns nil when f is not a terminal, CI is set,
// or disabled is true. total is the size of the inputs: the engine reports each byte once.
func Start(f *os.File, label string, total int64, disabled bool) *Bar {
	if disabled || !Enabled(f) {
		return nil
	}
	return start(f, label, total, 200*time.Millisecond)
}

func start(w io.Writer, label string, total int64, every time.Duration) *Bar {
	b := &Bar{w: w, label: label, total: max(total, 1), stop: make(chan struct{}), start: time.Now()}
	b.wg.Add(1)
	go b.loop(every)
	return b
}

// Add records n more bytes read.
func (b *Bar) Add(n int64) {
	if b != nil {
		b.done.Add(n)
	}
}

// Finish stops the bar and erases its line: what follows on the terminal (the report, a log
// line) starts on a clean line, and no stale percentage stays on the screen.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	close(b.stop)
	b.wg.Wait()
	fmt.Fprint(b.w, "\r\x1b[2K")
}

func (b *Bar) loop(every time.Duration) {
	defer b.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.draw()
		}
	}
}

func (b *Bar) draw() {
	done := min(b.done.Load(), b.total)
	const width = 30
	n := int(done * width / b.total)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < n {
			bar[i] = '#'
		}
	}
	secs := time.Since(b.start).Seconds()
	rate := float64(done) / max(secs, 1e-3) / 1e6
	fmt.Fprintf(b.w, "\r%s [%s] %3d%% %s/%s %.0f MB/s ", b.label, bar, done*100/b.total, human(done), human(b.total), rate)
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
