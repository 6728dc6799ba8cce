package remoteid

import (
	"encoding/binary"
	"errors"
)

// Wi-Fi NAN carriage of ODID (§5.6; ODC odid_wifi.h and odid_wifi_receive_message_pack_nan_action_frame).
var (
	// nanActionHeader: public action (4), vendor specific (9), Wi-Fi Alliance OUI, NAN type 0x13.
	nanActionHeader = [6]byte{0x04, 0x09, 0x50, 0x6f, 0x9a, 0x13}
	// ODIDServiceID is the first 48 bits of SHA-256("org.opendroneid.remoteid").
	ODIDServiceID = [6]byte{0x88, 0x69, 0x19, 0x9d, 0x92, 0x09}
	// NANNetworkID is the destination ODC's receiver requires of ODID service discovery frames.
	NANNetworkID = [6]byte{0x51, 0x6f, 0x9a, 0x01, 0x00, 0x00}
)

// NAN attribute ids used here.
const (
	nanAttrServiceDescriptor    = 0x03
	nanAttrServiceDescriptorExt = 0x0e
)

// maxNANAttrs bounds how many attribute ids a NAN frame record keeps.
const maxNANAttrs = 16

// NAN is a decoded NAN service discovery frame.
type NAN struct {
	Attrs          [maxNANAttrs]uint8 // ids of the attributes, in order
	NAttrs         int
	ServiceID      [6]byte
	InstanceID     uint8
	RequestorID    uint8
	ServiceControl uint8
	// ODID is set when the service is ODID's and its service info held a counter and a pack.
	ODID    bool
	Counter uint8
	Pack    Pack
	// Trailing is set when an attribute's length ran past the frame.
	Trailing int
}

// Errors of DecodeNAN.
var (
	ErrNotNAN        = errors.New("not a NAN service discovery action frame")
	ErrNANAttrShort  = errors.New("NAN service descriptor attribute cut short")
	ErrNANNotODID    = errors.New("NAN service is not Open Drone ID")
	ErrNANNoInfo     = errors.New("NAN ODID service descriptor without service info")
	ErrNANInfoLength = errors.New("NAN service info length runs past its attribute")
)

// IsNANAction reports whether an action frame body is a NAN service discovery frame.
func IsNANAction(body []byte) bool {
	return len(body) >= 6 && [6]byte(body[:6]) == nanActionHeader
}

// DecodeNAN decodes a NAN service discovery action frame body (category byte first). Attributes
// are `id u8 | len u16 LE | body`, each bounded by the frame. The first Service Descriptor with
// ODID's service ID and service info is decoded into n.Pack.
func DecodeNAN(body []byte, n *NAN) error {
	n.NAttrs, n.ODID, n.Trailing, n.ServiceID, n.InstanceID, n.RequestorID, n.ServiceControl = 0, false, 0, [6]byte{}, 0, 0, 0
	if !IsNANAction(body) {
		return ErrNotNAN
	}
	b := body[6:]
	var firstErr error
	for len(b) >= 3 {
		id, l := b[0], int(binary.LittleEndian.Uint16(b[1:]))
		if 3+l > len(b) {
			n.Trailing = len(b)
			break
		}
		v := b[3 : 3+l]
		b = b[3+l:]
		if n.NAttrs < maxNANAttrs {
			n.Attrs[n.NAttrs] = id
			n.NAttrs++
		}
		if id == nanAttrServiceDescriptor && !n.ODID {
			if err := n.serviceDescriptor(v); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}
	if len(b) > 0 && n.Trailing == 0 {
		n.Trailing = len(b)
	}
	if !n.ODID && firstErr == nil {
		firstErr = ErrNANNotODID
	}
	return firstErr
}

// serviceDescriptor reads a Service Descriptor attribute: service ID (6), instance ID, requestor
// instance ID, service control, then the optional fields that control announces (Wi-Fi Aware
// specification, Service Descriptor attribute): binding bitmap (bit 6, 2 bytes), matching filter
// (bit 2, length-prefixed), service response filter (bit 3, length-prefixed), service info (bit 4,
// length-prefixed).
func (n *NAN) serviceDescriptor(v []byte) error {
	if len(v) < 9 {
		return ErrNANAttrShort
	}
	n.ServiceID = [6]byte(v[:6])
	n.InstanceID, n.RequestorID, n.ServiceControl = v[6], v[7], v[8]
	if n.ServiceID != ODIDServiceID {
		return ErrNANNotODID
	}
	rest := v[9:]
	ctl := n.ServiceControl
	if ctl&0x40 != 0 {
		if len(rest) < 2 {
			return ErrNANAttrShort
		}
		rest = rest[2:]
	}
	for _, bit := range []uint8{0x04, 0x08} {
		if ctl&bit != 0 {
			if len(rest) < 1 || 1+int(rest[0]) > len(rest) {
				return ErrNANAttrShort
			}
			rest = rest[1+int(rest[0]):]
		}
	}
	if ctl&0x10 == 0 || len(rest) < 1 {
		return ErrNANNoInfo
	}
	l := int(rest[0])
	info := rest[1:]
	var err error
	if l > len(info) {
		err = ErrNANInfoLength // bound by the attribute, report the overrun
	} else {
		info = info[:l]
	}
	if len(info) < 1 {
		return ErrNANNoInfo
	}
	n.ODID, n.Counter = true, info[0]
	if perr := DecodePack(info[1:], &n.Pack); perr != nil {
		n.ODID = false
		return perr
	}
	return err
}
