package remoteid

import (
	"encoding/binary"
	"math"
)

// The encoders below write the layouts the decoders read (§5, §6). They exist so that tests and
// lab fixtures can build every message type, pack and carrier and check that decoding gives the
// same values back; values that the encoding cannot express exactly are rounded like ODC's
// encoder (opendroneid.c: round lat/lon, truncate altitudes).

func altRaw(m float64) uint16 {
	v := (m + 1000) / 0.5
	if v < 0 {
		return 0
	}
	return uint16(min(v, math.MaxUint16))
}

// AppendMessage appends the 25-byte encoding of m.
func AppendMessage(b []byte, m *Message) []byte {
	var o [MessageSize]byte
	o[0] = m.Type<<4 | m.Version&0xf
	le := binary.LittleEndian
	putText := func(dst []byte, s string) { copy(dst, s) }
	switch m.Type {
	case TypeBasicID:
		o[1] = m.BasicID.IDType<<4 | m.BasicID.UAType&0xf
		putText(o[2:22], m.BasicID.UASID)
	case TypeLocation:
		l := &m.Location
		dir, ew := l.DirectionDeg, 0
		if dir >= 180 {
			dir, ew = dir-180, 1
		}
		sp, mult := l.SpeedH/0.25, 0
		if l.SpeedH > 63.75 {
			sp, mult = (l.SpeedH-63.75)/0.75, 1
		}
		o[1] = l.Status<<4 | (l.HeightType&1)<<2 | byte(ew)<<1 | byte(mult)
		o[2], o[3], o[4] = byte(dir), byte(math.Round(sp)), byte(int8(l.SpeedV/0.5))
		le.PutUint32(o[5:], uint32(l.RawLat))
		le.PutUint32(o[9:], uint32(l.RawLon))
		le.PutUint16(o[13:], altRaw(l.AltBaro))
		le.PutUint16(o[15:], altRaw(l.AltGeo))
		le.PutUint16(o[17:], altRaw(l.Height))
		o[19] = l.VertAcc<<4 | l.HorizAcc&0xf
		o[20] = l.BaroAcc<<4 | l.SpeedAcc&0xf
		le.PutUint16(o[21:], l.RawTimestamp)
		o[23] = l.TSAcc & 0xf
	case TypeAuth:
		a := &m.Auth
		o[1] = a.AuthType<<4 | a.Page&0xf
		if a.Page == 0 {
			o[2], o[3] = a.LastPage, a.Length
			le.PutUint32(o[4:], a.Timestamp)
			copy(o[8:], a.Data)
		} else {
			copy(o[2:], a.Data)
		}
	case TypeSelfID:
		o[1] = m.SelfID.DescType
		putText(o[2:], m.SelfID.Desc)
	case TypeSystem:
		s := &m.System
		o[1] = (s.ClassType&7)<<2 | s.OpLocType&3
		le.PutUint32(o[2:], uint32(s.RawOpLat))
		le.PutUint32(o[6:], uint32(s.RawOpLon))
		le.PutUint16(o[10:], s.AreaCount)
		o[12] = byte(s.AreaRadiusM / 10)
		le.PutUint16(o[13:], altRaw(s.AreaCeiling))
		le.PutUint16(o[15:], altRaw(s.AreaFloor))
		o[17] = s.CategoryEU<<4 | s.ClassEU&0xf
		le.PutUint16(o[18:], altRaw(s.OpAltGeo))
		le.PutUint32(o[20:], s.Timestamp)
	case TypeOperatorID:
		o[1] = m.OperatorID.IDType
		putText(o[2:22], m.OperatorID.ID)
	}
	return append(b, o[:]...)
}

// AppendPack appends a message pack of msgs with protocol version v, declaring declared
// messages (len(msgs) when declared < 0).
func AppendPack(b []byte, v uint8, declared int, msgs []Message) []byte {
	if declared < 0 {
		declared = len(msgs)
	}
	b = append(b, TypePack<<4|v&0xf, MessageSize, byte(declared))
	for i := range msgs {
		b = AppendMessage(b, &msgs[i])
	}
	return b
}

// AppendBeaconElement appends a complete vendor element (id 221, length, OUI, type 0x0D,
// counter, pack) carrying pack; parrot selects the early 90:3A:E6 OUI.
func AppendBeaconElement(b []byte, parrot bool, counter uint8, pack []byte) []byte {
	oui := ouiASTM
	if parrot {
		oui = ouiParrot
	}
	b = append(b, 221, byte(5+len(pack)), oui[0], oui[1], oui[2], 0x0d, counter)
	return append(b, pack...)
}

// AppendNANAction appends a NAN service discovery action frame body carrying an ODID pack, as
// ODC's odid_wifi_build_message_pack_nan_action_frame lays it out.
func AppendNANAction(b []byte, counter uint8, pack []byte) []byte {
	b = append(b, nanActionHeader[:]...)
	info := 1 + len(pack)
	b = append(b, nanAttrServiceDescriptor)
	b = binary.LittleEndian.AppendUint16(b, uint16(10+info))
	b = append(b, ODIDServiceID[:]...)
	b = append(b, 1, 0, 0x10, byte(info), counter)
	b = append(b, pack...)
	b = append(b, nanAttrServiceDescriptorExt, 4, 0, 1, 0, 2, counter)
	return b
}

// AppendFrenchElement appends a French beacon vendor element with the TLVs of f that are marked
// present.
func AppendFrenchElement(b []byte, f *French) []byte {
	var v []byte
	be := binary.BigEndian
	tlv := func(t byte, val []byte) { v = append(append(v, t, byte(len(val))), val...) }
	if f.HasVersion {
		tlv(frVersion, []byte{f.Version})
	}
	if f.Identifier != "" {
		var id [30]byte
		copy(id[:], f.Identifier)
		tlv(frIdentifier, id[:])
	}
	if f.Serial != "" {
		tlv(frSerial, []byte(f.Serial))
	}
	if f.HasPos {
		tlv(frLat, be.AppendUint32(nil, uint32(f.RawLat)))
		tlv(frLon, be.AppendUint32(nil, uint32(f.RawLon)))
	}
	if f.HasAltitude {
		tlv(frAltitude, be.AppendUint16(nil, uint16(f.AltitudeM)))
	}
	if f.HasHeight {
		tlv(frHeight, be.AppendUint16(nil, uint16(f.HeightM)))
	}
	if f.HasTakeoff {
		tlv(frTakeoffLat, be.AppendUint32(nil, uint32(f.RawTakeoffLat)))
		tlv(frTakeoffLon, be.AppendUint32(nil, uint32(f.RawTakeoffLon)))
	}
	if f.HasSpeed {
		tlv(frSpeed, []byte{f.SpeedMS})
	}
	if f.HasCourse {
		tlv(frTrueCourse, be.AppendUint16(nil, f.CourseDeg))
	}
	b = append(b, 221, byte(4+len(v)), ouiFrench[0], ouiFrench[1], ouiFrench[2], 0x01)
	return append(b, v...)
}
