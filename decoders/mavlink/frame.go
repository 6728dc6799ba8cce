package mavlink

import "encoding/binary"

// Start bytes (mavlink-dataflash-ulog.md §1.1).
const (
	STXv1 = 0xFE
	STXv2 = 0xFD
)

// MaxFrame is the longest frame: a signed v2 frame with a 255-byte payload.
const MaxFrame = 12 + 255 + 13

// Frame is one MAVLink frame found in the input. Raw and Payload alias the input bytes.
type Frame struct {
	Raw      []byte
	V2       bool
	Seq      uint8
	SysID    uint8
	CompID   uint8
	MsgID    uint32
	Payload  []byte
	Signed   bool
	Verified bool // false for ids the dialect does not know: their checksum cannot be checked
}

// Name returns the message name, or "" for ids the dialect does not know.
func (f *Frame) Name() string { return MessageName(f.MsgID) }

// check results of one candidate frame.
type status int

const (
	stOK      status = iota // known id, checksum verified
	stUnknown               // well-formed, id not in the dialect: unverifiable
	stBad                   // not a frame here (wrong checksum, impossible header)
	stShort                 // the candidate extends beyond the data
)

// candidate examines the bytes at b[0:] as a frame start.
func candidate(b []byte) (Frame, status) {
	if len(b) < 1 {
		return Frame{}, stShort
	}
	var f Frame
	var hdr, n int
	switch b[0] {
	case STXv1:
		if len(b) < 6 {
			return f, stShort
		}
		hdr = 6
		n = hdr + int(b[1]) + 2
		if len(b) < n {
			return f, stShort
		}
		f = Frame{Seq: b[2], SysID: b[3], CompID: b[4], MsgID: uint32(b[5])}
	case STXv2:
		if len(b) < 10 {
			return f, stShort
		}
		// Only incompat values 0 and 1 (signed) exist; anything else is not a frame.
		if b[2] > 1 {
			return f, stBad
		}
		hdr = 10
		n = hdr + int(b[1]) + 2
		if b[2]&1 != 0 {
			n += 13
		}
		if len(b) < n {
			return f, stShort
		}
		f = Frame{V2: true, Seq: b[4], SysID: b[5], CompID: b[6], MsgID: uint32(b[7]) | uint32(b[8])<<8 | uint32(b[9])<<16, Signed: b[2]&1 != 0}
	default:
		return f, stBad
	}
	plen := int(b[1])
	f.Raw = b[:n]
	f.Payload = b[hdr : hdr+plen]
	info := lookup(f.MsgID)
	if info == nil || !info.known {
		return f, stUnknown
	}
	if !f.V2 && plen != info.sizeV1 {
		return f, stBad
	}
	crc := x25(b[1:hdr+plen], info.crcExtra)
	if crc != binary.LittleEndian.Uint16(b[hdr+plen:]) {
		return f, stBad
	}
	f.Verified = true
	return f, stOK
}

// x25Table drives CRC-16/MCRF4XX (X.25): reflected poly 0x1021, init 0xFFFF, no final XOR
// (mavlink-dataflash-ulog.md §1.2).
var x25Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0x8408
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return
}()

// x25 checksums b followed by the message's CRC_EXTRA byte.
func x25(b []byte, extra byte) uint16 {
	c := uint16(0xffff)
	for _, x := range b {
		c = c>>8 ^ x25Table[byte(c)^x]
	}
	return c>>8 ^ x25Table[byte(c)^extra]
}
