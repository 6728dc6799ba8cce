package engine

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/decoders/http3"
	"droneaudit/decoders/quic"
	"droneaudit/decoders/tlskeys"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// h3Observer reads HTTP/3 requests from the inner flows of opened QUIC layers, the way the
// requests command does: each inner flow of a client bidirectional stream is one request stream.
type h3Observer struct {
	mu        sync.Mutex
	exchanges []*http3.Exchange
	uids      []string
}

func (o *h3Observer) Shard(int) FlowObserver   { return o }
func (o *h3Observer) Packet(*PacketEvent)      {}
func (o *h3Observer) CaptureEnd(*Input, error) {}
func (o *h3Observer) InputEnd(*Input)          {}

func requestStream(f *flowtable.Flow) bool {
	return f.InStream && f.Layer == "quic" && quic.StreamBidi(f.StreamID) && quic.StreamClient(f.StreamID)
}

func (o *h3Observer) Chunk(c *Chunk, state *any) {
	if !requestStream(c.Flow) {
		return
	}
	s, _ := (*state).(*http3.Stream)
	if s == nil {
		s = http3.NewStream(c.Flow.StreamID, 0)
		*state = s
	}
	if c.Gap {
		s.Gap(c.Dir)
	}
	s.Feed(c.Dir, c.Payload)
}

func (o *h3Observer) Ended(f *flowtable.Flow, state *any) {
	s, _ := (*state).(*http3.Stream)
	if s == nil {
		return
	}
	for dir := range f.StreamFin {
		if f.StreamFin[dir] {
			s.Fin(netflow.Direction(dir))
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.exchanges = append(o.exchanges, s.Exchange())
	o.uids = append(o.uids, f.UID())
}

// A QUIC flow in a capture is opened by the QUIC layer with the capture's own Decryption Secrets
// Block: each HTTP/3 request reaches the observers as the inner flow of its stream, with its
// method, path and body whole.
func TestQUICLayerHTTP3(t *testing.T) {
	var kl bytes.Buffer
	reqs := []netfixture.HTTP3Request{
		{Method: "GET", Path: "/api/v1/devices"},
		{Method: "POST", Path: "/api/v1/flight-logs", Body: bytes.Repeat([]byte("lat=52.37&lon=4.89;"), 9000)},
	}
	chunks, err := netfixture.HTTP3Session(context.Background(), netfixture.HTTP3Options{ServerName: "api.example", KeyLog: &kl, Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	for _, withKeys := range []bool{true, false} {
		var buf bytes.Buffer
		var dsb []byte
		if withKeys {
			dsb = kl.Bytes()
		}
		w, err := netfixture.NewWriter(&buf, netfixture.Pcapng, dsb)
		if err != nil {
			t.Fatal(err)
		}
		if err := netfixture.WriteDatagrams(w, chunks); err != nil {
			t.Fatal(err)
		}
		w.Close()
		for _, shards := range []int{1, 2} {
			rec, obs := newRecorder(), &h3Observer{}
			cfg := Config{Observers: []Observer{obs}, Output: rec, Shards: shards,
				Unwrappers: []decoders.Unwrapper{quic.NewLayer(tlskeys.NewLog())},
				Protocols:  []decoders.Protocol{{Name: "quic", Sniff: quic.IsLongHeader}}}
			if err := Run(context.Background(), []Source{BytesSource("h3.pcapng", buf.Bytes())}, cfg); err != nil {
				t.Fatal(err)
			}
			if !withKeys {
				if len(obs.exchanges) != 0 || rec.count("h3.pcapng", "quic_undecrypted") != 1 {
					t.Errorf("no keys: %d exchanges, %d undecrypted", len(obs.exchanges), rec.count("h3.pcapng", "quic_undecrypted"))
				}
				continue
			}
			if rec.count("h3.pcapng", "quic_decrypted") != 1 || len(obs.exchanges) != len(reqs) {
				t.Fatalf("%d shards: %d decrypted, %d exchanges", shards, rec.count("h3.pcapng", "quic_decrypted"), len(obs.exchanges))
			}
			slices.SortFunc(obs.exchanges, func(a, b *http3.Exchange) int { return int(a.StreamID) - int(b.StreamID) })
			for i, e := range obs.exchanges {
				q := e.Request
				if q.Method != reqs[i].Method || q.Path != reqs[i].Path || q.Authority != "api.example" || !bytes.Equal(q.Body, reqs[i].Body) {
					t.Errorf("%d shards: request %d: %s %s %s, %d body bytes", shards, i, q.Method, q.Authority, q.Path, len(q.Body))
				}
				if !q.Complete || !e.Response.Complete {
					t.Errorf("%d shards: stream %d: request complete %v, response complete %v", shards, e.StreamID, q.Complete, e.Response.Complete)
				}
				if e.Response.Status != 200 || !bytes.Equal(e.Response.Body, netfixture.HTTP3Response(reqs[i].Method, reqs[i].Path, reqs[i].Body)) {
					t.Errorf("%d shards: response %d: %d %q", shards, i, e.Response.Status, e.Response.Body)
				}
			}
			if rec.count("h3.pcapng", "flows") != 1 {
				t.Errorf("flows counted %d, want 1", rec.count("h3.pcapng", "flows"))
			}
			t.Logf("%d shards: inner flows %v", shards, obs.uids)
		}
	}
}
