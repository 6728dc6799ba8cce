package remoteid

import (
	"encoding/binary"
	"errors"
)

// The French "signalement électronique" beacon element (arrêté du 27 décembre 2019): vendor OUI
// 6A:5C:35, type 0x01, then TLVs `type u8 | length u8 | value` with big-endian values
// (over-the-air.md §6; ODC wifi.c frdid_build, sxjack/unix_rid_capture france.c).

// French TLV types.
const (
	frVersion    = 0x01
	frIdentifier = 0x02
	frSerial     = 0x03
	frLat        = 0x04
	frLon        = 0x05
	frAltitude   = 0x06
	frHeight     = 0x07
	frTakeoffLat = 0x08
	frTakeoffLon = 0x09
	frSpeed      = 0x0a
	frTrueCourse = 0x0b
	frDegreeDiv  = 1e5 // values are degrees × 1e5; dividing rounds once, to the nearest float64
)

// PrecisionDegE5 is the half-cell in metres of a degrees×1e5 coordinate (WGS84 mean sphere).
const PrecisionDegE5 = 0.5e-5 * 6371008.8 * 3.141592653589793 / 180

// French is a decoded French beacon element. Has* fields say which TLVs were present with a
// usable length.
type French struct {
	Version       uint8
	HasVersion    bool
	Identifier    string
	Serial        string
	RawLat        int32
	RawLon        int32
	HasPos        bool
	Lat, Lon      float64
	AltitudeM     int16
	HasAltitude   bool
	HeightM       int16
	HasHeight     bool
	RawTakeoffLat int32
	RawTakeoffLon int32
	HasTakeoff    bool
	TakeoffLat    float64
	TakeoffLon    float64
	SpeedMS       uint8
	HasSpeed      bool
	CourseDeg     uint16
	HasCourse     bool
	// BadTLVs counts TLVs whose length did not fit their type or ran past the element.
	BadTLVs int
}

// ErrFrenchShort is returned when the element ends inside a TLV.
var ErrFrenchShort = errors.New("French beacon TLV runs past its element")

// DecodeFrench decodes the TLVs of a French beacon element (the bytes after OUI and type). Unknown
// types are skipped by their length; a TLV whose length does not match its type is counted in
// BadTLVs and skipped.
func DecodeFrench(b []byte, f *French) error {
	*f = French{}
	var lat, lon, tlat, tlon bool
	for len(b) >= 2 {
		t, l := b[0], int(b[1])
		if 2+l > len(b) {
			f.BadTLVs++
			return ErrFrenchShort
		}
		v := b[2 : 2+l]
		b = b[2+l:]
		s32 := func() (int32, bool) {
			if l != 4 {
				f.BadTLVs++
				return 0, false
			}
			return int32(binary.BigEndian.Uint32(v)), true
		}
		s16 := func() (int16, bool) {
			if l != 2 {
				f.BadTLVs++
				return 0, false
			}
			return int16(binary.BigEndian.Uint16(v)), true
		}
		switch t {
		case frVersion:
			if l >= 1 {
				f.Version, f.HasVersion = v[0], true
			}
		case frIdentifier:
			f.Identifier, _ = text(v)
		case frSerial:
			f.Serial, _ = text(v)
		case frLat:
			f.RawLat, lat = s32()
		case frLon:
			f.RawLon, lon = s32()
		case frAltitude:
			f.AltitudeM, f.HasAltitude = s16()
		case frHeight:
			f.HeightM, f.HasHeight = s16()
		case frTakeoffLat:
			f.RawTakeoffLat, tlat = s32()
		case frTakeoffLon:
			f.RawTakeoffLon, tlon = s32()
		case frSpeed:
			if l >= 1 {
				f.SpeedMS, f.HasSpeed = v[0], true
			}
		case frTrueCourse:
			var c int16
			c, f.HasCourse = s16()
			f.CourseDeg = uint16(c)
		}
	}
	if lat && lon {
		f.HasPos = !(f.RawLat == 0 && f.RawLon == 0)
		f.Lat, f.Lon = float64(f.RawLat)/frDegreeDiv, float64(f.RawLon)/frDegreeDiv
	}
	if tlat && tlon {
		f.HasTakeoff = !(f.RawTakeoffLat == 0 && f.RawTakeoffLon == 0)
		f.TakeoffLat, f.TakeoffLon = float64(f.RawTakeoffLat)/frDegreeDiv, float64(f.RawTakeoffLon)/frDegreeDiv
	}
	return nil
}
