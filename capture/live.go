//go:build linux

package capture

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
)

// LiveOptions tunes a live capture socket.
type LiveOptions struct {
	Filter  string // CompileFilter expression; "" captures everything
	RingMB  int    // size of the kernel ring; default 64 MiB, enough for about a second at 1 Gbit/s
	Promisc bool   // see frames for other hosts too (an AP's clients bridged past us)
}

// Ring geometry for TPACKET_V3: variable-size frames packed in blocks. A block of 1 MiB holds
// hundreds of frames, and a frame size of 64 KiB admits the GRO/TSO super-frames veth and
// virtio interfaces hand up.
const (
	liveFrameSize = 1 << 16
	liveBlockSize = 1 << 20
	livePoll      = 100 * time.Millisecond // how often a blocked read wakes to see a stop
	liveSnapLen   = liveBlockSize
)

// LiveSource captures frames from one network interface with an AF_PACKET TPACKET_V3 ring
// (gopacket's afpacket, no cgo, no libpcap).
type LiveSource struct {
	Name     string
	LinkType LinkType
	ifIndex  int
	tp       *afpacket.TPacket
	packets  atomic.Int64
	bytes    atomic.Int64
}

// OpenLive opens interface name for capture. It needs root or CAP_NET_RAW (plus CAP_NET_ADMIN for
// promiscuous mode).
func OpenLive(name string, opts LiveOptions) (*LiveSource, error) {
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
	ring := opts.RingMB
	if ring <= 0 {
		ring = 64
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(name),
		afpacket.TPacketVersion3,
		afpacket.OptFrameSize(liveFrameSize),
		afpacket.OptBlockSize(liveBlockSize),
		afpacket.OptNumBlocks(max(ring*(1<<20)/liveBlockSize, 2)),
		afpacket.OptBlockTimeout(50*time.Millisecond),
		afpacket.OptPollTimeout(livePoll),
	)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("capture on %s: %w (run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)", name, err)
		}
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	s := &LiveSource{Name: name, LinkType: lt, ifIndex: ifc.Index, tp: tp}
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

// interfaceLinkType maps the kernel's ARPHRD type of the interface (the hardware address family
// SIOCGIFHWADDR reports; values from include/uapi/linux/if_arp.h) to the pcap link type of the
// frames AF_PACKET delivers. An ioctl rather than /sys/class/net: sysfs shows the namespace it
// was mounted in, the socket the namespace of the calling thread.
func interfaceLinkType(name string) (LinkType, error) {
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
		return LinkEthernet, nil
	case unix.ARPHRD_IEEE80211_RADIOTAP: // a monitor-mode interface
		return LinkRadiotap, nil
	case unix.ARPHRD_IEEE80211:
		return LinkIEEE80211, nil
	case unix.ARPHRD_NONE, unix.ARPHRD_SIT: // tun and sit: bare IP packets
		return LinkRaw, nil
	default:
		return 0, fmt.Errorf("capture on %s: unsupported interface type %d", name, v)
	}
}

// Run delivers frames to fn until ctx is done or fn returns an error. data is valid only during
// the call. Frames the socket saw on another interface (AF_PACKET receives from all interfaces
// between socket creation and bind) are skipped.
func (s *LiveSource) Run(ctx context.Context, fn func(ts time.Time, origLen int, data []byte) error) error {
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
func (s *LiveSource) Counts() (packets, bytes int64) { return s.packets.Load(), s.bytes.Load() }

// Stats returns the kernel's cumulative counters for the socket. Linux counts dropped frames
// in tp_packets as well (net/packet/af_packet.c, packet_getsockopt), so Received includes them.
func (s *LiveSource) Stats() (IfaceStats, error) {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return IfaceStats{}, fmt.Errorf("capture on %s: statistics: %w", s.Name, err)
	}
	return IfaceStats{Received: uint64(v3.Packets()), Dropped: uint64(v3.Drops())}, nil
}

// Interface describes the source for the pcapng writer.
func (s *LiveSource) Interface() Interface {
	return Interface{Name: s.Name, LinkType: s.LinkType, SnapLen: liveSnapLen, Description: "droneaudit capture (AF_PACKET TPACKET_V3)"}
}

// Close releases the socket and its ring.
func (s *LiveSource) Close() { s.tp.Close() }
