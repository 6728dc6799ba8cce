package fakenet

import (
	"errors"
	"log/slog"
	"net"
	"time"

	"droneaudit/decoders/quic"
)

// maxUDPClients bounds the (client, port) pairs remembered so each is logged once. A QUIC
// ClientHello may span several Initial datagrams: at most maxQUICDatagrams are read for it, and
// a client whose hello is still incomplete after quicWait is logged as it is.
const (
	maxUDPClients    = 4096
	maxQUICDatagrams = 8
	quicWait         = 2 * time.Second
)

// udpClient is a client whose QUIC ClientHello is still being gathered.
type udpClient struct {
	rec     Record
	tracker *quic.Tracker
	n       int
}

// readUDP logs the first datagram of each client on one port (for QUIC, the datagrams that
// carry its ClientHello) and does not answer: the common UDP services (NTP, QUIC, STUN, CoAP)
// need real state to answer, and a silent port is what an offline network looks like to them.
func (s *Server) readUDP(c net.PacketConn) {
	defer s.wg.Done()
	seen := map[string]bool{}
	pending := map[string]*udpClient{}
	flush := func(all bool) {
		for k, p := range pending {
			if all || time.Since(p.rec.Time) > quicWait {
				s.logQUIC(p)
				delete(pending, k)
			}
		}
	}
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(quicWait / 2))
		n, from, err := c.ReadFrom(buf)
		if isTimeout(err) {
			flush(false)
			continue
		}
		if err != nil {
			flush(true)
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
		// The nftables redirect keeps the port; the address the client wanted is not known for
		// UDP without TPROXY, so the record names the lab address it arrived on.
		rec := Record{Time: time.Now(), Client: key, Dst: c.LocalAddr().String(), Transport: "udp"}
		p := pending[key]
		if p == nil {
			sum := Classify(buf[:n])
			rec.Protocol, rec.Name, rec.First = sum.Protocol, sum.Name(), &sum
			if sum.Protocol != "quic" || sum.Error != "ClientHello incomplete" {
				seen[key] = true
				s.cfg.Log.Write(rec)
				continue
			}
			if len(pending) >= maxUDPClients {
				flush(true)
			}
			p = &udpClient{rec: rec, tracker: quic.NewTracker()}
			pending[key] = p
		}
		p.n++
		if done, _ := p.tracker.ClientDatagram(buf[:n]); done || p.n >= maxQUICDatagrams {
			seen[key] = true
			s.logQUIC(p)
			delete(pending, key)
		}
	}
}

// logQUIC writes the record of a QUIC client with what its Initial packets said.
func (s *Server) logQUIC(p *udpClient) {
	sum := Summary{Bytes: p.rec.First.Bytes}
	sum.quic(p.tracker)
	p.rec.First, p.rec.Name = &sum, sum.Name()
	s.cfg.Log.Write(p.rec)
}
