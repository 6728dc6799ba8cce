package exif_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"droneaudit/decoders/exif"
	"droneaudit/decoders/exif/exiftest"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestJPEGGPS(t *testing.T) {
	for _, bo := range []exiftest.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		j := exiftest.Image(t, exiftest.GPSSegment(-12.3456789, -45.6789012, -3.5, bo))
		g, found, err := exif.JPEGGPS(j)
		if err != nil || !found || !near(g.Lat, -12.3456789, 1e-9) || !near(g.Lon, -45.6789012, 1e-9) || !g.HasAlt || g.AltM != -3.5 {
			t.Errorf("%v: %+v %v %v", bo, g, found, err)
		}
		// The TIFF header follows SOI (2), the APP1 marker and length (4) and "Exif\0\0" (6); the
		// GPS IFD is 26 bytes into the TIFF data.
		if g.PrecisionM != 30.87/2/1e6 {
			t.Errorf("precision %g", g.PrecisionM)
		}
		if g.TIFFOffset != 12 || g.Offset != 12+26 {
			t.Errorf("%v: offsets TIFF %d GPS %d, want 12 and 38", bo, g.TIFFOffset, g.Offset)
		}
		// Every truncation is handled without a panic.
		for n := range len(j) {
			exif.JPEGGPS(j[:n])
		}
	}
	if _, found, err := exif.JPEGGPS(exiftest.Image(t)); found || err != nil {
		t.Errorf("plain JPEG: found %v err %v", found, err)
	}
	if _, _, err := exif.JPEGGPS([]byte("not a jpeg")); !errors.Is(err, exif.ErrNotJPEG) {
		t.Errorf("non-JPEG: %v", err)
	}
}

func TestTIFFDamage(t *testing.T) {
	seg := exiftest.GPSSegment(47.5, 8.5, 400, binary.BigEndian)
	// Byte order mark replaced: an error at the TIFF header's offset in the JPEG (12).
	bad := append([]byte{}, seg...)
	copy(bad[10:], "XX")
	_, found, err := exif.JPEGGPS(exiftest.Tiny(bad))
	var e *exif.Error
	if found || !errors.As(err, &e) || e.Offset != 12 {
		t.Errorf("bad byte order: found %v err %v", found, err)
	}
	// A GPS pointer back at IFD0 is a loop and yields nothing.
	loop := append([]byte{}, seg...)
	binary.BigEndian.PutUint32(loop[10+10+8:], 8) // IFD0's only entry: value = 8
	if _, found, err := exif.JPEGGPS(exiftest.Tiny(loop)); found || err != nil {
		t.Errorf("loop: found %v err %v", found, err)
	}
	// A zero denominator is no position.
	zero := append([]byte{}, seg...)
	binary.BigEndian.PutUint32(zero[10+26+2+12*6+4+4:], 0)
	if _, found, _ := exif.JPEGGPS(exiftest.Tiny(zero)); found {
		t.Error("zero denominator read as a position")
	}
	// A segment with a length below 2 is an error at its length field.
	_, _, err = exif.JPEGGPS([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 1, 0, 0})
	if !errors.As(err, &e) || e.Offset != 4 {
		t.Errorf("short segment: %v", err)
	}
}

func TestDJIXMP(t *testing.T) {
	pkt := exiftest.DJIXMP("+22.5412345", "+113.9454321", "+118.83", "+31.40")
	j := exiftest.Image(t, exiftest.XMPSegment(pkt))
	p, off, found, err := exif.XMPPacket(j)
	if err != nil || !found || string(p) != pkt || off != 2+4+29 {
		t.Fatalf("XMPPacket: off %d found %v err %v", off, found, err)
	}
	d := exif.ParseDJIXMP(p)
	if !d.HasPosition || d.Lat != 22.5412345 || d.Lon != 113.9454321 || d.Decimals != 7 ||
		!d.HasAbsAlt || d.AbsAltM != 118.83 || !d.HasRelAlt || d.RelAltM != 31.40 {
		t.Fatalf("%+v", d)
	}
	if v, ok := d.Attr("GimbalPitchDegree"); !ok || v != "-90.00" {
		t.Errorf("GimbalPitchDegree %q %v", v, ok)
	}
	if want := "drone-dji:GpsLatitude"; string(p[d.LatOffset:d.LatOffset+len(want)]) != want {
		t.Errorf("LatOffset %d points at %q", d.LatOffset, p[d.LatOffset:d.LatOffset+len(want)])
	}
	if len(d.Attrs) != 10 {
		t.Errorf("%d attributes, want 10: %+v", len(d.Attrs), d.Attrs)
	}

	// Element form, the older misspelled longitude, single quotes.
	el := exif.ParseDJIXMP([]byte(`<drone-dji:GpsLatitude>-33.85</drone-dji:GpsLatitude><drone-dji:GpsLongtitude>151.2</drone-dji:GpsLongtitude> drone-dji:RelativeAltitude='12.5'`))
	if !el.HasPosition || el.Lat != -33.85 || el.Lon != 151.2 || el.Decimals != 1 || el.RelAltM != 12.5 || el.HasAbsAlt {
		t.Errorf("element form: %+v", el)
	}
	// A value that is not a number, or unterminated, is not a position.
	if d := exif.ParseDJIXMP([]byte(`drone-dji:GpsLatitude="north" drone-dji:GpsLongitude="1.5`)); d.HasPosition {
		t.Errorf("garbage read as a position: %+v", d)
	}
}

func TestXMPBounded(t *testing.T) {
	var b []byte
	for range 2 * exif.MaxXMPAttrs {
		b = append(b, ` drone-dji:A="1"`...)
	}
	if d := exif.ParseDJIXMP(b); len(d.Attrs) != exif.MaxXMPAttrs {
		t.Errorf("%d attributes kept", len(d.Attrs))
	}
}

// FuzzEXIF feeds arbitrary bytes to the EXIF GPS and XMP readers: no panic, any position found is
// a finite number, and every offset lies inside the input.
func FuzzEXIF(f *testing.F) {
	f.Add(exiftest.Tiny(exiftest.GPSSegment(47.5, -122.6, 12, binary.LittleEndian)))
	f.Add(exiftest.Tiny(exiftest.GPSSegment(-33.9, 115, -3, binary.BigEndian)))
	f.Add(exiftest.Tiny(exiftest.XMPSegment(exiftest.DJIXMP("1.5", "2.5", "3", "4"))))
	f.Add(exiftest.Tiny(exiftest.GPSSegment(1, 2, 3, binary.BigEndian), exiftest.XMPSegment(`drone-dji:GpsLatitude>1<`)))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, found, err := exif.JPEGGPS(data)
		if found && (err != nil || math.IsNaN(g.Lat) || math.IsInf(g.Lat, 0) || math.IsNaN(g.Lon) || math.IsInf(g.Lon, 0) ||
			g.Offset >= int64(len(data)) || g.TIFFOffset >= int64(len(data))) {
			t.Fatalf("found %+v with err %v", g, err)
		}
		p, off, found, _ := exif.XMPPacket(data)
		if found && off+len(p) > len(data) {
			t.Fatalf("packet at %d of %d bytes outside %d", off, len(p), len(data))
		}
		d := exif.ParseDJIXMP(data)
		if len(d.Attrs) > exif.MaxXMPAttrs || d.LatOffset >= max(len(data), 1) {
			t.Fatalf("%d attrs, lat offset %d", len(d.Attrs), d.LatOffset)
		}
	})
}
