// Package duml decodes DJI's DUML v1 protocol, the command and telemetry frames that DJI flight
// controllers, remote controllers, cameras and apps exchange over UART, USB and Wi-Fi links.
//
// Frame layout (little-endian), dji-network.md §3.1:
//
//	0      0x55 start of frame
//	1–2    bits 9–0 frame length (13…1023), bits 15–10 protocol version
//	3      CRC-8 over bytes 0–2
//	4, 5   sender, receiver: bits 4–0 device type, bits 7–5 index
//	6–7    sequence number
//	8      bit 7 response, bits 6–5 ack type, bits 2–0 encryption
//	9, 10  command set, command id
//	11…    payload
//	len−2  CRC-16 over bytes 0…len−3
package duml

import (
	"encoding/binary"
	"errors"
)

// Start is the start-of-frame byte.
const Start = 0x55

// MinFrame is the length of a frame with an empty payload.
const MinFrame = 13

// MaxFrame is the largest length the 10-bit length field can express.
const MaxFrame = 1023

// Frame is one checked DUML frame. Its slices alias the bytes it was parsed from.
type Frame struct {
	Raw      []byte // the whole frame
	Version  int
	Sender   uint8 // bits 4–0 device type, bits 7–5 index
	Receiver uint8
	Seq      uint16
	Attr     uint8 // bit 7 response, bits 6–5 ack type, bits 2–0 encryption
	CmdSet   uint8
	CmdID    uint8
	Payload  []byte
}

// SenderType returns the sender's device type (2 app, 3 flight controller, 6 remote controller...).
func (f *Frame) SenderType() uint8 { return f.Sender & 0x1f }

// ReceiverType returns the receiver's device type.
func (f *Frame) ReceiverType() uint8 { return f.Receiver & 0x1f }

// IsResponse reports whether the frame answers a request.
func (f *Frame) IsResponse() bool { return f.Attr&0x80 != 0 }

// Encryption returns the payload encryption code (0 none).
func (f *Frame) Encryption() uint8 { return f.Attr & 0x07 }

// Errors of Parse.
var (
	ErrShort     = errors.New("duml: fewer bytes than the frame's length")
	ErrStart     = errors.New("duml: no start byte 0x55")
	ErrHeaderCRC = errors.New("duml: header CRC-8 mismatch")
	ErrLength    = errors.New("duml: length below 13 or version above 2")
	ErrCRC16     = errors.New("duml: frame CRC-16 mismatch")
)

// headerLen reads and checks the 4-byte header at b and returns the declared frame length.
func headerLen(b []byte) (int, int, error) {
	if len(b) < 4 {
		return 0, 0, ErrShort
	}
	if b[0] != Start {
		return 0, 0, ErrStart
	}
	if CRC8(b[:3]) != b[3] {
		return 0, 0, ErrHeaderCRC
	}
	lv := binary.LittleEndian.Uint16(b[1:])
	n, ver := int(lv&0x3ff), int(lv>>10)
	// Version 0 marks flight-recorder records inside DAT logs; the dissector rejects > 2.
	if n < MinFrame || ver > 2 {
		return 0, 0, ErrLength
	}
	return n, ver, nil
}

// Parse checks and decodes the frame at the start of b. With ErrCRC16 the returned frame is
// filled in (so its header can be reported) but must not be trusted.
func Parse(b []byte) (Frame, error) {
	n, ver, err := headerLen(b)
	if err != nil {
		return Frame{}, err
	}
	if len(b) < n {
		return Frame{}, ErrShort
	}
	raw := b[:n]
	f := Frame{
		Raw:      raw,
		Version:  ver,
		Sender:   raw[4],
		Receiver: raw[5],
		Seq:      binary.LittleEndian.Uint16(raw[6:]),
		Attr:     raw[8],
		CmdSet:   raw[9],
		CmdID:    raw[10],
		Payload:  raw[11 : n-2],
	}
	if CRC16(raw[:n-2]) != binary.LittleEndian.Uint16(raw[n-2:]) {
		return f, ErrCRC16
	}
	return f, nil
}

// Encode builds a frame with correct checksums; tests and fixture generators use it.
func Encode(sender, receiver uint8, seq uint16, attr, cmdSet, cmdID uint8, payload []byte) []byte {
	n := MinFrame + len(payload)
	if n > MaxFrame {
		panic("duml: payload too long for one frame")
	}
	b := make([]byte, n)
	b[0] = Start
	binary.LittleEndian.PutUint16(b[1:], uint16(n)|1<<10)
	b[3] = CRC8(b[:3])
	b[4], b[5] = sender, receiver
	binary.LittleEndian.PutUint16(b[6:], seq)
	b[8], b[9], b[10] = attr, cmdSet, cmdID
	copy(b[11:], payload)
	binary.LittleEndian.PutUint16(b[n-2:], CRC16(b[:n-2]))
	return b
}
