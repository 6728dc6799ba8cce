package duml

import (
	"encoding/binary"
	"math"

	"droneaudit/geo"
)

// Command set and ids of the position-bearing frames (dji-network.md §3.4).
const (
	SetFlightControl = 0x03
	IDOSDGeneral     = 0x43
	IDOSDHome        = 0x44
)

// OSD is the flight controller's general data (0x03/0x43), dji-network.md §3.5.
type OSD struct {
	Lat, Lon   float64 // degrees
	HeightM    float64 // above take-off
	VelN, VelE float64 // ground speed X/Y, m/s
	VelD       float64
	PitchDeg   float64
	RollDeg    float64
	YawDeg     float64
	CtrlState  uint32
	Satellites uint8
	Battery    uint8
}

// osdMinPayload is the base payload length; newer firmware appends 5 bytes.
const osdMinPayload = 50

// DecodeOSD decodes an OSD general data payload. ok is false when the payload is too short.
func DecodeOSD(p []byte) (o OSD, ok bool) {
	if len(p) < osdMinPayload {
		return o, false
	}
	le := binary.LittleEndian
	// Longitude comes first; both are float64 radians (dji-write-kml.lua multiplies by 180/π).
	o.Lon = math.Float64frombits(le.Uint64(p[0:])) * 180 / math.Pi
	o.Lat = math.Float64frombits(le.Uint64(p[8:])) * 180 / math.Pi
	o.HeightM = float64(int16(le.Uint16(p[16:]))) / 10
	o.VelN = float64(int16(le.Uint16(p[18:]))) / 10
	o.VelE = float64(int16(le.Uint16(p[20:]))) / 10
	o.VelD = float64(int16(le.Uint16(p[22:]))) / 10
	o.PitchDeg = float64(int16(le.Uint16(p[24:]))) / 10
	o.RollDeg = float64(int16(le.Uint16(p[26:]))) / 10
	o.YawDeg = float64(int16(le.Uint16(p[28:]))) / 10
	o.CtrlState = le.Uint32(p[32:])
	o.Satellites = p[36]
	o.Battery = p[40]
	return o, true
}

// Home is the home point (0x03/0x44), dji-network.md §3.6.
type Home struct {
	Lat, Lon float64 // degrees
	AltM     float64
	State    uint16
	Set      bool // false when the firmware's "not set" sentinel (800000.0 rad) was seen
}

// DecodeHome decodes an OSD home point payload (34- or 68-byte variants).
func DecodeHome(p []byte) (h Home, ok bool) {
	if len(p) < 22 {
		return h, false
	}
	le := binary.LittleEndian
	lonR := math.Float64frombits(le.Uint64(p[0:]))
	latR := math.Float64frombits(le.Uint64(p[8:]))
	// The firmware writes 800000.0 when no home is recorded: any value beyond 2π is "not set".
	if math.Abs(lonR) > 2*math.Pi || math.Abs(latR) > 2*math.Pi || math.IsNaN(lonR) || math.IsNaN(latR) {
		return h, true
	}
	h.Lon, h.Lat = lonR*180/math.Pi, latR*180/math.Pi
	// The dissector documents decimetres; dji-log-parser divides the same field by 10.
	h.AltM = float64(math.Float32frombits(le.Uint32(p[16:]))) / 10
	h.State = le.Uint16(p[20:])
	h.Set = true
	return h, true
}

// precisionF64Rad is the half-ulp of a float64 radian coordinate: far below a millimetre.
const precisionF64Rad = 1e-6

// Fixes returns the positions a checked frame carries, with ev as the evidence of each; frames of
// other commands and "no fix" values give none. noFix reports a position frame that carried no
// position (so the caller can count it).
func Fixes(f *Frame, ev geo.Evidence) (fixes []geo.Fix, noFix bool) {
	if f.CmdSet != SetFlightControl {
		return nil, false
	}
	ev.Encoding = "float64 radians"
	switch f.CmdID {
	case IDOSDGeneral:
		o, ok := DecodeOSD(f.Payload)
		if !ok {
			return nil, false
		}
		ev.Message = "OSD_GENERAL (0x03/0x43)"
		fx := geo.Fix{Lat: o.Lat, Lon: o.Lon, HasAlt: true, AltM: o.HeightM, AltRef: "take-off",
			Role: geo.RoleAircraft, PrecisionM: precisionF64Rad, Evidence: ev}
		if !fx.Valid() {
			return nil, true
		}
		return []geo.Fix{fx}, false
	case IDOSDHome:
		h, ok := DecodeHome(f.Payload)
		if !ok {
			return nil, false
		}
		ev.Message = "OSD_HOME (0x03/0x44)"
		fx := geo.Fix{Lat: h.Lat, Lon: h.Lon, HasAlt: h.Set, AltM: h.AltM, AltRef: "msl",
			Role: geo.RoleHome, PrecisionM: precisionF64Rad, Evidence: ev}
		if !h.Set || !fx.Valid() {
			return nil, true
		}
		return []geo.Fix{fx}, false
	}
	return nil, false
}
