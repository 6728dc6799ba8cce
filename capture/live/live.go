//go:build linux

package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
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
	frameSize = 1 << 16
	blockSize = 1 << 20
	pollEvery = 100 * time.Millisecond // how often a blocked read wakes to see a stop
)

// SnapLen is the largest frame a Source delivers (one ring block): the snap length to record
// for its frames.
const SnapLen = blockSize

// Source captures frames from one network interface with an AF_PACKET TPACKET_V3 ring
// (gopacket's afpacket, no cgo, no libpcap).
type Source struct {
	Name     string
	LinkType capture.LinkType
	ifIndex  int
	tp       *afpacket.TPacket
	packets  atomic.Int64
	bytes    atomic.Int64
}

// Open opens interface name for capture. It needs root or CAP_NET_RAW (plus CAP_NET_ADMIN for
// promiscuous mode).
func Open(name string, opts Options) (*Source, error) {
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
	tp, err := openRing(name, opts.RingMB)
	if err != nil {
		return nil, err
	}
	s := &Source{Name: name, LinkType: lt, ifIndex: ifc.Index, tp: tp}
	if len(prog) > 0 {
		if err := tp.SetBPF(prog); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture on %s: attaching filter: %w", name, err)
		}
	}
	if opts.Promisc {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture on %s: promiscuous mode: %w", name, err)
		}
	}
	return s, nil
}

// openRing creates the TPACKET_V3 socket and its ring of ringMB MiB (64 when 0), bound to name.
func openRing(name string, ringMB int) (*afpacket.TPacket, error) {
	if ringMB <= 0 {
		ringMB = 64
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(name),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(frameSize),
		afpacket.OptBlockSize(blockSize),
		afpacket.OptNumBlocks(max(ringMB*(1<<20)/blockSize, 2)),
		afpacket.OptBlockTimeout(50*time.Millisecond),
		afpacket.OptPollTimeout(pollEvery),
	)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("capture on %s: %w (run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)", name, err)
		}
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	return tp, nil
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

// Run delivers frames to fn until ctx is done or fn returns an error. data is valid only during
// the call. Frames the socket saw on another interface (AF_PACKET receives from all interfaces
// between socket creation and bind) are skipped.
func (s *Source) Run(ctx context.Context, fn func(ts time.Time, origLen int, data []byte) error) error {
	for ctx.Err() == nil {
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) {
				continue
			}
			return fmt.Errorf("capture on %s: %w", s.Name, err)
		}
		if ci.InterfaceIndex != 0 && ci.InterfaceIndex != s.ifIndex {
			continue
		}
		s.packets.Add(1)
		s.bytes.Add(int64(len(data)))
		if err := fn(ci.Timestamp, ci.Length, data); err != nil {
			return err
		}
	}
	return nil
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
func (s *Source) Stats() (Stats, error) {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture on %s: statistics: %w", s.Name, err)
	}
	return Stats{Received: uint64(v3.Packets()), Dropped: uint64(v3.Drops())}, nil
}

// Close releases the socket and its ring.
func (s *Source) Close() { s.tp.Close() }
