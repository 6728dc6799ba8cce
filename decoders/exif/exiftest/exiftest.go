// Package exiftest writes JPEG metadata for tests: EXIF APP1 segments with a GPS IFD, built from
// the TIFF 6.0 and CIPA DC-008 layouts, and XMP packets in the shape DJI cameras write, inserted
// into real JPEGs encoded by image/jpeg.
package exiftest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math"
	"testing"

	"droneaudit/decoders/exif"
)

// ByteOrder is what the EXIF writer needs of binary.LittleEndian and binary.BigEndian.
type ByteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Image encodes a small real JPEG and inserts the given marker segments right after SOI.
func Image(t testing.TB, segments ...[]byte) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 16, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	j := buf.Bytes()
	out := append([]byte{}, j[:2]...)
	for _, s := range segments {
		out = append(out, s...)
	}
	return append(out, j[2:]...)
}

// Tiny is SOI, the given segments and EOI: enough for the metadata readers.
func Tiny(segments ...[]byte) []byte {
	j := []byte{0xFF, 0xD8}
	for _, s := range segments {
		j = append(j, s...)
	}
	return append(j, 0xFF, 0xD9)
}

// app1 wraps data in an APP1 marker segment.
func app1(data []byte) []byte {
	out := []byte{0xFF, exif.MarkerAPP1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(data)+2))
	return append(out, data...)
}

// GPSSegment builds FF E1 | len | "Exif\0\0" | TIFF with IFD0 → GPS IFD (CIPA DC-008 §4.6) in
// byte order bo: latitude and longitude as degree, minute, second rationals with their N/S and
// E/W references, the altitude in centimetres with its below-sea-level flag.
func GPSSegment(lat, lon, alt float64, bo ByteOrder) []byte {
	ref := func(v float64, pos, neg byte) byte {
		if v < 0 {
			return neg
		}
		return pos
	}
	var t []byte
	if bo == binary.LittleEndian {
		t = append(t, 'I', 'I')
	} else {
		t = append(t, 'M', 'M')
	}
	t = bo.AppendUint16(t, 42)
	t = bo.AppendUint32(t, 8)
	// IFD0 at 8: one entry, then next-IFD 0. GPS IFD at 8+2+12+4 = 26.
	const gpsOff = 26
	t = bo.AppendUint16(t, 1)
	t = Entry(t, bo, exif.TagGPSIFD, exif.TypeLong, 1, gpsOff)
	t = bo.AppendUint32(t, 0)
	const n = 6
	data := uint32(gpsOff + 2 + 12*n + 4)
	t = bo.AppendUint16(t, n)
	t = Entry(t, bo, exif.TagLatRef, exif.TypeASCII, 2, uint32(ref(lat, 'N', 'S'))<<shiftFirst(bo))
	t = Entry(t, bo, exif.TagLat, exif.TypeRational, 3, data)
	t = Entry(t, bo, exif.TagLonRef, exif.TypeASCII, 2, uint32(ref(lon, 'E', 'W'))<<shiftFirst(bo))
	t = Entry(t, bo, exif.TagLon, exif.TypeRational, 3, data+24)
	altRef := uint32(0)
	if alt < 0 {
		altRef = 1
	}
	t = Entry(t, bo, exif.TagAltRef, exif.TypeByte, 1, altRef<<shiftFirst(bo))
	t = Entry(t, bo, exif.TagAlt, exif.TypeRational, 1, data+48)
	t = bo.AppendUint32(t, 0)
	t = dms(t, bo, math.Abs(lat))
	t = dms(t, bo, math.Abs(lon))
	t = bo.AppendUint32(t, uint32(math.Round(math.Abs(alt)*100)))
	t = bo.AppendUint32(t, 100)
	return app1(append([]byte("Exif\x00\x00"), t...))
}

// XMPSegment wraps an XMP packet in its APP1 segment (XMP Part 3 §1.1.3).
func XMPSegment(packet string) []byte {
	return app1(append([]byte("http://ns.adobe.com/xap/1.0/\x00"), packet...))
}

// DJIXMP is an XMP packet laid out as DJI cameras write it, with the given attribute values
// (decimal text, e.g. "+22.5412345") in the drone-dji namespace.
func DJIXMP(lat, lon, absAlt, relAlt string) string {
	return `<?xpacket begin="` + "\uFEFF" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="DJI Meta Data"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"
    drone-dji:AbsoluteAltitude="` + absAlt + `"
    drone-dji:RelativeAltitude="` + relAlt + `"
    drone-dji:GpsLatitude="` + lat + `"
    drone-dji:GpsLongitude="` + lon + `"
    drone-dji:GimbalRollDegree="+0.00"
    drone-dji:GimbalYawDegree="-16.30"
    drone-dji:GimbalPitchDegree="-90.00"
    drone-dji:FlightRollDegree="+2.10"
    drone-dji:FlightYawDegree="-16.10"
    drone-dji:FlightPitchDegree="+3.30">
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`
}

// shiftFirst places a one-byte inline value in the first byte of the 4-byte value field.
func shiftFirst(bo ByteOrder) uint32 {
	if bo == binary.LittleEndian {
		return 0
	}
	return 24
}

// Entry appends one 12-byte IFD entry (TIFF 6.0 §2).
func Entry(t []byte, bo ByteOrder, tag, typ uint16, count, val uint32) []byte {
	t = bo.AppendUint16(t, tag)
	t = bo.AppendUint16(t, typ)
	t = bo.AppendUint32(t, count)
	return bo.AppendUint32(t, val)
}

// dms writes degrees as three rationals: whole degrees, whole minutes, seconds ×10⁶.
func dms(t []byte, bo ByteOrder, v float64) []byte {
	d := math.Floor(v)
	m := math.Floor((v - d) * 60)
	s := ((v-d)*60 - m) * 60
	for _, r := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(math.Round(s * 1e6)), 1e6}} {
		t = bo.AppendUint32(t, r[0])
		t = bo.AppendUint32(t, r[1])
	}
	return t
}
