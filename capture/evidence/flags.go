package evidence

// PacketFlags is the epb_flags word of an Enhanced Packet Block (draft-ietf-opsawg-pcapng §4.3.1):
// bits 0-1 the direction, bits 2-4 how an inbound frame was addressed. It says whether the
// capturing host sent a frame or received it, which the bytes alone do not always show (a
// bridged or NATed lab, a frame addressed to another host). 0 means unknown: no option is
// written.
type PacketFlags uint32

// Direction, bits 0-1.
const (
	Inbound  PacketFlags = 1 // received by the interface
	Outbound PacketFlags = 2 // sent through the interface
)

// Reception type of an inbound frame, bits 2-4.
const (
	Unicast     PacketFlags = 1 << 2 // addressed to this host
	Multicast   PacketFlags = 2 << 2
	Broadcast   PacketFlags = 3 << 2
	Promiscuous PacketFlags = 4 << 2 // addressed to another host, seen in promiscuous or monitor mode
)

// Direction returns the direction bits: Inbound, Outbound or 0.
func (f PacketFlags) Direction() PacketFlags { return f & 3 }

// Reception returns the reception type bits: Unicast, Multicast, Broadcast, Promiscuous or 0.
func (f PacketFlags) Reception() PacketFlags { return f & (7 << 2) }
