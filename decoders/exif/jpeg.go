// Package exif reads the positions a JPEG carries in its metadata: the EXIF GPS IFD (CIPA DC-008,
// Exif 2.32) and DJI's XMP camera attributes (drone-dji:GpsLatitude and the like). It is shared by
// the flight-record decoder (moment pictures embedded in a log) and the object reader of network
// bodies (pictures uploaded to a cloud).
//
// Sources: the JPEG marker syntax is ITU-T T.81 Annex B; the APP1 "Exif" segment, the TIFF header
// and IFD entry layout and the GPS IFD tags (0x8825 pointer; 1 GPSLatitudeRef, 2 GPSLatitude,
// 3 GPSLongitudeRef, 4 GPSLongitude, 5 GPSAltitudeRef, 6 GPSAltitude) are from CIPA DC-008 §4.5–4.6
// and TIFF 6.0 §2; the XMP APP1 header "http://ns.adobe.com/xap/1.0/\0" is from the XMP
// Specification Part 3 §1.1.3. Every offset is checked against its segment; nothing is allocated
// from a length field, and only IFD0 and the GPS IFD it points to are read, so a crafted chain of
// IFDs cannot loop.
package exif

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// ErrNotJPEG means the bytes do not start with a JPEG SOI marker (FF D8).
var ErrNotJPEG = errors.New("not a JPEG (no FF D8 start)")

// Error says where in a JPEG reading its metadata stopped.
type Error struct {
	Offset int64 // byte offset in the JPEG
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	return "jpeg offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason
}

// The APP1 identifiers (CIPA DC-008 §4.5.4; XMP Part 3 §1.1.3).
const (
	exifHeader = "Exif\x00\x00"
	xmpHeader  = "http://ns.adobe.com/xap/1.0/\x00"
)

// MarkerAPP1 is the JPEG marker of the segments that hold EXIF and XMP.
const MarkerAPP1 = 0xE1

// Segments calls fn for each marker segment before the image data (start of scan), with the
// segment's marker, the offset of its data (after the two length bytes) and the data. fn returns
// false to stop. The error names the offset where the marker syntax broke.
func Segments(b []byte, fn func(marker byte, off int, data []byte) bool) error {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return ErrNotJPEG
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return &Error{int64(i), "JPEG segment does not start with FF"}
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD9 || m == 0xDA: // end of image, start of scan: no metadata follows
			return nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // markers without a length
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return &Error{int64(i + 2), "JPEG segment length below 2"}
		}
		end := i + 2 + n
		if end > len(b) {
			return nil // cut inside a segment: a window of a larger picture ends so
		}
		if !fn(m, i+4, b[i+4:end]) {
			return nil
		}
		i = end
	}
	return nil
}

// JPEGGPS finds the EXIF GPS position in the first bytes of a JPEG. found is false when the
// picture has no EXIF GPS; err is set when b is not a JPEG or its segments are malformed. The
// offsets of the result are offsets in b.
func JPEGGPS(b []byte) (g GPS, found bool, err error) {
	var tiffErr error
	err = Segments(b, func(m byte, off int, seg []byte) bool {
		if m != MarkerAPP1 || len(seg) < len(exifHeader) || string(seg[:len(exifHeader)]) != exifHeader {
			return true
		}
		base := off + len(exifHeader)
		g, found, tiffErr = TIFFGPS(seg[len(exifHeader):])
		if found {
			g.Offset += int64(base)
			g.TIFFOffset = int64(base)
		}
		var e *Error
		if errors.As(tiffErr, &e) {
			e.Offset += int64(base)
		}
		return false
	})
	if tiffErr != nil {
		return g, found, tiffErr
	}
	if err != nil && found {
		err = nil // the position was read before the damage
	}
	return g, found, err
}

// XMPPacket returns the first XMP packet of a JPEG (the data of its XMP APP1 segment) and the
// offset of the packet in b.
func XMPPacket(b []byte) (packet []byte, off int, found bool, err error) {
	err = Segments(b, func(m byte, o int, seg []byte) bool {
		if m == MarkerAPP1 && len(seg) > len(xmpHeader) && string(seg[:len(xmpHeader)]) == xmpHeader {
			packet, off, found = seg[len(xmpHeader):], o+len(xmpHeader), true
			return false
		}
		return true
	})
	if found {
		err = nil
	}
	return packet, off, found, err
}
