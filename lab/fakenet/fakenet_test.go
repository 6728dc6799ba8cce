package fakenet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// clientHello captures the first bytes a real crypto/tls client sends.
func clientHello(t testing.TB, name string) []byte {
	t.Helper()
	c, s := net.Pipe()
	go func() {
		tc := tls.Client(c, &tls.Config{ServerName: name, NextProtos: []string{"h2", "http/1.1"}})
		tc.Handshake()
	}()
	buf := make([]byte, 4096)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := s.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Close()
	return buf[:n]
}

func mqttString(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func mqttConnectPkt(id string) []byte {
	body := append(append(mqttString("MQTT"), 4, 2, 0, 30), mqttString(id)...)
	return append([]byte{0x10, byte(len(body))}, body...)
}

func mqttPublishPkt(topic string, id uint16, payload string) []byte {
	body := append(append(mqttString(topic), byte(id>>8), byte(id)), payload...)
	return append([]byte{0x32, byte(len(body))}, body...)
}

func TestClassify(t *testing.T) {
	ch := clientHello(t, "mydji.dji.com")
	s := Classify(ch)
	if s.Protocol != "tls" || s.SNI != "mydji.dji.com" || !strings.HasPrefix(s.JA4, "t13d") || s.Error != "" || !Complete(ch) {
		t.Errorf("TLS: %+v", s)
	}
	if Complete(ch[:len(ch)/2]) {
		t.Error("half a ClientHello counts as complete")
	}
	req := "POST /api/v1/upload HTTP/1.1\r\nHost: Log.DJICDN.com:8080\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"lat\":51.16}"
	s = Classify([]byte(req))
	if s.Protocol != "http" || s.Host != "log.djicdn.com" || s.Method != "POST" || s.Body != `{"lat":51.16}` || s.Name() != "log.djicdn.com" || !Complete([]byte(req)) {
		t.Errorf("HTTP: %+v", s)
	}
	if Complete([]byte(req[:len(req)-3])) {
		t.Error("an HTTP request without its whole body counts as complete")
	}
	m := append(mqttConnectPkt("drone-7"), mqttPublishPkt("thing/product/SN1/osd", 1, `{"h":1}`)...)
	s = Classify(m)
	if s.Protocol != "mqtt" || s.ClientID != "drone-7" || len(s.Topics) != 1 || s.Topics[0] != "thing/product/SN1/osd" || s.Payload != `{"h":1}` {
		t.Errorf("MQTT: %+v", s)
	}
	s = Classify([]byte{0x00, 0xff, 0x10})
	if s.Protocol != "unknown" || s.First != "00ff10" {
		t.Errorf("unknown: %+v", s)
	}
	if s := Classify([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n\xff\xfe")); s.Body != "" {
		t.Errorf("GET without a body has one: %q", s.Body)
	}
	if s := Classify([]byte("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n\xff\xfe")); s.Body != "hex:fffe" {
		t.Errorf("binary body: %q", s.Body)
	}
}

// FuzzClassify: any first bytes classify without panicking, within bounds.
func FuzzClassify(f *testing.F) {
	f.Add(clientHello(f, "a.example"))
	f.Add([]byte("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"))
	f.Add(append(mqttConnectPkt("c"), mqttPublishPkt("t", 1, "p")...))
	f.Add([]byte{0x16, 3, 1, 0xff, 0xff, 1, 0xff, 0xff, 0xff})
	f.Add([]byte{0x10, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{0xc0, 0, 0, 0, 1, 8, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Classify(b)
		Complete(b)
		if len(s.Body) > 2*maxText+4 || len(s.Payload) > 2*maxText+4 || len(s.First) > 128 {
			t.Fatalf("unbounded summary: %d %d %d", len(s.Body), len(s.Payload), len(s.First))
		}
		if _, err := json.Marshal(s); err != nil {
			t.Fatal(err)
		}
	})
}

func startTest(t *testing.T, withCA bool) (*Server, string, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	lg, err := CreateLog(filepath.Join(dir, LogName))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{TCP: []string{"127.0.0.1:0"}, UDP: []string{"127.0.0.1:0"}, Log: lg, Idle: 5 * time.Second}
	keys := &bytes.Buffer{}
	if withCA {
		if cfg.CA, err = NewCA(dir); err != nil {
			t.Fatal(err)
		}
		cfg.KeyLog = keys
		fi, err := os.Stat(filepath.Join(dir, CAKeyName))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("CA key mode: %v %v", fi.Mode(), err)
		}
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir, keys
}

func records(t *testing.T, dir string) []Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, LogName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestServerAnswers talks HTTP and MQTT to the fake internet (without a redirect the original
// destination is the listener itself) and reads the log.
func TestServerAnswers(t *testing.T) {
	s, dir, _ := startTest(t, false)
	addr := s.Addrs()[0].String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for i := 0; i < 2; i++ { // two requests on one connection: both answered
		io.WriteString(c, "POST /v1/log HTTP/1.1\r\nHost: api.example\r\nContent-Length: 2\r\n\r\n{}")
		resp := make([]byte, len(httpOK))
		if _, err := io.ReadFull(c, resp); err != nil || string(resp) != httpOK {
			t.Fatalf("HTTP answer %d: %q %v", i, resp, err)
		}
	}
	c.Close()
	m, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m.SetDeadline(time.Now().Add(5 * time.Second))
	m.Write(mqttConnectPkt("dock-9"))
	ack := make([]byte, 4)
	if _, err := io.ReadFull(m, ack); err != nil || !bytes.Equal(ack, []byte{0x20, 2, 0, 0}) {
		t.Fatalf("CONNACK % x %v", ack, err)
	}
	m.Write(mqttPublishPkt("sys/dock-9/status", 0x0102, `{"ok":1}`))
	if _, err := io.ReadFull(m, ack); err != nil || !bytes.Equal(ack, []byte{0x40, 2, 1, 2}) {
		t.Fatalf("PUBACK % x %v", ack, err)
	}
	m.Write([]byte{0xc0, 0}) // PINGREQ
	if _, err := io.ReadFull(m, ack[:2]); err != nil || !bytes.Equal(ack[:2], []byte{0xd0, 0}) {
		t.Fatalf("PINGRESP % x %v", ack[:2], err)
	}
	m.Write([]byte{0xe0, 0})
	m.Close()
	u, _ := net.Dial("udp", s.udp[0].LocalAddr().String())
	u.Write([]byte{0x1b, 0, 0, 0}) // an NTP client's first byte
	u.Close()
	time.Sleep(200 * time.Millisecond)
	s.Close()
	recs := records(t, dir)
	byProto := map[string]Record{}
	for _, r := range recs {
		byProto[r.Protocol] = r
	}
	if r := byProto["http"]; r.Name != "api.example" || r.First.Body != "{}" || r.Dst != addr {
		t.Errorf("HTTP record: %+v", r)
	}
	if r := byProto["mqtt"]; r.First == nil || r.First.ClientID != "dock-9" || r.First.Payload != `{"ok":1}` {
		t.Errorf("MQTT record: %+v", r)
	}
	if r := byProto["unknown"]; r.Transport != "udp" || r.First.First != "1b000000" {
		t.Errorf("UDP record: %+v", r)
	}
}

// TestServerIntercepts terminates TLS for a client that trusts the lab CA, and records a client
// that trusts another CA as pinning.
func TestServerIntercepts(t *testing.T) {
	s, dir, keys := startTest(t, true)
	addr := s.Addrs()[0].String()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.cfg.CA.CertPEM)
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "telemetry.example", RootCAs: pool})
	if err != nil {
		t.Fatalf("client trusting the lab CA: %v", err)
	}
	io.WriteString(c, "PUT /t HTTP/1.1\r\nHost: telemetry.example\r\nContent-Length: 9\r\n\r\n{\"lat\":1}")
	resp := make([]byte, len(httpOK))
	if _, err := io.ReadFull(c, resp); err != nil || string(resp) != httpOK {
		t.Errorf("answer inside TLS: %q %v", resp, err)
	}
	c.Close()
	if _, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "pinned.example", RootCAs: x509.NewCertPool()}); err == nil {
		t.Fatal("a client without the lab CA accepted its certificate")
	}
	time.Sleep(200 * time.Millisecond)
	s.Close()
	var sawInner, sawPin bool
	for _, r := range records(t, dir) {
		if r.Name == "telemetry.example" && r.Intercepted && r.Inner != nil && r.Inner.Body == `{"lat":1}` && !r.Pinned {
			sawInner = true
		}
		if r.Name == "pinned.example" && r.Pinned && strings.Contains(r.Alert, "certificate") {
			sawPin = true
		}
	}
	if !sawInner || !sawPin {
		t.Errorf("intercepted request %v, pinning %v: %+v", sawInner, sawPin, records(t, dir))
	}
	if !strings.Contains(keys.String(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") {
		t.Errorf("no key log lines: %q", keys.String())
	}
}

// TestServerQUIC reads the SNI of a real QUIC client (quic-go) from its Initial packets; the
// client gets no answer and gives up.
func TestServerQUIC(t *testing.T) {
	s, dir, _ := startTest(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	_, err := quic.DialAddr(ctx, s.udp[0].LocalAddr().String(), &tls.Config{ServerName: "quic.dji.example", NextProtos: []string{"h3"}}, nil)
	if err == nil {
		t.Fatal("the fake internet answered QUIC")
	}
	time.Sleep(200 * time.Millisecond)
	s.Close()
	for _, r := range records(t, dir) {
		if r.Protocol == "quic" && r.Name == "quic.dji.example" && strings.HasPrefix(r.First.JA4, "q13") && r.First.ALPN[0] == "h3" {
			return
		}
	}
	t.Errorf("no QUIC record with the SNI: %+v", records(t, dir))
}

// BenchmarkClassify measures the per-connection cost of reading a client's first bytes.
func BenchmarkClassify(b *testing.B) {
	inputs := [][]byte{
		clientHello(b, "bench.dji.com"),
		[]byte("POST /api HTTP/1.1\r\nHost: bench.dji.com\r\nContent-Length: 13\r\n\r\n{\"lat\":51.16}"),
		append(mqttConnectPkt("bench"), mqttPublishPkt("t/osd", 1, `{"h":1}`)...),
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Classify(inputs[i%len(inputs)])
	}
}
