package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"droneaudit/decoders/dhcp"
	"droneaudit/decoders/dns"
)

// The "phone" side of the lab acceptance test: a DHCP client, DNS questions, MQTT packets,
// written from the RFCs with real sockets inside the phone's namespace.

// dhcpMessage builds a DHCPv4 client message (RFC 2131 §2: the fixed BOOTP part, the magic
// cookie, then options, RFC 2132) with the broadcast flag, so the server's answer reaches a
// client that has no address yet.
func dhcpMessage(typ byte, xid uint32, mac net.HardwareAddr, opts ...[]byte) []byte {
	b := make([]byte, 240)
	b[0], b[1], b[2] = 1, 1, 6 // BOOTREQUEST, Ethernet, hardware address length
	binary.BigEndian.PutUint32(b[4:], xid)
	binary.BigEndian.PutUint16(b[10:], 0x8000) // broadcast flag
	copy(b[28:], mac)
	copy(b[236:], []byte{99, 130, 83, 99})
	b = append(b, 53, 1, typ, 55, 3, 1, 3, 6, 12, 5, 'p', 'h', 'o', 'n', 'e')
	for _, o := range opts {
		b = append(b, o...)
	}
	return append(b, 255)
}

// dhcpLease runs DISCOVER, OFFER, REQUEST, ACK on iface from a UDP socket bound to port 68 on
// that device (it must be created inside the phone's namespace).
func dhcpLease(iface string, mac net.HardwareAddr) (addr, router netip.Addr, err error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) {
			if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); serr == nil {
				serr = syscall.BindToDevice(int(fd), iface)
			}
		})
		return serr
	}}
	pc, err := lc.ListenPacket(nil, "udp4", "0.0.0.0:68")
	if err != nil {
		return addr, router, err
	}
	defer pc.Close()
	bcast := &net.UDPAddr{IP: net.IPv4bcast, Port: 67}
	xid := uint32(time.Now().UnixNano())
	exchange := func(msg []byte, want byte) (*dhcp.Message, error) {
		for try := 0; try < 5; try++ {
			if _, err := pc.WriteTo(msg, bcast); err != nil {
				return nil, err
			}
			pc.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 1500)
			for {
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					break // resend
				}
				m, err := dhcp.Parse(buf[:n])
				if err == nil && m.Op == 2 && m.XID == xid && m.Type == want {
					return m, nil
				}
			}
		}
		return nil, fmt.Errorf("no DHCP message type %d", want)
	}
	offer, err := exchange(dhcpMessage(dhcp.Discover, xid, mac), dhcp.Offer)
	if err != nil {
		return addr, router, err
	}
	req := dhcpMessage(dhcp.Request, xid, mac, append([]byte{50, 4}, offer.YourIP.AsSlice()...), append([]byte{54, 4}, offer.ServerID.AsSlice()...))
	ack, err := exchange(req, dhcp.Ack)
	if err != nil {
		return addr, router, err
	}
	if ack.YourIP != offer.YourIP {
		return addr, router, errors.New("ACK for another address than offered")
	}
	return ack.YourIP, ack.ServerID, nil
}

// dnsAsk sends one question (RFC 1035 §4.1) over UDP and returns the addresses answered.
func dnsAsk(server netip.Addr, name string, qtype uint16) ([]netip.Addr, error) {
	c, err := net.Dial("udp", netip.AddrPortFrom(server, 53).String())
	if err != nil {
		return nil, err
	}
	defer c.Close()
	q := dnsQuery(0x4242, name)
	binary.BigEndian.PutUint16(q[len(q)-4:], qtype)
	if _, err := c.Write(q); err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		return nil, err
	}
	m, err := dns.Parse(buf[:n])
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range m.Answers {
		if a.Addr.IsValid() {
			out = append(out, a.Addr)
		}
	}
	return out, nil
}

// mqttString is a length-prefixed UTF-8 string (MQTT 3.1.1 §1.5.3).
func mqttString(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

// mqttPacket is a control packet: the first byte, the remaining length as a variable byte
// integer (MQTT 3.1.1 §2.2.3), the body.
func mqttPacket(first byte, body []byte) []byte {
	b := []byte{first}
	n := len(body)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			break
		}
	}
	return append(b, body...)
}

// mqttConnectPacket is an MQTT 3.1.1 CONNECT (§3.1) with a clean session and a client id.
func mqttConnectPacket(clientID string) []byte {
	vh := append(mqttString("MQTT"), 4, 0x02, 0, 60) // level 4, clean session, keep-alive 60 s
	return mqttPacket(0x10, append(vh, mqttString(clientID)...))
}

// mqttPublishPacket is a QoS 1 PUBLISH (§3.3) with packet identifier id.
func mqttPublishPacket(topic string, id uint16, payload []byte) []byte {
	body := append(mqttString(topic), byte(id>>8), byte(id))
	return mqttPacket(0x32, append(body, payload...))
}
