package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"droneaudit/audit"
	"droneaudit/internal/netlab"
	"droneaudit/lab"
	"droneaudit/lab/fakenet"
)

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// labBench is the acceptance test's network: the phone namespace (NSA) joined by a veth to the
// lab namespace (NSB), where droneaudit lab up runs with the veth as --ap, and an "internet"
// namespace behind an uplink veth of the lab namespace, with routing on, so that anything the
// lab forwarded would arrive there.
type labBench struct {
	*netlab.Lab
	inet      string // the namespace behind the uplink
	upl       string // the lab's uplink veth
	inetAddr  netip.Addr
	phoneMAC  net.HardwareAddr
	sessDir   string
	cmd       *exec.Cmd
	out, errb *lockedBuffer
}

func needLabPrograms(t *testing.T) {
	t.Helper()
	needRoot(t)
	for _, p := range []string{"dnsmasq", "nft", "ip"} {
		if _, err := lab.FindProgram(p); err != nil {
			t.Skipf("the lab test needs %s: %v", p, err)
		}
	}
}

func ipc(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func nsRun(t *testing.T, ns string, name string, args ...string) string {
	t.Helper()
	out, err := netlab.Cmd(ns, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v %s", name, strings.Join(args, " "), ns, err, out)
	}
	return string(out)
}

func newLabBench(t *testing.T) *labBench {
	l := netlab.New(t)
	b := &labBench{Lab: l, inet: l.NSB + "-i", upl: "upl" + l.IfB[3:], inetAddr: netip.MustParseAddr("203.0.113.2")}
	// The lab side starts without an address: lab up gives it one, and must take it away.
	ipc(t, "-n", l.NSA, "addr", "flush", "dev", l.IfA)
	ipc(t, "-n", l.NSB, "addr", "flush", "dev", l.IfB)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", b.inet).Run() })
	ipc(t, "netns", "add", b.inet)
	ipc(t, "link", "add", b.upl, "netns", l.NSB, "type", "veth", "peer", "name", "inet0", "netns", b.inet)
	ipc(t, "-n", l.NSB, "addr", "add", "203.0.113.1/24", "dev", b.upl)
	ipc(t, "-n", b.inet, "addr", "add", b.inetAddr.String()+"/24", "dev", "inet0")
	ipc(t, "-n", l.NSB, "link", "set", b.upl, "up")
	ipc(t, "-n", b.inet, "link", "set", "inet0", "up")
	ipc(t, "-n", l.NSB, "route", "add", "default", "via", b.inetAddr.String())
	// Routing is on in the lab namespace: only the lab's forward chain stops packets going out.
	nsRun(t, l.NSB, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf."+b.upl+".disable_ipv6=1")
	nsRun(t, b.inet, "sysctl", "-qw", "net.ipv6.conf.inet0.disable_ipv6=1")
	iface, err := net.InterfaceByName(l.IfA)
	if err != nil {
		// The interface lives in the phone namespace: read its address there.
		mac := strings.Fields(nsRun(t, l.NSA, "cat", "/sys/class/net/"+l.IfA+"/address"))[0]
		b.phoneMAC, _ = net.ParseMAC(mac)
	} else {
		b.phoneMAC = iface.HardwareAddr
	}
	// curl in the phone namespace resolves through the lab: ip netns exec bind-mounts this file
	// over /etc/resolv.conf.
	etc := filepath.Join("/etc/netns", l.NSA)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte("nameserver 192.168.50.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// start runs droneaudit lab up in the lab namespace and waits until it says it is up.
func (b *labBench) start(t *testing.T, bin string, extra ...string) {
	b.sessDir = filepath.Join(t.TempDir(), "session")
	args := append([]string{"lab", "up", "--ap", b.IfB, "-w", b.sessDir}, extra...)
	b.out, b.errb = &lockedBuffer{}, &lockedBuffer{}
	b.cmd = netlab.Cmd(b.NSB, bin, args...)
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.errb
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			b.cmd.Process.Kill()
			b.cmd.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(b.out.String(), "lab: up on") {
		if time.Now().After(deadline) {
			t.Fatalf("lab did not come up\nstdout: %s\nstderr: %s", b.out, b.errb)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and checks that the lab left nothing behind: no child, no table, no
// address.
func (b *labBench) stop(t *testing.T) {
	b.stopWith(t, func() { b.cmd.Process.Signal(syscall.SIGTERM) })
}

// stopWith stops the lab with stop (SIGTERM, lab down) and checks what it left.
func (b *labBench) stopWith(t *testing.T, stop func()) {
	t.Helper()
	pid := b.cmd.Process.Pid
	stop()
	if err := b.wait(); err != nil {
		t.Fatalf("lab up: %v\nstdout: %s\nstderr: %s", err, b.out, b.errb)
	}
	b.checkClean(t, pid)
}

// wait reaps the lab process and returns how it ended.
func (b *labBench) wait() error {
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		return errors.New("lab did not stop within a minute")
	}
}

// checkClean checks that nothing of the lab is left: no process, no table, no address, no
// state file.
func (b *labBench) checkClean(t *testing.T, pid int) {
	t.Helper()
	if kids := childrenOf(pid, b.sessDir); len(kids) > 0 {
		t.Errorf("processes left after SIGTERM: %v", kids)
	}
	if out, err := netlab.Cmd(b.NSB, "nft", "list", "table", "inet", lab.Table).CombinedOutput(); err == nil {
		t.Errorf("nftables table still there after SIGTERM:\n%s", out)
	}
	addrs := ipc(t, "-n", b.NSB, "-o", "addr", "show", "dev", b.IfB)
	if strings.Contains(addrs, "inet ") || strings.Contains(addrs, "fd64:") {
		t.Errorf("addresses left on %s after SIGTERM:\n%s", b.IfB, addrs)
	}
	if _, err := os.Stat(filepath.Join(lab.RunDir, "lab-"+b.IfB+".json")); err == nil {
		t.Errorf("state file left in %s", lab.RunDir)
	}
}

// childrenOf lists processes whose parent was pid or whose command line names the session
// folder (a child reparented after its parent died).
func childrenOf(pid int, dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if (len(f) > 2 && f[1] == strconv.Itoa(pid)) || bytes.Contains(cmdline, []byte(dir)) {
			out = append(out, strconv.Itoa(n)+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// phoneUp gets the phone an address by DHCP and routes through the lab.
func (b *labBench) phoneUp(t *testing.T) (addr, router netip.Addr) {
	t.Helper()
	inNS(t, b.NSA, func() error {
		var err error
		addr, router, err = dhcpLease(b.IfA, b.phoneMAC)
		return err
	})
	if !netip.MustParsePrefix("192.168.50.0/24").Contains(addr) || router != netip.MustParseAddr("192.168.50.1") {
		t.Fatalf("DHCP gave %s via %s", addr, router)
	}
	ipc(t, "-n", b.NSA, "addr", "add", addr.String()+"/24", "dev", b.IfA)
	ipc(t, "-n", b.NSA, "route", "add", "default", "via", router.String())
	return addr, router
}

func readFakenet(t *testing.T, dir string) []fakenet.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, fakenet.LogName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []fakenet.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r fakenet.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("fakenet.ndjson: %v: %s", err, sc.Text())
		}
		recs = append(recs, r)
	}
	return recs
}

func findRecord(recs []fakenet.Record, fn func(fakenet.Record) bool) *fakenet.Record {
	for i := range recs {
		if fn(recs[i]) {
			return &recs[i]
		}
	}
	return nil
}

// checkLabEvidence checks the session folder's pcapng files against SHA256SUMS (sha256sum -c), and
// with tshark that every file reads whole and DHCP and DNS are in them.
func checkLabEvidence(t *testing.T, dir string) {
	t.Helper()
	files := checkLabEvidenceFiles(t, dir)
	for _, c := range []string{filepath.Join(dir, fakenet.LogName)} {
		if fi, err := os.Stat(c); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: want mode 0600: %v %v", c, fi.Mode(), err)
		}
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: pcapng files not checked with it")
		return
	}
	for _, proto := range []string{"dhcp", "dns", "tls.handshake.type == 1", "mqtt"} {
		out, err := exec.Command("tshark", "-n", "-r", files[0], "-Y", proto).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) == 0 {
			t.Errorf("tshark finds no %s in %s: %v %s", proto, files[0], err, out)
		}
	}
}

// checkLabEvidenceFiles checks the manifest (sha256sum -c), that tshark reads every file whole,
// and the modes of the files the lab wrote; it returns the pcapng files.
func checkLabEvidenceFiles(t *testing.T, dir string) []string {
	t.Helper()
	if out, err := exec.Command("sh", "-c", "cd '"+dir+"' && sha256sum -c SHA256SUMS").CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v %s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "capture-*.pcapng"))
	if len(files) == 0 {
		t.Fatal("no pcapng file in the session folder")
	}
	for _, c := range append(files, filepath.Join(dir, lab.DnsmasqConf), filepath.Join(dir, lab.NftRuleset), filepath.Join(dir, "dnsmasq.leases")) {
		if fi, err := os.Stat(c); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: want mode 0600: %v %v", c, fi.Mode(), err)
		}
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		for _, f := range files {
			// tshark reads the whole file and fails on a cut or malformed block.
			if out, err := exec.Command("tshark", "-n", "-r", f, "-q").CombinedOutput(); err != nil {
				t.Errorf("tshark -r %s: %v %s", f, err, out)
			}
		}
	}
	return files
}

// labWithPhone builds the bench, starts lab up with args and gives the phone its lease; it
// returns the bench, the binary and the lab's address (the phone's router).
func labWithPhone(t *testing.T, args ...string) (*labBench, string, netip.Addr) {
	needLabPrograms(t)
	bin := droneauditBinary(t)
	b := newLabBench(t)
	b.start(t, bin, args...)
	_, router := b.phoneUp(t)
	return b, bin, router
}

func TestLabOfflineAcceptance(t *testing.T) {
	b, _, router := labWithPhone(t, "--offline")
	names := []string{"mydji.dji.com", "flysafe-api.dji.com", "mqtt-telemetry.djiservice.org", "log-upload.djicdn.com"}
	inNS(t, b.NSA, func() error {
		for _, n := range names {
			a, err := dnsAsk(router, n, 1)
			if err != nil || len(a) != 1 || a[0] != router {
				t.Errorf("A %s: %v %v", n, a, err)
			}
		}
		a, err := dnsAsk(router, names[0], 28)
		if err != nil || len(a) != 1 || a[0] != lab.LabULA.Addr() {
			t.Errorf("AAAA %s: %v %v", names[0], a, err)
		}
		return nil
	})
	// TLS with Go: the lab keeps the connection open and never answers.
	var tlsConn net.Conn
	inNS(t, b.NSA, func() (err error) { tlsConn, err = net.Dial("tcp", router.String()+":443"); return err })
	tc := tls.Client(tlsConn, &tls.Config{ServerName: names[0]})
	tc.SetDeadline(time.Now().Add(time.Second))
	if err := tc.Handshake(); err == nil || !isTimeout(err) {
		t.Errorf("TLS handshake with the offline lab: want a timeout (no answer), got %v", err)
	}
	tc.Close()
	// MQTT to a hard-coded address beyond the lab: redirected, answered, logged with the
	// address it wanted.
	mqttPayload := `{"lat":51.1680,"lon":5.4700,"sn":"1581F5FHD2"}`
	var mc net.Conn
	inNS(t, b.NSA, func() (err error) { mc, err = net.Dial("tcp", "198.51.100.7:1883"); return err })
	mc.SetDeadline(time.Now().Add(5 * time.Second))
	mc.Write(mqttConnectPacket("drone-1581F5FHD2"))
	ack := make([]byte, 4)
	if _, err := io.ReadFull(mc, ack); err != nil || !bytes.Equal(ack, []byte{0x20, 2, 0, 0}) {
		t.Errorf("CONNACK: % x %v", ack, err)
	}
	mc.Write(mqttPublishPacket("thing/product/1581F5FHD2/osd", 7, []byte(mqttPayload)))
	if _, err := io.ReadFull(mc, ack); err != nil || !bytes.Equal(ack, []byte{0x40, 2, 0, 7}) {
		t.Errorf("PUBACK: % x %v", ack, err)
	}
	mc.Close()
	httpBody := `{"home":{"lat":51.1681,"lon":5.4699},"flight":"F-0042"}`
	if _, err := exec.LookPath("curl"); err == nil {
		out, err := netlab.Cmd(b.NSA, "curl", "-sS", "--max-time", "5", "-H", "Content-Type: application/json", "-d", httpBody, "http://log-upload.djicdn.com/api/v1/flight").CombinedOutput()
		if err != nil || string(out) != "{}" {
			t.Errorf("curl HTTP POST: %v %q", err, out)
		}
		// curl over TLS: the ClientHello is recorded, the handshake never completes.
		netlab.Cmd(b.NSA, "curl", "-sS", "--max-time", "2", "https://flysafe-api.dji.com/api/v2/areas").Run()
	} else {
		t.Log("curl not installed: HTTP and TLS only from Go")
	}
	// IPv6: a phone address in the lab prefix (as router advertisements give it), HTTP to an
	// address beyond the lab, answered by the fake internet on the lab's IPv6 address.
	ipc(t, "-n", b.NSA, "-6", "addr", "add", "fd64:da1a:b::99/64", "dev", b.IfA, "nodad")
	ipc(t, "-n", b.NSA, "-6", "route", "add", "default", "via", lab.LabULA.Addr().String())
	var v6 net.Conn
	inNS(t, b.NSA, func() (err error) { v6, err = net.DialTimeout("tcp", "[2001:db8::5]:80", 5*time.Second); return err })
	v6.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(v6, "GET /v6/ping HTTP/1.1\r\nHost: v6.dji.com\r\n\r\n")
	var got []byte
	for buf := make([]byte, 256); !bytes.HasSuffix(got, []byte("{}")); {
		n, err := v6.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Errorf("HTTP over IPv6: %q %v", got, err)
			break
		}
	}
	v6.Close()
	// QUIC to an address beyond the lab: the UDP redirect brings its Initial to the fake
	// internet, which reads the SNI; nothing answers.
	var qc net.PacketConn
	inNS(t, b.NSA, func() (err error) { qc, err = net.ListenPacket("udp", ":0"); return err })
	qctx, qcancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	if _, err := quic.Dial(qctx, qc, &net.UDPAddr{IP: net.ParseIP("203.0.113.9"), Port: 443},
		&tls.Config{ServerName: "quic-api.dji.com", NextProtos: []string{"h3"}}, nil); err == nil {
		t.Error("QUIC handshake completed with the offline lab")
	}
	qcancel()
	qc.Close()
	// Nothing is forwarded: a datagram and a TCP SYN beyond the lab never reach the uplink.
	txBefore := nsRun(t, b.NSB, "cat", "/sys/class/net/"+b.upl+"/statistics/tx_packets")
	inNS(t, b.NSA, func() error {
		c, err := net.Dial("udp", b.inetAddr.String()+":40000")
		if err != nil {
			return err
		}
		defer c.Close()
		for i := 0; i < 5; i++ {
			c.Write([]byte("must not leave the lab"))
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	if after := nsRun(t, b.NSB, "cat", "/sys/class/net/"+b.upl+"/statistics/tx_packets"); after != txBefore {
		t.Errorf("packets left through the uplink: tx_packets %s -> %s", strings.TrimSpace(txBefore), strings.TrimSpace(after))
	}
	rules := nsRun(t, b.NSB, "nft", "list", "chain", "inet", lab.Table, "forward")
	if !strings.Contains(rules, "policy drop") || strings.Contains(rules, "counter packets 0 ") {
		t.Errorf("forward chain does not drop (or dropped nothing):\n%s", rules)
	}
	time.Sleep(2500 * time.Millisecond) // curl's ClientHello is logged after the read pause
	b.stop(t)
	checkLabEvidence(t, b.sessDir)

	recs := readFakenet(t, b.sessDir)
	for _, n := range names {
		if findRecord(recs, func(r fakenet.Record) bool { return r.Protocol == "dns" && r.Name == n && r.QType == "A" }) == nil {
			t.Errorf("fakenet.ndjson: no DNS record for %s", n)
		}
	}
	if r := findRecord(recs, func(r fakenet.Record) bool { return r.Protocol == "tls" && r.Name == names[0] }); r == nil || r.First.JA4 == "" || r.Dst != router.String()+":443" {
		t.Errorf("fakenet.ndjson: Go TLS ClientHello: %+v", r)
	}
	if r := findRecord(recs, func(r fakenet.Record) bool { return r.Name == "v6.dji.com" }); r == nil || r.Dst != "[2001:db8::5]:80" {
		t.Errorf("fakenet.ndjson: HTTP over IPv6: %+v", r)
	}
	if r := findRecord(recs, func(r fakenet.Record) bool { return r.Protocol == "quic" }); r == nil || r.Name != "quic-api.dji.com" || r.Transport != "udp" {
		t.Errorf("fakenet.ndjson: QUIC: %+v", r)
	}
	if r := findRecord(recs, func(r fakenet.Record) bool { return r.Protocol == "mqtt" }); r == nil || r.Dst != "198.51.100.7:1883" ||
		r.First.ClientID != "drone-1581F5FHD2" || r.First.Payload != mqttPayload {
		t.Errorf("fakenet.ndjson: MQTT: %+v %+v", r, r.First)
	}
	if _, err := exec.LookPath("curl"); err == nil {
		if r := findRecord(recs, func(r fakenet.Record) bool { return r.Protocol == "http" }); r == nil || r.Name != "log-upload.djicdn.com" ||
			r.First.Method != "POST" || r.First.Body != httpBody {
			t.Errorf("fakenet.ndjson: HTTP: %+v", r)
		}
		if r := findRecord(recs, func(r fakenet.Record) bool { return r.Protocol == "tls" && r.Name == "flysafe-api.dji.com" }); r == nil {
			t.Errorf("fakenet.ndjson: no curl ClientHello")
		}
	}

	rep := auditSession(t, b.sessDir)
	if rep.Lab == nil {
		t.Fatal("audit report has no lab section")
	}
	for _, n := range append(names, "198.51.100.7:1883/tcp", "quic-api.dji.com") {
		found := false
		for _, a := range rep.Lab.Attempts {
			found = found || a.Name == n || (a.Name == "" && strings.Join(a.Destinations, ",") == n)
		}
		if !found {
			t.Errorf("audit: %s not among the offline attempts", n)
		}
	}
	flagged := 0
	for _, d := range rep.Destinations {
		if len(d.Flags) > 0 && strings.Contains(strings.Join(d.Flags, ","), audit.FlagTriedOffline) {
			flagged++
		}
	}
	if flagged < 5 { // 192.168.50.1:443, :80, 198.51.100.7:1883, [2001:db8::5]:80, 203.0.113.9:443/udp (by its QUIC name)
		t.Errorf("audit: %d destination rows marked %s, want at least 5: %+v", flagged, audit.FlagTriedOffline, rep.Destinations)
	}
}

// auditSession runs droneaudit audit on the session folder, in process, and reads its JSON.
func auditSession(t *testing.T, dir string) *audit.Report {
	t.Helper()
	_, out, errb := cli(t, "audit", "--format", "json", dir)
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit JSON: %v\n%s\n%s", err, out, errb)
	}
	_, text, _ := cli(t, "audit", dir)
	if testing.Verbose() {
		t.Logf("text report:\n%s", text)
	}
	if !strings.Contains(text, "tried offline, never reached anything") {
		t.Errorf("text report does not mark the offline attempts:\n%s", text)
	}
	return &rep
}

func isTimeout(err error) bool {
	var ne net.Error
	return errorsAs(err, &ne) && ne.Timeout()
}

func TestLabTLSIntercept(t *testing.T) {
	b, bin, router := labWithPhone(t, "--tls-intercept")
	caPEM, err := os.ReadFile(filepath.Join(b.sessDir, fakenet.CACertName))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.out.String(), "BEGIN CERTIFICATE") {
		t.Error("the lab CA certificate was not printed")
	}
	if fi, err := os.Stat(filepath.Join(b.sessDir, fakenet.CAKeyName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key: %v", err)
	}
	trusted := x509.NewCertPool()
	trusted.AppendCertsFromPEM(caPEM)
	body := `{"aircraft":"1581F5FHD2","home":{"lat":51.1681,"lon":5.4699}}`
	// A client that trusts the lab CA: the lab reads the request inside TLS.
	var c net.Conn
	inNS(t, b.NSA, func() (err error) { c, err = net.Dial("tcp", router.String()+":443"); return err })
	tc := tls.Client(c, &tls.Config{ServerName: "api-telemetry.dji.com", RootCAs: trusted})
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	req := "POST /v1/upload HTTP/1.1\r\nHost: api-telemetry.dji.com\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if _, err := tc.Write([]byte(req)); err != nil {
		t.Fatalf("TLS to the intercepting lab: %v", err)
	}
	resp := make([]byte, 512)
	n, _ := tc.Read(resp)
	if !bytes.HasPrefix(resp[:n], []byte("HTTP/1.1 200")) {
		t.Errorf("answer inside TLS: %q", resp[:n])
	}
	tc.Close()
	// A pinning client: it trusts only its own CA and refuses the lab's certificate.
	_, otherCA := selfSigned(t, "pinned.djiservice.org")
	inNS(t, b.NSA, func() (err error) { c, err = net.Dial("tcp", router.String()+":443"); return err })
	pc := tls.Client(c, &tls.Config{ServerName: "pinned.djiservice.org", RootCAs: otherCA})
	pc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := pc.Handshake(); err == nil {
		t.Error("the pinning client accepted the lab certificate")
	}
	pc.Close()
	if _, err := exec.LookPath("curl"); err == nil {
		out, err := netlab.Cmd(b.NSA, "curl", "-sS", "--max-time", "5", "--cacert", filepath.Join(b.sessDir, fakenet.CACertName),
			"-H", "Content-Type: application/json", "-d", body, "https://curl-upload.dji.com/v1/log").CombinedOutput()
		if err != nil || string(out) != "{}" {
			t.Errorf("curl through the intercepting lab: %v %q", err, out)
		}
	}
	time.Sleep(1500 * time.Millisecond) // the key log reaches the capture within its hold-back
	b.stopWith(t, func() {
		// lab down finds the lab by its AP interface in /run/droneaudit and waits for it.
		if out, err := netlab.Cmd(b.NSB, bin, "lab", "down", "--ap", b.IfB).CombinedOutput(); err != nil || !strings.Contains(string(out), "stopped") {
			t.Errorf("lab down: %v %s", err, out)
		}
	})
	checkLabEvidence(t, b.sessDir)
	// The capture carries the lab's TLS keys (Decryption Secrets Blocks): tshark reads the
	// request inside TLS from the evidence alone.
	if _, err := exec.LookPath("tshark"); err == nil {
		files, _ := filepath.Glob(filepath.Join(b.sessDir, "capture-*.pcapng"))
		out, err := exec.Command("tshark", "-n", "-r", files[0], "-Y", `http.request.method == "POST"`, "-T", "fields", "-e", "http.host").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "api-telemetry.dji.com") {
			t.Errorf("tshark does not decrypt the intercepted request from the evidence: %v %s", err, out)
		}
	}
	recs := readFakenet(t, b.sessDir)
	if r := findRecord(recs, func(r fakenet.Record) bool { return r.Name == "api-telemetry.dji.com" }); r == nil || !r.Intercepted || r.Inner == nil || r.Inner.Body != body {
		t.Errorf("intercepted request: %+v", r)
	}
	if r := findRecord(recs, func(r fakenet.Record) bool { return r.Name == "pinned.djiservice.org" }); r == nil || !r.Pinned {
		t.Errorf("pinning client: %+v", r)
	}
	keys, _ := os.ReadFile(filepath.Join(b.sessDir, lab.KeyLogName))
	if !bytes.Contains(keys, []byte("CLIENT_TRAFFIC_SECRET_0 ")) {
		t.Errorf("key log has no TLS 1.3 traffic secrets: %q", keys)
	}
	rep := auditSession(t, b.sessDir)
	if rep.Lab == nil || !rep.Lab.Intercepted {
		t.Fatal("audit does not say interception was on")
	}
	var pinned, bodySeen bool
	for _, f := range rep.Findings {
		pinned = pinned || (f.Kind == audit.KindTLSPinning && f.Destination != nil && len(f.Destination.Names) == 1 && f.Destination.Names[0] == "pinned.djiservice.org")
	}
	for _, a := range rep.Lab.Attempts {
		for _, q := range a.Requests {
			bodySeen = bodySeen || (a.Name == "api-telemetry.dji.com" && strings.Contains(q, body))
		}
	}
	if !pinned {
		t.Errorf("no pinning finding: %+v", rep.Findings)
	}
	if !bodySeen {
		t.Errorf("the JSON body sent inside TLS is not in the report: %+v", rep.Lab.Attempts)
	}
}

// TestLabUplinkNAT routes the lab to the "internet" namespace: the phone reaches a server there,
// which sees the lab's uplink address (masquerade), and the teardown removes table and address.
func TestLabUplinkNAT(t *testing.T) {
	needLabPrograms(t)
	bin := droneauditBinary(t)
	b := newLabBench(t)
	var ln net.Listener
	inNS(t, b.inet, func() (err error) { ln, err = net.Listen("tcp", b.inetAddr.String()+":8080"); return err })
	defer ln.Close()
	seen := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			seen <- err.Error()
			return
		}
		seen <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Close()
	}()
	// Forwarding off: the lab must switch it on, and back off when it stops.
	nsRun(t, b.NSB, "sysctl", "-qw", "net.ipv4.ip_forward=0")
	b.start(t, bin, "--uplink", b.upl)
	// The server's namespace routes back to the lab only for the uplink's own subnet: an answer
	// reaches the phone only through the masquerade.
	b.phoneUp(t)
	var c net.Conn
	inNS(t, b.NSA, func() (err error) {
		c, err = net.DialTimeout("tcp", b.inetAddr.String()+":8080", 5*time.Second)
		return err
	})
	c.Close()
	select {
	case from := <-seen:
		if from != "203.0.113.1" {
			t.Errorf("server saw the connection from %s, want the lab's uplink address 203.0.113.1 (masquerade)", from)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server never saw the phone's connection")
	}
	rules := nsRun(t, b.NSB, "nft", "list", "table", "inet", lab.Table)
	if !strings.Contains(rules, "masquerade") || strings.Contains(rules, "redirect") {
		t.Errorf("uplink ruleset:\n%s", rules)
	}
	if _, err := os.Stat(filepath.Join(b.sessDir, fakenet.LogName)); err == nil {
		t.Error("the routed lab started a fake internet")
	}
	b.stop(t)
	checkLabEvidenceFiles(t, b.sessDir)
	if v := strings.TrimSpace(nsRun(t, b.NSB, "cat", "/proc/sys/net/ipv4/ip_forward")); v != "0" {
		t.Errorf("ip_forward after the lab: %s, want 0 as before", v)
	}
}

// TestLabKilledCleanup kills the lab with SIGKILL: its children die with it (Pdeathsig), and
// lab down then removes the table and addresses it could not.
func TestLabKilledCleanup(t *testing.T) {
	needLabPrograms(t)
	bin := droneauditBinary(t)
	b := newLabBench(t)
	b.start(t, bin)
	pid := b.cmd.Process.Pid
	b.cmd.Process.Kill()
	b.wait()
	time.Sleep(300 * time.Millisecond) // dnsmasq gets its SIGTERM from the kernel
	if out, err := netlab.Cmd(b.NSB, "nft", "list", "table", "inet", lab.Table).CombinedOutput(); err != nil {
		t.Fatalf("the killed lab left no table, so this test checks nothing: %v %s", err, out)
	}
	out, err := netlab.Cmd(b.NSB, bin, "lab", "down", "--ap", b.IfB).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "was not running") {
		t.Fatalf("lab down after a kill: %v %s", err, out)
	}
	b.checkClean(t, pid)
}

// TestLabDryRunAndUsage needs no root: --dry-run prints the three files and writes nothing, and
// mistakes are usage errors before anything is touched.
func TestLabDryRunAndUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "session")
	code, out, errb := cli(t, "lab", "up", "--ap", "wlan7", "--ap-mode", "wifi", "--passphrase", "lab-passphrase-1", "--country", "be", "-w", dir, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errb)
	}
	for _, want := range []string{dir + "/hostapd.conf", "country_code=BE", "wpa_passphrase=lab-passphrase-1", dir + "/dnsmasq.conf",
		"address=/#/192.168.50.1", dir + "/nftables.nft", "policy drop;", "redirect to :64001"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("--dry-run created the session folder")
	}
	_, out, _ = cli(t, "lab", "up", "--ap", "eth7", "--uplink", "eth8", "--subnet", "10.77.0.0/16", "--dry-run", "-w", dir)
	if strings.Contains(out, "hostapd.conf") || !strings.Contains(out, `oifname "eth8" ip saddr 10.77.0.0/16 masquerade`) || !strings.Contains(out, "dhcp-range=10.77.0.10,10.77.0.250,255.255.0.0,12h") {
		t.Errorf("wired uplink dry run:\n%s", out)
	}
	for _, args := range [][]string{
		{"lab", "up", "--dry-run"},
		{"lab", "up", "--ap", "eth7", "--uplink", "eth8", "--offline", "--dry-run"},
		{"lab", "up", "--ap", "eth7", "--uplink", "eth8", "--tls-intercept", "--dry-run"},
		{"lab", "up", "--ap", "eth7", "--subnet", "192.168.50.1/24", "--dry-run"},
		{"lab", "up", "--ap", "eth7", "--ap-mode", "radio", "--dry-run"},
	} {
		if code, _, errb := cli(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d (usage): %s", args, code, exitUsage, errb)
		}
	}
}
