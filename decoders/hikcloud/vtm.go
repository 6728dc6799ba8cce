package hikcloud

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/url"
)

// VTM is the app name of the EZVIZ VTM/VTDU stream relay protocol, and VTMPort the port of the
// vtm*.ezvizlife.com relays in the ysproto URLs the source shows (client/streamurl.go:
// "ysproto://100.100.100.100:8554"); other ports are handed out at run time.
const (
	VTM     = "hik-vtm"
	VTMPort = 8554
)

// vtmHeader is the length of the VTM header (protocol.md): magic 0x24, channel, length (big
// endian, of the body), sequence, message code.
const vtmHeader = 8

// vtmMagic is the first byte of every VTM packet ('$', as RTSP interleaved frames, RFC 2326
// §10.12, which VTM resembles but extends with a sequence and a message code).
const vtmMagic = 0x24

// VTM channels (readme.md, client/vtmPacket.go).
const (
	ChanMessage          = 0x00 // unencrypted message (protobuf body)
	ChanStream           = 0x01 // unencrypted stream (MPEG-PS or RTP)
	ChanEncryptedMessage = 0x0a
	ChanEncryptedStream  = 0x0b
)

// vtmCodes names the message codes of client/messageCodes.go (0x12c … 0x14a).
var vtmCodes = map[uint16]string{
	0x12c: "GetVtduInfoReq", 0x12d: "GetVtduInfoRsp", 0x12e: "StartStreamReq", 0x12f: "StartStreamRsp",
	0x130: "StopStreamReq", 0x131: "StopStreamRsp", 0x132: "KeepaliveReq", 0x133: "KeepaliveRsp",
	0x134: "VtmStreamNotify", 0x135: "PeerStreamReq", 0x136: "PeerStreamRsp",
	0x137: "GetPlaybackVtduReq", 0x138: "GetPlaybackVtduRsp", 0x139: "StartPlaybackReq",
	0x13a: "StartPlaybackRsp", 0x13b: "StreamInfoReq", 0x13c: "StreamInfoRsp",
	0x13d: "StreamInfoNotify", 0x13e: "ShareDevTimeoutNotify", 0x13f: "StreamModifySpeedReq",
	0x140: "StreamModifySpeedRsp", 0x141: "StreamSeekReq", 0x142: "StreamSeekRsp",
	0x143: "StreamContinueReq", 0x144: "StreamContinueRsp", 0x145: "StreamPauseReq",
	0x146: "StreamPauseRsp", 0x147: "StreamResumeReq", 0x148: "StreamResumeRsp",
	0x149: "LinkInfoNotify", 0x14a: "VtmStreamEcdhNotify",
}

// VTMMessage is the header of one VTM packet and what its body names.
type VTMMessage struct {
	Channel  byte
	Length   int // body length from the header
	Sequence uint16
	Code     uint16
	CodeName string // "" for a code the source does not list
	// StreamURL is the "ysproto://" URL a StreamInfoReq carries (bounded to maxURL bytes), and
	// Device the serial number its dev= parameter names: a viewer asking the relay for a
	// camera's stream sends the camera's serial number off the segment.
	StreamURL string
	Device    string
}

// Error says why a payload is not what the parser expected, and at which offset.
type Error struct {
	Offset int
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("hikcloud: offset %d: %s", e.Offset, e.Reason) }

// LooksLikeVTM reports whether a TCP payload starts with an unencrypted VTM message: magic, the
// message channel, a message code the source lists, a body length the payload holds exactly (or
// that another packet follows), and a body that starts with a protobuf field key. A payload on an
// encrypted or stream channel is not claimed: the source does not say what their headers carry
// beyond the channel byte, and a flow's first payload is a message. RTSP interleaved RTP ('$',
// channel 0, length, then an RTP header whose version bits are 10) shares the first four bytes;
// a sequence whose top bits read as RTP version 2 is refused so that an RTSP stream caught
// mid-flow is not taken for VTM.
func LooksLikeVTM(b []byte) bool {
	if len(b) < vtmHeader+2 || b[0] != vtmMagic || b[1] != ChanMessage || b[4]&0xc0 == 0x80 {
		return false
	}
	if _, ok := vtmCodes[binary.BigEndian.Uint16(b[6:8])]; !ok {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < 2 || vtmHeader+n > len(b) || (vtmHeader+n < len(b) && b[vtmHeader+n] != vtmMagic) {
		return false
	}
	return protobufKey(b[vtmHeader])
}

// protobufKey reports whether c can start a protobuf message: a one-byte field key with a field
// number of 1 to 15 and a wire type of varint, 64-bit, length-delimited or 32-bit
// (protobuf.dev/programming-guides/encoding).
func protobufKey(c byte) bool {
	switch c & 7 {
	case 0, 1, 2, 5:
		return c>>3 >= 1 && c < 0x80
	}
	return false
}

// maxURL bounds the stream URL read from a StreamInfoReq.
const maxURL = 2048

// ParseVTM reads the header of the VTM packet at the start of b and, for a StreamInfoReq, the
// stream URL of its body. A body the payload does not hold in full is read as far as it goes.
func ParseVTM(b []byte) (*VTMMessage, error) {
	if len(b) < vtmHeader {
		return nil, &Error{0, fmt.Sprintf("%d bytes, short of the %d-byte VTM header", len(b), vtmHeader)}
	}
	if b[0] != vtmMagic {
		return nil, &Error{0, fmt.Sprintf("magic 0x%02x, want 0x24", b[0])}
	}
	switch b[1] {
	case ChanMessage, ChanStream, ChanEncryptedMessage, ChanEncryptedStream:
	default:
		return nil, &Error{1, fmt.Sprintf("unknown channel 0x%02x", b[1])}
	}
	m := &VTMMessage{Channel: b[1], Length: int(binary.BigEndian.Uint16(b[2:4])),
		Sequence: binary.BigEndian.Uint16(b[4:6]), Code: binary.BigEndian.Uint16(b[6:8])}
	if m.Channel != ChanMessage {
		return m, nil
	}
	m.CodeName = vtmCodes[m.Code]
	body := b[vtmHeader:min(len(b), vtmHeader+m.Length)]
	if i := bytes.Index(body, []byte("ysproto://")); i >= 0 {
		u := body[i:]
		end := urlLength(body, i)
		if end < len("ysproto://") || end > len(u) {
			// No usable length prefix: the URL runs to the first byte outside printable ASCII.
			end = 0
			for end < len(u) && u[end] > 0x20 && u[end] < 0x7f {
				end++
			}
		}
		m.StreamURL = string(u[:min(end, maxURL)])
		if pu, err := url.Parse(m.StreamURL); err == nil {
			m.Device = pu.Query().Get("dev")
		}
	}
	return m, nil
}

// urlLength reads the protobuf length prefix in front of the string field that starts at body[i]:
// one varint byte for a string shorter than 128 bytes, two for one shorter than 16384. It returns
// -1 when there is no room for one.
func urlLength(body []byte, i int) int {
	switch {
	case i >= 3 && body[i-2]&0x80 != 0 && body[i-1]&0x80 == 0:
		return int(body[i-2]&0x7f) | int(body[i-1])<<7
	case i >= 2 && body[i-1]&0x80 == 0:
		return int(body[i-1])
	}
	return -1
}
