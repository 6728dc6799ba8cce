// Package remoteid decodes drone broadcasts in 802.11 management frames: ASTM F3411 /
// ASD-STAN EN 4709-002 Open Drone ID (ODID) in beacon vendor elements (OUIs FA:0B:BC and the early
// 90:3A:E6) and in Wi-Fi NAN service discovery frames, the French "signalement électronique"
// beacon, and, through package droneid, DJI DroneID. Its LinkDecoder turns every sighting into
// fixes on the broadcast channel.
//
// Layouts follow ../shared/formats/over-the-air.md §5–§6, which cites opendroneid-core-c
// (opendroneid/opendroneid-core-c@beb5639 opendroneid.h, opendroneid.c, wifi.c, odid_wifi.h) and
// the opendroneid Wireshark dissector (opendroneid/wireshark-dissector@551c6bb).
package remoteid

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
)

// MessageSize is the size of every ODID message (§5.1).
const MessageSize = 25

// Message types (byte 0 bits 7–4, §5.1).
const (
	TypeBasicID    = 0x0
	TypeLocation   = 0x1
	TypeAuth       = 0x2
	TypeSelfID     = 0x3
	TypeSystem     = 0x4
	TypeOperatorID = 0x5
	TypePack       = 0xF
)

// epoch2019 is the base of System and Authentication timestamps: 2019-01-01T00:00:00Z (§5.1).
const epoch2019 = 1546300800

// BasicID is message type 0 (§5.2).
type BasicID struct {
	IDType uint8 // 0 none, 1 serial, 2 CAA registration, 3 UTM UUID, 4 session ID
	UAType uint8
	// UASID is the NUL-stripped ID as text when printable, else hex (IDHex set).
	UASID string
	IDHex bool
}

// Location is message type 1 (§5.3). Invalid values are kept as decoded; the Has* methods apply
// the sentinels.
type Location struct {
	Status       uint8
	HeightType   uint8 // 0 above take-off, 1 above ground
	DirectionDeg int   // 361 = unknown
	SpeedH       float64
	SpeedV       float64
	RawLat       int32
	RawLon       int32
	Lat, Lon     float64
	AltBaro      float64 // m; -1000 = unknown
	AltGeo       float64
	Height       float64
	VertAcc      uint8
	HorizAcc     uint8
	BaroAcc      uint8
	SpeedAcc     uint8
	RawTimestamp uint16 // tenths of a second after the full hour; 0xFFFF = unknown
	TSAcc        uint8
}

// Auth is message type 2 (§5.4). Auth carries no position; Data aliases the message.
type Auth struct {
	AuthType  uint8
	Page      uint8
	LastPage  uint8  // page 0 only
	Length    uint8  // page 0 only
	Timestamp uint32 // page 0 only, seconds since 2019-01-01Z
	Data      []byte
}

// SelfID is message type 3: free text that can hold personal data.
type SelfID struct {
	DescType uint8
	Desc     string
}

// System is message type 4: the operator position (§5.5).
type System struct {
	ClassType    uint8
	OpLocType    uint8 // 0 take-off, 1 live GNSS, 2 fixed
	RawOpLat     int32
	RawOpLon     int32
	OpLat, OpLon float64
	AreaCount    uint16
	AreaRadiusM  int
	AreaCeiling  float64
	AreaFloor    float64
	CategoryEU   uint8
	ClassEU      uint8
	OpAltGeo     float64
	Timestamp    uint32 // seconds since 2019-01-01Z; 0 = absent
}

// OperatorID is message type 5.
type OperatorID struct {
	IDType uint8
	ID     string
}

// Message is one decoded 25-byte ODID message; the field named after Type is set.
type Message struct {
	Type       uint8
	Version    uint8
	BasicID    BasicID
	Location   Location
	Auth       Auth
	SelfID     SelfID
	System     System
	OperatorID OperatorID
	// Truncated marks a message cut off by its container; Present is how many bytes were there.
	Truncated bool
	Present   int
}

// ErrMessageShort is returned for a message shorter than 25 bytes.
var ErrMessageShort = errors.New("ODID message shorter than 25 bytes")

// altitude decodes the shared altitude encoding: m = raw×0.5 − 1000 (§5.1).
func altitude(raw uint16) float64 { return float64(raw)*0.5 - 1000 }

// DecodeMessage decodes one 25-byte message into m. Unknown types and nested packs keep only
// Type and Version. Slices in m alias b.
func DecodeMessage(b []byte, m *Message) error {
	*m = Message{}
	if len(b) < MessageSize {
		m.Truncated, m.Present = true, len(b)
		if len(b) > 0 {
			m.Type, m.Version = b[0]>>4, b[0]&0xf
		}
		return ErrMessageShort
	}
	b = b[:MessageSize]
	m.Present = MessageSize
	m.Type, m.Version = b[0]>>4, b[0]&0xf
	le := binary.LittleEndian
	switch m.Type {
	case TypeBasicID:
		m.BasicID = BasicID{IDType: b[1] >> 4, UAType: b[1] & 0xf}
		m.BasicID.UASID, m.BasicID.IDHex = text(b[2:22])
	case TypeLocation:
		l := &m.Location
		l.Status, l.HeightType = b[1]>>4, (b[1]>>2)&1
		ew, mult := (b[1]>>1)&1, b[1]&1
		l.DirectionDeg = int(b[2]) + 180*int(ew)
		if mult == 0 {
			l.SpeedH = float64(b[3]) * 0.25
		} else {
			l.SpeedH = float64(b[3])*0.75 + 255*0.25
		}
		l.SpeedV = float64(int8(b[4])) * 0.5
		l.RawLat, l.RawLon = int32(le.Uint32(b[5:])), int32(le.Uint32(b[9:]))
		l.Lat, l.Lon = float64(l.RawLat)/1e7, float64(l.RawLon)/1e7
		l.AltBaro, l.AltGeo, l.Height = altitude(le.Uint16(b[13:])), altitude(le.Uint16(b[15:])), altitude(le.Uint16(b[17:]))
		l.VertAcc, l.HorizAcc = b[19]>>4, b[19]&0xf
		l.BaroAcc, l.SpeedAcc = b[20]>>4, b[20]&0xf
		l.RawTimestamp = le.Uint16(b[21:])
		l.TSAcc = b[23] & 0xf
	case TypeAuth:
		a := &m.Auth
		a.AuthType, a.Page = b[1]>>4, b[1]&0xf
		if a.Page == 0 {
			a.LastPage, a.Length, a.Timestamp = b[2], b[3], le.Uint32(b[4:])
			a.Data = b[8:25]
		} else {
			a.Data = b[2:25]
		}
	case TypeSelfID:
		m.SelfID.DescType = b[1]
		m.SelfID.Desc, _ = text(b[2:25])
	case TypeSystem:
		s := &m.System
		s.ClassType, s.OpLocType = (b[1]>>2)&7, b[1]&3
		s.RawOpLat, s.RawOpLon = int32(le.Uint32(b[2:])), int32(le.Uint32(b[6:]))
		s.OpLat, s.OpLon = float64(s.RawOpLat)/1e7, float64(s.RawOpLon)/1e7
		s.AreaCount = le.Uint16(b[10:])
		s.AreaRadiusM = int(b[12]) * 10
		s.AreaCeiling, s.AreaFloor = altitude(le.Uint16(b[13:])), altitude(le.Uint16(b[15:]))
		s.CategoryEU, s.ClassEU = b[17]>>4, b[17]&0xf
		s.OpAltGeo = altitude(le.Uint16(b[18:]))
		s.Timestamp = le.Uint32(b[20:])
	case TypeOperatorID:
		m.OperatorID.IDType = b[1]
		m.OperatorID.ID, _ = text(b[2:22])
	}
	return nil
}

// HasPosition reports whether the Location holds a position: lat=lon=0 means none (§5.3).
func (l *Location) HasPosition() bool { return !(l.RawLat == 0 && l.RawLon == 0) }

// HasAltGeo reports whether the geodetic altitude is known (raw 0 decodes to −1000 m).
func (l *Location) HasAltGeo() bool { return l.AltGeo > -1000 }

// Time reconstructs the absolute time of a Location from the capture time: the timestamp counts
// tenths of a second after the full UTC hour; when that lands more than 30 minutes after the
// capture, the previous hour is meant (§5.3). ok is false for the unknown value 0xFFFF or a value
// beyond one hour.
func (l *Location) Time(capture time.Time) (time.Time, bool) {
	if l.RawTimestamp == 0xffff || l.RawTimestamp > 36000 || capture.IsZero() {
		return time.Time{}, false
	}
	t := capture.UTC().Truncate(time.Hour).Add(time.Duration(l.RawTimestamp) * 100 * time.Millisecond)
	if t.Sub(capture) > 30*time.Minute {
		t = t.Add(-time.Hour)
	}
	return t, true
}

// HasOperator reports whether the System message holds an operator position (0/0 = unknown).
func (s *System) HasOperator() bool { return !(s.RawOpLat == 0 && s.RawOpLon == 0) }

// Time returns the System timestamp, ok false when it is absent (0).
func (s *System) Time() (time.Time, bool) {
	if s.Timestamp == 0 {
		return time.Time{}, false
	}
	return time.Unix(epoch2019+int64(s.Timestamp), 0).UTC(), true
}

// OpLocName names the operator location type.
func (s *System) OpLocName() string {
	switch s.OpLocType {
	case 0:
		return "take-off"
	case 1:
		return "live"
	case 2:
		return "fixed"
	}
	return "reserved"
}

// TypeName names a message type as the Wireshark dissector does.
func TypeName(t uint8) string {
	switch t {
	case TypeBasicID:
		return "BasicID"
	case TypeLocation:
		return "Location"
	case TypeAuth:
		return "Auth"
	case TypeSelfID:
		return "SelfID"
	case TypeSystem:
		return "System"
	case TypeOperatorID:
		return "OperatorID"
	case TypePack:
		return "MessagePack"
	}
	return "Reserved"
}

// text strips trailing NULs and returns printable ASCII as text, anything else as hex.
func text(b []byte) (string, bool) {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(b), true
		}
	}
	return string(b), false
}
