package engine

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"droneaudit/capture"
	"droneaudit/netflow"
)

// oldShardOf is the shard hash as it was computed from a capture.Transport before packets were
// recorded compactly; pkt.shard must give the same shard for every packet.
func oldShardOf(t *capture.Transport, n int) int {
	if n == 1 {
		return 0
	}
	mix := func(ap netip.AddrPort) uint64 {
		b := ap.Addr().As16()
		x := binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:])*0xc2b2ae3d27d4eb4f
		x ^= uint64(ap.Port()) * 0x165667b19e3779f9
		x ^= x >> 29
		return x * 0xbf58476d1ce4e5b9
	}
	h := mix(t.Src) + mix(t.Dst) + uint64(t.Proto)
	return int((h >> 33) % uint64(n))
}

// checkRecord records t through a shard's batch as the reader does, rebuilds it as the shard
// does, and fails when anything differs: fields, MACs, payload, time (as a value) or shard.
func checkRecord(t *testing.T, p *capture.Packet, tr *capture.Transport) {
	t.Helper()
	s := &shard{}
	var k pkt
	k.record(p, tr)
	s.push(&Input{}, &k, tr.Payload, nil)
	b := s.cur
	got := b.pkts[0].transport(b)
	ts := time.Unix(b.pkts[0].sec, int64(b.pkts[0].nsec)).UTC()
	if got.Proto != tr.Proto || got.Src != tr.Src || got.Dst != tr.Dst || got.TCPFlags != tr.TCPFlags || got.Seq != tr.Seq ||
		!bytes.Equal(got.Payload, tr.Payload) || b.pkts[0].frame != p.Frame || b.pkts[0].offset != p.Offset || ts != p.Time {
		t.Fatalf("record of %+v at %v: %+v at %v", tr, p.Time, got, ts)
	}
	wantMAC := len(tr.SrcMAC) == 6 && len(tr.DstMAC) == 6
	if wantMAC != (got.SrcMAC != nil) || wantMAC && (!bytes.Equal(got.SrcMAC, tr.SrcMAC) || !bytes.Equal(got.DstMAC, tr.DstMAC)) {
		t.Fatalf("MACs %v>%v, recorded %v>%v", tr.SrcMAC, tr.DstMAC, got.SrcMAC, got.DstMAC)
	}
	for n := 2; n <= 5; n++ {
		if g, w := k.shard(n), oldShardOf(tr, n); g != w {
			t.Fatalf("%v>%v of %d shards: shard %d, want %d", tr.Src, tr.Dst, n, g, w)
		}
	}
}

func TestPktRecord(t *testing.T) {
	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for _, c := range []struct {
		src, dst string
		proto    netflow.Proto
		macs     bool
		ts       time.Time
	}{
		{"192.168.7.2:51000", "203.0.113.9:443", netflow.TCP, true, time.Unix(1_700_000_000, 123456789).UTC()},
		{"[2001:db8::7]:5353", "[ff02::fb]:5353", netflow.UDP, false, time.Unix(0, 0).UTC()},
		{"[::ffff:198.51.100.4]:80", "10.0.0.1:1", netflow.TCP, true, time.Unix(-5, 999_999_999).UTC()},
		{"[::]:0", "0.0.0.0:0", netflow.UDP, false, time.Unix(1<<40, 1).UTC()}, // a far pcapng if_tsoffset
	} {
		tr := &capture.Transport{Proto: c.proto, Src: netip.MustParseAddrPort(c.src), Dst: netip.MustParseAddrPort(c.dst),
			TCPFlags: capture.FlagSYN | capture.FlagACK, Seq: 77, Payload: []byte("payload")}
		if c.macs {
			tr.SrcMAC, tr.DstMAC = mac, net.HardwareAddr{0x60, 0x60, 0x1f, 0, 0, 2}
		}
		checkRecord(t, &capture.Packet{Frame: 9, Offset: 1234, Time: c.ts}, tr)
	}
	// The zero address (no IP layer) and a MAC of another length keep what they were.
	checkRecord(t, &capture.Packet{Frame: 1, Time: time.Unix(1, 0).UTC()},
		&capture.Transport{Proto: netflow.UDP, SrcMAC: mac, DstMAC: net.HardwareAddr{1, 2}})
}

// FuzzPktRecord checks the compact record's round trip and shard for transports made of fuzzed
// bytes.
func FuzzPktRecord(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"), uint8(3), int64(1_700_000_000), int32(5))
	f.Add([]byte{192, 168, 1, 2, 10, 0, 0, 1, 0, 80, 1, 187}, uint8(0), int64(-1), int32(999_999_999))
	f.Fuzz(func(t *testing.T, b []byte, sel uint8, sec int64, nsec int32) {
		b = append(b, make([]byte, 50)...)
		addr := func(b []byte, v6 bool) netip.Addr {
			if v6 {
				return netip.AddrFrom16([16]byte(b[:16]))
			}
			return netip.AddrFrom4([4]byte(b[:4]))
		}
		tr := &capture.Transport{Proto: netflow.Proto(sel >> 4 & 3),
			Src:      netip.AddrPortFrom(addr(b, sel&1 != 0), binary.BigEndian.Uint16(b[32:])),
			Dst:      netip.AddrPortFrom(addr(b[16:], sel&2 != 0), binary.BigEndian.Uint16(b[34:])),
			TCPFlags: b[36], Seq: binary.BigEndian.Uint32(b[37:]), Payload: b[50:]}
		if sel&4 != 0 {
			tr.SrcMAC, tr.DstMAC = net.HardwareAddr(b[38:44]), net.HardwareAddr(b[44:50])
		}
		if sel&8 != 0 {
			tr.Src = netip.AddrPort{}
		}
		checkRecord(t, &capture.Packet{Frame: int(sec), Offset: sec, Time: time.Unix(sec, int64(nsec)).UTC()}, tr)
	})
}

// doneTee is a capture.Tee that is through with every lend at once.
type doneTee struct{}

func (doneTee) Lend(_ []byte, done *sync.WaitGroup) { done.Done() }

// TestPushHeld checks that payloads read into the capture reader's buffers go into batches
// without a copy, hold that buffer until the shard is through, and read back the same bytes
// while the reader goes on into other buffers; payloads elsewhere are copied.
func TestPushHeld(t *testing.T) {
	var file []byte
	file = binary.LittleEndian.AppendUint32(file, 0xa1b2c3d4)
	file = append(file, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0)
	var want [][]byte
	for i := range 200 {
		rec := bytes.Repeat([]byte{byte(i)}, 100+i)
		file = binary.LittleEndian.AppendUint32(file, uint32(i))
		file = binary.LittleEndian.AppendUint32(file, 0)
		file = binary.LittleEndian.AppendUint32(file, uint32(len(rec)))
		file = binary.LittleEndian.AppendUint32(file, uint32(len(rec)))
		file = append(file, rec...)
		want = append(want, rec[10:])
	}
	rd, err := capture.NewReaderTee(bytes.NewReader(file), "held.pcap", 1024, doneTee{})
	if err != nil {
		t.Fatal(err)
	}
	s := &shard{in: make(chan *batch, 1000)} // batches are looked at here, not by a shard loop
	in := &Input{}
	var batches []*batch
	var bufs []*capture.Buffer
	for i := range want {
		p, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		var k pkt
		k.record(p, &capture.Transport{Proto: netflow.UDP})
		rbuf := rd.DataBuffer()
		if rbuf == nil {
			t.Fatalf("packet %d: not in a read buffer", i)
		}
		bufs = append(bufs, rbuf)
		s.push(in, &k, p.Data[10:], rbuf)
		if k.kind&pktHeld == 0 {
			t.Fatalf("packet %d: payload copied", i)
		}
		if b := s.cur; len(batches) == 0 || batches[len(batches)-1] != b {
			batches = append(batches, b)
		}
	}
	// Every payload reads back whole although the reader went round its buffers many times.
	i := 0
	for _, b := range batches {
		for j := range b.pkts {
			tr := b.pkts[j].transport(b)
			if !bytes.Equal(tr.Payload, want[i]) {
				t.Fatalf("packet %d: payload % x", i, tr.Payload[:4])
			}
			i++
		}
	}
	if i != len(want) || len(batches) < 10 {
		t.Fatalf("%d packets in %d batches", i, len(batches))
	}
	// A payload outside the read buffer is copied.
	var k pkt
	s.push(in, &k, []byte("elsewhere"), bufs[len(bufs)-1])
	if b := s.cur; k.kind&pktHeld != 0 || string(k.transport(b).Payload) != "elsewhere" {
		t.Fatal("payload outside the read buffer not copied")
	}
}
