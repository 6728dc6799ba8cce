package main

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"droneaudit/audit"
	"droneaudit/internal/version"
	"droneaudit/lab"
	"droneaudit/lab/fakenet"
)

func init() { addCommand(newLabCmd) }

func newLabCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "lab",
		Short: "Run the lab bench in one command: access point, DHCP/DNS, routing or an offline fake internet, and the capture",
		Long: `lab up turns this host into the lab network of docs/LAB.md: it writes the hostapd, dnsmasq and
nftables configuration into the session folder (mode 0600), gives the AP interface the lab
address, starts the programs and records the AP interface (and a monitor interface) into pcapng
evidence with SHA256SUMS. lab down (or Ctrl-C, or SIGTERM) stops everything in order.

Offline (the default), nothing is forwarded: every name resolves to the lab host, every TCP
connection lands on a fake internet that records what the device sends first (TLS names and
fingerprints, HTTP requests, MQTT) in fakenet.ndjson, and "droneaudit audit DIR" reports what
was tried offline. Needs root and the Debian packages dnsmasq, nftables (and hostapd for Wi-Fi).`,
	}
	c.AddCommand(newLabUpCmd(), newLabDownCmd())
	return c
}

func newLabUpCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "up --ap IFACE [--monitor IFACE] [--uplink IFACE | --offline] [-w DIR] [flags]",
		Short: "Start the lab (until Ctrl-C, SIGTERM or lab down)",
		Args:  cobra.NoArgs,
		RunE:  runLabUp,
	}
	f := c.Flags()
	f.String("ap", "", "interface the lab devices join: a Wi-Fi interface in AP mode (hostapd), or a wired port or veth (no hostapd)")
	f.String("ap-mode", "auto", "auto (Wi-Fi when the interface is wireless), wifi or wired")
	f.String("monitor", "", "wireless interface to capture in monitor mode beside the AP")
	f.Int("channel", 6, "Wi-Fi channel of the AP (and the monitor interface)")
	f.String("uplink", "", "interface to route the lab to the internet through, with NAT")
	f.Bool("offline", false, "no uplink: nothing is forwarded and the fake internet answers (the default without --uplink)")
	f.StringP("write-dir", "w", "", "session folder (default lab-<UTC time>)")
	f.String("subnet", "192.168.50.0/24", "the lab's IPv4 subnet; the lab host takes its first address")
	f.Bool("tls-intercept", false, "offline: terminate TLS with a lab CA (its certificate is printed for the test device) and record what is sent inside")
	f.Bool("dry-run", false, "print the configuration files and do nothing")
	f.String("ssid", "droneaudit-lab", "Wi-Fi network name")
	f.String("passphrase", "", "WPA2 passphrase (default: a random one, printed)")
	f.Int("ring-mb", 64, "kernel ring size per captured interface in MiB")
	f.String("country", "DE", "ISO 3166-1 country code of the lab: it sets the legal channels and power")
	return c
}

func newLabDownCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "down [--ap IFACE | -w DIR]",
		Short: "Stop a running lab: the capture closes its files, the programs stop, rules and addresses are removed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := lab.FindState(cfg.GetString("write-dir"), cfg.GetString("ap"))
			if err != nil {
				return err
			}
			cleaned, err := lab.Down(s, cfg.GetDuration("wait"))
			if err != nil {
				return err
			}
			if cleaned {
				fmt.Fprintf(cmd.OutOrStdout(), "lab on %s was not running (killed?): removed its nftables table, addresses and state; its capture files in %s may lack their last entries in SHA256SUMS\n", s.AP, s.Dir)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "lab on %s stopped; session folder %s\n", s.AP, s.Dir)
			return nil
		},
	}
	f := c.Flags()
	f.String("ap", "", "the AP interface of the lab to stop (when several run)")
	f.StringP("write-dir", "w", "", "the session folder of the lab to stop")
	f.Duration("wait", time.Minute, "how long to wait for the lab to take everything down")
	return c
}

// labPlan reads the flags into a plan and checks it, so a mistake is a usage error before
// anything is touched.
func labPlan() (lab.Plan, error) {
	p := lab.Plan{AP: cfg.GetString("ap"), Monitor: cfg.GetString("monitor"), Uplink: cfg.GetString("uplink"),
		Dir: cfg.GetString("write-dir"), TLSIntercept: cfg.GetBool("tls-intercept"), SSID: cfg.GetString("ssid"),
		Passphrase: cfg.GetString("passphrase"), Country: strings.ToUpper(cfg.GetString("country")), Channel: cfg.GetInt("channel")}
	if cfg.GetBool("offline") && p.Uplink != "" {
		return p, usageError("--offline and --uplink exclude each other")
	}
	var err error
	if p.Subnet, err = netip.ParsePrefix(cfg.GetString("subnet")); err != nil {
		return p, usageError("--subnet: %v", err)
	}
	switch mode := cfg.GetString("ap-mode"); mode {
	case "auto":
		p.Wireless = lab.IsWireless(p.AP)
	case "wifi", "wired":
		p.Wireless = mode == "wifi"
	default:
		return p, usageError("--ap-mode %q: want auto, wifi or wired", mode)
	}
	p.NoIPv6 = lab.IPv6Disabled(p.AP)
	if p.Wireless && p.Passphrase == "" {
		var b [10]byte
		rand.Read(b[:])
		p.Passphrase = strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
	}
	if p.Dir == "" {
		p.Dir = "lab-" + time.Now().UTC().Format("20060102T150405Z")
	}
	if err := p.Check(); err != nil {
		return p, usageError("lab up: %v", err)
	}
	return p, nil
}

func runLabUp(cmd *cobra.Command, _ []string) error {
	p, err := labPlan()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if cfg.GetBool("dry-run") {
		for _, c := range p.Configs() {
			fmt.Fprintf(out, "# ---- %s (mode 0600) ----\n%s\n", p.Path(c.Name), c.Text)
		}
		return nil
	}
	if p.Wireless && cfg.GetString("passphrase") == "" {
		fmt.Fprintf(out, "lab: Wi-Fi %q, passphrase %s\n", p.SSID, p.Passphrase)
	}
	res, err := lab.Run(cmd.Context(), p, lab.Options{App: "droneaudit " + version.Number, Out: out, Log: slog.Default(), RingMB: cfg.GetInt("ring-mb")})
	for _, f := range res.Capture.Files {
		fmt.Fprintf(out, "%s  %s  %d packets\n", f.SHA256, f.Name, f.Packets)
	}
	return err
}

// readLabLog finds the fake-internet log of a lab session among the audit's inputs: a session
// folder holding fakenet.ndjson, or the file itself. One session per audit: the first is read.
func readLabLog(args []string) (*audit.LabLog, error) {
	for _, a := range args {
		path := ""
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			if _, err := os.Stat(filepath.Join(a, fakenet.LogName)); err == nil {
				path = filepath.Join(a, fakenet.LogName)
			}
		} else if filepath.Base(a) == fakenet.LogName {
			path = a
		}
		if path == "" {
			continue
		}
		l, err := audit.ReadLabLog(path)
		if err != nil {
			return nil, fmt.Errorf("lab session log: %w", err)
		}
		slog.Info("lab session: fake-internet log read beside the captures", "path", path, "records", l.Lines-l.Rejected, "names", len(l.Attempts))
		return l, nil
	}
	return nil, nil
}
