package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Monitor mode is set up with the iw and ip tools rather than raw nl80211 messages: both are on
// every Linux lab host, their error messages are what an operator expects, and the commands are
// the documented way (iw(8): "iw dev <devname> set type monitor", "iw dev <devname> set channel
// <channel> [HT20|HT40+|HT40-]"; capture-and-performance.md §2.3).

// ErrToolMissing is returned when iw or ip is not installed.
var ErrToolMissing = errors.New("tool not installed")

// runTool runs one of the network tools and turns its failure into an error an operator can act on.
func runTool(ctx context.Context, tool string, args ...string) error {
	path, err := exec.LookPath(tool)
	if err != nil {
		pkg := map[string]string{"iw": "iw", "ip": "iproute2"}[tool]
		return fmt.Errorf("monitor mode needs %s (Debian/Ubuntu: apt-get install %s): %w", tool, pkg, ErrToolMissing)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		hint := ""
		if strings.Contains(msg, "not permitted") || strings.Contains(msg, "Permission denied") {
			hint = " (run as root or grant CAP_NET_ADMIN)"
		}
		return fmt.Errorf("%s %s: %s%s: %w", tool, strings.Join(args, " "), msg, hint, err)
	}
	return nil
}

// SetMonitor puts a wireless interface into monitor mode and, when channel > 0, tunes it. It
// returns a function that puts the interface back into managed mode.
func SetMonitor(ctx context.Context, iface string, channel int) (restore func() error, err error) {
	steps := [][]string{
		{"ip", "link", "set", "dev", iface, "down"},
		{"iw", "dev", iface, "set", "type", "monitor"},
		{"ip", "link", "set", "dev", iface, "up"},
	}
	for _, s := range steps {
		if err := runTool(ctx, s[0], s[1:]...); err != nil {
			return nil, fmt.Errorf("monitor mode on %s: %w", iface, err)
		}
	}
	restore = func() error {
		bg := context.Background()
		for _, s := range [][]string{
			{"ip", "link", "set", "dev", iface, "down"},
			{"iw", "dev", iface, "set", "type", "managed"},
			{"ip", "link", "set", "dev", iface, "up"},
		} {
			if err := runTool(bg, s[0], s[1:]...); err != nil {
				return fmt.Errorf("restoring %s to managed mode: %w", iface, err)
			}
		}
		return nil
	}
	if channel > 0 {
		if err := SetChannel(ctx, iface, channel); err != nil {
			restore()
			return nil, err
		}
	}
	return restore, nil
}

// SetChannel tunes a monitor interface to a channel number (2.4, 5 or 6 GHz as iw maps it).
func SetChannel(ctx context.Context, iface string, channel int) error {
	if err := runTool(ctx, "iw", "dev", iface, "set", "channel", strconv.Itoa(channel)); err != nil {
		return fmt.Errorf("monitor mode on %s: %w", iface, err)
	}
	return nil
}

// HopChannels cycles the interface through channels, dwell on each, until ctx is done. A failed
// switch is reported to onErr and the hop goes on: one unsupported channel should not end a
// capture. The same beacon heard on adjacent channels is a duplicate the decoders remove.
func HopChannels(ctx context.Context, iface string, channels []int, dwell time.Duration, onErr func(error)) {
	if len(channels) == 0 {
		return
	}
	t := time.NewTicker(dwell)
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(channels) {
		if err := SetChannel(ctx, iface, channels[i]); err != nil && ctx.Err() == nil && onErr != nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ParseChannels reads a hop list such as "1,6,11" or "36, 40,44".
func ParseChannels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 233 {
			// 233 is the highest 6 GHz channel number (IEEE 802.11ax-2021 Annex E).
			return nil, fmt.Errorf("channel %q: want a number 1-233", f)
		}
		out = append(out, n)
		if len(out) > 64 {
			return nil, fmt.Errorf("more than 64 channels to hop")
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no channels in %q", s)
	}
	return out, nil
}
