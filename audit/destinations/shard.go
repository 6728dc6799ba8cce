package destinations

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"droneaudit/capture"
	"droneaudit/decoders/dhcp"
)

// A capture is read by one goroutine, which decodes link, IP and transport headers and hands
// each packet to one of a few flow workers chosen by a hash of its flow's addresses, so a flow
// is always followed by the same worker (capture-and-performance.md §3.5: hash-by-flow sharding).
// Each worker keeps its own flow table and partial inventory; they are merged at the end, and
// the merged result does not depend on the number of workers.

// pkt is one packet's transport view, copied out of the reader's buffer.
type pkt struct {
	t       capture.Transport
	frame   int
	ts      time.Time
	src     [6]byte
	dst     [6]byte
	hasMAC  bool
	payload [2]int // start, end in the batch buffer
}

type batch struct {
	pkts []pkt
	buf  []byte
	name string // the capture file the packets come from
}

const (
	batchPackets = 512
	batchBytes   = 512 << 10
)

var batchPool = sync.Pool{New: func() any { return &batch{pkts: make([]pkt, 0, batchPackets), buf: make([]byte, 0, batchBytes)} }}

func workerCount() int { return max(1, min(runtime.GOMAXPROCS(0), 4)) }

// newState returns an empty partial inventory.
func newState() *state {
	return &state{rows: map[rowKey]*rowAcc{}, dnsName: map[netip.Addr]map[string]struct{}{}, echName: map[string]bool{},
		dhcp: map[string]string{}, arp: map[netip.Addr]string{}, queries: map[string]struct{}{}}
}

// pipeline is the set of flow workers of one Build. It lives across all the captures of the run,
// so that a connection that continues from one rotated file into the next stays one flow.
type pipeline struct {
	workers []*worker
	cur     []*batch
	wg      sync.WaitGroup
}

func newPipeline(idle time.Duration) *pipeline {
	n := workerCount()
	pl := &pipeline{workers: make([]*worker, n), cur: make([]*batch, n)}
	for i := range pl.workers {
		w := &worker{st: newState(), in: make(chan *batch, 4), idle: idle}
		w.run = &fileRun{st: w.st}
		pl.workers[i] = w
		pl.wg.Add(1)
		go func() { defer pl.wg.Done(); w.loop() }()
	}
	return pl
}

func (pl *pipeline) flush(i int) {
	if pl.cur[i] != nil && len(pl.cur[i].pkts) > 0 {
		pl.workers[i].in <- pl.cur[i]
		pl.cur[i] = nil
	}
}

// close hands on the last batches, waits for the workers and merges their partial inventories.
func (pl *pipeline) close(st *state) {
	for i := range pl.workers {
		pl.flush(i)
		close(pl.workers[i].in)
	}
	pl.wg.Wait()
	for _, w := range pl.workers {
		st.merge(w.st)
	}
}

func (st *state) readCapture(ctx context.Context, src Source, pl *pipeline) error {
	path := src.Name
	f, err := src.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := capture.NewReader(bufio.NewReaderSize(f, 1<<20), path)
	if err != nil {
		return err
	}
	n := len(pl.workers)
	readErr := st.readPackets(ctx, rd, path, func(i int) *batch {
		i %= n
		if pl.cur[i] == nil {
			b := batchPool.Get().(*batch)
			b.name = path
			pl.cur[i] = b
		}
		return pl.cur[i]
	}, func(i int) {
		i %= n
		if len(pl.cur[i].pkts) >= batchPackets || len(pl.cur[i].buf) >= batchBytes-65536 {
			pl.flush(i)
		}
	})
	// Batches carry their file's name for notes: none may span two files.
	for i := range pl.workers {
		pl.flush(i)
	}
	return readErr
}

// shardOf hashes a flow's two endpoints in an order-independent way (a sum of per-endpoint
// mixes), cheaply: it runs once per packet on the reader goroutine.
func shardOf(t *capture.Transport) int {
	return int((mixEndpoint(t.Src) + mixEndpoint(t.Dst) + uint64(t.Proto)) >> 33)
}

func mixEndpoint(ap netip.AddrPort) uint64 {
	b := ap.Addr().As16()
	x := binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:])*0xc2b2ae3d27d4eb4f
	x ^= uint64(ap.Port()) * 0x165667b19e3779f9
	x ^= x >> 29
	return x * 0xbf58476d1ce4e5b9
}

// readPackets is the reader goroutine's loop: frames are decoded and their transports copied
// into the batch of their shard.
func (st *state) readPackets(ctx context.Context, rd *capture.Reader, path string, get func(int) *batch, done func(int)) error {
	nd := capture.NewNetDecoder()
	notes := 0
	note := func(format string, args ...any) {
		if notes++; notes <= maxNotes {
			st.notes = append(st.notes, path+": "+fmt.Sprintf(format, args...))
		}
	}
	defer func() {
		if notes > maxNotes {
			st.notes = append(st.notes, fmt.Sprintf("%s: %d more problems not listed", path, notes-maxNotes))
		}
	}()
	for n := 0; ; n++ {
		if n&0xffff == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		p, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var fe *capture.FormatError
			if errors.As(err, &fe) {
				note("stopped at offset %d: %s", fe.Offset, fe.Reason)
				return nil
			}
			return err
		}
		st.packets++
		t, ok, derr := nd.Decode(p)
		if derr != nil {
			note("frame %d @ 0x%x: %v", p.Frame, p.Offset, derr)
		}
		if !ok {
			if p.LinkType == capture.LinkEthernet {
				if a, ok := dhcp.ParseARPFrame(p.Data); ok && !a.SenderIP.IsUnspecified() {
					st.arp[a.SenderIP] = a.SenderMAC.String()
				}
			}
			continue
		}
		i := shardOf(t)
		b := get(i)
		k := pkt{t: *t, frame: p.Frame, ts: p.Time}
		if t.SrcMAC != nil && len(t.SrcMAC) == 6 && len(t.DstMAC) == 6 {
			k.hasMAC = true
			copy(k.src[:], t.SrcMAC)
			copy(k.dst[:], t.DstMAC)
		}
		k.t.SrcMAC, k.t.DstMAC = nil, nil
		k.payload[0] = len(b.buf)
		b.buf = append(b.buf, t.Payload...)
		k.payload[1] = len(b.buf)
		k.t.Payload = nil
		b.pkts = append(b.pkts, k)
		done(i)
	}
}

type worker struct {
	st   *state
	run  *fileRun
	in   chan *batch
	idle time.Duration
}

func (w *worker) loop() {
	ft := capture.NewFlowTable()
	ft.EnableReassembly(func(d capture.Delivery) { w.run.deliver(d) })
	udpIdle := min(w.idle, 2*time.Minute)
	var lastExpire time.Time
	for b := range w.in {
		w.run.name = b.name
		for i := range b.pkts {
			k := &b.pkts[i]
			if k.ts.Sub(lastExpire) > 30*time.Second {
				for _, fl := range ft.Expire(k.ts, w.idle, udpIdle) {
					w.st.account(fl)
				}
				lastExpire = k.ts
			}
			t := k.t
			t.Payload = b.buf[k.payload[0]:k.payload[1]]
			if k.hasMAC {
				t.SrcMAC, t.DstMAC = net.HardwareAddr(k.src[:]), net.HardwareAddr(k.dst[:])
			}
			d := ft.Add(&t, k.frame, k.ts)
			if len(d.Payload) > 0 || d.Gap {
				w.run.deliver(d)
			}
		}
		b.pkts, b.buf = b.pkts[:0], b.buf[:0]
		batchPool.Put(b)
	}
	for _, fl := range ft.Expire(time.Unix(1<<40, 0), 0, 0) {
		w.st.account(fl)
	}
	if w.run.dropped > 0 {
		w.st.notes = append(w.st.notes, fmt.Sprintf("%d more problems not listed", w.run.dropped))
	}
}

// merge adds a worker's partial inventory to st.
func (st *state) merge(o *state) {
	for k, a := range o.rows {
		b := st.acc(k)
		for n := range a.names {
			b.names[n] = struct{}{}
		}
		b.bytesOut += a.bytesOut
		b.bytesIn += a.bytesIn
		b.flows += a.flows
		if b.first.IsZero() || (!a.first.IsZero() && a.first.Before(b.first)) {
			b.first = a.first
		}
		if a.last.After(b.last) {
			b.last = a.last
		}
		for ip, mac := range a.devices {
			if b.devices[ip] == "" {
				b.devices[ip] = mac
			}
		}
		if b.app == "" {
			b.app = a.app
		}
		for f := range a.flags {
			b.flags[f] = struct{}{}
		}
		for j := range a.ja4 {
			if len(b.ja4) < 16 {
				b.ja4[j] = struct{}{}
			}
		}
		for j := range a.ja3 {
			if len(b.ja3) < 16 {
				b.ja3[j] = struct{}{}
			}
		}
	}
	for ip, names := range o.dnsName {
		set := st.dnsName[ip]
		if set == nil {
			set = map[string]struct{}{}
			st.dnsName[ip] = set
		}
		for n := range names {
			if len(set) < 64 {
				set[n] = struct{}{}
			}
		}
	}
	for n := range o.echName {
		st.echName[n] = true
	}
	for mac, h := range o.dhcp {
		st.dhcp[mac] = h
	}
	for ip, mac := range o.arp {
		st.arp[ip] = mac
	}
	for q := range o.queries {
		st.queries[q] = struct{}{}
	}
	st.brokers = append(st.brokers, o.brokers...)
	notes := slices.Clone(o.notes)
	slices.Sort(notes)
	st.notes = append(st.notes, notes...)
}
