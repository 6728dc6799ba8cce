package wsdiscovery

import (
	"net/url"
	"slices"
	"strings"
)

// ONVIF is what an ONVIF device says about itself in its discovery scopes (ONVIF Core
// Specification §7.3.2.2: onvif://www.onvif.org/<category>/<value>) and types.
type ONVIF struct {
	// Types are the device types: the local names of the WS-Discovery Types
	// (NetworkVideoTransmitter, Device, …) and the values of the "type" scopes (video_encoder,
	// Network_Video_Transmitter, …), in that order, without repeats.
	Types    []string
	Hardware string   // "hardware" scope: the model, e.g. "DS-2CD2143G0-I"
	Name     string   // "name" scope: the device name, often the maker's
	Location []string // "location" scope values, e.g. "city/hangzhou", "country/china"
	Profiles []string // "Profile" scope values, e.g. "Streaming", "G", "T"
	MAC      string   // "MAC" scope some makers add
	// Firmware is a "firmware", "fw" or "software" scope where a maker announces one; the ONVIF
	// specification defines none, so most devices tell it only to GetDeviceInformation.
	Firmware string
}

const onvifScope = "onvif://www.onvif.org/"

// ONVIF reads the ONVIF scopes and types of a match. ok is false when it has neither an ONVIF
// scope nor an ONVIF type.
func (m *Match) ONVIF() (o ONVIF, ok bool) {
	for _, t := range m.Types {
		local := t
		if i := strings.LastIndexByte(t, ':'); i >= 0 {
			local = t[i+1:]
		}
		if local != "" && !slices.Contains(o.Types, local) {
			o.Types = append(o.Types, local)
		}
		if strings.HasPrefix(local, "NetworkVideo") {
			ok = true
		}
	}
	for _, s := range m.Scopes {
		rest, isONVIF := cutPrefixFold(s, onvifScope)
		if !isONVIF {
			continue
		}
		ok = true
		cat, val, _ := strings.Cut(rest, "/")
		if v, err := url.PathUnescape(val); err == nil {
			val = v
		}
		switch strings.ToLower(cat) {
		case "type":
			if val != "" && !slices.Contains(o.Types, val) {
				o.Types = append(o.Types, val)
			}
		case "hardware":
			o.Hardware = val
		case "name":
			o.Name = val
		case "location":
			o.Location = append(o.Location, val)
		case "profile":
			o.Profiles = append(o.Profiles, val)
		case "mac":
			o.MAC = val
		case "firmware", "fw", "software":
			o.Firmware = val
		}
	}
	return o, ok
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
