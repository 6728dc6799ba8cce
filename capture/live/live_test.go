//go:build linux

package live

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"droneaudit/internal/netlab"
)

func TestOpenLiveErrors(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := Open("nosuchif0", Options{}); err == nil || !strings.Contains(err.Error(), "nosuchif0") {
		t.Errorf("missing interface: %v", err)
	}
	lab := netlab.New(t)
	err := netlab.In(lab.NSA, func() error {
		_, err := Open(lab.IfA, Options{Filter: "udp or tcp"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "or") {
		t.Errorf("bad filter: %v", err)
	}
}

// loopbackFrames opens lo in a fresh namespace, sends n datagrams over it and returns the packet
// types of the frames Run delivered for them, with the kernel's counters.
func loopbackFrames(t *testing.T, n int, kernelDedup bool) (map[PacketType]int, Stats) {
	t.Helper()
	lab := netlab.New(t)
	var src *Source
	var conn *net.UDPConn
	err := netlab.In(lab.NSA, func() (err error) {
		if src, err = open("lo", Options{Filter: "udp dst port 9996", RingMB: 2}, kernelDedup); err != nil {
			return err
		}
		conn, err = net.ListenUDP("udp4", nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	defer conn.Close()
	for range n {
		if _, err := conn.WriteToUDPAddrPort([]byte("once"), netip.MustParseAddrPort("127.0.0.1:9996")); err != nil {
			t.Fatal(err)
		}
	}
	// The frames are in the ring already; a block is handed over 50 ms after its first frame.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	types := map[PacketType]int{}
	err = src.Run(ctx, func(f Frame) error {
		types[f.Type]++
		if len(f.Data) != f.OrigLen || f.Time.IsZero() {
			t.Errorf("frame of %d bytes, %d on the wire, at %v", len(f.Data), f.OrigLen, f.Time)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := src.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return types, st
}

// TestLiveLoopbackOneCopyBothPaths: the loopback passes every frame twice, as sent and as received; a Source
// delivers the received copy only, whether the kernel leaves the sent one out
// (PACKET_IGNORE_OUTGOING) or Run drops it (older kernels).
func TestLiveLoopbackOneCopyBothPaths(t *testing.T) {
	const n = 40
	for _, kernel := range []bool{true, false} {
		types, st := loopbackFrames(t, n, kernel)
		if len(types) != 1 || types[PacketHost] != n {
			t.Errorf("kernel dedup %v: delivered %v, want %d %v", kernel, types, n, PacketHost)
		}
		// The kernel counts what it hands the socket: one copy, or both when Run drops one.
		want := uint64(n)
		if !kernel {
			want = 2 * n
		}
		if st.Received != want || st.Dropped != 0 {
			t.Errorf("kernel dedup %v: counters %+v, want %d received", kernel, st, want)
		}
	}
}

// TestLiveCloseDuringRun: Close while Run waits for frames stops Run, which then releases the ring;
// a later Run says the Source is closed.
func TestLiveCloseDuringRun(t *testing.T) {
	lab := netlab.New(t)
	var src *Source
	if err := netlab.In(lab.NSA, func() (err error) { src, err = Open("lo", Options{RingMB: 2}); return err }); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- src.Run(context.Background(), func(Frame) error { return nil }) }()
	time.Sleep(50 * time.Millisecond)
	src.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after Close")
	}
	if err := src.Run(context.Background(), func(Frame) error { return nil }); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Run on a closed Source: %v", err)
	}
	src.Close()
}
