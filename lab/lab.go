package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"droneaudit/capture/evidence"
	"droneaudit/capture/live"
	"droneaudit/capture/session"
	"droneaudit/lab/fakenet"
)

// ipForward is the host's IPv4 forwarding switch (proc_sys_net(5)).
const ipForward = "/proc/sys/net/ipv4/ip_forward"

// KeyLogName is the NSS key log the intercepting fake internet writes; the capture embeds it.
const KeyLogName = "tls-keys.log"

// Options are the parts of a lab run that are not the plan.
type Options struct {
	App    string    // written into the pcapng files, e.g. "droneaudit 0.1.0"
	Out    io.Writer // where the lab says what it did (stdout)
	Log    *slog.Logger
	Grace  time.Duration // how long a child may take to stop before it is killed (default 5 s)
	RingMB int           // kernel ring per captured interface; 0: capture/live's default (64 MiB)
}

// Result is what a lab session left behind.
type Result struct {
	Capture session.Result
	Fakenet int // records in fakenet.ndjson
}

// lab is one running lab: what was set up, so teardown undoes exactly that.
type lab struct {
	p     Plan
	o     Options
	progs map[string]string

	addrs   []string // "ip/len" added to the AP
	monitor func() error
	sources []*live.Source
	capStop context.CancelFunc
	capDone chan struct{}
	capRes  session.Result
	capErr  error
	fnLog   *fakenet.Log
	fn      *fakenet.Server
	keylog  *os.File
	nft     bool
	forward []byte // the host's ip_forward before the lab switched it on; nil: untouched
	stated  bool
	kids    []*child // in start order
	spawn   *spawner
	exited  chan *child
}

// Run sets the lab up, runs it until ctx ends (Ctrl-C, SIGTERM, `lab down`) or a child exits,
// and takes it down in order: the capture closes its files and SHA256SUMS, the children are
// stopped and reaped, the fake internet flushes its log, the nftables table and the addresses
// are removed. What was set up is taken down even when setup fails half way.
func Run(ctx context.Context, p Plan, o Options) (res Result, err error) {
	if err := p.Check(); err != nil {
		return res, err
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Grace <= 0 {
		o.Grace = 5 * time.Second
	}
	// Absolute: the children's command lines name their files by it, and lab down finds a
	// leftover child by it.
	if abs, err := filepath.Abs(p.Dir); err == nil {
		p.Dir = abs
	}
	if os.Geteuid() != 0 {
		return res, errors.New("lab up needs root: it adds addresses, loads nftables rules, starts dnsmasq and captures")
	}
	l := &lab{p: p, o: o, progs: map[string]string{}, exited: make(chan *child, 4)}
	if err := l.findPrograms(); err != nil {
		return res, err
	}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return res, err
	}
	if err := p.WriteConfigs(); err != nil {
		return res, fmt.Errorf("writing the configuration: %w", err)
	}
	defer func() {
		if derr := l.teardown(); derr != nil {
			err = errors.Join(err, derr)
		}
		res.Capture = l.capRes
		if l.fnLog != nil {
			res.Fakenet = l.fnLog.Count()
		}
	}()
	if err := l.setup(ctx); err != nil {
		return res, err
	}
	select {
	case <-ctx.Done():
		return res, nil
	case c := <-l.exited:
		return res, fmt.Errorf("%s exited (%v): see %s.log in the session folder; the lab is taken down", c.name, c.err, c.name)
	case <-l.capDone:
		return res, fmt.Errorf("the capture stopped: %v", l.capErr)
	}
}

func (l *lab) findPrograms() error {
	need := []string{"ip", "nft", "dnsmasq"}
	if l.p.Wireless {
		need = append(need, "hostapd")
	}
	var errs []error
	for _, n := range need {
		path, err := FindProgram(n)
		errs = append(errs, err)
		l.progs[n] = path
	}
	return errors.Join(errs...)
}

// setup brings the lab up step by step; each step records what teardown must undo.
func (l *lab) setup(ctx context.Context) error {
	p := l.p
	fmt.Fprintf(l.o.Out, "lab: session folder %s\n", p.Dir)
	if err := l.address(); err != nil {
		return err
	}
	if err := l.startCapture(ctx); err != nil {
		return err
	}
	if p.Offline() {
		if err := l.startFakenet(); err != nil {
			return err
		}
	} else if err := run(l.progs["ip"], "link", "set", p.Uplink, "up"); err != nil {
		return err
	}
	if err := run(l.progs["nft"], "-f", p.Path(NftRuleset)); err != nil {
		return fmt.Errorf("loading the nftables ruleset: %w", err)
	}
	l.nft = true
	if !p.Offline() {
		// The lab's forward chain limits forwarding to the AP and the uplink; the host setting
		// goes back to what it was at teardown.
		prev, err := os.ReadFile(ipForward)
		if err != nil {
			return fmt.Errorf("reading IPv4 forwarding: %w", err)
		}
		if err := os.WriteFile(ipForward, []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("enabling IPv4 forwarding: %w", err)
		}
		l.forward = prev
	}
	if p.Wireless {
		if err := l.startChild("hostapd", []string{p.Path(HostapdConf)}, nil); err != nil {
			return err
		}
	}
	// dnsmasq creates its lease file with mode 0644; made here first, it keeps 0600.
	if f, err := os.OpenFile(p.Path("dnsmasq.leases"), os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	}
	if err := l.startChild("dnsmasq", []string{"--keep-in-foreground", "--conf-file=" + p.Path(DnsmasqConf)}, l.dnsLine); err != nil {
		return err
	}
	var pids []int
	for _, c := range l.kids {
		pids = append(pids, c.cmd.Process.Pid)
	}
	if err := writeState(p, l.addrs, pids); err != nil {
		return err
	}
	l.stated = true
	mode := "offline (nothing is forwarded; every name resolves to " + p.LabIP().String() + ")"
	if !p.Offline() {
		mode = "routed with NAT through " + p.Uplink
	}
	fmt.Fprintf(l.o.Out, "lab: up on %s, lab address %s, %s\nlab: stop with Ctrl-C or: droneaudit lab down --ap %s\n", p.AP, p.LabIP(), mode, p.AP)
	return nil
}

// address gives the AP interface the lab's addresses and brings it up.
func (l *lab) address() error {
	ip := l.progs["ip"]
	if err := run(ip, "link", "set", l.p.AP, "up"); err != nil {
		return err
	}
	v4 := fmt.Sprintf("%s/%d", l.p.LabIP(), l.p.Subnet.Bits())
	if err := run(ip, "addr", "add", v4, "dev", l.p.AP); err != nil {
		return fmt.Errorf("%w (is another lab running on %s?)", err, l.p.AP)
	}
	l.addrs = append(l.addrs, v4)
	if l.p.ipv6() {
		// nodad: the address is usable at once (no duplicate detection on a lab-only prefix).
		if err := run(ip, "-6", "addr", "add", LabULA.String(), "dev", l.p.AP, "nodad"); err != nil {
			return err
		}
		l.addrs = append(l.addrs, LabULA.String())
	}
	return nil
}

// startCapture records the AP interface (and the monitor interface) into the session folder
// with the capture session droneaudit capture uses.
func (l *lab) startCapture(ctx context.Context) error {
	if l.p.Monitor != "" {
		restore, err := live.SetMonitor(ctx, l.p.Monitor, l.p.Channel)
		if err != nil {
			return err
		}
		l.monitor = restore
	}
	for _, n := range []string{l.p.AP, l.p.Monitor} {
		if n == "" {
			continue
		}
		s, err := live.Open(n, live.Options{RingMB: l.o.RingMB, Promisc: n == l.p.AP})
		if err != nil {
			return err
		}
		l.sources = append(l.sources, s)
	}
	cfg := session.Config{Sources: l.sources, Log: l.o.Log, Writer: evidence.Options{Dir: l.p.Dir, Prefix: "capture", App: l.o.App}}
	if l.p.TLSIntercept {
		f, err := os.OpenFile(l.p.Path(KeyLogName), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		l.keylog = f
		cfg.KeyLog, cfg.Writer.HoldBack = f.Name(), time.Second
	}
	// The capture gets a context of its own: it stops first at teardown, whatever ended ctx.
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.capStop, l.capDone = cancel, make(chan struct{})
	go func() {
		defer close(l.capDone)
		l.capRes, l.capErr = session.Run(cctx, cfg)
	}()
	return nil
}

// startFakenet opens the fake internet on the lab addresses.
func (l *lab) startFakenet() error {
	lg, err := fakenet.CreateLog(l.p.Path(fakenet.LogName))
	if err != nil {
		return err
	}
	l.fnLog = lg
	cfg := fakenet.Config{Log: lg}
	addrs := []string{l.p.LabIP().String()}
	if l.p.ipv6() {
		addrs = append(addrs, LabULA.Addr().String())
	}
	for _, a := range addrs {
		cfg.TCP = append(cfg.TCP, net.JoinHostPort(a, strconv.Itoa(FakeTCPPort)))
		for _, port := range FakeUDPPorts {
			cfg.UDP = append(cfg.UDP, net.JoinHostPort(a, strconv.Itoa(int(port))))
		}
	}
	if l.p.TLSIntercept {
		ca, err := fakenet.NewCA(l.p.Dir)
		if err != nil {
			return fmt.Errorf("lab CA: %w", err)
		}
		cfg.CA, cfg.KeyLog = ca, &syncWriter{w: l.keylog}
		fmt.Fprintf(l.o.Out, "lab: TLS interception on; install this CA on the test device (also in %s):\n%s", l.p.Path(fakenet.CACertName), ca.CertPEM)
	}
	l.fn, err = fakenet.Start(cfg)
	return err
}

// syncWriter serialises key log lines from concurrent handshakes.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func (l *lab) startChild(name string, args []string, onLine func(string)) error {
	logPath := l.p.Path(name + ".log")
	if l.spawn == nil {
		l.spawn = newSpawner()
	}
	c, err := startChild(l.spawn, name, l.progs[name], args, logPath, onLine)
	if err != nil {
		return err
	}
	l.kids = append(l.kids, c)
	if err := c.settle(700*time.Millisecond, logPath); err != nil {
		return err
	}
	go func() {
		<-c.done
		l.exited <- c
	}()
	return nil
}

// dnsQuery matches dnsmasq's log-queries line: "query[A] name from client".
var dnsQuery = regexp.MustCompile(`query\[([A-Za-z0-9]+)\] (\S+) from (\S+)`)

// dnsLine turns each question dnsmasq logs into a fake internet record, so the log names every
// name a device looked up even when it never connected.
func (l *lab) dnsLine(line string) {
	m := dnsQuery.FindStringSubmatch(line)
	if m == nil || l.fnLog == nil {
		return
	}
	dst := net.JoinHostPort(l.p.LabIP().String(), "53")
	l.fnLog.Write(fakenet.Record{Client: m[3], Dst: dst, Transport: "udp", Protocol: "dns", Name: strings.ToLower(m[2]), QType: m[1]})
}

// teardown undoes setup in order. Each step runs whatever failed before it.
func (l *lab) teardown() error {
	var errs []error
	if l.capStop != nil {
		l.capStop()
		<-l.capDone
		if l.capErr != nil {
			errs = append(errs, fmt.Errorf("capture: %w", l.capErr))
		}
		fmt.Fprintf(l.o.Out, "lab: capture closed: %d packets in %d file(s), listed in %s\n", l.capRes.Packets, len(l.capRes.Files), l.capRes.Manifest)
	}
	for _, s := range l.sources {
		s.Close()
	}
	for i := len(l.kids) - 1; i >= 0; i-- {
		if err := l.kids[i].stop(l.o.Grace); err != nil {
			errs = append(errs, err)
		}
	}
	if l.spawn != nil {
		l.spawn.Close()
	}
	if l.fn != nil {
		l.fn.Close()
	}
	if l.fnLog != nil {
		if err := l.fnLog.Close(); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(l.o.Out, "lab: fake internet: %d record(s) in %s\n", l.fnLog.Count(), l.p.Path(fakenet.LogName))
	}
	if l.keylog != nil {
		l.keylog.Close()
	}
	if l.nft {
		if err := run(l.progs["nft"], "delete", "table", "inet", Table); err != nil {
			errs = append(errs, err)
		}
	}
	if l.forward != nil {
		if err := os.WriteFile(ipForward, l.forward, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring IPv4 forwarding: %w", err))
		}
	}
	for i := len(l.addrs) - 1; i >= 0; i-- {
		if err := run(l.progs["ip"], "addr", "del", l.addrs[i], "dev", l.p.AP); err != nil {
			errs = append(errs, err)
		}
	}
	if l.monitor != nil {
		if err := l.monitor(); err != nil {
			errs = append(errs, err)
		}
	}
	if l.stated {
		removeState(l.p)
	}
	return errors.Join(errs...)
}
