// Package live captures frames from network interfaces as they pass: AF_PACKET TPACKET_V3
// sockets (no cgo, no libpcap), kernel filters compiled from a tcpdump-like expression, and
// monitor mode with channel hopping for the 802.11 broadcasts drones send. Each frame comes
// with the kernel's packet type, which says whether the host sent or received it; a loopback
// interface yields each frame once. What it captures is written elsewhere (package evidence);
// this package only opens, filters and reads.
//
// The sockets are Linux only (live.go, ring.go); the filter compiler and the monitor-mode commands
// compile on any system, so this comment lives apart from them.
package live
