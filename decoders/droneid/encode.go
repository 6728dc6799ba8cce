package droneid

import (
	"encoding/binary"
	"math"
)

// Append encodes r as a DroneID element value (OUI first, no element id or length) in the layout
// Decode reads, and appends it to b. It exists so that tests and lab fixtures can build elements
// of every subcommand and version and check that Decode reads them back exactly; it writes the
// Raw* coordinates, never the degree fields. A v1/v2 record is cut to cut bytes when cut > 0,
// as the firmware memcpy bug does (§4.2).
func Append(b []byte, r *Record, cut int) []byte {
	b = append(b, OUI[0], OUI[1], OUI[2], r.VendorType, r.Unk1, r.Unk2, r.Subcommand)
	start := len(b)
	le := binary.LittleEndian
	serial := func() {
		var s [16]byte
		copy(s[:], r.Serial)
		b = append(b, s[:]...)
	}
	s16 := func(v int16) { b = le.AppendUint16(b, uint16(v)) }
	s32 := func(v int32) { b = le.AppendUint32(b, uint32(v)) }
	switch r.Subcommand {
	case SubTelemetry:
		b = append(b, r.Version)
		b = le.AppendUint16(b, r.Seq)
		b = le.AppendUint16(b, r.State)
		serial()
		s32(r.RawLon)
		s32(r.RawLat)
		switch r.Version {
		case 1:
			s16(r.Altitude)
			s16(r.Height)
			s16(r.VNorth)
			s16(r.VEast)
			s16(r.VUp)
			s16(r.Pitch)
			s16(r.Roll)
			s16(r.Yaw)
			s32(r.RawHomeLon)
			s32(r.RawHomeLat)
		case 2:
			s16(r.Altitude)
			s16(r.Height)
			s16(r.VNorth)
			s16(r.VEast)
			s16(r.VUp)
			s16(r.Yaw)
			b = le.AppendUint64(b, r.AppTimeMs)
			s32(r.RawAppLat)
			s32(r.RawAppLon)
			s32(r.RawHomeLon)
			s32(r.RawHomeLat)
		default:
			return append(b, r.Rest...)
		}
		b = append(b, r.ProductType, r.UUIDLen)
		var u [20]byte
		copy(u[:], r.UUID)
		b = append(b, u[:]...)
		if cut > 0 && start+cut < len(b) {
			b = b[:start+cut]
		}
	case SubPurpose:
		serial()
		if r.PurposeLayout == "ccaa" {
			return append(b, r.Rest...)
		}
		var id [10]byte
		copy(id[:], r.DroneID)
		b = append(b, byte(len(r.DroneID)))
		b = append(b, id[:]...)
		b = append(b, byte(len(r.Purpose)))
		b = append(b, r.Purpose...)
	default:
		b = append(b, r.Rest...)
	}
	return b
}

// RadE7 converts degrees to int32 radians×1e7 with the constant Decode divides by.
func RadE7(deg float64) int32 { return int32(math.Round(deg * RadE7PerDegree)) }
