package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"droneaudit/capture"
	"droneaudit/capture/evidence"
	"droneaudit/capture/flowtable"
	"droneaudit/internal/netlab"
	"droneaudit/netflow"
)

// flowBytes is what the capture files say one destination received and sent.
type flowBytes struct{ out, in int64 }

// checkEvidence validates every file the manifest lists with the project's reader (and capinfos
// when installed), checks the hashes, and sums payload bytes per server address. It returns the
// per-destination bytes and the number of packets read.
func checkEvidence(t *testing.T, dir string) (map[string]flowBytes, int64, []evidence.ManifestEntry) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, evidence.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := evidence.ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	flows := flowtable.New()
	nd := capture.NewNetDecoder()
	var packets int64
	for _, e := range entries {
		listed[e.Name] = true
		if e.SHA256 == "" {
			continue
		}
		path := filepath.Join(dir, e.Name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != e.SHA256 {
			t.Errorf("%s: hash differs from the manifest", e.Name)
		}
		r, err := capture.NewReader(bytes.NewReader(data), path)
		if err != nil {
			t.Fatal(err)
		}
		for {
			p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not valid: %v", e.Name, err)
			}
			packets++
			if tr, ok, _ := nd.Decode(p); ok {
				flows.Add(tr, p.Frame, p.Time)
			}
		}
		if bin, err := exec.LookPath("capinfos"); err == nil {
			if out, err := exec.Command(bin, "-c", path).CombinedOutput(); err != nil || bytes.Contains(out, []byte("cut short")) {
				t.Errorf("capinfos rejects %s: %v %s", e.Name, err, out)
			}
		}
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	for _, f := range all {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in the manifest", f)
		}
	}
	if bin, err := exec.LookPath("sha256sum"); err == nil {
		c := exec.Command(bin, "--strict", "-c", evidence.ManifestName)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v %s", err, out)
		}
	}
	by := map[string]flowBytes{}
	for _, f := range flows.Flows() {
		k := f.Proto.String() + " " + f.Server.String()
		v := by[k]
		v.out += f.Bytes[netflow.ClientToServer]
		v.in += f.Bytes[netflow.ServerToClient]
		by[k] = v
	}
	return by, packets, entries
}

// destinationsJSON is the part of `droneaudit destinations --format json` this test checks.
type destinationsJSON struct {
	Destinations []struct {
		IP       string `json:"ip"`
		Port     int    `json:"port"`
		Protocol string `json:"protocol"`
		Names    []struct {
			Name   string `json:"name"`
			Source string `json:"source"`
		} `json:"names"`
		BytesOut int64 `json:"bytes_out"`
		BytesIn  int64 `json:"bytes_in"`
		Flows    int   `json:"flows"`
	} `json:"destinations"`
}

// TestCaptureLab is the acceptance test of issue 4: a lab device in one namespace talks DNS,
// HTTPS, QUIC and MQTT (a real mosquitto) to servers in another; `droneaudit capture` records
// it with the TLS key log embedded; the files, the manifest and the per-destination byte counts
// must match what the test sent, and `droneaudit destinations` must list exactly those names.
func TestCaptureLab(t *testing.T) {
	needRoot(t)
	mosq, err := exec.LookPath("mosquitto")
	if err != nil {
		t.Skip("mosquitto not installed (apt-get install mosquitto)")
	}
	bin := droneauditBinary(t)
	// Our counting wrappers hide the *net.UDPConn from quic-go, which would warn about buffers.
	t.Setenv("QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING", "true")
	lab := netlab.New(t)
	ip := func(last byte) netip.Addr { b := lab.AddrB.As4(); b[3] = last; return netip.AddrFrom4(b) }
	httpsSvc := labService{"api-gateway.djiservice.org", ip(10), 443, "tcp"}
	quicSvc := labService{"flysafe-api.dji.com", ip(11), 443, "udp"}
	mqttSvc := labService{"mqtt-lab.dji.com", ip(12), 1883, "tcp"}
	dnsSvc := labService{"", lab.AddrB, 53, "udp"}
	for _, s := range []labService{httpsSvc, quicSvc, mqttSvc} {
		addAddr(t, lab.NSB, lab.IfB, s.addr)
	}
	zone := map[string]netip.Addr{httpsSvc.name: httpsSvc.addr, quicSvc.name: quicSvc.addr, mqttSvc.name: mqttSvc.addr}
	cert, pool := selfSigned(t, httpsSvc.name, quicSvc.name)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var servers sync.WaitGroup

	// DNS server.
	srvDNS := &byteCount{}
	var dnsConn net.PacketConn
	inNS(t, lab.NSB, func() (err error) {
		dnsConn, err = net.ListenPacket("udp4", netip.AddrPortFrom(dnsSvc.addr, 53).String())
		return err
	})
	defer dnsConn.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := dnsConn.ReadFrom(buf)
			if err != nil {
				return
			}
			if r, ok := dnsAnswer(buf[:n], zone); ok {
				w, _ := dnsConn.WriteTo(r, from)
				srvDNS.out.Add(int64(w))
			}
		}
	}()

	// HTTPS server: one request, one response, then it waits for the client's close.
	srvHTTPS := &byteCount{}
	var ln net.Listener
	inNS(t, lab.NSB, func() (err error) {
		ln, err = net.Listen("tcp4", netip.AddrPortFrom(httpsSvc.addr, 443).String())
		return err
	})
	defer ln.Close()
	servers.Add(1)
	go func() {
		defer servers.Done()
		raw, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer raw.Close()
		tc := tls.Server(countConn{raw, srvHTTPS}, &tls.Config{Certificates: []tls.Certificate{cert}})
		req := make([]byte, 0, 1024)
		buf := make([]byte, 1024)
		for !bytes.Contains(req, []byte("\r\n\r\n")) {
			n, err := tc.Read(buf)
			if err != nil {
				t.Errorf("https server: %v", err)
				return
			}
			req = append(req, buf[:n]...)
		}
		body := `{"ok":true,"fly_zone":"none"}`
		fmt.Fprintf(tc, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
		tc.CloseWrite()
		io.Copy(io.Discard, tc)
	}()

	// QUIC server: echoes one stream.
	srvQUIC := &byteCount{}
	var qpc net.PacketConn
	inNS(t, lab.NSB, func() (err error) {
		qpc, err = net.ListenPacket("udp4", netip.AddrPortFrom(quicSvc.addr, 443).String())
		return err
	})
	qsrv := &quic.Transport{Conn: countPacketConn{qpc, srvQUIC}}
	defer qsrv.Close()
	qln, err := qsrv.Listen(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"droneaudit-lab"}}, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	servers.Add(1)
	go func() {
		defer servers.Done()
		conn, err := qln.Accept(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		msg, _ := io.ReadAll(st)
		st.Write(append([]byte("echo:"), msg...))
		st.Close()
		<-conn.Context().Done()
	}()

	// mosquitto, the broker DJI's Cloud API speaks to, as a real MQTT 3.1.1 peer.
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("listener 1883 %s\nallow_anonymous true\npersistence false\n", mqttSvc.addr)), 0o644)
	mq := netlab.Cmd(lab.NSB, mosq, "-c", conf)
	var mqLog bytes.Buffer
	mq.Stdout, mq.Stderr = &mqLog, &mqLog
	if err := mq.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { mq.Process.Kill(); mq.Wait() }()
	// Ready when it accepts; probed from B so the capture in A never sees the probe.
	for i := 0; ; i++ {
		var c net.Conn
		err := netlab.In(lab.NSB, func() (err error) {
			c, err = net.DialTimeout("tcp4", netip.AddrPortFrom(mqttSvc.addr, 1883).String(), time.Second)
			return err
		})
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatalf("mosquitto did not start: %v\n%s", err, mqLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	keylog := filepath.Join(t.TempDir(), "sslkeys.log")
	dir := filepath.Join(t.TempDir(), "evidence")
	// One file: rotation is tested on its own below, and the inventory reads each file with
	// its own flow table, so a connection split across files would count as two.
	p := startCapture(t, bin, lab.NSA, dir, "-i", lab.IfA, "--keylog", keylog)

	// The lab device.
	kl, err := os.OpenFile(keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer kl.Close()
	cliDNS, cliHTTPS, cliQUIC, cliMQTT := &byteCount{}, &byteCount{}, &byteCount{}, &byteCount{}
	var dnsCli net.PacketConn
	inNS(t, lab.NSA, func() (err error) { dnsCli, err = net.ListenPacket("udp4", ":0"); return err })
	dc := countPacketConn{dnsCli, cliDNS}
	resolved := map[string]netip.Addr{}
	for i, name := range []string{httpsSvc.name, quicSvc.name, mqttSvc.name} {
		dc.WriteTo(dnsQuery(uint16(0x4000+i), name), net.UDPAddrFromAddrPort(netip.AddrPortFrom(dnsSvc.addr, 53)))
		buf := make([]byte, 512)
		dnsCli.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := dc.ReadFrom(buf)
		if err != nil || n < 4 {
			t.Fatalf("DNS %s: %v", name, err)
		}
		resolved[name] = netip.AddrFrom4([4]byte(buf[n-4 : n]))
	}
	dnsCli.Close()
	for name, a := range zone {
		if resolved[name] != a {
			t.Fatalf("DNS gave %v for %s", resolved[name], name)
		}
	}

	// HTTPS with the key log written as the handshake happens.
	var raw net.Conn
	inNS(t, lab.NSA, func() (err error) {
		raw, err = net.Dial("tcp4", netip.AddrPortFrom(resolved[httpsSvc.name], 443).String())
		return err
	})
	tc := tls.Client(countConn{raw, cliHTTPS}, &tls.Config{ServerName: httpsSvc.name, RootCAs: pool, KeyLogWriter: kl})
	fmt.Fprintf(tc, "POST /gateway/flight/upload HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", httpsSvc.name)
	resp, err := io.ReadAll(tc)
	if err != nil || !bytes.HasPrefix(resp, []byte("HTTP/1.1 200")) {
		t.Fatalf("https: %v %q", err, resp)
	}
	tc.Close()

	// QUIC.
	var qcli net.PacketConn
	inNS(t, lab.NSA, func() (err error) { qcli, err = net.ListenPacket("udp4", ":0"); return err })
	qtr := &quic.Transport{Conn: countPacketConn{qcli, cliQUIC}}
	qc, err := qtr.Dial(ctx, net.UDPAddrFromAddrPort(netip.AddrPortFrom(resolved[quicSvc.name], 443)),
		&tls.Config{ServerName: quicSvc.name, RootCAs: pool, NextProtos: []string{"droneaudit-lab"}, KeyLogWriter: kl}, &quic.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := qc.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Write([]byte(`{"sn":"1581F4XFC238S00B0A3F","lat":48.1372,"lon":11.5756}`))
	st.Close()
	if echo, err := io.ReadAll(st); err != nil || !bytes.HasPrefix(echo, []byte("echo:")) {
		t.Fatalf("quic: %v %q", err, echo)
	}
	qc.CloseWithError(0, "")

	// MQTT 3.1.1 (OASIS mqtt-v3.1.1 §3.1 CONNECT, §3.3 PUBLISH, §3.8 SUBSCRIBE, §3.14 DISCONNECT).
	var mraw net.Conn
	inNS(t, lab.NSA, func() (err error) {
		mraw, err = net.Dial("tcp4", netip.AddrPortFrom(resolved[mqttSvc.name], 1883).String())
		return err
	})
	mc := countConn{mraw, cliMQTT}
	topic := "thing/product/1581F4XFC238S00B0A3F/osd"
	mqttRun(t, mc, "lab-rc-1", "pilot", topic, []byte(`{"data":{"latitude":48.1372,"longitude":11.5756}}`))

	servers.Wait()
	time.Sleep(500 * time.Millisecond) // let the last frames reach the ring
	sum, code := p.stop(t)
	if code != 0 || sum.StopReason != "signal" || sum.Error != "" {
		t.Fatalf("exit %d, summary %+v\n%s", code, sum, p.stderr.String())
	}
	if sum.Drops != 0 {
		t.Errorf("%d kernel drops", sum.Drops)
	}
	keyLines := bytes.Count(mustRead(t, keylog), []byte("\n"))
	if keyLines < 8 || sum.Secrets != keyLines { // TLS 1.3: four secrets per connection, two connections
		t.Errorf("key log has %d lines, capture embedded %d", keyLines, sum.Secrets)
	}
	if len(sum.Files) != 1 {
		t.Errorf("%d files", len(sum.Files))
	}
	got, packets, _ := checkEvidence(t, dir)
	if packets != sum.Packets {
		t.Errorf("files hold %d packets, summary says %d", packets, sum.Packets)
	}
	want := map[string]flowBytes{
		"udp " + netip.AddrPortFrom(dnsSvc.addr, 53).String():    {cliDNS.out.Load(), srvDNS.out.Load()},
		"tcp " + netip.AddrPortFrom(httpsSvc.addr, 443).String(): {cliHTTPS.out.Load(), srvHTTPS.out.Load()},
		"udp " + netip.AddrPortFrom(quicSvc.addr, 443).String():  {cliQUIC.out.Load(), srvQUIC.out.Load()},
		"tcp " + netip.AddrPortFrom(mqttSvc.addr, 1883).String(): {cliMQTT.out.Load(), cliMQTT.in.Load()},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: capture has %d out / %d in, the test sent %d / %d", k, got[k].out, got[k].in, w.out, w.in)
		}
	}
	t.Logf("sent and captured: %v; %d packets in %d files, %d key log lines", want, packets, len(sum.Files), sum.Secrets)

	files, _ := filepath.Glob(filepath.Join(dir, "*.pcapng"))
	sort.Strings(files)
	// The evidence carries its keys: tshark decrypts the HTTPS request from the files alone.
	if ts, err := exec.LookPath("tshark"); err == nil {
		var uris []string
		for _, f := range files {
			out, err := exec.Command(ts, "-2", "-n", "-r", f, "-Y", "http.request", "-T", "fields", "-e", "http.request.uri").Output()
			if err != nil {
				t.Errorf("tshark %s: %v", f, err)
			}
			uris = append(uris, strings.Fields(string(out))...)
		}
		if len(uris) != 1 || uris[0] != "/gateway/flight/upload" {
			t.Errorf("tshark decrypted %q from the files, want the one POST", uris)
		}
	}

	// The destination inventory over the evidence files.
	if out, err := exec.Command(bin, "destinations", "--help").CombinedOutput(); err != nil {
		t.Logf("destinations command not available in this build; inventory check skipped: %s", firstLine(out))
		return
	}
	dcmd := exec.Command(bin, append([]string{"destinations", "--format", "json"}, files...)...)
	var dout, derr bytes.Buffer
	dcmd.Stdout, dcmd.Stderr = &dout, &derr
	if err := dcmd.Run(); err != nil {
		t.Fatalf("destinations: %v\n%s", err, derr.String())
	}
	var inv destinationsJSON
	if err := json.Unmarshal(dout.Bytes(), &inv); err != nil {
		t.Fatalf("destinations JSON: %v\n%s", err, dout.String())
	}
	wantNames := map[string][]string{
		"udp " + netip.AddrPortFrom(dnsSvc.addr, 53).String():    nil,
		"tcp " + netip.AddrPortFrom(httpsSvc.addr, 443).String(): {httpsSvc.name},
		"udp " + netip.AddrPortFrom(quicSvc.addr, 443).String():  {quicSvc.name},
		"tcp " + netip.AddrPortFrom(mqttSvc.addr, 1883).String(): {mqttSvc.name},
	}
	seen := map[string]bool{}
	for _, d := range inv.Destinations {
		t.Logf("destination %s %s:%d names %v out %d in %d flows %d", d.Protocol, d.IP, d.Port, d.Names, d.BytesOut, d.BytesIn, d.Flows)
		k := strings.ToLower(d.Protocol) + " " + netip.AddrPortFrom(netip.MustParseAddr(d.IP), uint16(d.Port)).String()
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected destination %s", k)
			continue
		}
		seen[k] = true
		if d.BytesOut != w.out || d.BytesIn != w.in || d.Flows != 1 {
			t.Errorf("destinations %s: %d out / %d in in %d flows, the test sent %d / %d in one", k, d.BytesOut, d.BytesIn, d.Flows, w.out, w.in)
		}
		names := map[string]bool{}
		for _, n := range d.Names {
			names[n.Name] = true
			if n.Source == "" {
				t.Errorf("%s: name %s without a source", k, n.Name)
			}
		}
		for _, n := range wantNames[k] {
			if !names[n] {
				t.Errorf("%s: name %s missing from %v", k, n, d.Names)
			}
			delete(names, n)
		}
		if len(names) > 0 {
			t.Errorf("%s: names the test never used: %v", k, names)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("destination %s missing from the inventory", k)
		}
	}
}

// mqttRun connects, subscribes to topic, publishes one message to it, reads the broker's copy
// back, disconnects and reads until the broker closes, so every byte either way is counted.
func mqttRun(t *testing.T, c net.Conn, clientID, user, topic string, payload []byte) {
	t.Helper()
	str, packet := mqttString, mqttPacket
	connect := append(str("MQTT"), 4, 0x82, 0, 30) // level 4, clean session + user name, keep-alive 30 s
	connect = append(append(connect, str(clientID)...), str(user)...)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(packet(0x10, connect))
	ack := make([]byte, 4)
	if _, err := io.ReadFull(c, ack); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		t.Fatalf("mqtt CONNACK: %v %x", err, ack)
	}
	c.Write(packet(0x82, append(append([]byte{0, 1}, str(topic)...), 0)))
	suback := make([]byte, 5)
	if _, err := io.ReadFull(c, suback); err != nil || suback[0] != 0x90 {
		t.Fatalf("mqtt SUBACK: %v %x", err, suback)
	}
	pub := packet(0x30, append(str(topic), payload...))
	c.Write(pub)
	echo := make([]byte, len(pub))
	if _, err := io.ReadFull(c, echo); err != nil || !bytes.Equal(echo, pub) {
		t.Fatalf("mqtt echo: %v %x", err, echo)
	}
	c.Write([]byte{0xe0, 0})
	io.Copy(io.Discard, c)
	c.Close()
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}
