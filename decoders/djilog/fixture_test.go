package djilog

import (
	"droneaudit/decoders/exif/exiftest"
	"testing"
)

// testJPEG encodes a small real JPEG and, when gps is set, inserts an APP1 EXIF segment with a
// GPS IFD (byte order bo) right after SOI.
func testJPEG(t testing.TB, gps bool, lat, lon, alt float64, bo exiftest.ByteOrder) []byte {
	t.Helper()
	if !gps {
		return exiftest.Image(t)
	}
	return exiftest.Image(t, exiftest.GPSSegment(lat, lon, alt, bo))
}
