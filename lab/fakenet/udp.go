package fakenet

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// maxUDPClients bounds the (client, port) pairs remembered so each is logged once.
const maxUDPClients = 4096

// readUDP logs the first datagram of each client on one port and does not answer: the common
// UDP services (NTP, QUIC, STUN, CoAP) need real state to answer, and a silent port is what an
// offline network looks like to them anyway.
func (s *Server) readUDP(c net.PacketConn) {
	defer s.wg.Done()
	seen := map[string]bool{}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				slog.Warn("fakenet udp", "err", err)
			}
			return
		}
		key := from.String()
		if seen[key] {
			continue
		}
		if len(seen) >= maxUDPClients {
			clear(seen)
		}
		seen[key] = true
		sum := Classify(buf[:n])
		// The nftables redirect keeps the port; the address the client wanted is not known for
		// UDP without TPROXY, so the record names the lab address it arrived on.
		s.cfg.Log.Write(Record{Time: time.Now(), Client: key, Dst: c.LocalAddr().String(), Transport: "udp",
			Protocol: sum.Protocol, Name: sum.Name(), First: &sum})
	}
}
