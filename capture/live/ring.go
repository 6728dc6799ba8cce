//go:build linux

package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// ring is an AF_PACKET socket with a TPACKET_V3 receive ring (Documentation/networking/
// packet_mmap.rst in the kernel): the kernel packs frames into blocks of shared memory and
// hands each block to the reader, who hands it back once every frame in it is read. It is our
// own, not gopacket's afpacket, because afpacket does not report a frame's packet type
// (sockaddr_ll.sll_pkttype), and that is what says whether the host sent or received it.
type ring struct {
	fd        int
	mem       []byte // blocks × blockSize, mapped from the kernel
	blockSize int
	blocks    int

	// The read position, owned by the reading goroutine.
	block int                // index of the block being read or waited for
	hdr   *unix.TpacketHdrV1 // header of the block being read; nil while waiting for one
	left  uint32             // frames of that block not yet returned
	off   int                // offset in the block of the next frame

	statsMu sync.Mutex
	stats   Stats // cumulative: every PACKET_STATISTICS read resets the kernel's counters
}

// ringConfig is what the socket is set up with before it starts to receive.
type ringConfig struct {
	ifIndex        int
	ringMB         int // 0 means 64
	filter         []bpf.RawInstruction
	promisc        bool
	ignoreOutgoing bool // ask the kernel not to deliver frames the host sends
}

// Sizes from include/uapi/linux/if_packet.h: a frame starts with struct tpacket3_hdr, and its
// struct sockaddr_ll follows at the next TPACKET_ALIGNMENT (16) boundary; the block header
// (struct tpacket_hdr_v1) follows the block descriptor's two 32-bit words.
const (
	frameLLOffset  = (unix.SizeofTpacket3Hdr + unix.TPACKET_ALIGNMENT - 1) &^ (unix.TPACKET_ALIGNMENT - 1)
	blockHdrOffset = 8
)

// errPollTimeout means no block filled within pollEvery.
var errPollTimeout = errors.New("no frame within the poll interval")

// errIgnoreOutgoing wraps a kernel that refuses PACKET_IGNORE_OUTGOING (before Linux 4.20).
var errIgnoreOutgoing = errors.New("PACKET_IGNORE_OUTGOING not supported")

// newRing opens the socket and maps its ring. The socket is created for no protocol, so it
// receives nothing until everything is set up and bind names the interface and ETH_P_ALL: no
// frame from another interface, and none that the filter would have refused, gets in first.
func newRing(c ringConfig) (r *ring, err error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ringMB := c.ringMB
	if ringMB <= 0 {
		ringMB = 64
	}
	r = &ring{fd: fd, blockSize: blockSize, blocks: max(ringMB*(1<<20)/blockSize, 2)}
	defer func() {
		if err != nil {
			r.close()
			r = nil
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, fmt.Errorf("TPACKET_V3: %w", err)
	}
	if c.ignoreOutgoing {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
			return nil, fmt.Errorf("%w: %w", errIgnoreOutgoing, err)
		}
	}
	if len(c.filter) > 0 {
		if len(c.filter) > 0xffff {
			return nil, errors.New("attaching filter: too many instructions")
		}
		prog := unix.SockFprog{Len: uint16(len(c.filter)), Filter: (*unix.SockFilter)(unsafe.Pointer(&c.filter[0]))}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
			return nil, fmt.Errorf("attaching filter: %w", err)
		}
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(r.blockSize),
		Block_nr:       uint32(r.blocks),
		Frame_size:     frameSize,
		Frame_nr:       uint32(r.blocks * (r.blockSize / frameSize)),
		Retire_blk_tov: uint32(blockTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, fmt.Errorf("ring of %d MiB: %w", r.blocks*r.blockSize>>20, err)
	}
	if r.mem, err = unix.Mmap(fd, 0, r.blocks*r.blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return nil, fmt.Errorf("mapping the ring: %w", err)
	}
	if c.promisc {
		mreq := unix.PacketMreq{Ifindex: int32(c.ifIndex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: c.ifIndex}); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	return r, nil
}

// htons puts a protocol number in network byte order, as sockaddr_ll wants it.
func htons(v uint16) uint16 { return binary.NativeEndian.Uint16(binary.BigEndian.AppendUint16(nil, v)) }

// frame is one frame in the ring; data points into the ring and is valid until the next call
// to next.
type frame struct {
	ts      time.Time
	origLen int
	ifIndex int
	pktType PacketType
	data    []byte
}

// next returns the next frame, or errPollTimeout when none arrived within pollEvery. A block
// goes back to the kernel when the frame after its last is asked for.
func (r *ring) next() (frame, error) {
	for r.left == 0 {
		if r.hdr != nil {
			atomic.StoreUint32(&r.hdr.Block_status, unix.TP_STATUS_KERNEL)
			r.hdr = nil
			r.block = (r.block + 1) % r.blocks
		}
		h := (*unix.TpacketHdrV1)(unsafe.Pointer(&r.mem[r.block*r.blockSize+blockHdrOffset]))
		if atomic.LoadUint32(&h.Block_status)&unix.TP_STATUS_USER == 0 {
			if err := r.wait(); err != nil {
				return frame{}, err
			}
			continue
		}
		// A block the timer retired empty has no frames: it goes straight back.
		r.hdr, r.left, r.off = h, h.Num_pkts, int(h.Offset_to_first_pkt)
	}
	base := r.block * r.blockSize
	if r.off < 0 || r.off+frameLLOffset+unix.SizeofSockaddrLinklayer > r.blockSize {
		return frame{}, fmt.Errorf("ring block %d: frame offset %d out of the block", r.block, r.off)
	}
	th := (*unix.Tpacket3Hdr)(unsafe.Pointer(&r.mem[base+r.off]))
	ll := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&r.mem[base+r.off+frameLLOffset]))
	start := r.off + int(th.Mac)
	end := start + int(th.Snaplen)
	if end > r.blockSize {
		return frame{}, fmt.Errorf("ring block %d: frame of %d bytes at %d out of the block", r.block, th.Snaplen, start)
	}
	f := frame{
		ts:      time.Unix(int64(th.Sec), int64(th.Nsec)),
		origLen: int(th.Len),
		ifIndex: int(ll.Ifindex),
		pktType: PacketType(ll.Pkttype),
		data:    r.mem[base+start : base+end : base+end],
	}
	r.left--
	r.off += int(th.Next_offset)
	return f, nil
}

// wait polls the socket until a block is ready, for at most pollEvery.
func (r *ring) wait() error {
	for {
		fds := [1]unix.PollFd{{Fd: int32(r.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds[:], int(pollEvery/time.Millisecond))
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("poll: %w", err)
		case n == 0:
			return errPollTimeout
		case fds[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0:
			// The interface went down or away; SO_ERROR says which.
			if e, gerr := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_ERROR); gerr == nil && e != 0 {
				return fmt.Errorf("socket error: %w", unix.Errno(e))
			}
			return errors.New("socket error")
		}
		return nil
	}
}

// readStats adds the kernel's counters since the last read to the totals and returns them.
// Linux counts dropped frames in tp_packets as well (net/packet/af_packet.c, packet_getsockopt).
func (r *ring) readStats() (Stats, error) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return Stats{}, err
	}
	r.stats.Received += uint64(st.Packets)
	r.stats.Dropped += uint64(st.Drops)
	return r.stats, nil
}

// close unmaps the ring and closes the socket; a second call does nothing.
func (r *ring) close() {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	if r.mem != nil {
		unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}
