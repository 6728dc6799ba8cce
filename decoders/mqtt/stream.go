package mqtt

import (
	"encoding/binary"
	"fmt"
)

// Conn follows both directions of one MQTT connection. The protocol level learnt from CONNECT
// decides whether PUBLISH and SUBSCRIBE carry properties (MQTT 5 only), so both directions
// share it.
type Conn struct {
	level byte
	dir   [2]stream
	pkt   Packet // the packet being emitted
	// topic is the topic of the last PUBLISH: a connection publishes to a few topics over and
	// over, and a repeated one is not made a string again.
	topic string
}

type stream struct {
	buf  []byte
	off  int64 // stream offset of buf[0]
	skip int   // bytes of an oversize packet still to drop
	dead bool
}

// Level returns the protocol level seen in CONNECT (0 before it).
func (c *Conn) Level() byte { return c.level }

// Feed takes the next in-order bytes of one direction (0 client to server, 1 server to client)
// and calls emit for every whole packet. After an error the direction is abandoned: MQTT has no
// marker to resynchronise on. The packet emit is given, and everything it refers to, is valid
// only during the call: Feed reuses it.
func (c *Conn) Feed(dir int, b []byte, emit func(*Packet)) error {
	s := &c.dir[dir&1]
	if s.dead {
		return nil
	}
	if s.skip > 0 {
		n := min(s.skip, len(b))
		s.skip -= n
		s.off += int64(n)
		b = b[n:]
	}
	// Whole packets are read from b itself when nothing is held back from the last call; only
	// what is left of a packet is copied.
	buf, own := b, false
	if len(s.buf) > 0 {
		s.buf = append(s.buf, b...)
		buf, own = s.buf, true
	}
	for len(buf) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(buf))
			s.skip -= n
			s.off += int64(n)
			buf = buf[n:]
			continue
		}
		rl, n, ok := remLength(buf[1:])
		if n < 0 {
			s.dead = true
			s.buf = nil
			return &Error{s.off, "remaining length longer than 4 bytes"}
		}
		if !ok {
			break
		}
		total := 1 + n + rl
		avail := min(total, len(buf))
		if avail < total && avail < MaxBuffered {
			break // wait for more of the packet
		}
		p := &c.pkt
		*p = Packet{Type: int(buf[0] >> 4), Flags: buf[0] & 0x0f, Offset: s.off, Length: rl}
		body := buf[1+n : avail]
		err := c.decode(p, body, avail < total)
		if err != nil {
			s.dead = true
			s.buf = nil
			return &Error{s.off, err.Error()}
		}
		if emit != nil && p.Type != 0 {
			emit(p)
		}
		s.off += int64(avail)
		s.skip = total - avail
		buf = buf[avail:]
	}
	switch {
	case len(buf) == 0:
		s.buf = nil // let a long-lived connection drop its backing array
	case !own || cap(buf) > 2*MaxBuffered:
		s.buf = append([]byte(nil), buf...)
	default:
		s.buf = buf
	}
	return nil
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) u8() byte {
	if r.err != nil || r.off+1 > len(r.b) {
		r.fail("truncated byte")
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) u16() int {
	if r.err != nil || r.off+2 > len(r.b) {
		r.fail("truncated two-byte integer")
		return 0
	}
	r.off += 2
	return int(binary.BigEndian.Uint16(r.b[r.off-2:]))
}

func (r *reader) str() string { return string(r.strBytes()) }

// strBytes reads a length-prefixed string and returns its bytes in the packet.
func (r *reader) strBytes() []byte {
	n := r.u16()
	if r.err != nil || r.off+n > len(r.b) {
		r.fail(fmt.Sprintf("string of %d bytes runs past the packet", n))
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

// protocolName reads CONNECT's protocol name: one of the two names every connection sends, made
// a string once.
func (r *reader) protocolName() string {
	switch b := r.strBytes(); string(b) {
	case "MQTT":
		return "MQTT"
	case "MQIsdp":
		return "MQIsdp"
	default:
		return string(b)
	}
}

func (r *reader) properties() {
	n, used, ok := remLength(r.b[min(r.off, len(r.b)):])
	if !ok || r.off+used+n > len(r.b) {
		r.fail("bad property length")
		return
	}
	r.off += used + n
}

func (r *reader) fail(s string) {
	if r.err == nil {
		r.err = fmt.Errorf("packet body offset %d: %s", r.off, s)
	}
}

func (c *Conn) decode(p *Packet, body []byte, cut bool) error {
	r := &reader{b: body}
	switch p.Type {
	case TypeConnect:
		p.ProtocolName = r.protocolName()
		p.ProtocolLevel = r.u8()
		flags := r.u8()
		r.u16() // keep alive
		if r.err != nil {
			return r.err
		}
		if p.ProtocolName != "MQTT" && p.ProtocolName != "MQIsdp" {
			return fmt.Errorf("protocol name %q", p.ProtocolName)
		}
		c.level = p.ProtocolLevel
		if c.level == 5 {
			r.properties()
		}
		p.ClientID = r.str()
		if flags&0x04 != 0 { // will flag
			if c.level == 5 {
				r.properties()
			}
			p.WillTopic = r.str()
			r.strBytes() // will payload: binary data with the same length prefix
		}
		if flags&0x80 != 0 {
			p.Username = r.str()
		}
		p.HasPassword = flags&0x40 != 0
		if r.err != nil && !cut {
			return r.err
		}
	case TypePublish:
		p.QoS = (p.Flags >> 1) & 3
		if t := r.strBytes(); string(t) != c.topic {
			c.topic = string(t)
		}
		p.Topic = c.topic
		if p.QoS > 0 {
			r.u16()
		}
		if c.level == 5 {
			r.properties()
		}
		if r.err != nil {
			if cut {
				return nil
			}
			return r.err
		}
		pl := body[r.off:]
		p.Truncated = cut || len(pl) > MaxPayloadKept
		p.Payload = pl[:min(len(pl), MaxPayloadKept)]
	case TypeSubscribe:
		r.u16()
		if c.level == 5 {
			r.properties()
		}
		for r.err == nil && r.off < len(r.b) && len(p.Topics) < 64 {
			t := r.str()
			r.u8() // subscription options / requested QoS
			if r.err == nil {
				p.Topics = append(p.Topics, t)
			}
		}
		if r.err != nil && !cut {
			return r.err
		}
	}
	return nil
}
