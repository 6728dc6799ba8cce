package tlslayer_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/decoders/tlslayer"
	"droneaudit/engine"
	"droneaudit/geo"
	"droneaudit/internal/netfixture"
)

// plain is an engine observer that keeps the bytes of inner flows and the notes of the run.
type plain struct {
	mu    sync.Mutex
	inner bytes.Buffer
	notes []decoders.Note
}

func (p *plain) Shard(int) engine.FlowObserver         { return p }
func (p *plain) Packet(*engine.PacketEvent)            {}
func (p *plain) CaptureEnd(*engine.Input, error)       {}
func (p *plain) InputEnd(*engine.Input)                {}
func (p *plain) Ended(*flowtable.Flow, *any)           {}
func (p *plain) Sink(*engine.Input, int) decoders.Sink { return p }
func (p *plain) Done(*engine.Input)                    {}
func (p *plain) Fix(geo.Fix)                           {}
func (p *plain) Exposure(decoders.Exposure)            {}
func (p *plain) Count(string, int64)                   {}
func (p *plain) Note(n decoders.Note) {
	p.mu.Lock()
	p.notes = append(p.notes, n)
	p.mu.Unlock()
}
func (p *plain) Chunk(c *engine.Chunk, _ *any) {
	if c.Flow.Outer != nil {
		p.mu.Lock()
		p.inner.Write(c.Payload)
		p.mu.Unlock()
	}
}

// session records one HTTPS GET and returns its connection and key log.
func session(t *testing.T) ([]*netfixture.HTTPSConn, []byte) {
	var kl bytes.Buffer
	conns, err := netfixture.RecordHTTPS(netfixture.HTTPSOptions{KeyLog: &kl},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("the secret page")) }),
		func(c *http.Client, base string) error {
			resp, err := c.Get(base + "/dsb")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	return conns, kl.Bytes()
}

func run(t *testing.T, capture []byte) *plain {
	p := &plain{}
	cfg := engine.Config{Observers: []engine.Observer{p}, Output: p, Unwrappers: []decoders.Unwrapper{tlslayer.New(nil)},
		Protocols: []decoders.Protocol{{Name: "tls", Sniff: func(b []byte) bool { return len(b) > 0 && b[0] == 22 }}}}
	if err := engine.Run(context.Background(), []engine.Source{engine.BytesSource("s.pcapng", capture)}, cfg); err != nil {
		t.Fatal(err)
	}
	return p
}

// Keys that a pcapng carries in a Decryption Secrets Block ahead of the session open it with no
// key log file; keys that come only after the session (a second section) cannot, and the note
// says so instead of a bare "no keys".
func TestSecretsBlockBeforeAndAfter(t *testing.T) {
	conns, keylog := session(t)
	cli, srv := netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:443")

	var before bytes.Buffer
	w, _ := netfixture.NewWriter(&before, netfixture.Pcapng, keylog)
	netfixture.WriteHTTPS(w, conns, cli, srv, nil, nil)
	w.Close()
	p := run(t, before.Bytes())
	if !strings.Contains(p.inner.String(), "GET /dsb HTTP/1.1") || !strings.Contains(p.inner.String(), "the secret page") {
		t.Errorf("keys ahead of the session: inner bytes %q, notes %v", p.inner.String(), p.notes)
	}

	var after bytes.Buffer
	w, _ = netfixture.NewWriter(&after, netfixture.Pcapng, nil)
	netfixture.WriteHTTPS(w, conns, cli, srv, nil, nil)
	w.Close()
	w, _ = netfixture.NewWriter(&after, netfixture.Pcapng, keylog) // a second section: only its DSB
	w.Close()
	p = run(t, after.Bytes())
	if p.inner.Len() != 0 {
		t.Errorf("keys after the session: %d inner bytes", p.inner.Len())
	}
	late := false
	for _, n := range p.notes {
		late = late || n.Code == decoders.CodeTLSNoKeys && n.Severity == decoders.Warning && strings.Contains(n.Message, "came only after the session")
	}
	if !late {
		t.Errorf("no note that the keys came late: %v", p.notes)
	}
}
