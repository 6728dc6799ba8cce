// Package upnp decodes UPnP device descriptions: the XML document a device serves at the URL its
// SSDP announcements give as LOCATION (UPnP Device Architecture 2.0, §2.3 "Device
// description"). Its root element <root xmlns="urn:schemas-upnp-org:device-1-0"> holds one
// <device> with the device's deviceType, friendlyName, manufacturer, modelName, modelNumber,
// serialNumber and UDN; embedded devices (deviceList) are not read. The description is fetched
// over clear HTTP on the local network, so a capture of the segment carries it whenever a control
// point (a phone app, an NVR, Windows) asked.
//
// XML is read token by token (decoders/internal/boundxml) and bounded: at most MaxSize bytes,
// maxTokens tokens, maxDepth nested elements and maxText bytes of text per field.
package upnp

import (
	"bytes"
	"encoding/xml"
	"fmt"

	"droneaudit/decoders/internal/boundxml"
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

var limits = boundxml.Limits{Tokens: maxTokens, Depth: maxDepth, Text: maxText}

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
	head := boundxml.Head(b, 2048)
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
	dev := &Device{}
	fields := map[string]*string{"deviceType": &dev.DeviceType, "friendlyName": &dev.FriendlyName, "manufacturer": &dev.Manufacturer,
		"modelName": &dev.ModelName, "modelNumber": &dev.ModelNumber, "serialNumber": &dev.SerialNumber, "UDN": &dev.UDN}
	p := boundxml.Walk(b, limits, boundxml.Visitor{
		Start: func(path []string, e xml.StartElement) string {
			if len(path) == 0 && (e.Name.Local != "root" || e.Name.Space != Namespace) {
				return fmt.Sprintf("root element %q in %q, not a device description", e.Name.Local, e.Name.Space)
			}
			return ""
		},
		End: func(path []string, text string) {
			// root/device/<field>: the root device's own fields, not those of its embedded
			// devices (root/device/deviceList/device/…).
			if len(path) == 3 && path[1] == "device" {
				if f := fields[path[2]]; f != nil && *f == "" {
					*f = text
				}
			}
		},
	})
	switch {
	case p != nil && *dev == Device{}:
		return nil, &Error{p.Offset, p.Reason}
	case p != nil:
		return dev, &Error{p.Offset, p.Reason}
	}
	return dev, nil
}
