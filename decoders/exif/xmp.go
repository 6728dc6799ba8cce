package exif

import (
	"bytes"

	"droneaudit/geo"
)

// DJI cameras write their position and attitude into the picture's XMP packet as attributes (or,
// from some tools, elements) of the namespace http://www.dji.com/drone-dji/1.0/, conventionally
// prefixed "drone-dji": GpsLatitude, GpsLongitude (older firmware spells it GpsLongtitude),
// AbsoluteAltitude and RelativeAltitude in metres, the Gimbal*/Flight*Degree attitudes and
// Flight*Speed. Values are decimal text such as "+22.5412345". The packet is read by a bounded
// scan for the prefix, not by an XML parser: a damaged packet still yields the attributes it holds.

// xmpPrefix is the namespace prefix DJI writes.
const xmpPrefix = "drone-dji:"

// Bounds of the XMP scan.
const (
	// MaxXMPAttrs bounds the drone-dji attributes read from one packet (DJI writes about 40).
	MaxXMPAttrs = 256
	// maxXMPName and maxXMPValue bound one attribute's name and value.
	maxXMPName  = 64
	maxXMPValue = 256
)

// XMPAttr is one drone-dji attribute of an XMP packet.
type XMPAttr struct {
	Name   string // local name, e.g. "GpsLatitude"
	Value  string
	Offset int // offset of the attribute's name in the packet
}

// DJIXMP is what a DJI XMP packet says about where the picture was taken.
type DJIXMP struct {
	Attrs []XMPAttr // every drone-dji attribute in packet order, at most MaxXMPAttrs
	// HasPosition is set when GpsLatitude and GpsLongitude both parse.
	HasPosition bool
	Lat, Lon    float64
	Decimals    int // the fewer decimals of the two as printed
	LatOffset   int // offset of the GpsLatitude attribute in the packet
	HasAbsAlt   bool
	AbsAltM     float64 // AbsoluteAltitude: metres above sea level (the camera's barometric/GNSS altitude)
	HasRelAlt   bool
	RelAltM     float64 // RelativeAltitude: metres above the take-off point
}

// Attr returns the value of the named drone-dji attribute.
func (d DJIXMP) Attr(name string) (string, bool) {
	for _, a := range d.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// ParseDJIXMP scans an XMP packet for drone-dji attributes.
func ParseDJIXMP(packet []byte) DJIXMP {
	var d DJIXMP
	for i := 0; len(d.Attrs) < MaxXMPAttrs; {
		k := bytes.Index(packet[i:], []byte(xmpPrefix))
		if k < 0 {
			break
		}
		start := i + k + len(xmpPrefix)
		i = start
		if start-len(xmpPrefix) > 0 && packet[start-len(xmpPrefix)-1] == '/' {
			continue // a closing tag </drone-dji:Name>
		}
		j := start
		for j < len(packet) && j-start < maxXMPName && isNameByte(packet[j]) {
			j++
		}
		if j == start || j >= len(packet) {
			continue
		}
		name := string(packet[start:j])
		val, ok := xmpValue(packet[j:])
		if !ok {
			continue
		}
		d.Attrs = append(d.Attrs, XMPAttr{Name: name, Value: string(val), Offset: start - len(xmpPrefix)})
	}
	var latOK, lonOK bool
	var latDec, lonDec int
	for _, a := range d.Attrs {
		v, dec, ok := geo.ParseDecimal([]byte(a.Value), geo.DecimalExponent)
		if !ok {
			continue
		}
		switch a.Name {
		case "GpsLatitude", "Latitude":
			if !latOK {
				d.Lat, latDec, latOK, d.LatOffset = v, dec, true, a.Offset
			}
		case "GpsLongitude", "GpsLongtitude", "Longitude":
			if !lonOK {
				d.Lon, lonDec, lonOK = v, dec, true
			}
		case "AbsoluteAltitude":
			d.AbsAltM, d.HasAbsAlt = v, true
		case "RelativeAltitude":
			d.RelAltM, d.HasRelAlt = v, true
		}
	}
	d.HasPosition = latOK && lonOK
	d.Decimals = min(latDec, lonDec)
	return d
}

// xmpValue reads `="value"`, `='value'` or `>value<` at the start of b (after at most a few
// blanks), a value of at most maxXMPValue bytes.
func xmpValue(b []byte) ([]byte, bool) {
	k := 0
	for k < len(b) && k < 8 && (b[k] == ' ' || b[k] == '\t' || b[k] == '\r' || b[k] == '\n') {
		k++
	}
	b = b[k:]
	var end byte
	switch {
	case len(b) > 0 && b[0] == '>':
		end, b = '<', b[1:]
	case len(b) > 1 && b[0] == '=' && (b[1] == '"' || b[1] == '\''):
		end, b = b[1], b[2:]
	default:
		return nil, false
	}
	n := bytes.IndexByte(b[:min(len(b), maxXMPValue+1)], end)
	if n < 0 {
		return nil, false
	}
	return bytes.TrimSpace(b[:n]), true
}

func isNameByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}
