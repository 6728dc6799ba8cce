// Package mavlink finds MAVLink frames in telemetry logs (.tlog and their legacy variants), raw link
// dumps and network flows, and turns the position-bearing messages into Fixes.
//
// Framing and checksums are done here, with a backtracking framer (mavlink-dataflash-ulog.md §3.2)
// that never lets a false start byte swallow real frames; gomavlib v3.3.1 supplies the
// ardupilotmega dialect: the CRC_EXTRA byte of each message and the decoding of payloads.
package mavlink

import (
	"reflect"
	"strings"
	"unicode"

	"github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// msgInfo is what the framer needs to know of one message id.
type msgInfo struct {
	known    bool
	crcExtra byte
	sizeV1   int // exact payload length of a v1 frame
	name     string
	rw       *message.ReadWriter
	position bool // one of positionMessages
}

// lowInfo covers ids 0–255 (all a v1 frame can carry) without a map lookup.
var (
	lowInfo  [256]msgInfo
	highInfo = map[uint32]*msgInfo{}
)

func init() {
	rw := &dialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		panic("mavlink: ardupilotmega dialect: " + err.Error())
	}
	for _, m := range ardupilotmega.Dialect.Messages {
		id := m.GetID()
		mrw := rw.GetMessage(id)
		info := msgInfo{known: true, crcExtra: mrw.CRCExtra(), rw: mrw, name: messageName(m)}
		// gomavlib does not export the v1 size; writing a zero message gives it.
		info.sizeV1 = len(mrw.Write(reflect.New(reflect.TypeOf(m).Elem()).Interface().(message.Message), false).Payload)
		if id < 256 {
			lowInfo[id] = info
		} else {
			c := info
			highInfo[id] = &c
		}
	}
	for _, m := range positionMessages {
		i := lookup(m.GetID())
		if i == nil || !i.known {
			panic("mavlink: position message " + messageName(m) + " is not in the ardupilotmega dialect")
		}
		i.position = true
	}
}

func lookup(id uint32) *msgInfo {
	if id < 256 {
		return &lowInfo[id]
	}
	return highInfo[id]
}

// MessageName returns the MAVLink name of a message id in the ardupilotmega dialect
// (e.g. "GLOBAL_POSITION_INT"), or "" when the dialect does not know it.
func MessageName(id uint32) string {
	if i := lookup(id); i != nil && i.known {
		return i.name
	}
	return ""
}

// messageName turns gomavlib's Go type name (MessageGpsRawInt) into the XML name (GPS_RAW_INT).
func messageName(m message.Message) string {
	n := strings.TrimPrefix(reflect.TypeOf(m).Elem().Name(), "Message")
	var b strings.Builder
	for i, r := range n {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
