package djilog

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math"
	"testing"
)

// testJPEG encodes a small real JPEG and, when gps is set, inserts an APP1 EXIF segment with a
// GPS IFD (byte order bo) right after SOI.
func testJPEG(t testing.TB, gps bool, lat, lon, alt float64, bo byteOrder) []byte {
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
	if !gps {
		return j
	}
	app1 := exifSegment(lat, lon, alt, bo)
	out := append([]byte{}, j[:2]...)
	out = append(out, app1...)
	return append(out, j[2:]...)
}

// exifSegment builds FF E1 | len | "Exif\0\0" | TIFF with IFD0 → GPS IFD (CIPA DC-008 §4.6).
func exifSegment(lat, lon, alt float64, bo byteOrder) []byte {
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
	t = entry(t, bo, tagGPSIFD, tiffLong, 1, gpsOff)
	t = bo.AppendUint32(t, 0)
	const n = 6
	data := uint32(gpsOff + 2 + 12*n + 4)
	t = bo.AppendUint16(t, n)
	t = entry(t, bo, tagLatRef, tiffASCII, 2, uint32(ref(lat, 'N', 'S'))<<shiftFirst(bo))
	t = entry(t, bo, tagLat, tiffRational, 3, data)
	t = entry(t, bo, tagLonRef, tiffASCII, 2, uint32(ref(lon, 'E', 'W'))<<shiftFirst(bo))
	t = entry(t, bo, tagLon, tiffRational, 3, data+24)
	altRef := uint32(0)
	if alt < 0 {
		altRef = 1
	}
	t = entry(t, bo, tagAltRef, tiffByte, 1, altRef<<shiftFirst(bo))
	t = entry(t, bo, tagAlt, tiffRational, 1, data+48)
	t = bo.AppendUint32(t, 0)
	t = dms(t, bo, math.Abs(lat))
	t = dms(t, bo, math.Abs(lon))
	t = bo.AppendUint32(t, uint32(math.Round(math.Abs(alt)*100)))
	t = bo.AppendUint32(t, 100)
	seg := append([]byte("Exif\x00\x00"), t...)
	out := []byte{0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	return append(out, seg...)
}

// byteOrder is what the EXIF writer needs of binary.LittleEndian and binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// shiftFirst places a one-byte inline value in the first byte of the 4-byte value field.
func shiftFirst(bo byteOrder) uint32 {
	if bo == binary.LittleEndian {
		return 0
	}
	return 24
}

func entry(t []byte, bo byteOrder, tag, typ uint16, count, val uint32) []byte {
	t = bo.AppendUint16(t, tag)
	t = bo.AppendUint16(t, typ)
	t = bo.AppendUint32(t, count)
	return bo.AppendUint32(t, val)
}

// dms writes degrees as three rationals: whole degrees, whole minutes, seconds ×10⁶.
func dms(t []byte, bo byteOrder, v float64) []byte {
	d := math.Floor(v)
	m := math.Floor((v - d) * 60)
	s := ((v-d)*60 - m) * 60
	for _, r := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(math.Round(s * 1e6)), 1e6}} {
		t = bo.AppendUint32(t, r[0])
		t = bo.AppendUint32(t, r[1])
	}
	return t
}
