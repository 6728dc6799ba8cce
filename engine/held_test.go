package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/netip"
	"sync"
	"testing"

	"droneaudit/capture/flowtable"
	"droneaudit/internal/netfixture"
)

// streamRecorder is an observer that keeps every flow's in-order bytes per direction.
type streamRecorder struct {
	mu  sync.Mutex
	got map[string]*bytes.Buffer
}

func (r *streamRecorder) Shard(int) FlowObserver      { return r }
func (r *streamRecorder) Packet(*PacketEvent)         {}
func (r *streamRecorder) CaptureEnd(*Input, error)    {}
func (r *streamRecorder) InputEnd(*Input)             {}
func (r *streamRecorder) Ended(*flowtable.Flow, *any) {}
func (r *streamRecorder) Chunk(c *Chunk, _ *any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := fmt.Sprintf("%v %v %d", c.Flow.Client, c.Flow.Server, c.Dir)
	if r.got[k] == nil {
		r.got[k] = &bytes.Buffer{}
	}
	r.got[k].Write(c.Payload)
}

// A capture several times the reader's buffer, through two and three shards: the payloads the
// batches hold in the reader's buffers (and that the reader comes round to again) reach every
// flow whole and in order, as through one shard, and the input's SHA-256 covers every byte.
func TestHeldBuffersThroughShards(t *testing.T) {
	var buf bytes.Buffer
	w, _ := netfixture.NewWriter(&buf, netfixture.Pcap, nil)
	var conns []*netfixture.TCPConn
	for i := range 40 {
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 1, byte(i)}), uint16(40000+i))
		server := netip.MustParseAddrPort("203.0.113.5:9000")
		c, err := w.TCP(client, server)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for seg := range 200 {
		for i, c := range conns {
			data := bytes.Repeat([]byte{byte(i), byte(seg)}, 300+i*7+seg)
			fromClient := seg%3 != 2
			if err := c.Send(fromClient, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range conns {
		c.Close()
	}
	w.Close()
	file := buf.Bytes()
	if len(file) < 8<<20 {
		t.Fatalf("capture of %d bytes: too small to go round the reader's buffers", len(file))
	}
	sum := sha256.Sum256(file)
	var first map[string]*bytes.Buffer
	for _, shards := range []int{1, 2, 3} {
		rec, obs := newRecorder(), &streamRecorder{got: map[string]*bytes.Buffer{}}
		cfg := Config{Observers: []Observer{obs}, Output: rec, Shards: shards}
		if err := Run(context.Background(), []Source{BytesSource("big.pcap", file)}, cfg); err != nil {
			t.Fatal(err)
		}
		if in := rec.ins["big.pcap"]; in.SHA256 != hex.EncodeToString(sum[:]) || in.Err != nil {
			t.Fatalf("%d shards: sha256 %s, error %v", shards, in.SHA256, in.Err)
		}
		if len(obs.got) != 80 {
			t.Fatalf("%d shards: %d flow directions", shards, len(obs.got))
		}
		if first == nil {
			first = obs.got
			continue
		}
		if !maps.EqualFunc(first, obs.got, func(a, b *bytes.Buffer) bool { return bytes.Equal(a.Bytes(), b.Bytes()) }) {
			t.Fatalf("%d shards: flow bytes differ from one shard's", shards)
		}
	}
	// The streams are what was sent.
	for i := range 40 {
		k := fmt.Sprintf("%v %v %d", netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 168, 1, byte(i)}), uint16(40000+i)),
			netip.MustParseAddrPort("203.0.113.5:9000"), 0)
		var exp []byte
		for seg := range 200 {
			if seg%3 != 2 {
				exp = append(exp, bytes.Repeat([]byte{byte(i), byte(seg)}, 300+i*7+seg)...)
			}
		}
		if got := first[k]; got == nil || !bytes.Equal(got.Bytes(), exp) {
			t.Fatalf("flow %d client bytes differ (%v)", i, got != nil)
		}
	}
}
