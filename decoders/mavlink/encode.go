package mavlink

import (
	"encoding/binary"
	"fmt"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Encode builds an unsigned frame of msg (a message of the ardupilotmega dialect) with a correct
// checksum. It serves fixture generators and the embedded demo; v2 payloads are truncated of
// trailing zeros as the MAVLink 2 rules require.
func Encode(msg message.Message, v2 bool, seq, sys, comp uint8) ([]byte, error) {
	id := msg.GetID()
	info := lookup(id)
	if info == nil || !info.known {
		return nil, fmt.Errorf("mavlink: message id %d is not in the dialect", id)
	}
	if !v2 && id > 255 {
		return nil, fmt.Errorf("mavlink: message id %d needs MAVLink 2", id)
	}
	p := info.rw.Write(msg, v2).Payload
	var b []byte
	if v2 {
		b = append(b, STXv2, byte(len(p)), 0, 0, seq, sys, comp, byte(id), byte(id>>8), byte(id>>16))
	} else {
		b = append(b, STXv1, byte(len(p)), seq, sys, comp, byte(id))
	}
	b = append(b, p...)
	b = binary.LittleEndian.AppendUint16(b, x25(b[1:], info.crcExtra))
	return b, nil
}
