package objects

import (
	"errors"
	"strconv"

	"droneaudit/decoders"
	"droneaudit/decoders/exif"
	"droneaudit/geo"
)

// Position sources.
const (
	SourceEXIF = "exif"
	SourceXMP  = "xmp"
)

// Position is a position a picture's metadata holds.
type Position struct {
	Source   string // SourceEXIF or SourceXMP
	Lat, Lon float64
	HasAlt   bool
	AltM     float64
	AltRef   string // "msl" (EXIF GPSAltitude, XMP AbsoluteAltitude) or "take-off" (XMP RelativeAltitude)
	// Offset is where the metadata sits in the body: the GPS IFD, or the GpsLatitude attribute.
	Offset     int64
	PrecisionM float64
	Encoding   string
	// Attrs holds the DJI XMP attributes of the picture (gimbal and flight attitude, speeds,
	// relative altitude), for a note beside the fix.
	Attrs map[string]string
}

// maxScan is how much of a picture is searched for metadata: the APP segments come before the
// image data, and each is at most 64 KiB; DJI writes EXIF and XMP in the first two.
const maxScan = 256 << 10

// ImagePositions reads the EXIF GPS position and the DJI XMP position of a JPEG body. Damaged
// metadata is reported as a note with its offset in the body; a picture without positions yields
// neither.
func ImagePositions(body []byte) ([]Position, []decoders.Note) {
	head := body[:min(len(body), maxScan)]
	var out []Position
	var notes []decoders.Note
	g, found, err := exif.JPEGGPS(head)
	if err != nil {
		n := decoders.Note{Severity: decoders.Warning, Code: decoders.CodeMalformed, Offset: -1, Message: "JPEG metadata: " + err.Error()}
		var e *exif.Error
		if errors.As(err, &e) {
			n.Offset = e.Offset
		}
		notes = append(notes, n)
	}
	if found {
		out = append(out, Position{Source: SourceEXIF, Lat: g.Lat, Lon: g.Lon, HasAlt: g.HasAlt, AltM: g.AltM, AltRef: "msl",
			Offset: g.Offset, PrecisionM: g.PrecisionM, Encoding: "EXIF GPS rationals (deg, min, sec)"})
	}
	if pkt, off, ok, _ := exif.XMPPacket(head); ok {
		d := exif.ParseDJIXMP(pkt)
		if d.HasPosition {
			p := Position{Source: SourceXMP, Lat: d.Lat, Lon: d.Lon, Offset: int64(off + d.LatOffset),
				PrecisionM: geo.PrecisionFromDecimals(d.Decimals), Encoding: "DJI XMP decimal degrees, " + strconv.Itoa(d.Decimals) + " decimals"}
			switch {
			case d.HasAbsAlt:
				p.HasAlt, p.AltM, p.AltRef = true, d.AbsAltM, "msl"
			case d.HasRelAlt:
				p.HasAlt, p.AltM, p.AltRef = true, d.RelAltM, "take-off"
			}
			p.Attrs = map[string]string{}
			for _, a := range d.Attrs {
				if len(p.Attrs) < 64 {
					p.Attrs[a.Name] = a.Value
				}
			}
			out = append(out, p)
		}
	}
	return out, notes
}

// Fix turns a position into a photo Fix with the evidence ev of the body (the caller's input,
// locator, offset and network); the locator gains where in the body the metadata sits.
func (p Position) Fix(ev geo.Evidence) geo.Fix {
	f := geo.Fix{Lat: p.Lat, Lon: p.Lon, HasAlt: p.HasAlt, AltM: p.AltM, AltRef: p.AltRef, Role: geo.RolePhoto,
		PrecisionM: p.PrecisionM, Evidence: ev}
	loc := p.Source + " @ body offset " + strconv.FormatInt(p.Offset, 10)
	if f.Evidence.Locator != "" {
		loc = f.Evidence.Locator + " " + loc
	}
	f.Evidence.Locator = loc
	f.Evidence.Encoding = p.Encoding
	if f.Evidence.Message == "" {
		f.Evidence.Message = "picture " + p.Source + " position"
	}
	return f
}
