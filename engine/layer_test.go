package engine

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"droneaudit/capture/flowtable"
	"droneaudit/decoders"
	"droneaudit/internal/netfixture"
	"droneaudit/netflow"
)

// xorLayer is a stand-in for TLS: a flow whose bytes start with "WRAP" carries, after that
// header, its inner bytes XORed with the key; the key comes from the capture's secrets block.
type xorLayer struct {
	mu      sync.Mutex
	key     byte
	secrets int
	opened  int
	closed  int
}

func (x *xorLayer) Name() string            { return "xor" }
func (x *xorLayer) Unwraps(app string) bool { return app == "wrapped" }
func (x *xorLayer) AddSecrets(_ uint32, d []byte) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.secrets++
	if len(d) > 0 {
		x.key = d[0]
	}
}

func (x *xorLayer) NewStream(decoders.Input, decoders.Sink) decoders.LayerStream {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.opened++
	return &xorStream{x: x}
}

// xorKeyed is the stand-in as a decoders.SecretHolder: it holds secrets once a secrets block
// gave it a key.
type xorKeyed struct{ xorLayer }

func (x *xorKeyed) HasSecrets() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.secrets > 0
}

func (x *xorKeyed) NotOpened(sink decoders.Sink) { sink.Count("xor_not_opened", 1) }

type xorStream struct {
	x      *xorLayer
	header [2]bool
}

func (s *xorStream) Feed(dir netflow.Direction, b []byte, _ bool, emit func(netflow.Direction, []byte)) {
	if !s.header[dir] {
		s.header[dir] = true
		b = bytes.TrimPrefix(b, []byte("WRAP"))
	}
	if rest, ok := bytes.CutPrefix(b, []byte("LOST")); ok {
		emit(dir, nil) // inner bytes were lost before the next ones
		b = rest
	}
	s.x.mu.Lock()
	k := s.x.key
	s.x.mu.Unlock()
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = c ^ k
	}
	emit(dir, out)
}

func (s *xorStream) Close() {
	s.x.mu.Lock()
	s.x.closed++
	s.x.mu.Unlock()
}

// innerSeen is an observer that keeps the inner chunks it is shown and counts the inner flows
// that end.
type innerSeen struct {
	mu     sync.Mutex
	inner  bytes.Buffer
	uids   map[string]bool
	gaps   []string // inner payloads that followed a gap
	ended  int
	outers int
}

func (o *innerSeen) Shard(int) FlowObserver   { return o }
func (o *innerSeen) Packet(*PacketEvent)      {}
func (o *innerSeen) CaptureEnd(*Input, error) {}
func (o *innerSeen) InputEnd(*Input)          {}
func (o *innerSeen) Chunk(c *Chunk, _ *any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if c.Flow.Outer != nil {
		o.inner.Write(c.Payload)
		if c.Gap {
			o.gaps = append(o.gaps, string(c.Payload))
		}
		o.uids[c.Flow.UID()] = c.Flow.Outer.UID()+"-xor" == c.Flow.UID()
	}
}
func (o *innerSeen) Ended(f *flowtable.Flow, _ *any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if f.Outer != nil {
		o.ended++
	} else {
		o.outers++
	}
}

// A flow whose layer an Unwrapper opens is decoded twice over: its own bytes as before, and the
// inner bytes as an inner flow that the payload decoders recognise and the observers see, with
// the key taken from the capture's own secrets block.
func TestLayerOpened(t *testing.T) {
	const key = 0x20
	wrap := func(s string) []byte {
		b := []byte(s)
		for i := range b {
			b[i] ^= key
		}
		return b
	}
	var buf bytes.Buffer
	w, err := netfixture.NewWriter(&buf, netfixture.Pcapng, []byte{key, '\n'})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := w.TCP(phone, server)
	c.Send(true, append([]byte("WRAP"), wrap("ECHO inner request")...))
	c.Send(false, append([]byte("WRAP"), wrap("ECHO inner answer")...))
	c.Send(true, wrap(" and more"))
	c.Send(false, append([]byte("LOST"), wrap(" after a loss")...))
	c.Close()
	w.Close()

	for _, shards := range []int{1, 2} {
		rec, dec, obs, x := newRecorder(), newEcho(), &innerSeen{uids: map[string]bool{}}, &xorLayer{}
		cfg := Config{Flows: []decoders.PayloadDecoder{dec}, Observers: []Observer{obs}, Output: rec, Shards: shards,
			Unwrappers: []decoders.Unwrapper{x},
			Protocols:  []decoders.Protocol{{Name: "wrapped", Sniff: func(b []byte) bool { return bytes.HasPrefix(b, []byte("WRAP")) }}}}
		if err := Run(context.Background(), []Source{BytesSource("w.pcapng", buf.Bytes())}, cfg); err != nil {
			t.Fatal(err)
		}
		if x.secrets != 1 || x.closed != 1 {
			t.Fatalf("%d shards: %d secrets blocks taken, %d layers closed", shards, x.secrets, x.closed)
		}
		if got := dec.got["w.pcapng client-to-server"].String(); got != "ECHO inner request and more" {
			t.Errorf("%d shards: inner client bytes %q", shards, got)
		}
		if len(obs.gaps) != 1 || obs.gaps[0] != " after a loss" {
			t.Errorf("%d shards: inner chunks after a gap %q", shards, obs.gaps)
		}
		if got := dec.got["w.pcapng server-to-client"].String(); got != "ECHO inner answer after a loss" {
			t.Errorf("%d shards: inner server bytes %q", shards, got)
		}
		if obs.inner.Len() == 0 || obs.ended != 1 || obs.outers != 1 || len(obs.uids) != 1 {
			t.Errorf("%d shards: observer saw %d inner bytes, %d inner and %d outer flows end, uids %v", shards, obs.inner.Len(), obs.ended, obs.outers, obs.uids)
		}
		for uid, ok := range obs.uids {
			if !ok {
				t.Errorf("inner uid %s does not extend the outer one", uid)
			}
		}
		if rec.count("w.pcapng", "flows") != 1 {
			t.Errorf("flows counted %d, want 1 (an inner flow is not another connection)", rec.count("w.pcapng", "flows"))
		}
	}
}

// A layer that needs secrets and holds none is not opened in a pcap (which cannot bring any), and
// is opened in a pcapng (whose Decryption Secrets Blocks may come later) and whenever it holds
// secrets.
func TestLayerNotOpenedWithoutSecrets(t *testing.T) {
	capture := func(format netfixture.Format) []byte {
		var buf bytes.Buffer
		w, err := netfixture.NewWriter(&buf, format, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := w.TCP(phone, server)
		c.Send(true, []byte("WRAP inner request"))
		c.Send(false, []byte("WRAP inner answer"))
		c.Close()
		w.Close()
		return buf.Bytes()
	}
	for _, tc := range []struct {
		name   string
		format netfixture.Format
		keyed  bool // the layer is a SecretHolder without secrets
		opened int
	}{
		{"w.pcap", netfixture.Pcap, true, 0},
		{"w.pcapng", netfixture.Pcapng, true, 1},
		{"w.pcap", netfixture.Pcap, false, 1},
	} {
		var u decoders.Unwrapper
		var x *xorLayer
		if tc.keyed {
			k := &xorKeyed{}
			u, x = k, &k.xorLayer
		} else {
			x = &xorLayer{}
			u = x
		}
		dec := newEcho()
		cfg := Config{Flows: []decoders.PayloadDecoder{dec}, Output: newRecorder(), Shards: 2, Unwrappers: []decoders.Unwrapper{u},
			Protocols: []decoders.Protocol{{Name: "wrapped", Sniff: func(b []byte) bool { return bytes.HasPrefix(b, []byte("WRAP")) }}}}
		if err := Run(context.Background(), []Source{BytesSource(tc.name, capture(tc.format))}, cfg); err != nil {
			t.Fatal(err)
		}
		if x.opened != tc.opened || x.closed != tc.opened {
			t.Errorf("%s, secret holder %v: layer opened %d times, closed %d, want %d", tc.name, tc.keyed, x.opened, x.closed, tc.opened)
		}
	}
}
