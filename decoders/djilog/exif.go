package djilog

import (
	"encoding/binary"
	"errors"
)

// A small, bounded EXIF GPS reader for the moment pictures. The JPEG marker syntax is ITU-T T.81
// Annex B; the APP1 "Exif" segment, the TIFF header and IFD entry layout and the GPS IFD tags
// (0x8825 pointer; 1 GPSLatitudeRef, 2 GPSLatitude, 3 GPSLongitudeRef, 4 GPSLongitude,
// 5 GPSAltitudeRef, 6 GPSAltitude) are from CIPA DC-008 (Exif 2.32) §4.5–4.6 and TIFF 6.0 §2.
// Every offset is checked against the segment; nothing is allocated from a length field.

// exifGPSResult is a position found in a JPEG's EXIF GPS IFD.
type exifGPSResult struct {
	Lat, Lon float64
	HasAlt   bool
	AltM     float64
}

var errNoJPEG = errors.New("not a JPEG (no FF D8 start)")

const (
	tagGPSIFD     = 0x8825
	tagLatRef     = 1
	tagLat        = 2
	tagLonRef     = 3
	tagLon        = 4
	tagAltRef     = 5
	tagAlt        = 6
	tiffRational  = 5
	tiffLong      = 4
	tiffASCII     = 2
	tiffByte      = 1
	maxIFDEntries = 1024
)

// exifGPS finds the GPS position in the first bytes of a JPEG. found is false when the picture
// has no EXIF GPS; err is set when b is not a JPEG or its segments are malformed.
func exifGPS(b []byte) (g exifGPSResult, found bool, err error) {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return g, false, errNoJPEG
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return g, false, errors.New("JPEG segment does not start with FF")
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD9 || m == 0xDA: // end of image, start of scan: no metadata follows
			return g, false, nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // markers without a length
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return g, false, errors.New("JPEG segment length below 2")
		}
		end := i + 2 + n
		if m == 0xE1 && end <= len(b) {
			seg := b[i+4 : end]
			if len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
				return tiffGPS(seg[6:])
			}
		}
		i = end
	}
	return g, false, nil
}

// tiff is a bounded view of the TIFF structure inside an APP1 segment.
type tiff struct {
	b  []byte
	bo binary.ByteOrder
}

func tiffGPS(b []byte) (g exifGPSResult, found bool, err error) {
	if len(b) < 8 {
		return g, false, errors.New("EXIF TIFF header cut short")
	}
	t := tiff{b: b}
	switch string(b[:2]) {
	case "II":
		t.bo = binary.LittleEndian
	case "MM":
		t.bo = binary.BigEndian
	default:
		return g, false, errors.New("EXIF byte order mark is neither II nor MM")
	}
	if t.bo.Uint16(b[2:]) != 42 {
		return g, false, errors.New("EXIF TIFF magic is not 42")
	}
	var gpsOff uint32
	var ok bool
	t.entries(t.bo.Uint32(b[4:]), func(tag, typ uint16, count uint32, val []byte) {
		if tag == tagGPSIFD && (typ == tiffLong || typ == 13) && count == 1 {
			gpsOff, ok = t.bo.Uint32(val), true
		}
	})
	if !ok {
		return g, false, nil
	}
	var latRef, lonRef byte
	var lat, lon []float64
	var altRef byte
	var alt []float64
	t.entries(gpsOff, func(tag, typ uint16, count uint32, val []byte) {
		switch {
		case tag == tagLatRef && typ == tiffASCII:
			latRef = val[0]
		case tag == tagLonRef && typ == tiffASCII:
			lonRef = val[0]
		case tag == tagAltRef && typ == tiffByte:
			altRef = val[0]
		case tag == tagLat && typ == tiffRational && count == 3:
			lat = t.rationals(val, 3)
		case tag == tagLon && typ == tiffRational && count == 3:
			lon = t.rationals(val, 3)
		case tag == tagAlt && typ == tiffRational && count == 1:
			alt = t.rationals(val, 1)
		}
	})
	if lat == nil || lon == nil {
		return g, false, nil
	}
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
