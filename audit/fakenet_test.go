package audit

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"droneaudit/audit/destinations"
)

const labLogSample = `{"time":"2026-12-07T00:03:35Z","client":"192.168.50.20","orig_dst":"192.168.50.1:53","transport":"udp","name":"mydji.dji.com","protocol":"dns","qtype":"A","pinned":false}
{"time":"2026-12-07T00:03:36Z","client":"192.168.50.20:41000","orig_dst":"192.168.50.1:443","transport":"tcp","name":"mydji.dji.com","protocol":"tls","first":{"protocol":"tls","bytes":300,"sni":"mydji.dji.com","ja4":"t13d1312h2_x_y"},"pinned":false}
not json at all
{"time":"2026-12-07T00:03:37Z","client":"192.168.50.20:41001","orig_dst":"198.51.100.7:1883","transport":"tcp","protocol":"mqtt","first":{"protocol":"mqtt","client_id":"drone-1","topics":["a/b"],"payload":"{\"lat\":1}"},"pinned":false}
{"time":"2026-12-07T00:03:38Z","client":"192.168.50.20:41002","orig_dst":"192.168.50.1:443","transport":"tcp","name":"pinned.example","protocol":"tls","intercepted":true,"pinned":true,"alert":"tls: bad certificate"}
{"time":"2026-12-07T00:03:39Z","client":"192.168.50.20:41003","orig_dst":"192.168.50.1:443","transport":"tcp","name":"api.example","protocol":"tls","intercepted":true,"inner":{"protocol":"http","method":"POST","target":"/x","host":"api.example","body":"{\"home\":2}"},"pinned":false}
{"cut": "line`

func writeLabLog(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fakenet.ndjson")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadLabLog(t *testing.T) {
	l, err := ReadLabLog(writeLabLog(t, labLogSample+"\n"+strings.Repeat("x", maxLabLine+10)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Lines != 8 || l.Rejected != 3 || fmt.Sprint(l.RejectedLines) != "[3 7 8]" || !l.Intercepted || len(l.SHA256) != 64 {
		t.Errorf("lines %d rejected %d intercepted %v", l.Lines, l.Rejected, l.Intercepted)
	}
	var names []string
	for _, a := range l.Attempts {
		names = append(names, a.Name+"|"+strings.Join(a.Destinations, ","))
	}
	want := "api.example|192.168.50.1:443/tcp mydji.dji.com|192.168.50.1:443/tcp pinned.example|192.168.50.1:443/tcp |198.51.100.7:1883/tcp"
	if strings.Join(names, " ") != want {
		t.Errorf("attempts:\n got %s\nwant %s", strings.Join(names, " "), want)
	}
	my := l.Attempts[1]
	if my.Count != 2 || strings.Join(my.Protocols, ",") != "dns A,tls" || my.Clients[0] != "192.168.50.20" {
		t.Errorf("grouped attempt: %+v", my)
	}
	if !strings.Contains(strings.Join(l.Attempts[0].Requests, " "), `inside TLS: HTTP POST /x (Host api.example) body: {"home":2}`) {
		t.Errorf("inner request: %v", l.Attempts[0].Requests)
	}
	if !l.Attempts[2].Pinned || l.Attempts[2].Alert != "tls: bad certificate" {
		t.Errorf("pinned: %+v", l.Attempts[2])
	}
}

func TestReportLabSection(t *testing.T) {
	quicLine := `{"time":"2026-12-07T00:03:40Z","client":"192.168.50.20:5000","orig_dst":"192.168.50.1:443","transport":"udp","name":"quic-api.example","protocol":"quic","first":{"protocol":"quic","sni":"quic-api.example","ja4":"q13d0312h3_a_b"},"pinned":false}`
	l, err := ReadLabLog(writeLabLog(t, labLogSample+"\n"+quicLine+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{Findings: []*Finding{}, Destinations: []destinations.Row{
		{IP: "198.51.100.7", Port: 1883, Protocol: "tcp"}, {IP: "192.168.50.1", Port: 443, Protocol: "tcp"}, {IP: "192.168.50.1", Port: 80, Protocol: "tcp"},
		{IP: "203.0.113.9", Port: 443, Protocol: "udp", Names: []destinations.Name{{Name: "quic-api.example", Source: "quic-sni"}}},
		{IP: "203.0.113.10", Port: 443, Protocol: "udp", Names: []destinations.Name{{Name: "quic-api.example", Source: "dns"}}}},
		Inputs: []*InputReport{{Path: l.Path, Skipped: "not a format droneaudit decodes"}}}
	r.addLab(l, DefaultPolicy())
	if len(r.Findings) != 1 || r.Findings[0].Kind != KindTLSPinning || r.Findings[0].Destination.Names[0] != "pinned.example" || r.Findings[0].FailsPolicy {
		t.Errorf("findings: %+v", r.Findings)
	}
	for i, want := range []bool{true, true, false, true, false} {
		got := len(r.Destinations[i].Flags) == 1 && r.Destinations[i].Flags[0] == FlagTriedOffline
		if got != want {
			t.Errorf("row %d flags %v", i, r.Destinations[i].Flags)
		}
	}
	if !strings.HasPrefix(r.Inputs[0].Skipped, "the lab's fake-internet log") {
		t.Errorf("input line: %q", r.Inputs[0].Skipped)
	}
	var a, b bytes.Buffer
	r.WriteJSON(&a)
	r.WriteJSON(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) || !bytes.Contains(a.Bytes(), []byte(`"tls_intercepted": true`)) {
		t.Error("lab section in JSON missing or not deterministic")
	}
	tr := &textOut{}
	r.writeLab(tr)
	if !strings.Contains(tr.b.String(), "tried offline, never reached anything  PINNED (tls: bad certificate)") ||
		!strings.Contains(tr.b.String(), `QUIC Initial SNI "quic-api.example"`) || !strings.Contains(tr.b.String(), "203.0.113.9:443/udp") {
		t.Errorf("text:\n%s", tr.b.String())
	}
}

// FuzzReadLabLog: any log file reads without panicking, and the report section writes.
func FuzzReadLabLog(f *testing.F) {
	f.Add([]byte(labLogSample))
	f.Add([]byte(`{"protocol":"tls","orig_dst":"[::1]:443","transport":"udp","name":"x","pinned":true}` + "\n\n\r\n{"))
	f.Add([]byte(`{"protocol":"http","first":{"protocol":"http","body":"` + strings.Repeat("a", 3000) + `"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := readLabLog("fakenet.ndjson", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r := &Report{Findings: []*Finding{}, Destinations: []destinations.Row{{IP: "::1", Port: 443, Protocol: "udp", Names: []destinations.Name{{Name: "x", Source: "quic-sni"}}}}}
		r.addLab(l, DefaultPolicy())
		tr := &textOut{}
		r.writeLab(tr)
		for _, a := range l.Attempts {
			for _, q := range a.Requests {
				if len(q) > maxNoteLen+8 {
					t.Fatalf("request note of %d bytes", len(q))
				}
			}
		}
	})
}
