// Package droneid decodes DJI DroneID, the vendor-specific 802.11 information element (OUI
// 26:37:12) that DJI Wi-Fi-link aircraft put into their beacons: serial number, aircraft position,
// home point and, in version 2, the pilot's (app's) position, all readable by any receiver in range.
//
// Layouts follow ../shared/formats/over-the-air.md §4, which cites Kismet
// (kismetwireless/kismet@328b98f dot11_ie_221_dji_droneid.{h,cc}, .ksy), RUB-SysSec/DroneSecurity
// (droneid_packet.py) and real Mavic Air bytes (llorencroma/DJIDroneIDspoofer replay_mavic.py).
package droneid

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// OUI is DJI's locally administered DroneID OUI; it is matched literally (never in the IEEE registry).
var OUI = [3]byte{0x26, 0x37, 0x12}

// Subcommands at IE offset 6 (§4.1).
const (
	SubBlank     = 0x00 // blank frames of the Mavic V01.04.01xx/02xx firmware bug (§4.6)
	SubTelemetry = 0x10 // flight telemetry ("flight registration")
	SubPurpose   = 0x11 // flight purpose / "license"
)

// RadE7PerDegree converts int32 radians×1e7 to degrees by division: 174533.0 ≈ 1e7·π/180 is the
// constant every public decoder uses (Kismet, DroneSecurity), so positions match theirs exactly.
const RadE7PerDegree = 174533.0

// PrecisionRadE7 is the half-cell, in metres, of an int32 radians×1e7 coordinate: 0.5e-7 rad on
// the WGS84 mean sphere (R = 6371008.8 m), about 0.32 m.
const PrecisionRadE7 = 0.5e-7 * 6371008.8

// Fields says which parts of a telemetry record the element was long enough to hold; a firmware
// memcpy bug cuts v1 records (§4.2), and everything after the cut is absent.
type Fields uint16

// Field bits.
const (
	HasSeq Fields = 1 << iota
	HasState
	HasSerial
	HasPosition // drone lon/lat bytes present
	HasAltitude
	HasHeight
	HasVelocity
	HasAttitude // v1 pitch/roll/yaw, v2 yaw
	HasAppTime  // v2
	HasApp      // v2 app (pilot) lat/lon bytes present
	HasHome
	HasProduct
	HasUUID
)

// State bits of state_info (§4.4; Kismet's map, confirmed by the real Mavic Air element).
const (
	StateSerialValid    = 0x0001
	StatePrivacyOff     = 0x0002 // private mode disabled
	StateHomeSet        = 0x0004
	StateUUIDSet        = 0x0008
	StateMotorsOn       = 0x0010
	StateInAir          = 0x0020
	StateGPSValid       = 0x0040
	StateAltitudeValid  = 0x0080
	StateHeightValid    = 0x0100
	StateHVelocityValid = 0x0200
	StateVUpValid       = 0x0400
	StateAttitudeValid  = 0x0800
)

// SerialPlaceholder is what DJI firmware writes when it withholds the serial (§4.6).
const SerialPlaceholder = "SecureStorage?"

// Record is one decoded DroneID element. Raw coordinates are kept beside the degrees so that the
// evidence shows the source unit.
type Record struct {
	VendorType byte // IE offset 3: 0x58 in every sample; recorded, never checked (§4.1)
	Unk1, Unk2 byte // IE offsets 4, 5: 0x62 0x13 in every sample
	Subcommand byte
	Fields     Fields

	Version uint8 // telemetry record version: 1, 2, or unknown
	Seq     uint16
	State   uint16
	// Serial is the NUL-stripped serial, hex-rendered when not printable (SerialHex set).
	Serial    string
	SerialHex bool

	RawLon, RawLat         int32
	Lat, Lon               float64
	Altitude, Height       int16 // s16 at r+29 and r+31; unit unresolved (§11), kept raw
	VNorth, VEast, VUp     int16 // raw (cm/s in spoofers)
	Pitch, Roll, Yaw       int16 // centi-degrees; v2 carries yaw only
	AppTimeMs              uint64
	RawAppLat, RawAppLon   int32
	AppLat, AppLon         float64
	RawHomeLon, RawHomeLat int32
	HomeLat, HomeLon       float64
	ProductType            uint8
	UUIDLen                uint8
	UUID                   []byte // aliases the element

	// Flight-purpose records (subcommand 0x11, §4.7).
	PurposeLayout string // "ccaa" (magic after the serial, kept raw) or "kismet"
	DroneID       string
	Purpose       string // user-entered text, reported verbatim
	Rest          []byte // undecoded remainder, aliases the element

	Blank bool // subcommand 0x00 with the first 32 record bytes zero
}

// Errors of Decode.
var (
	ErrNotDroneID = errors.New("not a DJI DroneID element")
	ErrShort      = errors.New("DroneID element shorter than its header")
)

// Decode decodes a DroneID element value (the bytes after the element id and length, OUI first)
// into r. Slices in r alias ie. Fields the element is too short to hold are left absent (see
// r.Fields); only a missing OUI or header is an error.
func Decode(ie []byte, r *Record) error {
	*r = Record{}
	if len(ie) < 3 || ie[0] != OUI[0] || ie[1] != OUI[1] || ie[2] != OUI[2] {
		return ErrNotDroneID
	}
	if len(ie) < 7 {
		return ErrShort
	}
	r.VendorType, r.Unk1, r.Unk2, r.Subcommand = ie[3], ie[4], ie[5], ie[6]
	rec := ie[7:]
	switch r.Subcommand {
	case SubTelemetry:
		r.decodeTelemetry(rec)
	case SubPurpose:
		r.decodePurpose(rec)
	case SubBlank:
		r.Blank = len(rec) >= 32 && allZero(rec[:32])
		r.Rest = rec
	default:
		r.Rest = rec
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// rad converts radians×1e7 to degrees.
func rad(v int32) float64 { return float64(v) / RadE7PerDegree }

func (r *Record) decodeTelemetry(b []byte) {
	le := binary.LittleEndian
	if len(b) < 1 {
		return
	}
	r.Version = b[0]
	if len(b) >= 3 {
		r.Fields |= HasSeq
		r.Seq = le.Uint16(b[1:])
	}
	if len(b) >= 5 {
		r.Fields |= HasState
		r.State = le.Uint16(b[3:])
	}
	if len(b) >= 21 {
		r.Fields |= HasSerial
		r.Serial, r.SerialHex = text(b[5:21])
	}
	if len(b) >= 29 {
		r.Fields |= HasPosition
		r.RawLon, r.RawLat = int32(le.Uint32(b[21:])), int32(le.Uint32(b[25:]))
		r.Lon, r.Lat = rad(r.RawLon), rad(r.RawLat)
	}
	if r.Version != 1 && r.Version != 2 {
		// Unknown versions share only the prefix up to the position (§4.3 decoder rule).
		if len(b) > 29 {
			r.Rest = b[29:]
		}
		return
	}
	s16 := func(off int) int16 { return int16(le.Uint16(b[off:])) }
	if len(b) >= 31 {
		r.Fields |= HasAltitude
		r.Altitude = s16(29)
	}
	if len(b) >= 33 {
		r.Fields |= HasHeight
		r.Height = s16(31)
	}
	if len(b) >= 39 {
		r.Fields |= HasVelocity
		r.VNorth, r.VEast, r.VUp = s16(33), s16(35), s16(37)
	}
	var home, product int
	if r.Version == 1 {
		// v1 (§4.2): pitch, roll, yaw, home lon, home lat, product, uuid_len, uuid.
		if len(b) >= 45 {
			r.Fields |= HasAttitude
			r.Pitch, r.Roll, r.Yaw = s16(39), s16(41), s16(43)
		}
		home, product = 45, 53
	} else {
		// v2 (§4.3): yaw, app GPS time, app lat then lon, home lon then lat, product, uuid.
		if len(b) >= 41 {
			r.Fields |= HasAttitude
			r.Yaw = s16(39)
		}
		if len(b) >= 49 {
			r.Fields |= HasAppTime
			r.AppTimeMs = le.Uint64(b[41:])
		}
		if len(b) >= 57 {
			r.Fields |= HasApp
			r.RawAppLat, r.RawAppLon = int32(le.Uint32(b[49:])), int32(le.Uint32(b[53:]))
			r.AppLat, r.AppLon = rad(r.RawAppLat), rad(r.RawAppLon)
		}
		home, product = 57, 65
	}
	if len(b) >= home+8 {
		r.Fields |= HasHome
		r.RawHomeLon, r.RawHomeLat = int32(le.Uint32(b[home:])), int32(le.Uint32(b[home+4:]))
		r.HomeLon, r.HomeLat = rad(r.RawHomeLon), rad(r.RawHomeLat)
	}
	if len(b) >= product+1 {
		r.Fields |= HasProduct
		r.ProductType = b[product]
	}
	if len(b) >= product+2 {
		r.Fields |= HasUUID
		r.UUIDLen = b[product+1]
		// Kismet reads uuid_len bytes, the .ksy a fixed 20: read min(uuid_len, 20, remaining).
		u := b[product+2:]
		n := min(int(r.UUIDLen), 20, len(u))
		r.UUID = u[:n]
	}
}

func (r *Record) decodePurpose(b []byte) {
	if len(b) < 16 {
		r.Rest = b
		return
	}
	r.Fields |= HasSerial
	r.Serial, r.SerialHex = text(b[:16])
	b = b[16:]
	if len(b) >= 2 && b[0] == 0xcc && b[1] == 0xaa {
		// Real Mavic Air and OcuSync licence packets carry 0xAACC and a version here, not
		// Kismet's lengths (§4.7): keep the rest raw.
		r.PurposeLayout, r.Rest = "ccaa", b
		return
	}
	// Kismet layout: drone_id_len u8, drone_id[10], purpose_len u8, purpose (to the end).
	r.PurposeLayout = "kismet"
	if len(b) < 1 {
		return
	}
	n := min(int(b[0]), 10, len(b)-1)
	r.DroneID, _ = text(b[1 : 1+n])
	if len(b) < 12 {
		return
	}
	p := b[12:]
	n = min(int(b[11]), len(p))
	r.Purpose, _ = text(p[:n])
}

// text strips trailing NULs and renders printable ASCII as a string, anything else as hex.
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

// SerialValid reports whether the record carries a serial that identifies the aircraft: the
// state bit says so (telemetry) or the record is a flight-purpose record, and the serial is
// neither empty nor DJI's "withheld" placeholder.
func (r *Record) SerialValid() bool {
	if r.Fields&HasSerial == 0 || r.Serial == "" || r.SerialWithheld() {
		return false
	}
	return r.Subcommand == SubPurpose || r.State&StateSerialValid != 0
}

// SerialWithheld reports the "SecureStorage?" placeholder.
func (r *Record) SerialWithheld() bool {
	return strings.TrimRight(r.Serial, "\x00") == SerialPlaceholder
}

// DronePosition reports whether the record holds an aircraft position the aircraft calls valid:
// present, not 0/0, and the GPS-valid state bit set (§4.4). A position with the bit clear is
// reported by Anomalies ("gps_flag_clear") and by HasDroneBytes; it was broadcast all the same,
// so the link decoder still emits it, marked as such.
func (r *Record) DronePosition() bool { return r.HasDroneBytes() && r.State&StateGPSValid != 0 }

// HasDroneBytes reports whether a non-zero aircraft position is present, whatever the state bits.
func (r *Record) HasDroneBytes() bool {
	return r.Fields&HasPosition != 0 && !(r.RawLat == 0 && r.RawLon == 0)
}

// AppPosition reports whether the record holds a pilot (app) position that is not 0/0. No state
// bit covers it: the real Mavic Air element broadcasts it with the aircraft's GPS invalid (§4.8).
func (r *Record) AppPosition() bool {
	return r.Fields&HasApp != 0 && !(r.RawAppLat == 0 && r.RawAppLon == 0)
}

// HomePosition reports whether the record holds a home point that counts: present, not 0/0, and
// the home-set state bit (0x0004) set.
func (r *Record) HomePosition() bool { return r.HasHomeBytes() && r.State&StateHomeSet != 0 }

// HasHomeBytes reports whether a non-zero home point is present, whatever the state bits.
func (r *Record) HasHomeBytes() bool {
	return r.Fields&HasHome != 0 && !(r.RawHomeLat == 0 && r.RawHomeLon == 0)
}

// Anomalies lists the evidence-quality and spoof indicators of the record (§4.4, §4.6, §8.3).
func (r *Record) Anomalies() []string {
	var a []string
	if r.Blank {
		a = append(a, "dji_blank_frame")
	}
	if r.Subcommand == SubTelemetry {
		if r.Version != 1 && r.Version != 2 {
			a = append(a, "unknown_version")
		}
		if r.HasDroneBytes() && r.State&StateGPSValid == 0 {
			a = append(a, "gps_flag_clear")
		}
		if r.HasHomeBytes() && r.State&StateHomeSet == 0 {
			a = append(a, "home_flag_clear")
		}
		if r.Fields&HasProduct != 0 && ProductName(r.ProductType) == "" {
			a = append(a, "unknown_product_type")
		}
		if r.Fields&HasUUID == 0 && (r.Version == 1 || r.Version == 2) {
			a = append(a, "record_cut_short")
		}
	}
	if r.SerialHex {
		a = append(a, "serial_not_printable")
	}
	if r.SerialWithheld() {
		a = append(a, "serial_withheld")
	}
	return a
}

// products maps product_type to a model name (§4.5: Kismet product_type_str, DroneSecurity).
var products = map[uint8]string{
	1: "Inspire 1", 2: "Phantom 3 series", 3: "Phantom 3 series", 4: "Phantom 3 Standard", 5: "M100",
	6: "ACEONE", 7: "WKM", 8: "NAZA", 9: "A2", 10: "A3", 11: "Phantom 4", 12: "MG1", 14: "M600",
	15: "Phantom 3 4K", 16: "Mavic Pro", 17: "Inspire 2", 18: "Phantom 4 Pro", 20: "N2", 21: "Spark",
	23: "M600 Pro", 24: "Mavic Air", 25: "M200", 26: "Phantom 4 series", 27: "Phantom 4 Advanced",
	28: "M210", 30: "M210 RTK", 31: "A3_AG", 32: "MG2", 34: "MG1A", 35: "Phantom 4 RTK",
	36: "Phantom 4 Pro V2.0", 38: "MG1P", 40: "MG1P-RTK", 41: "Mavic 2", 44: "M200 V2 series",
	51: "Mavic 2 Enterprise", 53: "Mavic Mini", 58: "Mavic Air 2", 59: "P4 Multispectral",
	60: "M300 RTK", 61: "DJI FPV", 63: "Mini 2", 64: "Agras T10", 65: "Agras T30", 66: "Air 2S",
	67: "M30", 68: "Mavic 3", 69: "Mavic 2 Enterprise Advanced", 70: "Mini SE",
}

// ProductName returns the model of a product_type, or "" when the value is not in the table.
func ProductName(t uint8) string { return products[t] }

// Model returns the product name, or "Unknown (n)" for values outside the table.
func (r *Record) Model() string {
	if r.Fields&HasProduct == 0 {
		return ""
	}
	if n := ProductName(r.ProductType); n != "" {
		return n
	}
	return fmt.Sprintf("Unknown (%d)", r.ProductType)
}
