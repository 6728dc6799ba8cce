// Package netflow names the typed values every stage shares about a network flow: its transport
// protocol and the direction of bytes within it. It imports nothing of ours, so the capture
// readers, the flow table, the decoders and geo's evidence can all use one name for each concept;
// strings appear only when a report is written.
package netflow

// Proto is an IP transport protocol number (IANA "Assigned Internet Protocol Numbers").
type Proto uint8

// The transports droneaudit follows.
const (
	TCP Proto = 6
	UDP Proto = 17
)

// String returns "tcp", "udp", or "ip-N" for any other protocol number.
func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return "ip-" + itoa(uint8(p))
}

// Direction says which way bytes travelled within a flow. The client is the side that opened it.
// The two values index per-direction arrays ([2]T), so they are 0 and 1.
type Direction uint8

// The two directions of a flow.
const (
	ClientToServer Direction = 0
	ServerToClient Direction = 1
)

// String returns "client-to-server" or "server-to-client", the names the reports use.
func (d Direction) String() string {
	if d == ServerToClient {
		return "server-to-client"
	}
	return "client-to-server"
}

// Reverse returns the other direction.
func (d Direction) Reverse() Direction { return 1 - d&1 }

// ParseDirection is the inverse of Direction.String.
func ParseDirection(s string) (Direction, bool) {
	switch s {
	case "client-to-server":
		return ClientToServer, true
	case "server-to-client":
		return ServerToClient, true
	}
	return 0, false
}

func itoa(v uint8) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	var b [3]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = '0' + v%10
		v /= 10
	}
	return string(b[i:])
}
