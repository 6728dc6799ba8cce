package remoteid

import (
	"errors"
	"fmt"
)

// MaxPackMessages bounds the messages kept from one pack. A pack travels in a vendor element or a
// NAN service-info field, both at most 255 bytes: 3 header bytes leave room for 10 messages (the
// last one partial), whatever count the header declares.
const MaxPackMessages = 10

// Pack is a decoded message pack (type 0xF, §5.6). Msgs[:N] are the messages found inside the
// container, the last one possibly Truncated.
type Pack struct {
	Version  uint8
	MsgSize  uint8 // must be 25
	Declared int   // MsgPackSize as declared; not trusted
	N        int
	Msgs     [MaxPackMessages]Message
	// Missing counts declared messages with no byte inside the container.
	Missing int
	// Truncated is set when the container ends inside a message.
	Truncated bool
	// Violations lists breaches of the pack rules (ODC checkPackContent), in order of discovery.
	Violations []string
}

// Errors of DecodePack.
var (
	ErrNotPack   = errors.New("not an ODID message pack (byte 0 type is not 0xF)")
	ErrPackShort = errors.New("ODID message pack shorter than its 3-byte header")
)

// DecodePack decodes a message pack bounded by b, the container (the rest of the vendor element or
// of the NAN service info). Every complete message inside b is decoded; a declared count that
// does not fit b is reported in Missing/Truncated/Violations, never trusted (§5.6 forensic rule).
func DecodePack(b []byte, p *Pack) error {
	p.Version, p.MsgSize, p.Declared, p.N, p.Missing, p.Truncated = 0, 0, 0, 0, 0, false
	p.Violations = p.Violations[:0]
	if len(b) < 3 {
		return ErrPackShort
	}
	if b[0]>>4 != TypePack {
		return ErrNotPack
	}
	p.Version, p.MsgSize, p.Declared = b[0]&0xf, b[1], int(b[2])
	if p.MsgSize != MessageSize {
		// Without a 25-byte message size the boundaries are unknown: decode nothing.
		p.Violations = append(p.Violations, fmt.Sprintf("message_size_%d", p.MsgSize))
		return nil
	}
	if p.Declared < 1 || p.Declared > 9 {
		p.Violations = append(p.Violations, fmt.Sprintf("message_count_%d", p.Declared))
	}
	body := b[3:]
	var basic, auth, single [6]int
	for k := 0; k < p.Declared; k++ {
		off := k * MessageSize
		if off >= len(body) || p.N == MaxPackMessages {
			p.Missing = p.Declared - k
			break
		}
		m := &p.Msgs[p.N]
		p.N++
		if err := DecodeMessage(body[off:], m); err != nil {
			p.Truncated = true
			p.Missing = p.Declared - k - 1
			break
		}
		switch m.Type {
		case TypeBasicID:
			basic[0]++
		case TypeAuth:
			auth[0]++
		case TypeLocation, TypeSelfID, TypeSystem, TypeOperatorID:
			single[m.Type]++
		case TypePack:
			p.Violations = append(p.Violations, "nested_pack")
		}
	}
	if p.Truncated {
		p.Violations = append(p.Violations, "truncated_message")
	}
	if p.Missing > 0 {
		p.Violations = append(p.Violations, fmt.Sprintf("missing_%d_messages", p.Missing))
	}
	if basic[0] > 2 {
		p.Violations = append(p.Violations, "more_than_2_basic_ids")
	}
	if auth[0] > 16 {
		p.Violations = append(p.Violations, "more_than_16_auth_pages")
	}
	for t, n := range single {
		if n > 1 {
			p.Violations = append(p.Violations, fmt.Sprintf("repeated_%s", TypeName(uint8(t))))
		}
	}
	return nil
}
