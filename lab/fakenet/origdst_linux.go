package fakenet

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// soOriginalDst is SO_ORIGINAL_DST (linux/netfilter_ipv4.h) and IP6T_SO_ORIGINAL_DST
// (linux/netfilter_ipv6/ip6_tables.h): both 80. Conntrack answers it with the destination the
// client connected to before the nftables redirect rewrote it.
const soOriginalDst = 80

// originalDst asks conntrack where a redirected connection was going. ok is false for a
// connection that was not redirected (or without conntrack); the caller then uses the local
// address.
func originalDst(c *net.TCPConn) (dst netip.AddrPort, ok bool) {
	raw, err := c.SyscallConn()
	if err != nil {
		return dst, false
	}
	v6 := false
	if la, isTCP := c.LocalAddr().(*net.TCPAddr); isTCP && la.IP.To4() == nil {
		v6 = true
	}
	raw.Control(func(fd uintptr) {
		var buf [28]byte // sockaddr_in6 is the larger of the two
		n := uint32(len(buf))
		level := unix.SOL_IP
		if v6 {
			level = unix.SOL_IPV6
		}
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, uintptr(level), soOriginalDst, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		if e != 0 || n < 8 {
			return
		}
		// struct sockaddr_in / sockaddr_in6: family (host order), port (network order), then
		// the address (offset 4 for IPv4, 8 for IPv6 after the flow info).
		port := binary.BigEndian.Uint16(buf[2:4])
		switch binary.NativeEndian.Uint16(buf[0:2]) {
		case syscall.AF_INET:
			dst, ok = netip.AddrPortFrom(netip.AddrFrom4([4]byte(buf[4:8])), port), true
		case syscall.AF_INET6:
			if n >= 24 {
				dst, ok = netip.AddrPortFrom(netip.AddrFrom16([16]byte(buf[8:24])).Unmap(), port), true
			}
		}
	})
	return dst, ok
}
