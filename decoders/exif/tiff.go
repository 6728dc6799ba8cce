package exif

import "encoding/binary"

// GPS is a position found in an EXIF GPS IFD.
type GPS struct {
	Lat, Lon float64
	HasAlt   bool
	AltM     float64 // metres above (negative: below) sea level
	// PrecisionM is half the ground distance of one unit of the latitude's seconds rational
	// (one arc-second is about 30.9 m): the precision the writer kept.
	PrecisionM float64
	// Offset is where the GPS IFD starts, TIFFOffset where the TIFF header starts: offsets in
	// the bytes handed to JPEGGPS, or in the TIFF data for TIFFGPS (TIFFOffset 0).
	Offset, TIFFOffset int64
}

// TIFF tags and field types (TIFF 6.0 §2, CIPA DC-008 §4.6.2, §4.6.6).
const (
	TagGPSIFD    = 0x8825
	TagLatRef    = 1
	TagLat       = 2
	TagLonRef    = 3
	TagLon       = 4
	TagAltRef    = 5
	TagAlt       = 6
	TypeByte     = 1
	TypeASCII    = 2
	TypeLong     = 4
	TypeRational = 5
	typeIFD      = 13
	// maxIFDEntries bounds the entries read of one IFD: real GPS IFDs hold about 30.
	maxIFDEntries = 1024
)

// arcSecondM is the length of one arc-second of latitude in metres (WGS84 mean).
const arcSecondM = 30.87

// tiff is a bounded view of the TIFF structure inside an APP1 segment.
type tiff struct {
	b  []byte
	bo binary.ByteOrder
}

// TIFFGPS reads the GPS IFD of TIFF data (the bytes after "Exif\0\0"). Error offsets are in b.
func TIFFGPS(b []byte) (g GPS, found bool, err error) {
	if len(b) < 8 {
		return g, false, &Error{0, "EXIF TIFF header cut short"}
	}
	t := tiff{b: b}
	switch string(b[:2]) {
	case "II":
		t.bo = binary.LittleEndian
	case "MM":
		t.bo = binary.BigEndian
	default:
		return g, false, &Error{0, "EXIF byte order mark is neither II nor MM"}
	}
	if t.bo.Uint16(b[2:]) != 42 {
		return g, false, &Error{2, "EXIF TIFF magic is not 42"}
	}
	ifd0 := t.bo.Uint32(b[4:])
	var gpsOff uint32
	var ok bool
	t.entries(ifd0, func(tag, typ uint16, count uint32, val []byte) {
		if tag == TagGPSIFD && (typ == TypeLong || typ == typeIFD) && count == 1 {
			gpsOff, ok = t.bo.Uint32(val), true
		}
	})
	if !ok || gpsOff == ifd0 { // a GPS IFD that is IFD0 again is a loop, not a position
		return g, false, nil
	}
	var latRef, lonRef byte
	var lat, lon []float64
	var altRef byte
	var alt []float64
	var secDen uint32
	t.entries(gpsOff, func(tag, typ uint16, count uint32, val []byte) {
		switch {
		case tag == TagLatRef && typ == TypeASCII:
			latRef = val[0]
		case tag == TagLonRef && typ == TypeASCII:
			lonRef = val[0]
		case tag == TagAltRef && typ == TypeByte:
			altRef = val[0]
		case tag == TagLat && typ == TypeRational && count == 3:
			lat = t.rationals(val, 3)
			if lat != nil {
				secDen = t.bo.Uint32(val[20:])
			}
		case tag == TagLon && typ == TypeRational && count == 3:
			lon = t.rationals(val, 3)
		case tag == TagAlt && typ == TypeRational && count == 1:
			alt = t.rationals(val, 1)
		}
	})
	if lat == nil || lon == nil {
		return g, false, nil
	}
	g.Offset = int64(gpsOff)
	g.PrecisionM = arcSecondM / 2 / float64(secDen)
	g.Lat = lat[0] + lat[1]/60 + lat[2]/3600
	g.Lon = lon[0] + lon[1]/60 + lon[2]/3600
	if latRef == 'S' {
		g.Lat = -g.Lat
	}
	if lonRef == 'W' {
		g.Lon = -g.Lon
	}
	if alt != nil {
		g.HasAlt, g.AltM = true, alt[0]
		if altRef == 1 { // below sea level
			g.AltM = -g.AltM
		}
	}
	return g, true, nil
}

// typeSize is the byte size of one value of a TIFF field type (TIFF 6.0 §2, Exif §4.6.2).
func typeSize(typ uint16) int {
	switch typ {
	case 1, 2, 6, 7:
		return 1
	case 3, 8:
		return 2
	case 4, 9, 11, 13:
		return 4
	case 5, 10, 12:
		return 8
	}
	return 0
}

// entries calls fn for each entry of the IFD at off with the entry's value bytes (inline or at
// their offset). Entries whose values fall outside the TIFF data are skipped.
func (t tiff) entries(off uint32, fn func(tag, typ uint16, count uint32, val []byte)) {
	if uint64(off)+2 > uint64(len(t.b)) {
		return
	}
	n := int(t.bo.Uint16(t.b[off:]))
	if n > maxIFDEntries {
		return
	}
	base := int(off) + 2
	for i := range n {
		e := base + 12*i
		if e+12 > len(t.b) {
			return
		}
		tag, typ := t.bo.Uint16(t.b[e:]), t.bo.Uint16(t.b[e+2:])
		count := t.bo.Uint32(t.b[e+4:])
		sz := typeSize(typ)
		if sz == 0 || count == 0 || uint64(count) > uint64(len(t.b)) {
			continue
		}
		total := uint64(sz) * uint64(count)
		var val []byte
		if total <= 4 {
			val = t.b[e+8 : e+8+int(total)]
		} else {
			vo := uint64(t.bo.Uint32(t.b[e+8:]))
			if vo+total > uint64(len(t.b)) {
				continue
			}
			val = t.b[vo : vo+total]
		}
		fn(tag, typ, count, val)
	}
}

// rationals decodes n unsigned rationals; nil when any denominator is zero.
func (t tiff) rationals(val []byte, n int) []float64 {
	if len(val) < 8*n {
		return nil
	}
	out := make([]float64, n)
	for i := range n {
		num, den := t.bo.Uint32(val[8*i:]), t.bo.Uint32(val[8*i+4:])
		if den == 0 {
			return nil
		}
		out[i] = float64(num) / float64(den)
	}
	return out
}
