//go:build linux

package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"droneaudit/capture"
)

// Options tunes a live capture socket.
type Options struct {
	Filter  string // CompileFilter expression; "" captures everything
	RingMB  int    // size of the kernel ring; default 64 MiB, enough for about a second at 1 Gbit/s
	Promisc bool   // see frames for other hosts too (an AP's clients bridged past us)
}

// Ring geometry for TPACKET_V3: variable-size frames packed in blocks. A block of 1 MiB holds
// hundreds of frames, and a frame size of 64 KiB admits the GRO/TSO super-frames veth and
// virtio interfaces hand up.
const (
	frameSize    = 1 << 16
	blockSize    = 1 << 20
	blockTimeout = 50 * time.Millisecond  // a block that is not full goes to the reader after this
	pollEvery    = 100 * time.Millisecond // how often a blocked read wakes to see a stop
)

// SnapLen is the largest frame a Source delivers (one ring block): the snap length to record
// for its frames.
const SnapLen = blockSize

// PacketType is the kernel's classification of a frame (sockaddr_ll.sll_pkttype, the PACKET_*
// values of include/uapi/linux/if_packet.h): whether the host sent it, and to whom a received
// frame was addressed.
type PacketType uint8

// The packet types a capture socket sees.
const (
	PacketHost      PacketType = unix.PACKET_HOST      // received, addressed to this host
	PacketBroadcast PacketType = unix.PACKET_BROADCAST // received, link-layer broadcast
	PacketMulticast PacketType = unix.PACKET_MULTICAST // received, link-layer multicast
	PacketOtherHost PacketType = unix.PACKET_OTHERHOST // received, addressed to another host (promiscuous or monitor mode)
	PacketOutgoing  PacketType = unix.PACKET_OUTGOING  // sent by this host
)

func (t PacketType) String() string {
	switch t {
	case PacketHost:
		return "host"
	case PacketBroadcast:
		return "broadcast"
	case PacketMulticast:
		return "multicast"
	case PacketOtherHost:
		return "otherhost"
	case PacketOutgoing:
		return "outgoing"
	}
	return fmt.Sprintf("pkttype-%d", uint8(t))
}

// Frame is one captured frame.
type Frame struct {
	Time    time.Time
	OrigLen int        // length on the wire
	Type    PacketType // sent or received, and how it was addressed
	Data    []byte     // captured bytes, valid only during the call that hands the frame over
}

// Source captures frames from one network interface with an AF_PACKET TPACKET_V3 ring (our
// own, no cgo, no libpcap).
//
// On a loopback interface every frame passes twice, once as the host sends it and once as it
// arrives, and a Source keeps only the arriving copy, as libpcap does: the kernel is asked not
// to deliver the sent copy (PACKET_IGNORE_OUTGOING, Linux 4.20), so its counters count each
// frame once too, and Run drops any that still come (older kernels). The frames of a loopback
// Source are therefore all inbound. Other interfaces deliver both directions.
type Source struct {
	Name     string
	LinkType capture.LinkType
	ifIndex  int
	loopback bool
	r        *ring
	packets  atomic.Int64
	bytes    atomic.Int64

	mu      sync.Mutex // guards running and closed: Close during Run must not unmap the ring under it
	running bool
	closed  bool
	closing atomic.Bool // Close was called during Run, which releases the ring as it returns
}

// Open opens interface name for capture. It needs root or CAP_NET_RAW (plus CAP_NET_ADMIN for
// promiscuous mode).
func Open(name string, opts Options) (*Source, error) { return open(name, opts, true) }

// open is Open; kernelDedup false leaves the loopback's sent copies to Run, as on a kernel
// without PACKET_IGNORE_OUTGOING, so tests reach that path too.
func open(name string, opts Options, kernelDedup bool) (*Source, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	lt, err := interfaceLinkType(name)
	if err != nil {
		return nil, err
	}
	// Compile before opening so that a bad filter is a usage mistake, not a half-open socket.
	prog, err := CompileFilter(opts.Filter, lt)
	if err != nil {
		return nil, err
	}
	loopback := ifc.Flags&net.FlagLoopback != 0
	rc := ringConfig{ifIndex: ifc.Index, ringMB: opts.RingMB, filter: prog, promisc: opts.Promisc, ignoreOutgoing: loopback && kernelDedup}
	r, err := newRing(rc)
	if errors.Is(err, errIgnoreOutgoing) {
		// An older kernel: Run drops the sent copies instead.
		rc.ignoreOutgoing = false
		r, err = newRing(rc)
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("capture on %s: %w (run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)", name, err)
		}
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	return &Source{Name: name, LinkType: lt, ifIndex: ifc.Index, loopback: loopback, r: r}, nil
}

// interfaceLinkType maps the kernel's ARPHRD type of the interface (the hardware address family
// SIOCGIFHWADDR reports; values from include/uapi/linux/if_arp.h) to the pcap link type of the
// frames AF_PACKET delivers. An ioctl rather than /sys/class/net: sysfs shows the namespace it
// was mounted in, the socket the namespace of the calling thread.
func interfaceLinkType(name string) (capture.LinkType, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("capture on %s: link type: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("capture on %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, fmt.Errorf("capture on %s: link type: %w", name, err)
	}
	switch v := ifr.Uint16(); v {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK: // the loopback delivers Ethernet headers too
		return capture.LinkEthernet, nil
	case unix.ARPHRD_IEEE80211_RADIOTAP: // a monitor-mode interface
		return capture.LinkRadiotap, nil
	case unix.ARPHRD_IEEE80211:
		return capture.LinkIEEE80211, nil
	case unix.ARPHRD_NONE, unix.ARPHRD_SIT: // tun and sit: bare IP packets
		return capture.LinkRaw, nil
	default:
		return 0, fmt.Errorf("capture on %s: unsupported interface type %d", name, v)
	}
}

// Run delivers frames to fn until ctx is done, Close is called or fn returns an error. Frames
// the socket saw on another interface are skipped, and so are, on a loopback interface, the
// copies the host sends (see Source). One Run at a time reads a Source.
func (s *Source) Run(ctx context.Context, fn func(Frame) error) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	for ctx.Err() == nil && !s.closing.Load() {
		f, err := s.r.next()
		if err != nil {
			if errors.Is(err, errPollTimeout) {
				continue
			}
			return fmt.Errorf("capture on %s: %w", s.Name, err)
		}
		if f.ifIndex != 0 && f.ifIndex != s.ifIndex {
			continue
		}
		if s.loopback && f.pktType == PacketOutgoing {
			continue
		}
		s.packets.Add(1)
		s.bytes.Add(int64(len(f.data)))
		if err := fn(Frame{Time: f.ts, OrigLen: f.origLen, Type: f.pktType, Data: f.data}); err != nil {
			return err
		}
	}
	return nil
}

// begin marks the Source as being read, or says it is closed.
func (s *Source) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("capture on %s: %w", s.Name, net.ErrClosed)
	}
	if s.running {
		return fmt.Errorf("capture on %s: already being read", s.Name)
	}
	s.running = true
	return nil
}

// end marks the read finished and releases the ring if Close came meanwhile.
func (s *Source) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
	if s.closed {
		s.r.close()
	}
}

// Counts returns the frames and bytes delivered so far.
func (s *Source) Counts() (packets, bytes int64) { return s.packets.Load(), s.bytes.Load() }

// Stats are the kernel's cumulative counters for one socket.
type Stats struct {
	Received uint64 // packets the socket saw
	Dropped  uint64 // packets the kernel dropped because the ring was full
}

// Stats returns the kernel's cumulative counters for the socket. Linux counts dropped frames
// in tp_packets as well (net/packet/af_packet.c, packet_getsockopt), so Received includes them.
// Frames the filter refuses are not counted, nor the sent copies a loopback Source asked the
// kernel not to deliver.
func (s *Source) Stats() (Stats, error) {
	st, err := s.r.readStats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture on %s: statistics: %w", s.Name, err)
	}
	return st, nil
}

// Close releases the socket and its ring; during Run, Run stops within pollEvery and releases
// them as it returns.
func (s *Source) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.running {
		s.closing.Store(true)
		return
	}
	s.r.close()
}
