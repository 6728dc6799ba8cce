package decoders

import "time"

// DeviceClock is the location of a time read from a device's own clock when the input does not
// say which time zone that clock was set to: the date and time a DJI camera writes into its SRT
// subtitles, for one. Such a time is not UTC, and its UTC instant is unknown; a decoder gives it
// this location (with the wall-clock fields as written) so that every report can say so instead
// of printing it as UTC. Compare with IsDeviceClock, never by offset: the offset is a placeholder.
var DeviceClock = time.FixedZone("device-local", 0)

// IsDeviceClock reports whether t was read from a device's clock in an unknown time zone.
func IsDeviceClock(t time.Time) bool { return t.Location() == DeviceClock }

// TimeRef names the reference of a time in reports: "device-local" for a device's clock in an
// unknown zone, "utc" otherwise (the zero time has none).
func TimeRef(t time.Time) string {
	switch {
	case t.IsZero():
		return ""
	case IsDeviceClock(t):
		return "device-local"
	}
	return "utc"
}
