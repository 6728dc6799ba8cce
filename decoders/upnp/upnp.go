// Package upnp decodes UPnP device descriptions: the XML document a device serves at the URL its
// SSDP announcements give as LOCATION (UPnP Device Architecture 2.0, §2.3 "Device
// description"). Its root element <root xmlns="urn:schemas-upnp-org:device-1-0"> holds one
// <device> with the device's deviceType, friendlyName, manufacturer, modelName, modelNumber,
// serialNumber and UDN; embedded devices (deviceList) are not read. The description is fetched
// over clear HTTP on the local network, so a capture of the segment carries it whenever a control
// point (a phone app, an NVR, Windows) asked.
//
// XML is read token by token with encoding/xml and bounded: at most MaxSize bytes, maxTokens
// tokens, maxDepth nested elements and maxText bytes of text per field. encoding/xml expands no
// entities beyond XML's five, so a document cannot grow as it is read.
package upnp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespace is the namespace of a device description's elements.
const Namespace = "urn:schemas-upnp-org:device-1-0"

// Bounds on what one description may make the parser do or keep.
const (
	MaxSize   = 64 << 10
	maxTokens = 8192
	maxDepth  = 16
	maxText   = 1024
)

// Device is the root device of a description. Fields the description does not give are "".
type Device struct {
	DeviceType   string // e.g. "urn:schemas-upnp-org:device:Basic:1"
	FriendlyName string
	Manufacturer string
	ModelName    string
	ModelNumber  string
	SerialNumber string
	UDN          string // "uuid:…", the USN's device part
}

// Error says why a description could not be read whole.
type Error struct {
	Offset int64
	Reason string
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("upnp: offset %d: %s", e.Offset, e.Reason) }

// LooksLike reports whether a body is a UPnP device description: XML naming the device
// description namespace in its first 2 KiB.
func LooksLike(b []byte) bool {
	head := bytes.TrimLeft(b[:min(len(b), 2048)], " \t\r\n\xef\xbb\xbf")
	return len(head) > 0 && head[0] == '<' && bytes.Contains(head, []byte(Namespace))
}

// ParseDescription reads the root device of a device description. A description cut short
// returns the fields read before the cut with an error.
func ParseDescription(b []byte) (*Device, error) {
	if len(b) > MaxSize {
		return nil, &Error{MaxSize, fmt.Sprintf("description of %d bytes, more than %d", len(b), MaxSize)}
	}
	if !LooksLike(b) {
		return nil, &Error{0, "no UPnP device description"}
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }
	dev := &Device{}
	fields := map[string]*string{"deviceType": &dev.DeviceType, "friendlyName": &dev.FriendlyName, "manufacturer": &dev.Manufacturer,
		"modelName": &dev.ModelName, "modelNumber": &dev.ModelNumber, "serialNumber": &dev.SerialNumber, "UDN": &dev.UDN}
	var path []string
	var text strings.Builder
	root := false
	for n := 0; ; n++ {
		if n >= maxTokens {
			return dev, &Error{d.InputOffset(), fmt.Sprintf("more than %d XML tokens", maxTokens)}
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if len(path) > 0 {
				return dev, &Error{d.InputOffset(), "description cut short"}
			}
			if !root {
				return nil, &Error{d.InputOffset(), "no root element"}
			}
			return dev, nil
		}
		if err != nil {
			return dev, &Error{d.InputOffset(), err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) >= maxDepth {
				return dev, &Error{d.InputOffset(), fmt.Sprintf("elements nested deeper than %d", maxDepth)}
			}
			if len(path) == 0 && (t.Name.Local != "root" || t.Name.Space != Namespace) {
				return nil, &Error{d.InputOffset(), fmt.Sprintf("root element %q in %q, not a device description", t.Name.Local, t.Name.Space)}
			}
			root = true
			path = append(path, t.Name.Local)
			text.Reset()
		case xml.CharData:
			if text.Len()+len(t) > maxText {
				return dev, &Error{d.InputOffset(), fmt.Sprintf("element text longer than %d bytes", maxText)}
			}
			text.Write(t)
		case xml.EndElement:
			// root/device/<field>: the root device's own fields, not those of its embedded
			// devices (root/device/deviceList/device/…).
			if len(path) == 3 && path[1] == "device" {
				if f := fields[path[2]]; f != nil && *f == "" {
					*f = strings.TrimSpace(text.String())
				}
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
}
