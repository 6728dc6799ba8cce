// Package capture reads packet captures: pcap and pcapng files of any byte order and
// time resolution, the link layers a drone lab meets (Ethernet, Linux SLL/SLL2, raw IP, BSD
// loopback, 802.11 with radiotap, DLT_USER serial taps). Flows and TCP reassembly are in capture/flowtable.
package capture

import (
	"fmt"
	"time"
)

// LinkType is a pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
type LinkType uint32

// The link types droneaudit decodes.
const (
	LinkNull      LinkType = 0   // BSD loopback, host-order 4-byte family
	LinkEthernet  LinkType = 1   //
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6
	LinkIEEE80211 LinkType = 105 // 802.11 without radiotap
	LinkLoop      LinkType = 108 // OpenBSD loopback, network-order family
	LinkLinuxSLL  LinkType = 113 //
	LinkRadiotap  LinkType = 127 // 802.11 with a radiotap header
	LinkIPv4      LinkType = 228 //
	LinkIPv6      LinkType = 229 //
	LinkLinuxSLL2 LinkType = 276 //
	LinkUser0     LinkType = 147 // DLT_USER0; DLT_USER0..15 = 147..162 carry DUML serial taps
	LinkUser15    LinkType = 162 //
)

// IsUser reports whether lt is one of DLT_USER0..15.
func (lt LinkType) IsUser() bool { return lt >= LinkUser0 && lt <= LinkUser15 }

func (lt LinkType) String() string {
	switch lt {
	case LinkNull:
		return "null"
	case LinkEthernet:
		return "ethernet"
	case LinkRaw:
		return "raw-ip"
	case LinkIEEE80211:
		return "802.11"
	case LinkLoop:
		return "loop"
	case LinkLinuxSLL:
		return "linux-sll"
	case LinkRadiotap:
		return "802.11-radiotap"
	case LinkIPv4:
		return "ipv4"
	case LinkIPv6:
		return "ipv6"
	case LinkLinuxSLL2:
		return "linux-sll2"
	}
	if lt.IsUser() {
		return fmt.Sprintf("user%d", lt-LinkUser0)
	}
	return fmt.Sprintf("linktype-%d", uint32(lt))
}

// Packet is one captured frame.
type Packet struct {
	Frame     int       // 1-based number in the file, as Wireshark counts
	Offset    int64     // byte offset of the frame's record (pcap record header or pcapng block)
	Time      time.Time //
	LinkType  LinkType  //
	Interface int       // pcapng interface index; 0 in pcap
	OrigLen   int       // length on the wire
	Data      []byte    // captured bytes, valid until the next call to Next
}

// FormatError says where and why a capture file could not be read on.
type FormatError struct {
	File   string
	Offset int64
	Reason string
	Err    error // underlying error, e.g. io.ErrUnexpectedEOF for a cut file
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: offset %d (0x%x): %s", e.File, e.Offset, e.Offset, e.Reason)
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }
